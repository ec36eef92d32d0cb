-- How many mentions match the filters (same filters as mentions_search).
select count(*) as n_mentions
from {{_mentions_filtered}}
