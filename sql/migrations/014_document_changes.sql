-- 014: a change counter on documents, so that an incremental build finds the
-- documents added or changed since the last build by reading only them (the
-- blocks of a column that grows with each load: its zone maps skip the rest)
-- instead of comparing every document's fingerprint (3M documents: about 1 s).
-- A new document takes the next number by default; a writer that changes a
-- column the marts read (raw.document_fingerprints) sets
-- change_seq = nextval('raw.document_changes') in the same statement (the load:
-- a re-collected document that changed, a near duplicate it links). Erasure
-- and retention need not: the build after them is a full one. Each build
-- records the highest number it saw (builds.document_seq) and the configured
-- sources' channels (builds.sources_hash, which the documents view joins); the
-- next build checks by counts that no document went or came unnumbered, and
-- compares every fingerprint as before when that check, or the sources, say
-- otherwise (listening.marts.incremental).
create sequence raw.document_changes;

alter table raw.documents
add column change_seq bigint default nextval('raw.document_changes');

alter table raw.builds add column document_seq bigint;
alter table raw.builds add column sources_hash ubigint;

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
comment on column builds.timezone is
    'The zone of the build''s local days (settings.timezone); the dashboards '
    'show timestamps in the zone of the latest build. NULL before migration 011.';
comment on column builds.document_seq is
    'The highest raw.documents.change_seq when the build ran: the next build '
    'reads the documents numbered after it. NULL before migration 014.';
comment on column builds.sources_hash is
    'Hash of the configured sources'' names and channels when the build ran. '
    'NULL before migration 014.';
