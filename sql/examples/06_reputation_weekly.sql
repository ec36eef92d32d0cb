-- Reputation week by week
-- The reputation index of each brand on the last day of each of the last 26
-- weeks, with its bounds and the week's mentions.
with

weekly as (
    select
        brand,
        date_trunc('week', day) as week,
        arg_max(reputation_index, day) as reputation_index,
        arg_max(reputation_lower, day) as reputation_lower,
        arg_max(reputation_upper, day) as reputation_upper,
        sum(n_mentions) as n_mentions,
    from reputation_daily
    group by all
)

select
    brand,
    cast(week as date) as week,
    round(reputation_index, 1) as reputation_index,
    round(reputation_lower, 1) as reputation_lower,
    round(reputation_upper, 1) as reputation_upper,
    n_mentions,
from weekly
where week > (select max(day) from reputation_daily) - interval 26 weeks
order by brand, week
