-- stg_mentions: the mentions view (analyst overrides applied) with the keys
-- stg_documents derives for each document (local day, author key and id,
-- site, voice), and the label as a vote in -1..1.
create or replace table stg_mentions as

with

source as (
    select * from mentions
),

documents as (
    select * from stg_documents
),

renamed as (
    select
        m.mention_id,
        m.document_id,
        m.brand,
        m.kind,
        m.url,
        m.thread_url,
        m.source,
        m.channel,
        m.author,
        d.author_key,
        d.site,
        m.published_at,
        d.day,
        m.sentiment,
        m.sentiment_label,
        case m.sentiment_label
            when 'positive' then 1.0
            when 'neutral' then 0.0
            when 'negative' then -1.0
        end as label_score,
        m.aspects,
        m.aspect_sentiment,
        m.is_duplicate,
        d.author_id,
        d.voice_id,
    from source as m
    inner join documents as d using (document_id)
)

select * from renamed

