-- Share of voice, last 12 weeks
-- Each brand's share of mentions and of people in its competitive set over
-- the last 12 weeks, with net sentiment.
with

recent as (
    select * from share_of_voice
    where week > (select max(day) from reputation_daily) - interval 12 weeks
)

select
    brand,
    competitor,
    sum(n_mentions) as n_mentions,
    round(sum(n_mentions) / sum(sum(n_mentions)) over (partition by brand), 3)
        as share_of_mentions,
    sum(n_voices) as n_voices,
    round(sum(n_voices) / sum(sum(n_voices)) over (partition by brand), 3)
        as share_of_voices,
from recent
group by brand, competitor
order by brand, n_mentions desc
