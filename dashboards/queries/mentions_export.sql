-- Every mention matching the filters (same filters as mentions_search), for
-- the CSV export: the newest $limit first picked on their keys alone, then
-- read whole (the rows are stored by day: the newest sit in the last row
-- groups, and the join's min/max of published_at skips the others).
with

latest as (
    select mention_id, published_at,
    from {{_mentions_filtered}}
    order by published_at desc, mention_id
    limit $limit
),

exported as (
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
    from mention_search
    semi join latest using (mention_id, published_at)
)

select * from exported
order by published_at desc, mention_id
