-- buzz_spike: per brand and day of reputation_daily's calendar (every day
-- from the brand's first mention to as_of), the conversations (a thread, or
-- the mention itself outside threads) naming the brand in the week up to that
-- day ($week days to it), and its mentions that day.
-- A conversation seen on day s counts in the weeks ending on s .. s + $week -
-- 1: a week's count is a running sum of +1 at the first week each sighting
-- adds and -1 after its last (the day before the next sighting at the
-- latest, so that no week counts a conversation twice); in SQL rather than
-- sets of conversations per day in Python (a million keys at 3M documents).
with

mentions as (
    select
        brand,
        day,
        coalesce(thread_url, mention_id) as conversation,
    from stg_mentions
    where not is_duplicate and day <= getvariable('as_of')
),

daily as (
    select brand, day, count(*) as n_mentions,
    from mentions
    group by brand, day
),

seen as (
    select distinct brand, conversation, day,
    from mentions
),

covered as (
    -- the weeks a sighting adds: those ending on its day up to $week - 1
    -- days later, or up to the day before the next sighting
    select
        brand,
        day,
        least(
            day + $week,
            coalesce(
                -- the hash first: sorting on it is twice as fast as on
                -- the URLs alone (which keep the partitions exact)
                lead(day) over (
                    partition by brand, hash(conversation), conversation
                    order by day
                ),
                day + $week
            )
        ) as day_after,
    from seen
),

changes as (
    select brand, day, sum(change) as change,
    from (
        select brand, day, 1 as change, from covered
        union all
        select brand, day_after as day, -1 as change, from covered
    )
    group by brand, day
),

calendar as (
    select brand, day, from reputation_daily
)

select
    c.brand,
    c.day,
    sum(coalesce(k.change, 0)) over (
        partition by c.brand order by c.day
        rows between unbounded preceding and current row
    )::integer as n_conversations_week,
    coalesce(d.n_mentions, 0) as n_mentions,
from calendar as c
left join changes as k using (brand, day)
left join daily as d using (brand, day)
order by c.brand, c.day
