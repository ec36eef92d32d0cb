-- negative_spike's evidence: for each episode of $episodes (episode, brand,
-- days), the brand's negative mentions on the days of the episode, the first
-- published first, $limit at most. One query for every episode.
with episode_days as (
    select e.episode, e.brand, unnest(e.days) as day
    from (select unnest($episodes, recursive := true)) as e
)

select e.episode, m.mention_id
from stg_mentions as m
inner join episode_days as e using (brand, day)
where not m.is_duplicate and m.sentiment_label = 'negative'
qualify row_number() over (
    partition by e.episode order by m.published_at, m.mention_id
) <= $limit
order by e.episode, m.published_at, m.mention_id
