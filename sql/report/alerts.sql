-- Alerts of the brand open at some time during the week, most severe first.
select
    rule,
    severity,
    opened_at,
    closed_at,
    summary,
    evidence,
from alerts
where brand = $brand
    and opened_at < $to_ts
    and (closed_at is null or closed_at >= $from_ts)
order by
    case severity when 'critical' then 0 when 'warning' then 1 else 2 end,
    opened_at desc
