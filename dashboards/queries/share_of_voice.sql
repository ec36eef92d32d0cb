-- A brand's set (itself and its competitors), week by week.
select
    week,
    competitor,
    n_mentions,
    share_of_mentions,
    n_voices,
    share_of_voices,
    net_sentiment,
from share_of_voice
where brand = $brand
    and week between $start and $end
order by week, competitor
