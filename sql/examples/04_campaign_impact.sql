-- Campaign impact: buzz or reputation?
-- For each campaign, the buzz lift during and after it (against the weeks
-- before) and the reputation change, flagged when it stays within the
-- index's bounds (no clear move).
select
    name,
    brand,
    channel,
    period,
    period_start,
    period_end,
    round(mean_daily_mentions, 1) as mean_daily_mentions,
    round(buzz_lift, 2) as buzz_lift,
    round(reputation_start, 1) as reputation_start,
    round(reputation_end, 1) as reputation_end,
    round(reputation_change, 1) as reputation_change,
    is_change_within_bounds,
    is_complete,
from campaign_impact
order by brand, period_start
