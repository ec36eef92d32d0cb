-- campaign_impact: does a campaign move reputation, or only buzz? Per
-- campaign and period: 'before' (the campaign_window_days days before the
-- start), 'during' (start to end), 'after' (the campaign_window_days days
-- after the end); periods are cut at as_of. buzz_lift compares a period's
-- mean daily mentions with the 'before' period's. The reputation change is
-- within the index's bounds when the index at the end of the period lies
-- inside the 95% bounds it had at the start: no evidence of a move.
-- The campaign's verdict (hype or reality), which the dashboards and the
-- weekly report show, sits on its 'during' row: has the index left the
-- bounds it had at the campaign's start by the end of the window after it
-- (its last observed day, or the campaign's end when none)?
create or replace table campaign_impact as

with

campaigns as (
    select * from stg_campaigns
),

daily as (
    select * from reputation_daily
),

periods as (
    select
        *,
        'before' as period,
        1 as period_order,
        start_date - getvariable('campaign_window_days') as period_start,
        start_date - 1 as period_end,
    from campaigns
    union all
    select
        *,
        'during' as period,
        2 as period_order,
        start_date as period_start,
        end_date as period_end,
    from campaigns
    union all
    select
        *,
        'after' as period,
        3 as period_order,
        end_date + 1 as period_start,
        end_date + getvariable('campaign_window_days') as period_end,
    from campaigns
),

clipped as (
    select
        *,
        least(period_end, getvariable('as_of')) as observed_end,
        period_end <= getvariable('as_of') as is_complete,
    from periods
),

measured as (
    select
        p.campaign_id,
        any_value(p.name) as name,
        any_value(p.brand) as brand,
        any_value(p.channel) as channel,
        p.period,
        any_value(p.period_order) as period_order,
        any_value(p.period_start) as period_start,
        any_value(p.period_end) as period_end,
        any_value(p.is_complete) as is_complete,
        greatest(
            any_value(p.observed_end) - any_value(p.period_start) + 1, 0
        ) as n_days,
        coalesce(sum(d.n_mentions), 0) as n_mentions,
        arg_min(d.reputation_index, d.day) as reputation_start,
        arg_min(d.reputation_lower, d.day) as reputation_start_lower,
        arg_min(d.reputation_upper, d.day) as reputation_start_upper,
        arg_max(d.reputation_index, d.day) as reputation_end,
    from clipped as p
    left join daily as d
        on d.brand = p.brand
        and d.day between p.period_start and p.observed_end
    group by p.campaign_id, p.period
),

rated as (
    select
        *,
        n_mentions / nullif(n_days, 0) as mean_daily_mentions,
    from measured
),

compared as (
    select
        campaign_id,
        name,
        brand,
        channel,
        period,
        period_start,
        period_end,
        is_complete,
        n_days,
        n_mentions,
        mean_daily_mentions,
        mean_daily_mentions / nullif(
            max(mean_daily_mentions) filter (where period = 'before')
                over (partition by campaign_id),
            0
        ) as buzz_lift,
        reputation_start,
        reputation_end,
        reputation_end - reputation_start as reputation_change,
        reputation_start_lower,
        reputation_start_upper,
        reputation_end between reputation_start_lower
            and reputation_start_upper as is_change_within_bounds,
        period_order,
    from rated
),

verdicts as (
    select
        d.campaign_id,
        d.period,
        coalesce(a.period_end, d.period_end) as measured_until,
        coalesce(a.reputation_end, d.reputation_end) as reputation_measured,
        coalesce(a.is_complete, false) as is_measure_complete,
        coalesce(a.reputation_end, d.reputation_end)
            not between d.reputation_start_lower and d.reputation_start_upper
            as has_moved,
    from compared as d
    left join compared as a
        on a.campaign_id = d.campaign_id
        and a.period = 'after'
    where d.period = 'during'
),

judged as (
    select
        c.*,
        v.measured_until,
        v.reputation_measured,
        v.is_measure_complete,
        v.has_moved,
    from compared as c
    left join verdicts as v
        on v.campaign_id = c.campaign_id
        and v.period = c.period
)

select * exclude (period_order) from judged
order by campaign_id, period_order;

comment on table campaign_impact is
    'Buzz and reputation before, during and after each campaign.';
comment on column campaign_impact.campaign_id is 'See the campaigns view.';
comment on column campaign_impact.name is 'Campaign name.';
comment on column campaign_impact.brand is 'Brand of the campaign.';
comment on column campaign_impact.channel is 'tv, radio, social, print, web…';
comment on column campaign_impact.period is 'before, during or after.';
comment on column campaign_impact.period_start is 'First day of the period.';
comment on column campaign_impact.period_end is
    'Last day of the period (may be after as_of: see is_complete).';
comment on column campaign_impact.is_complete is
    'The period ended on or before as_of.';
comment on column campaign_impact.n_days is 'Days of the period observed.';
comment on column campaign_impact.n_mentions is 'Mentions in those days.';
comment on column campaign_impact.mean_daily_mentions is
    'n_mentions / n_days.';
comment on column campaign_impact.buzz_lift is
    'mean_daily_mentions / the before period''s (1 for before).';
comment on column campaign_impact.reputation_start is
    'Reputation index on the first observed day of the period.';
comment on column campaign_impact.reputation_end is
    'Reputation index on the last observed day of the period.';
comment on column campaign_impact.reputation_change is
    'reputation_end - reputation_start, in index points.';
comment on column campaign_impact.reputation_start_lower is
    'Lower 95% bound of the index at the start.';
comment on column campaign_impact.reputation_start_upper is
    'Upper 95% bound of the index at the start.';
comment on column campaign_impact.is_change_within_bounds is
    'reputation_end lies within the start''s bounds: no clear move.';
comment on column campaign_impact.measured_until is
    'On the during row: last day of the window after the campaign, up to '
    'which the verdict measures; NULL on the other rows.';
comment on column campaign_impact.reputation_measured is
    'On the during row: index on the last observed day of the window after '
    'the campaign (of the campaign itself when that window has none).';
comment on column campaign_impact.is_measure_complete is
    'On the during row: the window after the campaign ended by as_of.';
comment on column campaign_impact.has_moved is
    'On the during row: reputation_measured lies outside the 95% bounds of '
    'the campaign''s start: a real move, not hype.';
