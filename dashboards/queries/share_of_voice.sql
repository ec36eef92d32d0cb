-- A brand's set (itself and its competitors), week by week: the weeks (Monday
-- to Sunday) that overlap the period.
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
    and week between $start - interval 6 day and $end
order by week, competitor
