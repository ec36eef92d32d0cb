-- 003_removed_sources: a source taken out of the config stays in raw.sources with
-- state 'removed' (never fetched again, its documents and history kept), and
-- source_health says so.

comment on column source_health.state is
    'active, backoff, disabled (failures, 410 Gone or refused by the network guard: '
    'see disabled_reason) or removed (no longer in the config; its history is kept).';
