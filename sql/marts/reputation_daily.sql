-- reputation_daily: one row per brand and local day, from the brand's first
-- mention to as_of, mentions or not.
--
-- reputation_index (-100..100) is the long memory of what people think:
--   vote v = one person's mean label (+1, 0, -1) for a brand on one day, so a
--     prolific author counts once a day; mentions about the advertising
--     (aspect 'communication') are buzz and do not vote;
--   weight of a vote s days old: w = 0.5 ^ (s / half_life_days);
--   prior mean mu_t = (sum of all votes up to t) / (count + k): the brand's
--     long-run mean, itself pulled towards neutral while it is young;
--   index_t = (sum w.v + k.mu_t) / (sum w + k): with little recent evidence
--     (sum w small against k = prior_weight) the index moves to mu_t;
--   bounds = index +/- 1.96 sqrt(var / n_eff), the prior counting as k
--     pseudo-votes of +/-1 (second moment 1): var = (sum w.v^2 + k) /
--     (sum w + k) - index^2, n_eff = (sum w + k)^2 / (sum w^2 + k).
-- The decayed sums are window sums: sum_{s<=t} x_s 2^(s/h) / 2^(t/h), with s
-- and t day offsets from the brand's first day (no self-join); build.py checks
-- that 2^(2 t / h) stays far from the double range.
-- They are compensated (Kahan) sums: a plain float window sum's last bits
-- depend on the order the rows reach it, and an incremental build must give
-- the same rows as a full one.
create or replace table reputation_daily as

with

brand_days as (
    -- the days with mentions: their counts and summed votes
    select * from stg_brand_days
),

brand_span as (
    select
        brand,
        min(day) as first_day,
    from brand_days
    group by brand
),

calendar as (
    select
        brand,
        first_day,
        cast(
            unnest(
                generate_series(
                    first_day, getvariable('as_of'), interval 1 day
                )
            ) as date
        ) as day,
    from brand_span
),

filled as (
    select
        c.brand,
        c.day,
        cast(c.day - c.first_day as double) as t,
        coalesce(k.n_mentions, 0) as n_mentions,
        coalesce(k.n_voices, 0) as n_voices,
        coalesce(k.n_positive, 0) as n_positive,
        coalesce(k.n_neutral, 0) as n_neutral,
        coalesce(k.n_negative, 0) as n_negative,
        coalesce(k.n_votes, 0) as n_votes,
        coalesce(k.vote_sum, 0.0) as vote_sum,
        coalesce(k.vote_sq, 0.0) as vote_sq,
    from calendar as c
    left join brand_days as k
        on k.brand = c.brand and k.day = c.day
),

decayed as (
    select
        *,
        fsum(vote_sum * pow(2.0, t / getvariable('half_life_days'))) over w
        / pow(2.0, t / getvariable('half_life_days')) as ew_sum,
        fsum(n_votes * pow(2.0, t / getvariable('half_life_days'))) over w
        / pow(2.0, t / getvariable('half_life_days')) as ew_n,
        fsum(vote_sq * pow(2.0, t / getvariable('half_life_days'))) over w
        / pow(2.0, t / getvariable('half_life_days')) as ew_sq,
        -- sum of squared weights, for the effective number of votes
        fsum(n_votes * pow(2.0, 2 * t / getvariable('half_life_days'))) over w
        / pow(2.0, 2 * t / getvariable('half_life_days')) as ew_n2,
        fsum(vote_sum) over w as cum_sum,
        sum(n_votes) over w as cum_n,
        sum(n_mentions) over (
            partition by brand order by day
            rows between 6 preceding and current row
        ) as volume_7d,
        avg(n_mentions) over (
            partition by brand order by day
            rows between 96 preceding and 7 preceding
        ) as baseline_daily,
        count(*) over (
            partition by brand order by day
            rows between 96 preceding and 7 preceding
        ) as baseline_days,
        list(n_mentions) over past_90 as past_mentions,
        list(n_negative) over past_90 as past_negative,
    from filled
    window
        w as (
            partition by brand order by day
            rows between unbounded preceding and current row
        ),
        past_90 as (
            partition by brand order by day
            rows between 90 preceding and 1 preceding
        )
),

shrunk as (
    select
        *,
        cum_sum / (cum_n + getvariable('prior_weight')) as prior_mean,
        (ew_sum + getvariable('prior_weight')
            * (cum_sum / (cum_n + getvariable('prior_weight'))))
        / (ew_n + getvariable('prior_weight')) as index_raw,
        list_median(past_mentions) as med_mentions,
        list_median(past_negative) as med_negative,
    from decayed
),

