-- A person's history
-- Every mention by one person (change the name below; it matches the
-- normalised name, on every site), oldest first, with labels.
set variable author_name = 'Claire';

select
    m.published_at,
    m.brand,
    m.source,
    m.site,
    m.kind,
    m.sentiment_label,
    a.status,
    m.url,
from stg_mentions as m
join authors as a using (author_id)
where m.author_key = author_key(getvariable('author_name'))
    and not m.is_duplicate
order by m.published_at
