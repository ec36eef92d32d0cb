-- One page of mentions matching the filters, newest first. The title and the
-- excerpt are read for the page's rows only, from their documents (by
-- document_id: an index lookup); mention_search keeps no display text. With a
-- text search, the excerpt shows the words around the first match.
with

page as (
    select
        mention_id,
        document_id,
        published_at,
        brand,
        source,
        channel,
        author,
        sentiment_label,
        is_overridden,
        sentiment,
        aspects,
        lang,
        url,
        scored_by,
    from {{_mentions_filtered}}
    order by published_at desc, mention_id
    limit $limit offset $offset
)

select
    p.mention_id,
    p.published_at,
    p.brand,
    p.source,
    p.channel,
    p.author,
    p.sentiment_label,
    p.is_overridden,
    round(p.sentiment, 3) as sentiment,
    p.aspects,
    p.lang,
    d.title,
    -- searched: the excerpt starts a little before the first match when the
    -- start of the text would hide it (the table shows about 60 characters)
    case
        -- from the first word that starts in the 30 characters before the match
        when k.hit > 40 then '…' || substr(
            d.text, k.hit - 30 + strpos(substr(d.text, k.hit - 30, 30), ' '), 279
        )
        else left(d.text, 280)
    end as excerpt,
    p.url,
    p.scored_by,
from page as p
left join raw.documents as d using (document_id),
    lateral (
        select
            case
                when $q::varchar is null then 0
                else strpos(fold_text(d.text), fold_text($q))
            end as hit
    ) as k
order by p.published_at desc, p.mention_id
