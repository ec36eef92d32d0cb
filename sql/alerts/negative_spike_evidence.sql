-- negative_spike's evidence: the brand's negative mentions on the days of
-- the episode, the first published first.
select mention_id
from stg_mentions
where brand = $brand and not is_duplicate
    and sentiment_label = 'negative' and day in (select unnest($days))
order by published_at, mention_id
limit $limit
