-- threads: one row per thread (a post and its comments) that names a brand
-- in its post or any comment. Comments come from documents, so a thread keeps
-- its comments that name no brand. A comment is a brand's answer when its
-- author is one of the official_authors of a brand the thread names (config;
-- names compared normalised). Tones use labelled documents only (the analyze
-- stage scores the documents that name a brand). An incremental build
-- recomputes only the threads of scope_thread_url.
-- incremental key: thread_url
create or replace table threads as

with

documents as (
    -- only the columns this mart reads: the rows are kept once (materialized)
    -- and read three times below
    select
        document_id,
        kind,
        thread_url,
        source,
        author_key,
        published_at,
        title,
        voice_id,
    from stg_documents
    where not is_duplicate
        and day <= getvariable('as_of')
        and (
            getvariable('is_full')
            -- by rowid: the first scan reads only thread_url, then the rows
            -- kept are read by position, most of them in the newest row
            -- groups (3M documents, one new day: 0.17 -> 0.09 s)
            or rowid in (
                select rowid from stg_documents
                where thread_url in (select thread_url from scope_thread_url)
            )
        )
),

mentions as (
    select * from stg_mentions_as_of
    where getvariable('is_full')
        or thread_url in (select thread_url from scope_thread_url)
),

official as (
    select brand, author_key from official_authors
    where author_key is not null
),

thread_brands as (
    select
        thread_url,
        list(distinct brand order by brand) as brands,
    from mentions
    group by thread_url
),

document_scores as (
    -- a document naming two brands: its labels averaged
    select
        document_id,
        avg(label_score) as score,
    from mentions
    group by document_id
),

thread_documents as (
    select
        d.*,
        s.score,
    from documents as d
    semi join thread_brands as tb
        on tb.thread_url = d.thread_url
    left join document_scores as s
        on s.document_id = d.document_id
),

official_documents as (
    select distinct d.document_id
    from thread_documents as d
    join official as o
        on o.author_key = d.author_key
    join thread_brands as tb
        on tb.thread_url = d.thread_url
        and list_contains(tb.brands, o.brand)
),

flagged as (
    select
        d.* exclude (author_key),
        o.document_id is not null as is_official,
    from thread_documents as d
    left join official_documents as o
        on o.document_id = d.document_id
),

posts as (
    select *
    from flagged
    where kind = 'post'
    qualify row_number() over (
        partition by thread_url order by published_at, document_id
    ) = 1
),

comments as (
    select * from flagged
    where kind = 'comment'
),

last_voices as (
    -- the last 3 labelled comments of people, not of the brands
    select
        thread_url,
        score,
        published_at,
    from comments
    where not is_official
        and score is not null
    qualify row_number() over (
        partition by thread_url order by published_at desc, document_id desc
    ) <= 3
),

final_tones as (
    select
        thread_url,
        round(avg(score)) as tone_score,
        min(published_at) as tone_since,
    from last_voices
    group by thread_url
),

thread_stats as (
    select
        thread_url,
        count(*) filter (where kind = 'comment') as n_comments,
        count(distinct voice_id) filter (
            where not is_official
        ) as n_voices,
        avg(score) filter (
            where kind = 'comment' and not is_official
        ) as comments_sentiment,
        min(published_at) filter (
            where kind = 'comment' and is_official
        ) as first_answer_at,
        max(published_at) filter (
            where kind = 'comment' and is_official
        ) as last_answer_at,
        max(published_at) filter (where kind = 'comment') as last_comment_at,
        min(published_at) as first_document_at,
        -- the first document's, not any one: the same whatever the rows' order
        arg_min(title, (published_at, document_id)) filter (
            where title is not null
        ) as any_title,
        arg_min(source, (published_at, document_id)) as any_source,
    from flagged
    group by thread_url
),

joined as (
    select
        s.thread_url,
        coalesce(p.title, s.any_title) as title,
        coalesce(p.source, s.any_source) as source,
        tb.brands,
        coalesce(p.published_at, s.first_document_at) as posted_at,
        p.published_at is not null as has_post,
        s.n_comments,
        s.n_voices,
        p.score as post_sentiment,
        s.comments_sentiment,
        s.first_answer_at is not null as is_answered,
        s.first_answer_at,
        epoch(
            s.first_answer_at - coalesce(p.published_at, s.first_document_at)
        ) / 3600.0 as hours_to_first_answer,
        s.last_answer_at,
        case t.tone_score
            when 1 then 'positive'
            when 0 then 'neutral'
            when -1 then 'negative'
        end as final_tone,
        t.tone_since,
        s.last_comment_at,
    from thread_stats as s
    join thread_brands as tb
        on tb.thread_url = s.thread_url
    left join posts as p
        on p.thread_url = s.thread_url
    left join final_tones as t
        on t.thread_url = s.thread_url
)

select * from joined;

comment on table threads is
    'One row per thread (post + comments) naming a brand somewhere.';
comment on column threads.thread_url is 'URL of the post (the thread key).';
comment on column threads.title is 'Post title.';
comment on column threads.source is 'Configured source of the post.';
comment on column threads.brands is 'Brands named in the post or comments.';
comment on column threads.posted_at is
    'Post time (UTC); the first comment''s when the post was not collected.';
comment on column threads.has_post is
    'False when only comments were collected.';
comment on column threads.n_comments is
    'Comments collected (duplicates skipped).';
comment on column threads.n_voices is
    'Distinct people in the thread, post author included, brands excluded.';
comment on column threads.post_sentiment is
    'Mean label of the post, -1..1; NULL when not scored.';
comment on column threads.comments_sentiment is
    'Mean label of the people''s labelled comments, -1..1.';
comment on column threads.is_answered is
    'A brand''s official account (config official_authors) commented.';
comment on column threads.first_answer_at is 'First official comment (UTC).';
comment on column threads.hours_to_first_answer is
    'Hours from the post to the first official comment.';
comment on column threads.last_answer_at is 'Last official comment (UTC).';
comment on column threads.final_tone is
    'Mean label of the last 3 labelled comments of people, rounded: '
    'positive, neutral or negative; NULL when none is labelled.';
comment on column threads.tone_since is
    'Time of the first of those last 3 comments (UTC).';
comment on column threads.last_comment_at is 'Last comment (UTC).';
