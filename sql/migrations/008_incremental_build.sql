-- 008: what an incremental build needs (listening.build), and the search
-- folding rule of the Mentions page.

-- The one folding rule of text search: lower case, accents stripped. The
-- mention_search mart stores its text folded with it, and the dashboards fold
-- the search words with it, so both sides always agree.
create or replace macro fold_text(s) as strip_accents(lower(s));

-- What each document and each mention looked like to the last build: a hash
-- of every column the marts read (text aside: a changed text is analysed
-- again, which gives its mentions a new analyzed_at). A build compares these
-- with the hashes stored in stg_documents and stg_mentions and rebuilds only
-- the rows, days and people whose hash changed; a mention is also rebuilt
-- when its document is.
create or replace view raw.document_fingerprints as
select
    document_id,
    hash(
        kind, url, thread_url, parent_id, source, channel, author,
        published_at, title, duplicate_of
    ) as input_hash,
from main.documents;

create or replace view raw.mention_fingerprints as
select
    m.mention_id,
    m.document_id,
    hash(
        m.brand, m.document_id, m.analyzed_at, m.sentiment, m.sentiment_label,
        m.sentiment_version, m.sentiment_adapter_id, m.aspects,
        m.aspect_sentiment::varchar, o.sentiment_label
    ) as input_hash,
from raw.mentions as m
left join raw.sentiment_overrides as o using (mention_id);

-- The folded text and title of each document that names a brand, for the
-- mention_search mart. Folding is slow (strip_accents decomposes every
-- character): each text is folded once, when it first names a brand or when
-- it changes (text_hash), and even a full build reuses the folds whose
-- text_hash still matches. Rows of documents that no longer name a brand, or
-- whose text changed (an erasure redacts names), are deleted by the build.
create table raw.folded_texts (
    document_id varchar primary key,
    text_hash ubigint not null,
    text_folded varchar not null,
    title_folded varchar not null
);

-- One row per build: an incremental build starts from the last one.
create table raw.builds (
    built_at timestamptz not null,
    as_of date not null,
    is_full boolean not null,
    settings_hash varchar not null,
    n_documents integer not null,
    n_mentions integer not null,
    seconds double not null
);

create or replace view builds as
select * from raw.builds;

comment on view builds is
    'One row per build of the marts (listening build): full or incremental.';
comment on column builds.built_at is 'When the build committed (UTC).';
comment on column builds.as_of is 'Last local day built.';
comment on column builds.is_full is
    'True for a full rebuild; false when only what changed was rebuilt.';
comment on column builds.settings_hash is
    'Hash of the build''s settings, config tables and SQL: any change makes '
    'the next build a full one.';
comment on column builds.n_documents is
    'Documents whose staging rows were rebuilt (all of them when full).';
comment on column builds.n_mentions is
    'Mentions whose staging rows were rebuilt (all of them when full).';
comment on column builds.seconds is 'Duration of the build.';
