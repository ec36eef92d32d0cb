-- What people say about an aspect: the latest positive, negative and neutral
-- mentions naming it.
with

ranked as (
    select
        mention_id,
        published_at,
        source,
        author,
        sentiment_label,
        sentiment,
        text,
        url,
        row_number() over (
            partition by sentiment_label order by published_at desc, mention_id
        ) as rn,
    from mention_search
    where brand = $brand
        and list_contains(aspects, $aspect)
        and published_at::date between $start and $end
        and not is_duplicate
)

select * exclude (rn) from ranked
where rn <= $per_label
order by sentiment_label, published_at desc
