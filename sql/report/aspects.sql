-- Aspects of the brand: the week's volume and tone against the weekly mean of
-- the four weeks before ($start is the first of those, $week_start the
-- reported Monday).
with

daily as (
    select
        *,
        day >= $week_start as is_week,
    from aspects_daily
    where brand = $brand
        and day between $start and $end
)

select
    aspect,
    coalesce(sum(n_mentions) filter (where is_week), 0) as n_week,
    sum(mean_sentiment * n_mentions) filter (where is_week)
        / nullif(sum(n_mentions) filter (where is_week), 0) as tone_week,
    coalesce(sum(n_mentions) filter (where not is_week), 0) / 4.0
        as n_before_weekly,
    sum(mean_sentiment * n_mentions) filter (where not is_week)
        / nullif(sum(n_mentions) filter (where not is_week), 0)
        as tone_before,
from daily
group by aspect
order by aspect
