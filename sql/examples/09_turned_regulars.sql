-- Regulars who changed their mind
-- People active in 3 months or more whose stance turned (promoter to
-- detractor or back), most recent turn first.
select
    author,
    site,
    turned_to,
    turned_at,
    n_mentions,
    round(mean_sentiment, 2) as mean_sentiment,
    round(trend, 2) as trend,
    brands,
from authors
where is_regular
    and status = 'turned'
order by turned_at desc