spread as (
    select
        *,
        greatest(
            (ew_sq + getvariable('prior_weight'))
            / (ew_n + getvariable('prior_weight'))
            - index_raw * index_raw,
            0.0
        ) as index_var,
        pow(ew_n + getvariable('prior_weight'), 2)
        / (ew_n2 + getvariable('prior_weight')) as n_eff,
        list_median(
            list_transform(past_mentions, lambda x: abs(x - med_mentions))
        ) as mad_mentions,
        list_avg(
            list_transform(past_mentions, lambda x: abs(x - med_mentions))
        ) as meanad_mentions,
        list_median(
            list_transform(past_negative, lambda x: abs(x - med_negative))
        ) as mad_negative,
        list_avg(
            list_transform(past_negative, lambda x: abs(x - med_negative))
        ) as meanad_negative,
    from shrunk
),

scored as (
    select
        brand,
        day,
        n_mentions,
        n_voices,
        n_positive,
        n_neutral,
        n_negative,
        (n_positive - n_negative) / nullif(n_positive + n_negative, 0)
            as net_sentiment,
        case
            when baseline_days >= 28 and baseline_daily > 0
                then volume_7d / (7 * baseline_daily)
        end as buzz_ratio,
        -- robust z (Iglewicz & Hoaglin 1993): 1.4826 MAD estimates the
        -- standard deviation; when MAD is 0 (sparse counts) the modified
        -- z-score uses 1.2533 times the mean absolute deviation instead
        case
            when len(past_mentions) < 28 then null
            when mad_mentions > 0
                then (n_mentions - med_mentions) / (1.4826 * mad_mentions)
            when meanad_mentions > 0
                then (n_mentions - med_mentions) / (1.2533 * meanad_mentions)
        end as buzz_z,
        case
            when len(past_negative) < 28 then null
            when mad_negative > 0
                then (n_negative - med_negative) / (1.4826 * mad_negative)
            when meanad_negative > 0
                then (n_negative - med_negative) / (1.2533 * meanad_negative)
        end as negative_z,
        n_votes,
        ew_n as reputation_evidence,
        100 * index_raw as reputation_index,
        greatest(-100, 100 * (index_raw - 1.96 * sqrt(index_var / n_eff)))
            as reputation_lower,
        least(100, 100 * (index_raw + 1.96 * sqrt(index_var / n_eff)))
            as reputation_upper,
        100 * prior_mean as reputation_prior,
    from spread
)

select * from scored;

comment on table reputation_daily is
    'One row per brand and local day, from its first mention to as_of.';
comment on column reputation_daily.brand is 'Brand name from the config.';
comment on column reputation_daily.day is
    'Local day (settings.timezone); days without mentions have rows.';
comment on column reputation_daily.n_mentions is
    'Mentions that day (duplicates skipped; unscored languages counted).';
comment on column reputation_daily.n_voices is
    'Distinct authors that day (name + site; each anonymous mention counts).';
comment on column reputation_daily.n_positive is 'Mentions labelled positive.';
comment on column reputation_daily.n_neutral is 'Mentions labelled neutral.';
comment on column reputation_daily.n_negative is 'Mentions labelled negative.';
comment on column reputation_daily.net_sentiment is
    '(positive - negative) / (positive + negative); NULL when neither.';
comment on column reputation_daily.buzz_ratio is
    '7-day volume / 7 x mean daily volume of the 90 days before it; NULL '
    'with under 28 days of baseline or a zero baseline.';
comment on column reputation_daily.buzz_z is
    'Robust z of the day''s mentions against the previous 90 days: '
    '(x - median) / (1.4826 MAD), NULL with under 28 days of history.';
comment on column reputation_daily.negative_z is
    'Same robust z for negative mentions (the negative-spike alert uses it).';
comment on column reputation_daily.n_votes is
    'Votes that day: one per person (their labels averaged).';
comment on column reputation_daily.reputation_evidence is
    'Decayed number of votes behind the index (sum of weights).';
comment on column reputation_daily.reputation_index is
    'Long-memory reputation, -100..100: exponentially weighted mean vote '
    '(one per person and day; talk about the advertising does not vote) '
    '(half-life settings.reputation_half_life_days), shrunk towards '
    'reputation_prior with weight settings.reputation_prior_weight.';
comment on column reputation_daily.reputation_lower is
    'Lower 95% bound of the index (1.96 standard errors).';
comment on column reputation_daily.reputation_upper is
    'Upper 95% bound of the index.';
comment on column reputation_daily.reputation_prior is
    'The brand''s long-run mean vote up to that day, -100..100, shrunk '
    'towards 0 while young: where the index decays to without news.';
