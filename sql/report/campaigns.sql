-- Campaigns of the brand on air during the week, with their measured impact:
-- the buzz lift while on air, and whether the index left the 95% bounds it
-- had at the start (by the end of the window after the campaign, or as_of).
with

impact as (
    select * from campaign_impact
    where brand = $brand
),

during as (
    select * from impact where period = 'during'
),

after as (
    select * from impact where period = 'after'
)

select
    d.name,
    d.channel,
    d.period_start as start_date,
    d.period_end as end_date,
    d.buzz_lift,
    d.reputation_start,
    d.reputation_start_lower,
    d.reputation_start_upper,
    coalesce(a.reputation_end, d.reputation_end) as reputation_end,
    coalesce(a.period_end, d.period_end) as measured_until,
    coalesce(a.is_complete, false) as is_complete,
    coalesce(a.reputation_end, d.reputation_end)
        not between d.reputation_start_lower and d.reputation_start_upper
        as has_moved,
from during as d
left join after as a
    using (campaign_id)
where d.period_start <= $end
    and d.period_end >= $start
order by d.period_start, d.name
