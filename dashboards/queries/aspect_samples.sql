-- What people say about an aspect: the latest positive, negative and neutral
-- mentions naming it. The mentions are ranked on narrow columns of the
-- brand's rows of the period (stored by day and brand: the others are
-- skipped), and only the few picked are read whole, by row id, with the text
-- of their documents (by document_id: an index lookup).
with

ranked as (
    select
        rowid as row_id,
        row_number() over (
            partition by sentiment_label order by published_at desc, mention_id
        ) as rn,
    from mention_search
    where brand = $brand
        and day between $start and $end
        and list_contains(aspects, $aspect)
        and not is_duplicate
    qualify rn <= $per_label
),

picked as (
    select
        m.mention_id,
        m.published_at,
        m.source,
        m.author,
        m.sentiment_label,
        m.sentiment,
        d.text,
        m.url,
    from mention_search as m
    left join raw.documents as d using (document_id)
    where m.rowid in (select row_id from ranked)
)

select * from picked
order by sentiment_label, published_at desc, mention_id
