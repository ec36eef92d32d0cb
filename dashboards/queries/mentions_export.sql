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
    from mention_search as m
    semi join latest using (mention_id, published_at)
    left join raw.documents as d using (document_id)
)

select * from exported
order by published_at desc, mention_id
