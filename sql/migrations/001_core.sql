-- 001_core: raw tables written by the pipeline, and the analyst-facing views over them.
-- Raw tables live in the schema "raw"; analysts query the views in "main".

create schema if not exists raw;

-- One row per configured source, and per comment feed discovered from a post
-- (a child source with its own fetch state).
create table raw.sources (
    source_id varchar primary key,
    name varchar not null,
    parent_source_id varchar,
    url varchar not null,
    configured_url varchar,
    feed_url varchar,
    kind varchar not null,
    channel varchar not null,
    thread_url varchar,
    post_id varchar,
    is_configured boolean not null,
    state varchar not null default 'active',
    disabled_reason varchar,
    etag varchar,
    last_modified varchar,
    pending_redirect varchar,
    redirect_count integer not null default 0,
    consecutive_failures integer not null default 0,
    last_fetch_at timestamptz,
    last_success_at timestamptz,
    last_status integer,
    last_error varchar,
    next_fetch_at timestamptz,
    n_comments_announced integer,
    last_new_document_at timestamptz,
    created_at timestamptz not null,
    updated_at timestamptz not null
);

create table raw.documents (
    document_id varchar primary key,
    kind varchar not null,
    url varchar not null,
    thread_url varchar not null,
    parent_id varchar,
    source varchar not null,
    source_id varchar,
    author varchar,
    published_at timestamptz not null,
    collected_at timestamptz not null,
    title varchar,
    text varchar not null,
    lang varchar,
    is_date_estimated boolean not null default false,
    guid varchar,
    content_hash varchar,
    duplicate_of varchar,
    run_id varchar not null,
    check (kind in ('post', 'comment'))
);

-- Which documents the analyze stage has matched, and against which brand queries.
create table raw.document_analysis (
    document_id varchar primary key,
    queries_fingerprint varchar not null,
    sentiment_version varchar,
    analyzed_at timestamptz not null
);

create table raw.mentions (
    mention_id varchar primary key,
    document_id varchar not null,
    brand varchar not null,
    matched_terms varchar[] not null,
    sentiment double,
    sentiment_label varchar,
    sentiment_explanation json,
    sentiment_version varchar,
    aspects varchar[] not null default [],
    aspect_sentiment json,
    analyzed_at timestamptz not null,
    check (sentiment_label in ('positive', 'neutral', 'negative'))
);

-- An analyst's correction of a mention's label; kept across re-scoring.
create table raw.sentiment_overrides (
    mention_id varchar primary key,
    sentiment_label varchar not null,
    note varchar,
    created_by varchar,
    created_at timestamptz not null,
    check (sentiment_label in ('positive', 'neutral', 'negative'))
);

-- Staging files already moved into the store (each is loaded once).
create table raw.staged_files (
    staged_file varchar primary key,
    run_id varchar not null,
    loaded_at timestamptz not null,
    n_documents integer not null
);

create or replace view documents as
select
    d.document_id,
    d.kind,
    d.url,
    d.thread_url,
    d.parent_id,
    d.source,
    s.channel,
    d.author,
    d.published_at,
    d.collected_at,
    d.title,
    d.text,
    d.lang,
    d.is_date_estimated,
    d.duplicate_of,
from raw.documents as d
left join raw.sources as s
    on s.name = d.source and s.is_configured;

create or replace view mentions as
select
    m.mention_id,
    m.brand,
    d.document_id,
    d.kind,
    d.url,
    d.thread_url,
    d.parent_id,
    d.source,
    d.channel,
    d.author,
    d.published_at,
    d.collected_at,
    d.title,
    d.text,
    d.lang,
    m.matched_terms,
    m.sentiment,
    coalesce(o.sentiment_label, m.sentiment_label) as sentiment_label,
    o.sentiment_label is not null as is_overridden,
    m.sentiment_explanation,
    m.sentiment_version,
    m.aspects,
    m.aspect_sentiment,
    d.duplicate_of is not null as is_duplicate,
from raw.mentions as m
join documents as d using (document_id)
left join raw.sentiment_overrides as o using (mention_id);

create or replace view source_health as
select
    s.name,
    s.url,
    s.kind,
    s.channel,
    s.state,
    s.last_fetch_at,
    s.last_status,
    s.last_error,
    s.consecutive_failures,
    s.next_fetch_at,
    s.disabled_reason,
    coalesce(c.n_documents, 0) as n_documents,
    coalesce(k.n_comment_feeds, 0) as n_comment_feeds,
