-- 004_mention_scope: sentiment toward each brand of a document. A mention
-- stores which part of the text was scored for its brand (the clauses about
-- it) and why; the mentions view shows them. Written by analyze.

alter table raw.mentions add column sentiment_scope varchar;
alter table raw.mentions add column sentiment_spans integer[][];
alter table raw.mentions add column sentiment_scope_note varchar;

-- The view is replaced to show the new columns; DuckDB drops a view's comments
-- with it, so they are all given again.
create or replace view mentions as
select
    m.mention_id,
    m.brand,
    d.document_id,
    d.kind,
    d.url,
    d.thread_url,
    d.parent_id,
    d.source,
    d.channel,
    d.author,
    d.published_at,
    d.collected_at,
    d.title,
    d.text,
    d.lang,
    m.matched_terms,
    m.sentiment,
    coalesce(o.sentiment_label, m.sentiment_label) as sentiment_label,
    o.sentiment_label is not null as is_overridden,
    m.sentiment_explanation,
    m.sentiment_version,
    m.aspects,
    m.aspect_sentiment,
    m.sentiment_scope,
    m.sentiment_spans,
    m.sentiment_scope_note,
    d.duplicate_of is not null as is_duplicate,
from raw.mentions as m
join documents as d using (document_id)
left join raw.sentiment_overrides as o using (mention_id);

comment on view mentions is 'One row per (document, brand) match, with its sentiment.';
comment on column mentions.mention_id is 'Stable id of the (document, brand) pair.';
comment on column mentions.brand is 'Brand name from the config.';
comment on column mentions.document_id is 'The matching document (see the documents view).';
comment on column mentions.kind is '''post'' or ''comment''.';
comment on column mentions.url is 'Canonical URL of the document.';
comment on column mentions.thread_url is 'URL of the post the document belongs to.';
comment on column mentions.parent_id is 'document_id of the comment answered, when known.';
comment on column mentions.source is 'Configured source name.';
comment on column mentions.channel is 'blog, news, forum, review or other.';
comment on column mentions.author is 'Author name, normalised.';
comment on column mentions.published_at is 'Publication time (UTC).';
comment on column mentions.collected_at is 'Collection time (UTC).';
comment on column mentions.title is 'Document title.';
comment on column mentions.text is 'Document plain text.';
comment on column mentions.lang is 'Detected language; non-French text is not scored.';
comment on column mentions.matched_terms is 'Query terms of the brand that matched the text.';
comment on column mentions.sentiment is
    'Compound sentiment toward the brand in -1..1 (the clauses about it, see '
    'sentiment_scope); NULL when not scored (not French).';
comment on column mentions.sentiment_label is
    '''positive'', ''neutral'' or ''negative'' (an analyst override wins); NULL when not scored.';
comment on column mentions.is_overridden is 'True when an analyst corrected the label.';
comment on column mentions.sentiment_explanation is
    'JSON list of the terms that moved the score: term, weight, negated.';
comment on column mentions.sentiment_version is 'Version of the scorer that produced the score.';
comment on column mentions.aspects is
    'What the text talks about: produit, service, prix, service client, livraison, communication.';
comment on column mentions.aspect_sentiment is
    'JSON object: aspect -> mean sentiment of the sentences naming it, within '
    'sentiment_spans.';
comment on column mentions.is_duplicate is 'True for a near-identical copy of another document.';
comment on column mentions.sentiment_scope is
    'What was scored for this brand: clause (part of a sentence), sentence '
    '(whole sentences) or document (the brand is only in the title, or no '
    'clause names it); NULL for mentions analysed before scopes existed.';
comment on column mentions.sentiment_spans is
    'Scored parts of text, as [start, end) character offsets into text.';
comment on column mentions.sentiment_scope_note is
    'Why the scope or the score (comparison, contrast, fallback), in French.';
