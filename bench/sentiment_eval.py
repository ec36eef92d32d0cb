"""Macro-F1 of our French scorer per evaluation domain, with a bootstrap 95% interval, against
unmodified vaderSentiment-fr in the same run.

Usage::

    .venv/bin/python bench/sentiment_eval.py                      # every domain found
    .venv/bin/python bench/sentiment_eval.py --tweets ../shared/data/sentiment-dev
    .venv/bin/python bench/sentiment_eval.py --topic environnement # with an optional topic file
    .venv/bin/python bench/sentiment_eval.py some.tsv             # any label<TAB>text file

Domains (README, "Sentiment evaluation", says what each set is):

- ``tweets-train`` / ``tweets-val``: the DEFT 2017 tweets (climate and energy news), outside the
  repository (``--tweets``, default ``../shared/data/sentiment-dev`` beside the checkout). Rules
  were developed on train only; val is reported, never tuned on.
- ``reviews-dev`` / ``reviews-test``: ``tests/data/sentiment_reviews.tsv``, customer reviews and
  comments written for the project; ``test`` (30%) is held aside.
- ``team``: ``tests/data/sentiment_fr.tsv``, sentences the team wrote while building the rules
  (a development set: its figure is optimistic by construction).
- ``targets-test``: ``tests/data/sentiment_targets.tsv`` when present (sentences naming two
  targets, one label each; only its held-aside ``test`` split is reported), scored toward each
  target with ``listening.analyze.target`` when the package has it (vaderSentiment-fr sees the whole
  sentence); bench/sentiment_targets.py has the details.

Tweet folders hold ``<split>_text.txt`` and ``<split>_labels.txt`` (labels 0 negative,
1 neutral, 2 positive, as in the cardiffnlp/xlm-t sets). TSV files hold ``label<TAB>text`` or,
with a header, named columns (``split``, ``label``, ``text``; or ``targets`` as
``name=label;name=label``). vaderSentiment-fr is
labelled with its documented compound thresholds ±0.05; it sees the whole text, even for targets.
"""

from __future__ import annotations

import argparse
import csv
import sys
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np

from listening.analyze.sentiment import SENTIMENT_VERSION
from listening.analyze.sentiment.scorer import Scorer

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
LABELS = ("negative", "neutral", "positive")
_NUMERIC = {"0": "negative", "1": "neutral", "2": "positive"}
BOOTSTRAP = 1000


def load_tweets(folder: Path) -> dict[str, list[dict]]:
    """``tweets-<split>`` → rows, from a folder of ``*_text.txt`` / ``*_labels.txt``."""
    out: dict[str, list[dict]] = {}
    for text_file in sorted(folder.glob("*_text.txt")):
        name = text_file.name.removesuffix("_text.txt")
        texts = text_file.read_text(encoding="utf-8").split("\n")
        labels = (folder / f"{name}_labels.txt").read_text(encoding="utf-8").split("\n")
        if texts and texts[-1] == "" and labels[-1] == "":
            texts, labels = texts[:-1], labels[:-1]
        if len(texts) != len(labels):
            sys.exit(f"{text_file}: {len(texts)} texts but {len(labels)} labels")
        pairs = zip(labels, texts, strict=True)
        rows = [{"label": _NUMERIC[lab.strip()], "text": t} for lab, t in pairs]
        out[f"tweets-{name}"] = rows
    order = {"tweets-train": 0, "tweets-val": 1}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], 9)))


def load_tsv(path: Path) -> list[dict]:
    """Rows of a TSV: ``label<TAB>text`` lines, or named columns after a header line."""
    lines = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    if not lines:
        return []
    header = lines[0].split("\t")
    if "targets" in header:
        reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = expand_targets([dict(r) for r in reader])
    elif "label" in header and "text" in header:
        reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
        rows = [dict(r) for r in reader]
    else:
        rows = []
        for line in lines:
            label, _, text = line.partition("\t")
            rows.append({"label": label, "text": text})
    out = []
    for r in rows:
        label = _NUMERIC.get(r["label"].strip(), r["label"].strip())
        if label in LABELS and r.get("text"):
            out.append({**r, "label": label})
    return out


def by_split(rows: list[dict], prefix: str, splits: tuple[str, ...]) -> dict[str, list[dict]]:
    return {f"{prefix}-{s}": [r for r in rows if r.get("split") == s] for s in splits}


def macro_f1(gold: np.ndarray, pred: np.ndarray) -> float:
    """Macro-F1 over the three labels (coded 0, 1, 2)."""
    scores = []
    for c in range(3):
        tp = np.sum((gold == c) & (pred == c))
        fp = np.sum((gold != c) & (pred == c))
        fn = np.sum((gold == c) & (pred != c))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return float(np.mean(scores))


