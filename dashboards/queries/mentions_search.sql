-- One page of mentions matching the filters, newest first. The title and the
-- excerpt are read for the page's rows only, from their documents (by
-- document_id: an index lookup); mention_search keeps no display text.
with

page as (
    select
        mention_id,
        document_id,
        published_at,
        brand,
        source,
        channel,
        author,
        sentiment_label,
        is_overridden,
        sentiment,
        aspects,
        lang,
        url,
        scored_by,
    from {{_mentions_filtered}}
    order by published_at desc, mention_id
    limit $limit offset $offset
)

select
    p.mention_id,
    p.published_at,
    p.brand,
    p.source,
    p.channel,
    p.author,
    p.sentiment_label,
    p.is_overridden,
    round(p.sentiment, 3) as sentiment,
    p.aspects,
    p.lang,
    d.title,
    left(d.text, 280) as excerpt,
    p.url,
    p.scored_by,
from page as p
left join raw.documents as d using (document_id)
order by p.published_at desc, p.mention_id
