-- Every mention matching the filters (same filters as mentions_search), for
-- the CSV export: the newest $limit first picked on their keys alone, then
-- read whole (the rows are stored by day: the newest sit in the last row
-- groups, and the join's min/max of published_at skips the others), with the
-- title and text of their documents (mention_search keeps no display text).
with

latest as (
    select mention_id, published_at,
    from {{_mentions_filtered}}
    order by published_at desc, mention_id
    limit $limit
),

exported as (
    select m.*,
    from mention_search as m
    semi join latest using (mention_id, published_at)
),

-- Their documents' texts, read where that period's documents lie: the store
-- grows in collection order, so the filter on publication time skips the
-- row groups of older periods (ids are hashes: their min/max skips none;
-- 100,000 mentions at 3M documents: 1.9-3.0 -> 0.9-1.1 s). A document dated
-- again since the build (a snapshot's documents can be newer than its
-- marts) is then looked up by id.
dated as (
    select document_id, title, text,
    from raw.documents
    where published_at >= (select min(published_at) from latest)
        and document_id in (select document_id from exported)
),

texts as (
    select * from dated
    union all
    select document_id, title, text,
    from raw.documents
    where document_id in (
        select document_id from exported anti join dated using (document_id)
    )
)

select
    m.mention_id,
    m.published_at,
    m.brand,
    m.source,
    m.channel,
    m.kind,
    m.author,
    m.sentiment_label,
    m.is_overridden,
    m.sentiment,
    array_to_string(m.aspects, ';') as aspects,
    m.lang,
    d.title,
    d.text,
    m.url,
    m.thread_url,
from exported as m
left join texts as d using (document_id)
order by m.published_at desc, m.mention_id
