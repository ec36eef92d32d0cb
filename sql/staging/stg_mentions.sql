-- stg_mentions: the mentions view (analyst overrides applied), renamed and
-- cast: local day, author key and site, and the label as a vote in -1..1.
create or replace table stg_mentions as

with

source as (
    select * from mentions
),

renamed as (
    select
        mention_id,
        document_id,
        brand,
        kind,
        url,
        thread_url,
        source,
        channel,
        author,
        nullif(
            lower(trim(regexp_replace(author, '\s+', ' ', 'g'))), ''
        ) as author_key,
        regexp_replace(
            regexp_extract(
                lower(url), '^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)', 1
            ),
            '^www\.',
            ''
        ) as site,
        published_at,
        cast(
            timezone(getvariable('timezone'), published_at) as date
        ) as day,
        sentiment,
        sentiment_label,
        case sentiment_label
            when 'positive' then 1.0
            when 'neutral' then 0.0
            when 'negative' then -1.0
        end as label_score,
        aspects,
        aspect_sentiment,
        is_duplicate,
    from source
),

keyed as (
    select
        *,
        case
            when author_key is not null
                then substr(md5(author_key || '@' || site), 1, 16)
        end as author_id,
    from renamed
)

select * from keyed
