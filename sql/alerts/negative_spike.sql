-- negative_spike: the days whose negative mentions have a robust z-score of
-- $min_z or more (reputation_daily.negative_z), spread over $min_count
-- threads or more. Volume is counted in conversations: the comments of one
-- heated thread are one event (the unanswered_negative_thread rule's), many
-- threads at once are a spike. The day's conversations are counted by the
-- build (stg_brand_days.n_negative_threads, a few thousand rows), not here
-- from every mention.
select
    r.brand,
    r.day,
    r.n_negative,
    r.negative_z,
    b.n_negative_threads as n_threads,
from reputation_daily as r
join stg_brand_days as b using (brand, day)
where r.negative_z >= $min_z
    and b.n_negative_threads > 0
    and b.n_negative_threads >= $min_count
order by r.brand, r.day