def bootstrap_interval(gold: np.ndarray, pred: np.ndarray, seed: int = 0) -> tuple[float, float]:
    """95% percentile interval of macro-F1 over ``BOOTSTRAP`` resamples of the items."""
    rng = np.random.default_rng(seed)
    n = len(gold)
    stats = []
    for _ in range(BOOTSTRAP):
        idx = rng.integers(0, n, n)
        stats.append(macro_f1(gold[idx], pred[idx]))
    low, high = np.percentile(stats, [2.5, 97.5])
    return float(low), float(high)


def _code(labels: list[str]) -> np.ndarray:
    return np.array([LABELS.index(lab) for lab in labels])


def vader_label(compound: float) -> str:
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def target_scorer() -> Callable[[dict], str | None] | None:
    """Target-level scoring (row → label) when this version of the package has it: the text
    scored toward the row's target, the other targets' positions known (as in the pipeline)."""
    try:
        from listening.analyze.target import score_target, target_spans
    except ImportError:
        return None

    def label(row: dict) -> str | None:
        spans = target_spans(row["text"], row["target"])
        others = [s for name in row["others"] for s in target_spans(row["text"], name)]
        return score_target(row["text"], spans, "fr", others=others).label

    return label


def expand_targets(rows: list[dict]) -> list[dict]:
    """One row per target from ``targets`` = ``name=label;name=label`` (the target-level set)."""
    out = []
    for r in rows:
        pairs = [t.rsplit("=", 1) for t in r["targets"].split(";") if "=" in t]
        for name, label in pairs:
            others = [n for n, _ in pairs if n != name]
            out.append({**r, "target": name, "label": label.strip(), "others": others})
    return out


def domains(args: argparse.Namespace) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    if args.paths:
        for path in args.paths:
            if path.is_dir():
                found.update(load_tweets(path))
            else:
                found[path.stem] = load_tsv(path)
        return found
    if args.tweets.is_dir():
        found.update(load_tweets(args.tweets))
    else:
        print(f"(no tweets at {args.tweets}: give --tweets FOLDER to include them)")
    found.update(by_split(load_tsv(DATA / "sentiment_reviews.tsv"), "reviews", ("dev", "test")))
    found["team"] = load_tsv(DATA / "sentiment_fr.tsv")
    targets = DATA / "sentiment_targets.tsv"
    if targets.exists():
        found["targets-test"] = [r for r in load_tsv(targets) if r.get("split") == "test"]
    return found


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="tweet folders or TSV files instead")
    parser.add_argument(
        "--tweets", type=Path, default=ROOT.parent / "shared" / "data" / "sentiment-dev"
    )
    parser.add_argument("--topic", action="append", default=[], help="optional topic lexicon")
    args = parser.parse_args(argv)

    with warnings.catch_warnings():  # the package warns about fuzzywuzzy (GPL), see README
        warnings.simplefilter("ignore")
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer
    vader = SentimentIntensityAnalyzer()
    ours = Scorer(topics=tuple(args.topic))
    on_target = target_scorer()

    print(
        f"{'domain':<14}{'n':>5}  {'ours F1':>8} {'95% interval':>14}  "
        f"{'vader F1':>8} {'95% interval':>14}"
    )
    for name, rows in domains(args).items():
        if not rows:
            continue
        if "target" in rows[0]:
            if on_target is None:
                print(f"{name:<14}{len(rows):>5}  (this package has no target-level scoring)")
                continue
            pred = [on_target(r) or "neutral" for r in rows]
        else:
            pred = [ours.score(r["text"], "fr").label or "neutral" for r in rows]
        gold = _code([r["label"] for r in rows])
        base = [vader_label(vader.polarity_scores(r["text"])["compound"]) for r in rows]
        p, b = _code(pred), _code(base)
        lo, hi = bootstrap_interval(gold, p)
        blo, bhi = bootstrap_interval(gold, b)
        print(
            f"{name:<14}{len(rows):>5}  {macro_f1(gold, p):>8.3f} [{lo:.3f}, {hi:.3f}]  "
            f"{macro_f1(gold, b):>8.3f} [{blo:.3f}, {bhi:.3f}]"
        )
    topics = f" + topic {', '.join(args.topic)}" if args.topic else ""
    print(
        f"(ours: {SENTIMENT_VERSION}{topics}; vader: vaderSentiment-fr 1.3.4 unchanged, ±0.05; "
        f"macro-F1 over 3 labels, percentile bootstrap of {BOOTSTRAP} resamples)"
    )


if __name__ == "__main__":
    main()
