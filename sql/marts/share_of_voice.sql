-- share_of_voice: each brand against its competitive set (config
-- competitors, the brand itself included), by ISO week (weeks start on
-- Monday, local days). One row per week, focal brand and member of its set,
-- for every week in which any member was mentioned. An incremental build
-- recomputes only the weeks of scope_week (those of the brand-days rebuilt),
-- a full build all of them.
-- incremental key: week
create or replace table share_of_voice as

with

mentions as (
    select * from stg_mentions_as_of
    where getvariable('is_full')
        or cast(date_trunc('week', day) as date) in (select week from scope_week)
),

sets as (
    select brand, competitor from competitors
),

weekly as (
    select
        brand,
        cast(date_trunc('week', day) as date) as week,
        count(*) as n_mentions,
        count(distinct voice_id) as n_voices,
        count(*) filter (where sentiment_label = 'positive') as n_positive,
        count(*) filter (where sentiment_label = 'negative') as n_negative,
    from mentions
    group by brand, week
),

set_weeks as (
    select distinct
        s.brand,
        w.week,
    from sets as s
    join weekly as w
        on w.brand = s.competitor
),

grid as (
    select
        sw.week,
        sw.brand,
        s.competitor,
    from set_weeks as sw
    join sets as s
        on s.brand = sw.brand
),

filled as (
    select
        g.week,
        g.brand,
        g.competitor,
        coalesce(w.n_mentions, 0) as n_mentions,
        coalesce(w.n_voices, 0) as n_voices,
        coalesce(w.n_positive, 0) as n_positive,
        coalesce(w.n_negative, 0) as n_negative,
    from grid as g
    left join weekly as w
        on w.brand = g.competitor
        and w.week = g.week
),

shares as (
    select
        week,
        brand,
        competitor,
        n_mentions,
        n_mentions / sum(n_mentions) over set_week as share_of_mentions,
        n_voices,
        n_voices / nullif(sum(n_voices) over set_week, 0) as share_of_voices,
        (n_positive - n_negative) / nullif(n_positive + n_negative, 0)
            as net_sentiment,
    from filled
    window set_week as (partition by week, brand)
)

select * from shares;

comment on table share_of_voice is
    'Weekly share of mentions and voices of each brand''s competitive set.';
comment on column share_of_voice.week is 'Monday of the ISO week (local days).';
comment on column share_of_voice.brand is 'The focal brand.';
comment on column share_of_voice.competitor is
    'A member of the focal brand''s set (config competitors), itself included.';
comment on column share_of_voice.n_mentions is
    'Mentions of the competitor that week.';
comment on column share_of_voice.share_of_mentions is
    'n_mentions / mentions of the whole set that week, 0..1.';
comment on column share_of_voice.n_voices is
    'Distinct people naming the competitor that week.';
comment on column share_of_voice.share_of_voices is
    'n_voices / sum of the set''s n_voices (a person naming two members '
    'counts in both).';
comment on column share_of_voice.net_sentiment is
    '(positive - negative) / (positive + negative); NULL when neither.';
