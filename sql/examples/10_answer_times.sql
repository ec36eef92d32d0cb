-- How fast do brands answer?
-- Per brand: threads naming it, the share its accounts answered, and the
-- median and 90th percentile hours to the first answer.
select
    b.brand,
    count(*) as n_threads,
    round(avg(t.is_answered::int), 2) as answered_share,
    round(median(t.hours_to_first_answer), 1) as median_hours,
    round(quantile_cont(t.hours_to_first_answer, 0.9), 1) as p90_hours,
from threads as t, unnest(t.brands) as b(brand)
group by b.brand
order by b.brand
