-- One person's mentions in time order (a person is a name on one site).
select
    mention_id,
    published_at,
    brand,
    source,
    sentiment_label,
    sentiment,
    title,
    text,
    url,
from mentions
where lower(trim(regexp_replace(author, '\s+', ' ', 'g')))
        = lower(trim(regexp_replace($author, '\s+', ' ', 'g')))
    and regexp_replace(
        regexp_extract(
            lower(url), '^[a-z][a-z0-9+.-]*://(?:[^@/]*@)?([^/:?#]+)', 1
        ),
        '^www\.',
        ''
    ) = $site
    and not is_duplicate
order by published_at, mention_id
limit 1000
