-- Voices per status (promoters, detractors, turned, neutral) and regulars.
select
    status,
    count(*) as n_authors,
    count(*) filter (where is_regular) as n_regulars,
from authors
where $brand::varchar is null or list_contains(brands, $brand)
group by status
order by n_authors desc
