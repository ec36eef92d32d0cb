-- Fetch health of each configured source, failing ones first.
select
    name,
    state,
    kind,
    channel,
    last_status,
    last_fetch_at,
    next_fetch_at,
    consecutive_failures,
    n_documents,
    last_error,
    url,
from source_health
order by state = 'active', consecutive_failures desc, name
