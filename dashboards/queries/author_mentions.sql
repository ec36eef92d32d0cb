-- One person's mentions in time order (a person is a name on one site: the
-- authors mart's author_key and site, kept on each row of mention_search).
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
from mention_search
where author_key = author_key($author)
    and site = $site
    and not is_duplicate
order by published_at, mention_id
limit 1000
