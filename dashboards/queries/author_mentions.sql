-- One person's mentions in time order (a person is a name on one site: the
-- authors mart's author_key and site, kept on each row of mention_search),
-- with the title and text of their documents (the mart keeps no display text).
with

picked as (
    select
        mention_id,
        document_id,
        published_at,
        brand,
        source,
        sentiment_label,
        sentiment,
        url,
    from mention_search
    where author_key = author_key($author)
        and site = $site
        and not is_duplicate
    order by published_at, mention_id
    limit 1000
)

select
    p.mention_id,
    p.published_at,
    p.brand,
    p.source,
    p.sentiment_label,
    p.sentiment,
    d.title,
    d.text,
    p.url,
from picked as p
left join raw.documents as d using (document_id)
order by p.published_at, p.mention_id
