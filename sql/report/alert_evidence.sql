-- The mentions an alert gives as evidence (alerts.evidence holds mention ids),
-- the latest first.
select
    mention_id,
    published_at,
    author,
    source,
    url,
    text,
    sentiment_label,
from mentions
where list_contains($mention_ids, mention_id)
order by published_at desc, mention_id
limit $limit
