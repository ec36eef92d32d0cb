-- Top detractors this month
-- The people with the most negative mentions of each brand in the 30 days up
-- to the last build, with their overall status. Official accounts excluded.
with

last_day as (
    select max(day) as today from reputation_daily
),

negative as (
    select
        m.brand,
        m.author_id,
        count(*) as n_negative,
    from stg_mentions as m, last_day
    where m.sentiment_label = 'negative'
        and not m.is_duplicate
        and m.day > last_day.today - 30
    group by all
),

ranked as (
    select
        n.brand,
        a.author,
        a.site,
        n.n_negative,
        a.status,
        a.n_mentions,
        row_number() over (
            partition by n.brand order by n.n_negative desc, a.author
        ) as rank,
    from negative as n
    join authors as a using (author_id)
)

select * from ranked
where rank <= 10
order by brand, rank
