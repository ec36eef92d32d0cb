-- Buzz spikes
-- Days whose volume stands out from the previous 90 days (robust z >= 3),
-- with the share of negative mentions that day.
select
    brand,
    day,
    n_mentions,
    round(buzz_z, 1) as buzz_z,
    round(buzz_ratio, 2) as buzz_ratio,
    n_negative,
    round(negative_z, 1) as negative_z,
    round(n_negative / n_mentions, 2) as negative_share,
from reputation_daily
where buzz_z >= 3
order by day desc, brand
