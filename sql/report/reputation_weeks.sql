-- Per brand (the reported one and its competitors) and week: the index on
-- the week's last day with its 95% bounds, the week's volume and its buzz peak.
select
    brand,
    cast(date_trunc('week', day) as date) as week,
    arg_max(reputation_index, day) as reputation_index,
    arg_max(reputation_lower, day) as reputation_lower,
    arg_max(reputation_upper, day) as reputation_upper,
    sum(n_mentions) as n_mentions,
    sum(n_negative) as n_negative,
    max(buzz_ratio) as peak_buzz,
    arg_max(day, coalesce(buzz_ratio, 0)) as peak_day,
from reputation_daily
where list_contains($brands, brand)
    and day between $start and $end
group by all
order by brand, week
