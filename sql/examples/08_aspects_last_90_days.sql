-- What people talk about (last 90 days)
-- Per brand and aspect: mentions, net tone and mean sentiment over the 90
-- days up to the last build; the most discussed aspects first.
select
    brand,
    aspect,
    sum(n_mentions) as n_mentions,
    sum(n_positive) as n_positive,
    sum(n_negative) as n_negative,
    round(
        (sum(n_positive) - sum(n_negative))
        / nullif(sum(n_positive) + sum(n_negative), 0),
        2
    ) as net_sentiment,
    round(avg(mean_sentiment), 2) as mean_sentiment,
from aspects_daily
where day > (select max(day) from reputation_daily) - 90
group by brand, aspect
order by brand, n_mentions desc
