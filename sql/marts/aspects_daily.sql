-- aspects_daily: what people talk about, per brand, local day and aspect
-- (produit, service, prix, service client, livraison, communication). The
-- tone of an aspect is the compound score of the sentences naming it
-- (mentions.aspect_sentiment); 0.15 and -0.05 are the scorer's label
-- thresholds (listening.sentiment POSITIVE_THRESHOLD, NEGATIVE_THRESHOLD).
-- An incremental build recomputes only the days of scope_brand_day (see
-- stg_brand_days).
-- incremental key: brand, day
create or replace table aspects_daily as

with

mentions as (
    select * from stg_mentions_as_of
    where len(aspects) > 0
        and (
            getvariable('is_full')
            or (brand, day) in (select brand, day from scope_brand_day)
        )
),

exploded as (
    select
        brand,
        day,
        mention_id,
        aspect_sentiment,
        unnest(aspects) as aspect,
    from mentions
),

scored as (
    select
        *,
        try_cast(
            aspect_sentiment ->> ('$."' || aspect || '"') as double
        ) as compound,
    from exploded
),

daily as (
    select
        brand,
        day,
        aspect,
        count(*) as n_mentions,
        count(*) filter (where compound > 0.15) as n_positive,
        count(*) filter (where compound < -0.05) as n_negative,
        -- compensated (Kahan) sum in a fixed order: a float sum's last bits
        -- must not depend on the order of the rows in the store
        favg(compound order by mention_id) as mean_sentiment,
    from scored
    group by brand, day, aspect
)

select * from daily;

comment on table aspects_daily is
    'Mentions and tone per brand, local day and aspect.';
comment on column aspects_daily.brand is 'Brand name from the config.';
comment on column aspects_daily.day is 'Local day (settings.timezone).';
comment on column aspects_daily.aspect is
    'produit, service, prix, service client, livraison or communication.';
comment on column aspects_daily.n_mentions is 'Mentions naming the aspect.';
comment on column aspects_daily.n_positive is
    'Of which the aspect''s sentences score above 0.15.';
comment on column aspects_daily.n_negative is
    'Of which the aspect''s sentences score below -0.05.';
comment on column aspects_daily.mean_sentiment is
    'Mean compound score of the aspect''s sentences, -1..1.';
