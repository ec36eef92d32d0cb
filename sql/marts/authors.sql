-- authors: one row per person across sources. A person is a normalised name
-- on one site (host of their documents' URLs, "www." dropped): the same name
-- on two sites is two people, since nothing proves it is the same one.
-- The brands' official accounts (config official_authors) are left out.
--
-- status, from the person's labelled mentions (votes +1, 0, -1):
--   stance of a set of votes: promoter when its mean >= 0.25, detractor when
--   <= -0.25, else neutral;
--   'turned' when the person has at least 4 labelled mentions and the stance
--   of the first half of them (in time order) is promoter and of the last
--   half detractor, or the reverse (an odd middle one in neither); turned_to
--   says which way, turned_at when: the first mention after the first half
--   with the new stance's sign;
--   otherwise the stance of all their votes.
-- An incremental build recomputes only the people of scope_author_id.
-- incremental key: author_id
create or replace table authors as

with

mentions as (
    select * from stg_mentions_as_of
    where author_id is not null
        and (
            getvariable('is_full')
            or author_id in (select author_id from scope_author_id)
        )
),

official as (
    select distinct author_key from official_authors
    where author_key is not null
),

people as (
    select m.*
    from mentions as m
    anti join official as o
        on o.author_key = m.author_key
),

labelled as (
    select
        author_id,
        mention_id,
        published_at,
        label_score,
        row_number() over (
            partition by author_id order by published_at, mention_id
        ) as rn,
        count(*) over (partition by author_id) as n_labelled,
    from people
    where label_score is not null
),

halves as (
    select
        author_id,
        any_value(n_labelled) as n_labelled,
        avg(label_score) filter (where rn <= n_labelled // 2) as first_mean,
        avg(label_score) filter (
            where rn > n_labelled - n_labelled // 2
        ) as last_mean,
        min(published_at) filter (
            where rn > n_labelled // 2 and label_score < 0
        ) as turn_negative_at,
        min(published_at) filter (
            where rn > n_labelled // 2 and label_score > 0
        ) as turn_positive_at,
    from labelled
    group by author_id
),

aggregated as (
    select
        author_id,
        mode(author) as author,
        any_value(site) as site,
        min(published_at) as first_seen,
        max(published_at) as last_seen,
        count(*) as n_mentions,
        count(distinct thread_url) as n_threads,
        avg(label_score) as mean_sentiment,
        avg(label_score) filter (
            where day > getvariable('as_of') - 90
        ) as recent_mean,
        avg(label_score) filter (
            where day <= getvariable('as_of') - 90
        ) as earlier_mean,
        count(distinct date_trunc('month', day)) as n_months,
        list(distinct brand order by brand) as brands,
    from people
    group by author_id
),

stances as (
    select
        a.*,
        h.n_labelled,
        case
            when h.first_mean >= 0.25 then 'promoter'
            when h.first_mean <= -0.25 then 'detractor'
            else 'neutral'
        end as first_stance,
        case
            when h.last_mean >= 0.25 then 'promoter'
            when h.last_mean <= -0.25 then 'detractor'
            else 'neutral'
        end as last_stance,
        h.turn_negative_at,
        h.turn_positive_at,
    from aggregated as a
    left join halves as h
        on h.author_id = a.author_id
),

classified as (
    select
        author_id,
        author,
        site,
        first_seen,
        last_seen,
        n_mentions,
        n_threads,
        mean_sentiment,
        recent_mean - earlier_mean as trend,
        n_months >= 3 as is_regular,
        case
            when n_labelled >= 4
                and first_stance in ('promoter', 'detractor')
                and last_stance in ('promoter', 'detractor')
                and first_stance <> last_stance
                then 'turned'
            when mean_sentiment >= 0.25 then 'promoter'
            when mean_sentiment <= -0.25 then 'detractor'
            else 'neutral'
        end as status,
        case
            when n_labelled >= 4
                and first_stance in ('promoter', 'detractor')
                and last_stance in ('promoter', 'detractor')
                and first_stance <> last_stance
                then last_stance
        end as turned_to,
        case
            when n_labelled >= 4
                and first_stance = 'promoter' and last_stance = 'detractor'
                then turn_negative_at
            when n_labelled >= 4
                and first_stance = 'detractor' and last_stance = 'promoter'
                then turn_positive_at
        end as turned_at,
        brands,
    from stances
)

select * from classified;

comment on table authors is
    'One row per person (normalised name + site), brands'' own accounts '
    'excluded.';
comment on column authors.author_id is
    'Stable id: hash of the normalised name and the site.';
comment on column authors.author is 'Name as most often written.';
comment on column authors.site is
    'Host of the person''s documents (www. dropped).';
comment on column authors.first_seen is 'First mention (UTC).';
comment on column authors.last_seen is 'Last mention (UTC).';
comment on column authors.n_mentions is
    'Mentions (a document naming two brands counts twice).';
comment on column authors.n_threads is 'Distinct threads they wrote in.';
comment on column authors.mean_sentiment is
    'Mean label, -1..1 (positive 1, neutral 0, negative -1); NULL if none.';
comment on column authors.trend is
    'Mean label of the last 90 days minus the mean before; NULL if either '
    'is empty.';
comment on column authors.is_regular is
    'Active in at least 3 distinct calendar months.';
comment on column authors.status is
    'promoter (mean >= 0.25), detractor (<= -0.25), neutral, or turned '
    '(first half of their labelled mentions promoter and last half '
    'detractor, or the reverse; 4 labelled mentions at least).';
comment on column authors.turned_to is
    'For turned: promoter or detractor (the stance now); else NULL.';
comment on column authors.turned_at is
    'For turned: first mention after the first half with the new sign.';
comment on column authors.brands is 'Brands they mentioned.';
