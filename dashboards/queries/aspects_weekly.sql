-- Aspects of a brand per week: volume and tone.
select
    date_trunc('week', day)::date as week,
    aspect,
    sum(n_mentions) as n_mentions,
    sum(n_positive) as n_positive,
    sum(n_negative) as n_negative,
    sum(mean_sentiment * n_mentions)
        / nullif(sum(n_mentions), 0) as mean_sentiment,
from aspects_daily
where brand = $brand
    and day between $start and $end
group by all
order by week, aspect
