"""Target-level sentiment: accuracy per split of tests/data/sentiment_targets.tsv, and speed.

    .venv/bin/python bench/sentiment_targets.py [--split dev] [--errors dev] [--repeat N]

The set (see its header) is 330 French sentences written for the project, each naming two
targets with their labels; its split column was fixed by a hash of the sentence id before any
rule was written, and rules are developed on `dev` only. Two modes are measured:

- pipeline: the other target's spans are known (as when both brands are configured);
- alone: only the target is given (``listening sentiment --target``), other entities guessed.

The baseline, measured in the same run, is today's behaviour: every target gets the document's
label. Speed is target-level mentions per second on one core, against document-level scoring of
the same texts, in CPU seconds of the process (one core).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

from listening.analyze.sentiment.scorer import get_scorer
from listening.analyze.target import TargetScorer, target_spans

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "sentiment_targets.tsv"


def load(path: Path = DATA) -> list[dict]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#") or line.startswith("id\t"):
            continue
        sid, split, voice, construction, text, targets = line.split("\t")
        labels = [tuple(t.rsplit("=", 1)) for t in targets.split(";")]
        rows.append(
            {"id": sid, "split": split, "voice": voice, "construction": construction,
             "text": text, "labels": labels}
        )  # fmt: skip
    return rows


def mentions(rows: list[dict]):
    """(row, target, gold, target spans, other targets' spans) for every labelled target."""
    for row in rows:
        spans = {name: target_spans(row["text"], name) for name, _ in row["labels"]}
        for name, gold in row["labels"]:
            others = [s for other, sp in spans.items() if other != name for s in sp]
            yield row, name, gold, spans[name], others


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # Only dev mistakes can be listed: reading the test split's would be tuning on it.
    ap.add_argument("--errors", choices=("dev",), help="list the wrong targets of the dev split")
    # While developing, `--split dev` keeps the test split's figures out of sight.
    ap.add_argument(
        "--split", choices=("dev", "all"), default="all", help="report dev only, or both splits"
    )
    ap.add_argument("--repeat", type=int, default=20, help="passes over the set for the speed")
    args = ap.parse_args()
    rows = [r for r in load() if args.split == "all" or r["split"] == args.split]
    items = list(mentions(rows))
    scorer = TargetScorer(get_scorer())
    doc = get_scorer()
    right: dict[tuple[str, str], Counter] = {}
    by_construction: dict[str, Counter] = {}
    errors = []
    for row, name, gold, spans, others in items:
        got = {
            "document": doc.score(row["text"], "fr").label,
            "pipeline": scorer.score(row["text"], spans, "fr", others=others).label,
            "alone": scorer.score(row["text"], spans, "fr").label,
        }
        for mode, label in got.items():
            right.setdefault((row["split"], mode), Counter())[label == gold] += 1
        c = by_construction.setdefault(f"{row['split']}:{row['construction']}", Counter())
        c[got["pipeline"] == gold] += 1
        if args.errors == row["split"] and got["pipeline"] != gold:
            errors.append(f"{row['id']} {name}: gold {gold}, got {got['pipeline']}  {row['text']}")
    print(f"target-level set: {len(rows)} sentences, {len(items)} targets ({DATA.name})")
    print(f"{'split':6} {'n':>4} {'document (baseline)':>20} {'pipeline':>9} {'alone':>7}")
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    for split in splits:
        n = sum(right[(split, "document")].values())
        acc = {m: right[(split, m)][True] / n for m in ("document", "pipeline", "alone")}
        print(
            f"{split:6} {n:4d} {acc['document']:20.1%} {acc['pipeline']:9.1%} {acc['alone']:7.1%}"
        )
    print(f"pipeline accuracy per construction ({' | '.join(splits)}):")
    names = sorted({k.split(":", 1)[1] for k in by_construction})
    for cons in names:
        cells = []
        for split in splits:
            c = by_construction.get(f"{split}:{cons}", Counter())
            n = sum(c.values())
            cells.append(f"{c[True]:3d}/{n:<3d}" if n else "   -   ")
        print(f"  {cons:16} {' | '.join(cells)}")
    # Speed: one core, the whole set --repeat times; document scoring of the same texts first.
    # CPU time of this process, so that other work on a shared machine does not count.
    texts = [row["text"] for row, *_ in items]
    t0 = time.process_time()
    for _ in range(args.repeat):
        for t in texts:
            doc.score(t, "fr")
    t_doc = time.process_time() - t0
    t0 = time.process_time()
    for _ in range(args.repeat):
        for row, _name, _gold, spans, others in items:
            scorer.score(row["text"], spans, "fr", others=others)
    t_target = time.process_time() - t0
    n = len(items) * args.repeat
    print(
        f"speed: target-level {n / t_target:,.0f} mentions/s, document-level {n / t_doc:,.0f} "
        f"texts/s on the same texts (ratio {t_doc / t_target:.2f}), CPU time; "
        "goal >= 2,000 mentions/s"
    )
    for e in errors:
        print(e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
