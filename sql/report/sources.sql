-- Health of the configured sources, the failing ones first.
select
    name,
    kind,
    channel,
    state,
    last_status,
    last_fetch_at,
    consecutive_failures,
    n_documents,
    last_error,
    disabled_reason,
from source_health
order by state = 'active', consecutive_failures desc, name
