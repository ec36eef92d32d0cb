-- Brands with mentions, the most talked-about first.
select
    brand,
    count(*) as n_mentions,
from mentions
group by brand
order by n_mentions desc, brand
