-- Alert counts per brand: open, open and critical, failed deliveries.
select
    brand,
    count(*) filter (where closed_at is null) as n_open,
    count(*) filter (
        where closed_at is null and severity = 'critical'
    ) as n_open_critical,
    count(*) filter (where delivery_status = 'failed') as n_failed,
    count(*) as n_alerts,
from alerts
group by brand
order by brand
