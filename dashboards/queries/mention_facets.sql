-- Values offered by the mention filters: sources and channels from the
-- configured sources, languages from the documents (cheaper than scanning the
-- mentions join).
with

facets as (
    select 'source' as facet, name as value, n_documents as n
    from source_health
    union all
    select 'channel', channel, sum(n_documents)
    from source_health
    group by channel
    union all
    select 'lang', lang, count(*)
    from documents
    where lang is not null
    group by lang
)

select * from facets
order by facet, n desc, value
