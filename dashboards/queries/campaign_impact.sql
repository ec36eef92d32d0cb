-- Hype or reality, per campaign of a brand overlapping the period: the buzz
-- lift during the campaign, and whether reputation moved from the campaign's
-- start to the end of the window after it (the verdict campaign_impact keeps
-- on the campaign's 'during' row).
with

campaigns as (
    select * from campaign_impact
    where brand = $brand
        and period = 'during'
)

select
    name,
    channel,
    period_start as start_date,
    period_end as end_date,
    buzz_lift,
    reputation_start,
    reputation_start_lower,
    reputation_start_upper,
    reputation_measured as reputation_end,
    measured_until,
    is_measure_complete as is_complete,
    has_moved,
from campaigns
where period_start <= $end
    and period_end >= $start
order by period_start
