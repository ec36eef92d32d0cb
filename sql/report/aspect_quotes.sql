-- The week's mentions of the brand naming an aspect, those whose tone goes
-- the way the aspect moved ($direction +1 or -1) first.
with

week as (
    select mention_id, day from stg_mentions
    where brand = $brand
        and not is_duplicate
        and day between $start and $end
        and list_contains(aspects, $aspect)
)

select
    m.mention_id,
    w.day,
    m.author,
    m.source,
    m.url,
    m.title,
    m.text,
    m.sentiment,
    m.sentiment_label,
from week as w
inner join mentions as m using (mention_id)
order by m.sentiment * $direction desc, w.day desc, m.mention_id
limit $limit
