-- regular_turned_detractor: the regulars whose status turned towards
-- detractor (authors mart), per brand they used to praise (mean label >= 0.25
-- before turned_at) and now criticise (<= -0.25 since): the change of mean
-- label, the labelled mentions behind it and its standard error (each side's
-- variance floored at $floor). The person's status is across brands; the
-- alert is per brand. Only the turns strong enough to alert: $min_count
-- labelled mentions or more and a change of $min_z standard errors or more
-- (3M documents: 268 of 8,980 rows, which Python no longer reads one by one).
with turned as (
    select author_id, author, site, turned_at,
    from authors
    where is_regular and status = 'turned' and turned_to = 'detractor'
),
per_brand as (
    select
        t.author_id,
        any_value(t.author) as author,
        any_value(t.site) as site,
        any_value(t.turned_at) as turned_at,
        m.brand,
        avg(m.label_score) filter (where m.published_at < t.turned_at)
            as before,
        avg(m.label_score) filter (where m.published_at >= t.turned_at)
            as since,
        count(m.label_score) filter (where m.published_at < t.turned_at)
            as n_before,
        count(m.label_score) filter (where m.published_at >= t.turned_at)
            as n_since,
        var_pop(m.label_score) filter (where m.published_at < t.turned_at)
            as var_before,
        var_pop(m.label_score) filter (where m.published_at >= t.turned_at)
            as var_since,
        list(m.mention_id order by m.published_at, m.mention_id) filter (
            where m.published_at >= t.turned_at
                and m.sentiment_label = 'negative'
        ) as evidence,
        max(m.day) as last_day,
        count(*) filter (
            where m.published_at >= t.turned_at
                and m.sentiment_label = 'negative'
        ) as n_negative,
    from turned as t
    join stg_mentions as m
        on m.author_id = t.author_id
        and not m.is_duplicate
        and m.day <= getvariable('as_of')
    group by t.author_id, m.brand
),
scored as (
    select
        author_id,
        author,
        site,
        turned_at,
        brand,
        evidence,
        last_day,
        n_negative,
        before - since as change,
        n_before + n_since as n_labelled,
        sqrt(
            greatest(var_before, $floor) / n_before
            + greatest(var_since, $floor) / n_since
        ) as error,
    from per_brand
    where before >= 0.25 and since <= -0.25
)
select * from scored
where n_labelled >= $min_count and change / error >= $min_z
order by brand, author_id
