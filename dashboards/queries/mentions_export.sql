-- Every mention matching the filters (same filters as mentions_search), for
-- the CSV export.
select
    mention_id,
    published_at,
    brand,
    source,
    channel,
    kind,
    author,
    sentiment_label,
    is_overridden,
    sentiment,
    array_to_string(aspects, ';') as aspects,
    lang,
    title,
    text,
    url,
    thread_url,
from {{mentions_filtered}}
order by published_at desc, mention_id
limit $limit
