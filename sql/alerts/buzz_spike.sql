-- buzz_spike: the conversations (a thread, or the mention itself outside
-- threads) naming each brand, per day up to as_of; the rule sums them into
-- weeks.
select brand, day, list(coalesce(thread_url, mention_id)),
from stg_mentions
where not is_duplicate and day <= getvariable('as_of')
group by brand, day
