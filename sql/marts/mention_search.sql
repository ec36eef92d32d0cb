-- mention_search: one row per mention with everything the Mentions, Sujets
-- and Voix pages filter on, in one table: no join to filter. The text
-- search reads the folded text and title (fold_text: lower case, no accents)
-- from raw.folded_texts, which the build refreshes first (listening.marts):
-- one fold per mention with its brand, stored in publication order, so the
-- search reads the texts of its brand and period only and joins them by
-- mention_id (migration 015). Neither the folds nor the text
-- and title as written are copied here (the pages read the texts from
-- raw.documents, by document_id, for the rows they show or export): copying,
-- sorting and compressing 1M folded texts took about 3/4 of this step (3M
-- documents: 18 -> 4 s of CPU).
-- Rows are stored by day, then brand: every dashboard query names a period
-- (and most a brand), and DuckDB skips the row groups whose min/max of day,
-- brand or published_at fall outside it (zone maps); 3M documents: a Mentions
-- page 4x to 10x faster (bench/marts.py). An incremental build appends its
-- rows at the end, still in that order.
-- incremental key: mention_id
create or replace table mention_search as

with

source as (
    -- the mentions view with the keys of stg_documents, already joined there
    -- (the view joins every mention to its document: doing it again here took
    -- 1 s of a full build at 3M documents)
    select * from stg_mentions
    where getvariable('is_full')
        or mention_id in (select mention_id from scope_mention_id)
),

models as (
    select mention_id, scored_by, from mention_models
),

joined as (
    select
        m.mention_id,
        m.brand,
        m.document_id,
        m.kind,
        m.url,
        m.thread_url,
        m.parent_id,
        m.source,
        m.channel,
        m.author,
        m.author_key,
        m.site,
        m.published_at,
        m.day,
        m.lang,
        m.sentiment,
        m.sentiment_label,
        m.is_overridden,
        s.scored_by,
        m.aspects,
        m.is_duplicate,
    from source as m
    left join models as s using (mention_id)
)

select * from joined
order by day, brand, published_at;

comment on table mention_search is
    'One row per mention, ready for the dashboards'' filters and text search.';
comment on column mention_search.mention_id is 'See the mentions view.';
comment on column mention_search.brand is 'Brand name from the config.';
comment on column mention_search.document_id is 'The matching document.';
comment on column mention_search.kind is '''post'' or ''comment''.';
comment on column mention_search.url is 'Canonical URL of the document.';
comment on column mention_search.thread_url is 'URL of the thread''s post.';
comment on column mention_search.parent_id is
    'document_id of the comment answered, when known.';
comment on column mention_search.source is 'Configured source name.';
comment on column mention_search.channel is
    'blog, news, forum, review or other.';
comment on column mention_search.author is 'Author name as collected.';
comment on column mention_search.author_key is
    'Lower-cased, space-folded name (the authors mart''s person key).';
comment on column mention_search.site is
    'Host of the document''s URL, www. dropped.';
comment on column mention_search.published_at is 'Publication time (UTC).';
comment on column mention_search.day is 'Local day (settings.timezone).';
comment on column mention_search.lang is 'Detected language.';
comment on column mention_search.sentiment is
    'Compound sentiment in -1..1; NULL when not scored.';
comment on column mention_search.sentiment_label is
    'positive, neutral or negative (an analyst override wins); NULL when '
    'not scored.';
comment on column mention_search.is_overridden is
    'True when an analyst corrected the label.';
comment on column mention_search.scored_by is
    'base, adapter or unscored (see mention_models).';
comment on column mention_search.aspects is 'Aspects the text talks about.';
comment on column mention_search.is_duplicate is
    'True for a near-identical copy of another document.';
