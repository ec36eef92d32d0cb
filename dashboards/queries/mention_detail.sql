-- One mention, whole, with its sentiment explanation and the scored span: the
-- document's side from the mention_search mart (its title and text from the
-- document itself: the mart keeps no display text), the mention's from the
-- table analyze writes, an analyst's correction applied as in the mentions view.
-- Not the mentions view: it joins the documents to find one mention (+20 %,
-- 17 -> 20 ms on 1M documents). Not mention_search's label: that one is as of
-- the last build, while every writer stage, not only the build, takes in the
-- analysts' new corrections and publishes them.
with

mention as (
    select * from raw.mentions
    where mention_id = $mention_id
),

document as (
    select * from mention_search
    where mention_id = $mention_id
),

texts as (
    select title, text, from raw.documents
    where document_id = (select document_id from mention)
),

correction as (
    select * from raw.sentiment_overrides
    where mention_id = $mention_id
)

select
    m.mention_id,
    m.brand,
    m.document_id,
    d.kind,
    d.url,
    d.thread_url,
    d.parent_id,
    d.source,
    d.channel,
    d.author,
    d.published_at,
    t.title,
    t.text,
    d.lang,
    m.matched_terms,
    m.sentiment,
    coalesce(o.sentiment_label, m.sentiment_label) as sentiment_label,
    o.sentiment_label is not null as is_overridden,
    m.sentiment_explanation::varchar as sentiment_explanation,
    m.sentiment_version,
    m.sentiment_adapter_id,
    m.aspects,
    m.aspect_sentiment::varchar as aspect_sentiment,
    m.sentiment_scope,
    m.sentiment_spans,
    m.sentiment_scope_note,
    d.is_duplicate,
from mention as m
inner join document as d using (mention_id)
left join texts as t on true
left join correction as o using (mention_id)
