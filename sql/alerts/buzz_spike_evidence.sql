-- buzz_spike's evidence: for each episode of $episodes (episode, brand, first,
-- last: the 7 days up to the peak), the brand's mentions in those days, the
-- first published first, $limit at most. One query for every episode.
with episodes as (
    select unnest($episodes, recursive := true)
)

select e.episode, m.mention_id
from stg_mentions as m
inner join episodes as e
    on m.brand = e.brand and m.day between e.first and e.last
where not m.is_duplicate
qualify row_number() over (
    partition by e.episode order by m.published_at, m.mention_id
) <= $limit
order by e.episode, m.published_at, m.mention_id
