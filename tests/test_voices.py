"""One definition of a voice (issue 11.7): a person is a normalised name on one site, and each
anonymous mention speaks alone, in the marts and in the CLI summary alike."""

from __future__ import annotations

from listening.marts.summary import summarize
from tests.test_marts import World


def test_the_summary_counts_voices_as_the_marts_do():
    w = World()
    day = "2024-06-10"
    w.say(day, "positive", "Alice", site="www.a.fr")
    w.say(day, "negative", "  alice ", site="www.a.fr")  # the same person, written otherwise
    w.say(day, "positive", "Alice", site="www.b.fr")  # a namesake on another site
    w.say(day, "neutral", None)  # two anonymous mentions: two voices
    w.say(day, "neutral", None)
    w.build()
    expected = 4
    assert (
        w.one("select n_voices from reputation_daily where brand = 'Acme' and day = ?", [day])
        == expected
    )
    assert (
        w.one(
            "select sum(n_voices) from share_of_voice where brand = 'Acme' and competitor = 'Acme'"
        )
        == expected
    )
    (acme,) = [s for s in summarize(w.con) if s.brand == "Acme"]
    assert (acme.n_mentions, acme.n_voices) == (5, expected)


def test_voice_id_is_defined_once_in_staging():
    w = World()
    w.say("2024-06-10", "positive", "Alice", site="www.a.fr")
    anonymous = w.say("2024-06-11", "positive", None)
    w.build()
    rows = w.rows("select mention_id, author_id, voice_id, document_id from stg_mentions")
    for r in rows:
        assert r["voice_id"] == (r["author_id"] or r["document_id"])
    assert any(r["mention_id"] == anonymous and r["author_id"] is None for r in rows)
