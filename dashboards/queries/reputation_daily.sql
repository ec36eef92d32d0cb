-- Long-term reputation against daily buzz, for the chosen brands and period.
select
    brand,
    day,
    n_mentions,
    n_voices,
    n_positive,
    n_neutral,
    n_negative,
    net_sentiment,
    buzz_ratio,
    buzz_z,
    reputation_index,
    reputation_lower,
    reputation_upper,
from reputation_daily
where list_contains($brands, brand)
    and day between $start and $end
order by brand, day
