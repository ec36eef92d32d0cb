-- The mentions an alert gives as evidence (alerts.evidence holds mention ids),
-- published before the end of the reported week, the latest first.
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
    and published_at < $to_ts
order by published_at desc, mention_id
limit $limit
