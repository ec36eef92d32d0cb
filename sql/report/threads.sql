-- Negative threads naming the brand, active during the week, that no official
-- account of the brand has answered.
select
    thread_url,
    title,
    source,
    posted_at,
    n_comments,
    n_voices,
    post_sentiment,
    final_tone,
    coalesce(last_comment_at, posted_at) as last_activity_at,
from threads
where list_contains(brands, $brand)
    and not is_answered
    and (final_tone = 'negative' or post_sentiment < 0)
    and coalesce(last_comment_at, posted_at) >= $from_ts
    and posted_at < $to_ts
order by n_comments desc, last_activity_at desc, thread_url
limit $limit
