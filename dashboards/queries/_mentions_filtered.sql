-- The mentions matching the Mentions page's filters; mentions_search,
-- mentions_count and mentions_export include it by name (see data.sql_text).
-- Never run alone (the leading _ says so; bench/marts.py skips it): without a
-- page's limit it reads every matching mention with its text.
-- Null (or empty list) parameters mean "all"; the search ignores case and
-- accents: the mart holds the text and title folded with fold_text, the
-- search words are folded with it here, and the text is only searched in
-- the rows the other filters keep. The period is on the local day the mart
-- keeps (the day of published_at in the build's zone, the zone this
-- connection shows): the rows are stored by day, so it skips the others.
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
    and ($q::varchar is null
        or contains(text_folded, fold_text($q))
        or contains(title_folded, fold_text($q)))
