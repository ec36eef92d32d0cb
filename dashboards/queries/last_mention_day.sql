-- The store's last day with a mention: every page's default period ends there
-- (not today: a store of older data opens on its data).
select max(published_at)::date as last_day,
from mention_search
