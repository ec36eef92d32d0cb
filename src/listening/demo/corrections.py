"""The demo's analysts: a batch of label corrections, so the dashboards show the adapter at work.

After the first pass of the pipeline, three analysts read mentions in the dashboards and
correct some of the labels the scorer got wrong (as the Mentions page lets them), judged
against what the world's authors meant (``World.documents``, the generator's ground truth).
They correct about a third of the mistakes they come across, not all: the rest is left for
the adapter. The corrections go through the same pending files as the dashboard's.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from listening import store
from listening.store.overrides import LABELS, record_override

ANALYSTS = ("Camille R.", "Yanis B.", "Léa M.")
SHARE = 0.35  # of the mistakes the analysts come across
MAX_CORRECTIONS = 180
NOTES = {
    "positive": ("client satisfait", "avis positif mal lu", None),
    "negative": ("plainte", "ironie", "réclamation client", None),
    "neutral": ("simple information", "question, pas un avis", None),
}


def record_demo_corrections(world, db: Path, now: datetime, seed: int = 7) -> int:
    """Record the analysts' corrections as pending files next to ``db``; return how many."""
    truth = {
        d["url"]: (d["brand"], d["sentiment"])
        for d in world.documents
        if d["sentiment"] in LABELS and len(d["brands_named"]) <= 1
    }
    # The world's own order, not the ids: ids hash the URL, whose port changes with every run,
    # and the same world must get the same corrections (hence the same adapter) every time.
    order = {d["url"]: i for i, d in enumerate(world.documents)}
    con = store.open_reader(db)
    try:
        rows = con.execute(
            "select mention_id, url, brand, sentiment_label from mentions "
            "where sentiment_label is not null and not is_overridden order by mention_id"
        ).fetchall()
    finally:
        con.close()
    mistakes = sorted(
        (order[url], mention_id, truth[url][1])
        for mention_id, url, brand, label in rows
        if url in truth and truth[url][0] == brand and truth[url][1] != label
    )
    rng = random.Random(seed)
    chosen = rng.sample(mistakes, min(MAX_CORRECTIONS, round(SHARE * len(mistakes))))
    for i, (_, mention_id, label) in enumerate(sorted(chosen)):
        record_override(
            db,
            mention_id,
            label,
            rng.choice(NOTES[label]),
            ANALYSTS[i % len(ANALYSTS)],
            now + timedelta(seconds=i),
        )
    return len(chosen)
