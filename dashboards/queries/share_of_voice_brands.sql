-- Focal brands of the share-of-voice mart, and the weeks covered.
select
    brand,
    min(week) as first_week,
    max(week) as last_week,
    count(distinct competitor) as n_members,
from share_of_voice
group by brand
order by brand
