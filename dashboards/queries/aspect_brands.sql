-- Brands with aspects, and the days covered.
select
    brand,
    min(day) as first_day,
    max(day) as last_day,
    sum(n_mentions) as n_mentions,
from aspects_daily
group by brand
order by n_mentions desc, brand
