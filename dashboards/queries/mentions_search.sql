-- One page of mentions matching the filters, newest first.
select
    mention_id,
    published_at,
    brand,
    source,
    channel,
    author,
    sentiment_label,
    is_overridden,
    round(sentiment, 3) as sentiment,
    aspects,
    lang,
    title,
    left(text, 280) as excerpt,
    url,
    scored_by,
from {{_mentions_filtered}}
order by published_at desc, mention_id
limit $limit offset $offset
