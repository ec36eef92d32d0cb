-- Threads in the period: how many, how many negative without a brand answer,
-- and the median delay of the brand's first answer.
select
    count(*) as n_threads,
    count(*) filter (
        where not is_answered
            and (final_tone = 'negative' or post_sentiment < 0)
    ) as n_unanswered_negative,
    count(*) filter (where is_answered) as n_answered,
    median(hours_to_first_answer) as median_hours_to_first_answer,
from threads
where ($brand::varchar is null or list_contains(brands, $brand))
    and coalesce(last_comment_at, posted_at)::date between $start and $end
