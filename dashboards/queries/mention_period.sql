-- First and last day with documents (the bounds of the period picker).
select
    min(published_at)::date as first_day,
    max(published_at)::date as last_day,
from documents
