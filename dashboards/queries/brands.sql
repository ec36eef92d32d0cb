-- Brands with mentions, the most talked-about first (the Mentions page's list
-- before the first build). The mentions as analyze wrote them: the mentions
-- view would join every document to count them.
select
    brand,
    count(*) as n_mentions,
from raw.mentions
group by brand
order by n_mentions desc, brand
