-- Open alerts
-- Alerts whose episode is still going on, most severe and newest first, with
-- their delivery to the webhook.
select
    severity,
    rule,
    brand,
    summary,
    opened_at,
    delivery_status,
    len(evidence) as n_evidence,
from alerts
where closed_at is null
order by
    case severity when 'critical' then 0 when 'warning' then 1 else 2 end,
    opened_at desc
