-- Alerts about the brand as a whole (spikes, drifts) or critical ones, opened
-- in the period (markers on the reputation chart; the Alertes page lists all).
select
    rule,
    brand,
    opened_at,
    opened_at::date as day,
    severity,
    summary,
from alerts
where list_contains($brands, brand)
    and opened_at::date between $start and $end
    and (
        rule in ('negative_spike', 'reputation_drift')
        or severity = 'critical'
    )
order by opened_at
