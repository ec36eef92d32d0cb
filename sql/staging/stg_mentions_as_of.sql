-- stg_mentions_as_of: the mentions every mart counts: stg_mentions without
-- the near-identical copies (is_duplicate), up to the last local day built
-- (as_of). The one home of that filter: the marts import this relation and
-- add their own conditions. A temporary view, so it stores nothing and always
-- reads the stg_mentions of this build (rebuilt whole or incrementally).
create or replace temp view stg_mentions_as_of as

with

source as (
    select * from stg_mentions
),

kept as (
    select * from source
    where not is_duplicate
        and day <= getvariable('as_of')
)

select * from kept
