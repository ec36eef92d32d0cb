-- buzz_spike: per brand and day of reputation_daily's calendar (every day
-- from the brand's first mention to as_of), the conversations (a thread, or
-- the mention itself outside threads) naming the brand in the week up to that
-- day ($week days to it), and its mentions that day.
-- A conversation counts in a week on its first day in it: the build keeps,
-- per brand and day, the conversations the day adds to the weeks ending on it
-- and on each of the $week - 1 days after (stg_brand_days.week_conversations:
-- those not seen in the days of that week before it), so a week's count is a
-- sum over its days' rows, a few thousand, not over every mention.
with

added as (
    select
        brand,
        day + later::integer as day,
        week_conversations[later + 1] as n_conversations,
    from stg_brand_days, range($week) as r(later)
),

weekly as (
    select brand, day, sum(n_conversations) as n_conversations,
    from added
    group by brand, day
),

calendar as (
    select brand, day, from reputation_daily
)

select
    c.brand,
    c.day,
    coalesce(w.n_conversations, 0)::integer as n_conversations_week,
    coalesce(d.n_mentions, 0) as n_mentions,
from calendar as c
left join weekly as w using (brand, day)
left join stg_brand_days as d using (brand, day)
order by c.brand, c.day
