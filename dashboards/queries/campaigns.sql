-- Campaigns of the chosen brands overlapping the period (shaded on the charts).
select
    name,
    brand,
    channel,
    start_date,
    coalesce(end_date, start_date) as end_date,
from campaigns
where list_contains($brands, brand)
    and start_date <= $end
    and coalesce(end_date, start_date) >= $start
order by start_date
