-- buzz_spike's evidence: the brand's mentions in the 7 days up to the peak,
-- the first published first.
select mention_id
from stg_mentions
where brand = $brand and not is_duplicate and day between $first and $last
order by published_at, mention_id
limit $limit
