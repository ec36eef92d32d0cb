-- Threads naming a brand: unanswered negative ones first, then the latest.
select
    thread_url,
    title,
    source,
    array_to_string(brands, ', ') as brands,
    posted_at,
    n_comments,
    n_voices,
    round(post_sentiment, 2) as post_sentiment,
    round(comments_sentiment, 2) as comments_sentiment,
    is_answered,
    round(hours_to_first_answer, 1) as hours_to_first_answer,
    final_tone,
    last_comment_at,
    not is_answered
        and (final_tone = 'negative' or post_sentiment < 0)
        as is_unanswered_negative,
from threads
where ($brand::varchar is null or list_contains(brands, $brand))
    and coalesce(last_comment_at, posted_at)::date between $start and $end
order by
    is_unanswered_negative desc,
    coalesce(last_comment_at, posted_at) desc,
    thread_url
limit $limit
