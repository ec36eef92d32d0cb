-- Reputation against the competitors
-- Each brand's reputation index on the last built day next to each member of
-- its competitive set (config competitors), with bounds: overlapping bounds
-- mean the difference is not established.
with

last_day as (
    select max(day) as today from reputation_daily
),

today as (
    select r.*
    from reputation_daily as r, last_day
    where r.day = last_day.today
),

sets as (
    select distinct brand, competitor from share_of_voice
)

select
    s.brand,
    s.competitor,
    round(c.reputation_index, 1) as reputation_index,
    round(c.reputation_lower, 1) as reputation_lower,
    round(c.reputation_upper, 1) as reputation_upper,
    round(c.reputation_index - f.reputation_index, 1) as gap_to_brand,
    c.reputation_lower > f.reputation_upper
        or c.reputation_upper < f.reputation_lower as is_gap_clear,
from sets as s
join today as f
    on f.brand = s.brand
join today as c
    on c.brand = s.competitor
order by s.brand, c.reputation_index desc
