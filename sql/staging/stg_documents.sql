-- stg_documents: the documents view, renamed and cast for the marts: the
-- local day (settings.timezone), the author key, the site host and the voice
-- (the one definition of a voice every mart and the CLI count).
-- Kept in the store with each document's input_hash (its fingerprint, as in
-- raw.document_fingerprints): an incremental build recomputes only the
-- documents whose hash changed (the temp table scope_document_id), a full
-- build all of them.
-- incremental key: document_id
create or replace table stg_documents as

with

source as (
    -- the fingerprint of raw.document_fingerprints (one macro, migration
    -- 016), computed in this scan rather than joined by id
    select
        *,
        document_input_hash(
            kind, url, thread_url, parent_id, source, channel, author,
            published_at, title, duplicate_of
        ) as input_hash,
    from documents
    where getvariable('is_full')
        or document_id in (select document_id from scope_document_id)
),

renamed as (
    select
        document_id,
        kind,
        url,
        thread_url,
        parent_id,
        source,
        channel,
        author,
        -- one person = one normalised name on one site (see the authors mart);
        -- the macros of migration 006, which erasure and suppression use too
        author_key(author) as author_key,
        url_site(url) as site,
        published_at,
        cast(
            timezone(getvariable('timezone'), published_at) as date
        ) as day,
        title,
        duplicate_of is not null as is_duplicate,
        input_hash,
    from source
),

keyed as (
    select
        *,
        author_id(author_key, site) as author_id,
    from renamed
),

voiced as (
    select
        *,
        -- a voice is a person (name + site); each anonymous document speaks
        -- alone
        coalesce(author_id, document_id) as voice_id,
    from keyed
)

-- what the marts read: the URL, parent and channel stay in the documents view
select * exclude (url, parent_id, channel, author) from voiced
