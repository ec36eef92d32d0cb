-- Voices of one status (or the regulars), the most active first.
select
    author_id,
    author,
    site,
    status,
    is_regular,
    n_mentions,
    n_threads,
    round(mean_sentiment, 2) as mean_sentiment,
    round(trend, 2) as trend,
    first_seen,
    last_seen,
    array_to_string(brands, ', ') as brands,
from authors
where ($brand::varchar is null or list_contains(brands, $brand))
    and ($status::varchar is null or status = $status)
    and (not $regulars_only or is_regular)
order by n_mentions desc, author_id
limit $limit
