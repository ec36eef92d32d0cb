-- reputation_drift's evidence: the brand's mentions of the drift's sign
-- ($label: negative for a fall, positive for a rise) during the episode, the
-- latest first.
select mention_id
from stg_mentions
where brand = $brand and not is_duplicate
    and sentiment_label = $label and day between $first and $last
order by published_at desc, mention_id
limit $limit
