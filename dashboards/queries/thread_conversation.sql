-- A thread in reading order, the brand's answers flagged: comments by an
-- account listed in the config's official_authors (table official_authors,
-- copied by each build), names compared by the store's author_key macro.
with

official as (
    select distinct author_key from official_authors
),

docs as (
    select
        d.document_id,
        d.kind,
        d.url,
        d.parent_id,
        d.author,
        d.published_at,
        d.title,
        d.text,
        d.kind = 'comment'
            and author_key(d.author) in (select author_key from official)
            as is_official,
    from documents as d
    where d.thread_url = $thread_url
        and d.duplicate_of is null
)

select * from docs
order by kind = 'comment', published_at, document_id
