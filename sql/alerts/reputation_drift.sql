-- reputation_drift: each brand's daily reputation index, its standard error
-- and the votes cast that day; the rule runs a CUSUM over them. The bounds
-- are the index -/+ $bounds_z standard errors (reputation_daily.sql).
select
    brand,
    day,
    reputation_index,
    (reputation_upper - reputation_lower) / (2 * $bounds_z),
    n_votes,
from reputation_daily
order by brand, day
