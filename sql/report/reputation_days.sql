-- The reported brand's days over the five weeks the chart shows.
select
    day,
    n_mentions,
    n_negative,
    buzz_ratio,
    reputation_index,
    reputation_lower,
    reputation_upper,
from reputation_daily
where brand = $brand
    and day between $start and $end
order by day
