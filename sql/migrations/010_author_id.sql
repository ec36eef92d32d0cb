-- A person's id: their author key (author_key: the name, case and spaces
-- folded) on one site (url_site), hashed. The one definition that the staging
-- of documents (sql/staging/stg_documents.sql), the marts that count voices
-- and the erasure of a person (listening.store.erasure) use.
create or replace macro author_id(key, site) as
    substr(md5(key || '@' || site), 1, 16);

-- The alert rules moved to listening.marts.alerts (the layout by stage).
comment on view alerts is
    'Alerts raised by the build, one row per episode (see listening.marts.alerts). '
    'An episode later data no longer shows stays in raw.alerts with withdrawn_at '
    'set and is left out here.';
comment on column alerts.rule is
    'negative_spike, buzz_spike, reputation_drift, regular_turned_detractor, '
    'unanswered_negative_thread or task_failure (see listening.marts.alerts.rules).';
