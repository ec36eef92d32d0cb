-- Alerts, open ones first, then the latest.
select
    alert_id,
    opened_at,
    closed_at,
    closed_at is null as is_open,
    severity,
    brand,
    rule,
    summary,
    delivery_status,
    delivered_at,
    attempts,
    last_error,
    evidence,
from alerts
where ($brand::varchar is null or brand = $brand)
order by
    is_open desc,
    case severity when 'critical' then 0 when 'warning' then 1 else 2 end,
    opened_at desc
limit $limit
