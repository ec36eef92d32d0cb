-- negative_spike: the days whose negative mentions have a robust z-score of
-- $min_z or more (reputation_daily.negative_z), spread over $min_count
-- threads or more. Volume is counted in conversations: the comments of one
-- heated thread are one event (the unanswered_negative_thread rule's), many
-- threads at once are a spike.
select
    r.brand,
    r.day,
    r.n_negative,
    r.negative_z,
    count(distinct coalesce(m.thread_url, m.mention_id)) as n_threads,
from reputation_daily as r
join stg_mentions as m
    on m.brand = r.brand and m.day = r.day
    and m.sentiment_label = 'negative' and not m.is_duplicate
where r.negative_z >= $min_z
group by all
having count(distinct coalesce(m.thread_url, m.mention_id)) >= $min_count
order by r.brand, r.day
