-- unanswered_negative_thread: the threads whose final tone is negative, with
-- no answer from the brand since its tone turned, for $hours (and less than
-- $lookback days ago), where $min_voices people or more (distinct voices)
-- have a negative mention of the brand since its last answer (or ever, when
-- it never answered), and the latest labelled mention of the brand there is
-- not positive; one row per thread and brand.
with open_threads as (
    select t.thread_url, coalesce(t.title, t.thread_url) as title, b.brand,
        t.tone_since, t.last_comment_at, t.last_answer_at,
    from threads as t, unnest(t.brands) as b(brand)
    where t.final_tone = 'negative'
        and (t.last_answer_at is null or t.last_answer_at < t.tone_since)
        and t.tone_since <= $now::timestamptz - to_hours($hours)
        -- a thread that went quiet long ago is history, not something to answer
        and t.tone_since >= $now::timestamptz - to_days($lookback)
),
-- the people's labelled mentions of the brand since its last answer (all,
-- unanswered)
voiced as (
    select o.thread_url, o.brand, m.mention_id, m.voice_id, m.sentiment_label,
        m.published_at,
    from open_threads as o
    join stg_mentions as m
        on m.thread_url = o.thread_url and m.brand = o.brand
        and not m.is_duplicate and m.day <= $as_of
        and m.sentiment_label is not null
        and (o.last_answer_at is null or m.published_at > o.last_answer_at)
    where not exists (
        select 1 from official_authors as a where a.author_key = m.author_key
    )
),
complaints as (
    select thread_url, brand,
        list(mention_id order by published_at, mention_id) filter (
            where sentiment_label = 'negative'
        ) as evidence,
    from voiced
    group by thread_url, brand
    -- one voice is one opinion: several people complaining unanswered is a case
    having count(distinct voice_id) filter (
            where sentiment_label = 'negative'
        ) >= $min_voices
        -- and the brand's latest mention is not praise: the thread ended well
        and arg_max(sentiment_label, (published_at, mention_id)) <> 'positive'
)
select
    o.thread_url,
    o.title,
    o.brand,
    o.tone_since,
    o.last_comment_at,
    c.evidence,
from open_threads as o
join complaints as c using (thread_url, brand)
order by o.brand, o.thread_url
