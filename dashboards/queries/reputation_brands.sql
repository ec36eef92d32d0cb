-- Brands in the reputation mart and the days it covers.
select
    brand,
    min(day) as first_day,
    max(day) as last_day,
    sum(n_mentions) as n_mentions,
from reputation_daily
group by brand
order by n_mentions desc, brand
