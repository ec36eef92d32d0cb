-- reputation_drift's evidence: for each episode of $episodes (episode, brand,
-- label, first, last), the brand's mentions of the drift's sign (label:
-- negative for a fall, positive for a rise) during the episode, the latest
-- first, $limit at most. One query for every episode.
with episodes as (
    select unnest($episodes, recursive := true)
)

select e.episode, m.mention_id
from stg_mentions as m
inner join episodes as e
    on m.brand = e.brand and m.sentiment_label = e.label
    and m.day between e.first and e.last
where not m.is_duplicate
qualify row_number() over (
    partition by e.episode order by m.published_at desc, m.mention_id
) <= $limit
order by e.episode, m.published_at desc, m.mention_id
