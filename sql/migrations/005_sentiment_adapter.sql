-- 005: the per-store sentiment adapter learned from analysts' corrections
-- (listening.adapter). Which model scored a mention is kept on the mention.

alter table raw.mentions add column sentiment_adapter_id varchar;

create table raw.sentiment_adapters (
    run_id varchar primary key,
    trained_at timestamptz not null,
    base_version varchar not null,
    n_corrections integer not null,
    last_correction_at timestamptz,
    cv_base double,
    cv_adapter double,
    is_adopted boolean not null,
    adapter_id varchar,
    reason varchar not null,
    model json
);

create or replace view sentiment_adapters as
select
    run_id,
    trained_at,
    base_version,
    n_corrections,
    last_correction_at,
    cv_base,
    cv_adapter,
    is_adopted,
    adapter_id,
    reason,
from raw.sentiment_adapters;

create or replace view mention_models as
select
    mention_id,
    sentiment_version,
    sentiment_adapter_id,
    case
        when sentiment_label is null then 'unscored'
        when sentiment_adapter_id is null then 'base'
        else 'adapter'
    end as scored_by,
from raw.mentions;

comment on view sentiment_adapters is
    'One row per `listening sentiment train` run: the adapter fitted on the '
    'analysts'' corrections, compared with the base scorer. The latest run '
    'decides: its adapter scores new mentions when adopted.';
comment on column sentiment_adapters.run_id is 'Stable id of the run.';
comment on column sentiment_adapters.trained_at is 'When it ran (UTC).';
comment on column sentiment_adapters.base_version is
    'Base scorer version whose features the adapter uses.';
comment on column sentiment_adapters.n_corrections is
    'Corrections of French mentions it learned from.';
comment on column sentiment_adapters.last_correction_at is
    'Latest correction it saw; analyze retrains when a newer one arrives.';
comment on column sentiment_adapters.cv_base is
    'Share of corrections the base scorer agrees with.';
comment on column sentiment_adapters.cv_adapter is
    'Share the adapter agrees with, each cross-validation fold trained on '
    'the other folds.';
comment on column sentiment_adapters.is_adopted is
    'True when the adapter beat the base scorer beyond chance (paired '
    'bootstrap 95% interval above 0).';
comment on column sentiment_adapters.adapter_id is
    'Id stored on the mentions it scores; null when not adopted.';
comment on column sentiment_adapters.reason is 'The decision, in one line.';
comment on view mention_models is
    'Which model scored each mention: the base scorer or an adapter.';
comment on column mention_models.mention_id is 'The mention (see mentions).';
comment on column mention_models.sentiment_version is 'Base scorer version.';
comment on column mention_models.sentiment_adapter_id is
    'Adapter that set the label (see sentiment_adapters); null: the base '
    'scorer alone.';
comment on column mention_models.scored_by is
    '''base'', ''adapter'' or ''unscored'' (not French).';
