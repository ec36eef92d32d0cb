-- Competitors compared with a brand (from the share-of-voice mart).
select distinct competitor
from share_of_voice
where brand = $brand and competitor is not null and competitor <> brand
order by competitor
