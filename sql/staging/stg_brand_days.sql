-- stg_brand_days: one row per brand and local day with mentions (those of
-- stg_mentions_as_of): the day's counts, and its votes (one per person, their
-- labels averaged) summed, which reputation_daily decays over the days.
-- Kept in the store: an incremental build recomputes only the days whose
-- mentions changed and those the new as_of brings in (the temp table
-- scope_brand_day), a full build all of them; reputation_daily, a few
-- thousand rows, is then computed whole from it.
-- incremental key: brand, day
create or replace table stg_brand_days as

with

mentions as (
    select * from stg_mentions_as_of
    where getvariable('is_full')
        or (brand, day) in (select brand, day from scope_brand_day)
),

votes as (
    -- one vote per person, brand and day; anonymous mentions vote alone.
    -- Talk about the advertising (aspect 'communication') is buzz, not
    -- reputation: a TV campaign makes people talk about the ad, only products
    -- and service make reputation, so such mentions count in n_mentions but
    -- do not vote.
    select
        brand,
        day,
        voice_id,
        avg(label_score) as vote,
    from mentions
    where label_score is not null
        and not list_contains(coalesce(aspects, []), 'communication')
    group by brand, day, voice_id
),

daily_votes as (
    select
        brand,
        day,
        count(*) as n_votes,
        -- summed in a fixed order: a float sum's last bits depend on it,
        -- and a build must not depend on the rows' order in the store
        sum(vote order by voice_id) as vote_sum,
        sum(vote * vote order by voice_id) as vote_sq,
    from votes
    group by brand, day
),

daily_counts as (
    select
        brand,
        day,
        count(*) as n_mentions,
        count(distinct voice_id) as n_voices,
        count(*) filter (where sentiment_label = 'positive') as n_positive,
        count(*) filter (where sentiment_label = 'neutral') as n_neutral,
        count(*) filter (where sentiment_label = 'negative') as n_negative,
    from mentions
    group by brand, day
),

joined as (
    select
        k.brand,
        k.day,
        k.n_mentions,
        k.n_voices,
        k.n_positive,
        k.n_neutral,
        k.n_negative,
        coalesce(v.n_votes, 0) as n_votes,
        coalesce(v.vote_sum, 0.0) as vote_sum,
        coalesce(v.vote_sq, 0.0) as vote_sq,
    from daily_counts as k
    left join daily_votes as v using (brand, day)
)

select * from joined
