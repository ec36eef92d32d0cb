-- Unanswered negative threads
-- Threads whose last comments are negative and where no brand account has
-- answered since the tone turned; oldest first (they waited longest).
select
    brands,
    title,
    thread_url,
    source,
    posted_at,
    n_comments,
    n_voices,
    tone_since,
    last_comment_at,
from threads
where final_tone = 'negative'
    and (last_answer_at is null or last_answer_at < tone_since)
order by tone_since
