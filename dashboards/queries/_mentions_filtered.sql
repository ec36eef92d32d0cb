-- The mentions matching the Mentions page's filters; mentions_search,
-- mentions_count and mentions_export include it by name (see data.sql_text).
-- Never run alone (the leading _ says so; bench/marts.py skips it): without a
-- page's limit it reads every matching mention.
-- Null (or empty list) parameters mean "all". The period is on the local day
-- the mart keeps (the day of published_at in the build's zone, the zone this
-- connection shows): the rows are stored by day, so it skips the others.
with

kept as (
    select *
    from mention_search
    where ($brand::varchar is null or brand = $brand)
        and day between $start and $end
        and (len($sources::varchar[]) = 0
            or list_contains($sources::varchar[], source))
        and (len($channels::varchar[]) = 0
            or list_contains($channels::varchar[], channel))
        and ($sentiment::varchar is null
            or coalesce(sentiment_label, 'unscored') = $sentiment)
        and ($aspect::varchar is null or list_contains(aspects, $aspect))
        and ($author::varchar is null or author ilike '%' || $author || '%')
        and ($lang::varchar is null or lang = $lang)
),

-- The text search ignores case and accents: it reads the text and title
-- folded with fold_text (raw.folded_texts, one row per mention, kept by the
-- build; the search words are folded here). The folds are stored in
-- publication order: the brand and the period (a day more on each side, the
-- kept rows' exact days are in kept) skip the other row groups and leave the
-- texts of the other brands unread. A fold's published_at is its document's
-- at the build, as the mart's is (listening.marts.incremental).
matched as (
    select mention_id,
    from raw.folded_texts
    where ($brand::varchar is null or brand = $brand)
        and published_at >= ($start::date - 1)::timestamptz
        and published_at < ($end::date + 2)::timestamptz
        and (contains(text_folded, fold_text($q))
            or contains(title_folded, fold_text($q)))
)

select * from kept
where $q::varchar is null
union all
select * from kept
semi join matched using (mention_id)
where $q::varchar is not null
