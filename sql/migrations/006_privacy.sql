-- 006_privacy: what the GDPR tools keep (listening.privacy). Never a name:
-- the suppression list holds keyed hashes (HMAC-SHA-256 whose secret lives in
-- a file beside the store, never in it), the erasure log holds counts.

-- One home for the author key and the site of a document, so that erasure,
-- suppression and the marts agree on who a person is (stg_documents.sql).
create or replace macro author_key(name) as
    nullif(lower(trim(regexp_replace(name, '\s+', ' ', 'g'))), '');

create or replace macro url_site(url) as
    regexp_replace(
        regexp_extract(
            lower(url), '^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)', 1
        ),
        '^www\.',
        ''
    );

-- People who asked to be forgotten: documents whose author and site hash to
-- one of these are dropped at load, before they reach the store.
create table raw.suppressions (
    suppression_hash varchar primary key,
    created_at timestamptz not null
);

-- One line per erasure (`listening forget`, or retention at a build).
create table raw.erasures (
    erased_at timestamptz not null,
    reason varchar not null,
    n_documents integer not null,
    n_mentions integer not null,
    n_overrides integer not null,
    n_alerts integer not null,
    n_replies_reattached integer not null,
    n_texts_redacted integer not null,
    n_files integer not null,
    check (reason in ('forget', 'retention', 'pseudonymize'))
);

create or replace view erasures as
select
    erased_at,
    reason,
    n_documents,
    n_mentions,
    n_overrides,
    n_alerts,
    n_replies_reattached,
    n_texts_redacted,
    n_files,
from raw.erasures;

comment on view erasures is
    'Audit trail of erasures (GDPR): when, why, how many rows; no personal data.';
comment on column erasures.erased_at is 'When the erasure was committed (UTC).';
comment on column erasures.reason is
    'forget (listening forget), retention (settings.retention_days) or '
    'pseudonymize (names replaced when settings.pseudonymize_authors was set).';
comment on column erasures.n_documents is
    'Documents deleted (pseudonymize: documents whose author was replaced).';
comment on column erasures.n_mentions is 'Mentions deleted with them.';
comment on column erasures.n_overrides is 'Analyst label corrections deleted.';
comment on column erasures.n_alerts is 'Alerts deleted or stripped of evidence.';
comment on column erasures.n_replies_reattached is
    'Other people''s replies re-attached to the erased comment''s parent.';
comment on column erasures.n_texts_redacted is
    'Other documents whose text named the person, name replaced.';
comment on column erasures.n_files is
    'Staging files, failure notes and pending corrections rewritten or removed.';
