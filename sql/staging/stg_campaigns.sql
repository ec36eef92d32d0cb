-- stg_campaigns: the campaigns view (migration 002), as the marts read it.
create or replace table stg_campaigns as

with

source as (
    select * from campaigns
),

renamed as (
    select
        campaign_id,
        name,
        brand,
        lower(channel) as channel,
        start_date,
        end_date,
    from source
)

select * from renamed
