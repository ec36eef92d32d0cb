-- The week's voices of the brand: one row per person with their week's mean
-- vote (+1, 0, -1 per labelled mention) and their standing over all time.
with

week as (
    select * from stg_mentions
    where brand = $brand
        and not is_duplicate
        and author_id is not null
        and label_score is not null
        and day between $start and $end
),

per_voice as (
    select
        author_id,
        count(*) as n_mentions,
        avg(label_score) as week_score,
        max(day) as last_day,
    from week
    group by author_id
)

select
    v.author_id,
    a.author,
    a.site,
    a.status,
    v.n_mentions,
    v.week_score,
from per_voice as v
inner join authors as a using (author_id)
where v.week_score * $direction >= 0.25
order by v.n_mentions desc, v.week_score * $direction desc, a.author
limit $limit