from raw.sources as s
left join (
    select source, count(*) as n_documents from raw.documents group by source
) as c on c.source = s.name
left join (
    select parent_source_id, count(*) as n_comment_feeds
    from raw.sources
    where parent_source_id is not null
    group by parent_source_id
) as k on k.parent_source_id = s.source_id
where s.is_configured;

comment on view documents is
    'One row per collected post or comment (deduplicated by document_id).';
comment on column documents.document_id is
    'Stable id: hash of the canonical URL, else of the guid.';
comment on column documents.kind is '''post'' or ''comment''.';
comment on column documents.url is 'Canonical URL of the post or comment.';
comment on column documents.thread_url is
    'URL of the post a comment belongs to; a post''s own URL.';
comment on column documents.parent_id is
    'document_id of the comment this comment answers (RFC 4685 thr:in-reply-to), when known.';
comment on column documents.source is 'Name of the configured source it came from.';
comment on column documents.channel is 'blog, news, forum, review or other (from the config).';
comment on column documents.author is 'Author name, normalised.';
comment on column documents.published_at is
    'Publication time (UTC); the collection time when the feed gave none.';
comment on column documents.collected_at is 'When listening first fetched it (UTC).';
comment on column documents.title is 'Title (posts; comment feeds often repeat the post title).';
comment on column documents.text is 'Plain text, HTML removed, paragraphs kept.';
comment on column documents.lang is 'Detected language (fr, en, …); NULL when unclear.';
comment on column documents.is_date_estimated is
    'True when the feed gave no date and published_at is the collection time.';
comment on column documents.duplicate_of is
    'document_id of the earlier near-identical copy (syndication); metrics skip duplicates.';

comment on view mentions is 'One row per (document, brand) match, with its sentiment.';
comment on column mentions.mention_id is 'Stable id of the (document, brand) pair.';
comment on column mentions.brand is 'Brand name from the config.';
comment on column mentions.document_id is 'The matching document (see the documents view).';
comment on column mentions.kind is '''post'' or ''comment''.';
comment on column mentions.url is 'Canonical URL of the document.';
comment on column mentions.thread_url is 'URL of the post the document belongs to.';
comment on column mentions.parent_id is 'document_id of the comment answered, when known.';
comment on column mentions.source is 'Configured source name.';
comment on column mentions.channel is 'blog, news, forum, review or other.';
comment on column mentions.author is 'Author name, normalised.';
comment on column mentions.published_at is 'Publication time (UTC).';
comment on column mentions.collected_at is 'Collection time (UTC).';
comment on column mentions.title is 'Document title.';
comment on column mentions.text is 'Document plain text.';
comment on column mentions.lang is 'Detected language; non-French text is not scored.';
comment on column mentions.matched_terms is 'Query terms of the brand that matched the text.';
comment on column mentions.sentiment is
    'Compound sentiment in -1..1; NULL when not scored (not French).';
comment on column mentions.sentiment_label is
    '''positive'', ''neutral'' or ''negative'' (an analyst override wins); NULL when not scored.';
comment on column mentions.is_overridden is 'True when an analyst corrected the label.';
comment on column mentions.sentiment_explanation is
    'JSON list of the terms that moved the score: term, weight, negated.';
comment on column mentions.sentiment_version is 'Version of the scorer that produced the score.';
comment on column mentions.aspects is
    'What the text talks about: produit, service, prix, service client, livraison, communication.';
comment on column mentions.aspect_sentiment is
    'JSON object: aspect -> mean sentiment of the sentences naming it.';
comment on column mentions.is_duplicate is 'True for a near-identical copy of another document.';

comment on view source_health is 'Fetch health of each configured source.';
comment on column source_health.name is 'Source name from the config.';
comment on column source_health.url is 'Current URL (updated after repeated permanent redirects).';
comment on column source_health.kind is 'feed, comments, page or site.';
comment on column source_health.channel is 'blog, news, forum, review or other.';
comment on column source_health.state is 'active, backoff or disabled.';
comment on column source_health.last_fetch_at is 'Last fetch attempt (UTC).';
comment on column source_health.last_status is 'HTTP status of the last fetch; NULL if none.';
comment on column source_health.last_error is 'Last problem in one line, with the fix; NULL if OK.';
comment on column source_health.consecutive_failures is 'Failed fetches in a row.';
comment on column source_health.next_fetch_at is 'Earliest next fetch (UTC), backoff included.';
comment on column source_health.disabled_reason is 'Why the source is disabled, if it is.';
comment on column source_health.n_documents is 'Documents collected from this source.';
comment on column source_health.n_comment_feeds is 'Comment feeds discovered under it.';
