-- One mention, whole, with its sentiment explanation and the scored span.
select
    mention_id,
    brand,
    document_id,
    kind,
    url,
    thread_url,
    parent_id,
    source,
    channel,
    author,
    published_at,
    title,
    text,
    lang,
    matched_terms,
    sentiment,
    sentiment_label,
    is_overridden,
    sentiment_explanation::varchar as sentiment_explanation,
    sentiment_version,
    (
        select mm.sentiment_adapter_id from mention_models as mm
        where mm.mention_id = mentions.mention_id
    ) as sentiment_adapter_id,
    aspects,
    aspect_sentiment::varchar as aspect_sentiment,
    sentiment_scope,
    sentiment_spans,
    sentiment_scope_note,
    is_duplicate,
from mentions
where mention_id = $mention_id
