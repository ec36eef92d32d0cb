-- 011: each build records the zone of its local days (settings.timezone), so
-- that whoever reads the store, the dashboards first, shows its timestamps in
-- the zone the brand team lives in without loading the config file. Builds
-- made before this migration have none (read as UTC).
alter table raw.builds add column timezone varchar;

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
