"""Accuracy and macro-F1 of our French scorer and of unmodified vaderSentiment-fr, in one run.

Usage::

    .venv/bin/python bench/sentiment_eval.py /work/shared/data/sentiment-dev   # folder: per split
    .venv/bin/python bench/sentiment_eval.py tests/data/sentiment_fr.tsv       # label<TAB>text

A folder holds ``<split>_text.txt`` and ``<split>_labels.txt`` (one text per line; labels 0
negative, 1 neutral, 2 positive, as in the cardiffnlp/xlm-t sentiment sets); a TSV file holds
``label<TAB>text`` with labels ``positive|neutral|negative`` (a header line is skipped).
vaderSentiment-fr is labelled with its documented compound thresholds ±0.05.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from listening.sentiment import SENTIMENT_VERSION, get_scorer

LABELS = ("negative", "neutral", "positive")
_NUMERIC = {"0": "negative", "1": "neutral", "2": "positive"}


def load(path: Path) -> dict[str, list[tuple[str, str]]]:
    """Split name → [(label, text)]; a folder gives one entry per split plus 'all'."""
    if path.is_dir():
        splits: dict[str, list[tuple[str, str]]] = {}
        for text_file in sorted(path.glob("*_text.txt")):
            name = text_file.name.removesuffix("_text.txt")
            texts = text_file.read_text(encoding="utf-8").split("\n")
            labels = (path / f"{name}_labels.txt").read_text(encoding="utf-8").split("\n")
            if texts and texts[-1] == "" and labels[-1] == "":
                texts, labels = texts[:-1], labels[:-1]
            if len(texts) != len(labels):
                sys.exit(f"{text_file}: {len(texts)} texts but {len(labels)} labels")
            splits[name] = [
                (_NUMERIC[lab.strip()], t) for lab, t in zip(labels, texts, strict=True)
            ]
        if not splits:
            sys.exit(f"{path}: no *_text.txt files; give a folder like the shared set or a TSV")
        order = {"train": 0, "val": 1, "test": 2}
        splits = dict(sorted(splits.items(), key=lambda kv: order.get(kv[0], 9)))
        splits["all"] = [row for rows in splits.values() for row in rows]
        return splits
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        label, _, text = line.partition("\t")
        label = _NUMERIC.get(label.strip(), label.strip())
        if label in LABELS and text:
            rows.append((label, text))
    return {path.stem: rows}


def macro_f1(gold: list[str], pred: list[str]) -> float:
    scores = []
    for c in LABELS:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred, strict=True) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred, strict=True) if g == c and p != c)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(scores) / len(scores)


def vader_label(compound: float) -> str:
    return "positive" if compound >= 0.05 else "negative" if compound <= -0.05 else "neutral"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path, help="folder of *_text.txt/*_labels.txt, or a TSV")
    args = parser.parse_args(argv)

    with warnings.catch_warnings():  # the package warns about fuzzywuzzy, which it never uses here
        warnings.simplefilter("ignore")
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer
    vader = SentimentIntensityAnalyzer()
    ours = get_scorer()

    print(f"{'split':<10}{'n':>6}  {'ours acc':>9}{'ours F1':>9}  {'vader acc':>10}{'vader F1':>9}")
    for name, rows in load(args.path).items():
        gold = [label for label, _ in rows]
        pred = [ours.score(text, "fr").label or "neutral" for _, text in rows]
        base = [vader_label(vader.polarity_scores(text)["compound"]) for _, text in rows]
        acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
        vacc = sum(g == p for g, p in zip(gold, base, strict=True)) / len(gold)
        print(
            f"{name:<10}{len(rows):>6}  {acc:>9.3f}{macro_f1(gold, pred):>9.3f}"
            f"  {vacc:>10.3f}{macro_f1(gold, base):>9.3f}"
        )
    print(f"(ours: {SENTIMENT_VERSION}; vader: vaderSentiment-fr unchanged, thresholds ±0.05)")


if __name__ == "__main__":
    main()
