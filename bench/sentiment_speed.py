"""Throughput of our scorer (alone and with an adapter) against unmodified vaderSentiment-fr,
cold and warm, on real tweets; and the memory of the loaded scorer and adapter.

Usage::

    .venv/bin/python bench/sentiment_speed.py [--tweets ../shared/data/sentiment-dev] [--repeat 9]

Texts: every tweet of the development set (train and val, about 2,200 real, varied texts; the
folder lives outside the repository, see bench/sentiment_eval.py). Everything runs pinned to
one core, and times are the process's CPU time (``time.process_time``), so that other work on a
shared machine does not count; wall time on an idle core is about the same.

- cold: a fresh process per measurement, with empty word caches; the time covers scoring every
  text once after loading (the load time is printed apart); best of ``--repeat`` processes,
  the kinds taken in turn.
- warm: in one process, after a first pass, best of ``--repeat`` passes.
- adapter: trained in this run on the project's own labelled sentences (tests/data), as if they
  were analysts' corrections, then applied after the base scorer as ``analyze`` does.
- memory: what loading allocates (tracemalloc, after a warm-up pass), interpreter and imports
  excluded.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TWEETS = ROOT.parent / "shared" / "data" / "sentiment-dev"


def load_texts(folder: Path) -> list[str]:
    texts: list[str] = []
    for path in sorted(folder.glob("*_text.txt")):
        texts += [t for t in path.read_text(encoding="utf-8").split("\n") if t.strip()]
    if not texts:
        sys.exit(f"{folder}: no *_text.txt files (give --tweets FOLDER)")
    return texts


def one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def make_scorer(kind: str, adapter_file: str | None):
    """(load seconds, text → label function) for 'ours', 'adapter' or 'vader'."""
    start = time.process_time()
    if kind == "vader":
        with warnings.catch_warnings():  # the package warns about fuzzywuzzy (GPL), see README
            warnings.simplefilter("ignore")
            from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer
        vader = SentimentIntensityAnalyzer()
        fn = vader.polarity_scores
    else:
        from listening.analyze.sentiment.scorer import Scorer

        scorer = Scorer()
        if kind == "adapter":
            from listening.analyze.adapter import Adapter

            adapter = Adapter.from_json("bench", "bench", Path(adapter_file).read_text("utf-8"))

            def fn(text: str):
                return adapter.apply(text, scorer.score(text, "fr"))
        else:

            def fn(text: str):
                return scorer.score(text, "fr")

    return time.process_time() - start, fn


def child(kind: str, texts_file: str, adapter_file: str | None) -> None:
    """A cold measurement, in its own process: print JSON {load, seconds}."""
    one_core()
    texts = json.loads(Path(texts_file).read_text("utf-8"))
    load, fn = make_scorer(kind, adapter_file)
    start = time.process_time()
    for t in texts:
        fn(t)
    print(json.dumps({"load": load, "seconds": time.process_time() - start}))


def cold(kinds: tuple[str, ...], texts_file: str, adapter_file: str | None, repeat: int) -> dict:
    """Best of ``repeat`` fresh processes for each kind, the kinds taken in turn (a slower
    moment of the machine falls on all of them, not on the one measured then)."""
    best = {k: {"load": float("inf"), "seconds": float("inf")} for k in kinds}
    for _ in range(repeat):
        for kind in kinds:
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, texts_file, adapter_file or ""],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            r = json.loads(out.strip().splitlines()[-1])
            best[kind] = {k: min(best[kind][k], r[k]) for k in best[kind]}
    return best


def warm(fns: dict, texts: list[str], repeat: int) -> dict[str, float]:
    """Best seconds per pass for each function, interleaved so that a busy machine slows all."""
    for fn in fns.values():
        for t in texts:
            fn(t)
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.process_time()
            for t in texts:
                fn(t)
            best[name] = min(best[name], time.process_time() - start)
    return best


def train_adapter(path: Path) -> int:
    """An adapter fitted on our own labelled sentences; returns its vocabulary size."""
    from listening.analyze.adapter import _fit, _to_adapter
    from listening.analyze.sentiment.scorer import get_scorer
    from sentiment_eval import DATA, load_tsv  # beside this file

    rows = load_tsv(DATA / "sentiment_fr.tsv") + [
        r for r in load_tsv(DATA / "sentiment_reviews.tsv") if r["split"] == "dev"
    ]
    texts = [r["text"] for r in rows]
    bases = [get_scorer().score(t, "fr") for t in texts]
    vec, model = _fit(texts, bases, [r["label"] for r in rows])
    adapter = _to_adapter(vec, model, "bench", "bench")
    path.write_text(adapter.to_json(), encoding="utf-8")
    return len(adapter.words)


def memory(adapter_file: Path, texts: list[str]) -> tuple[float, float]:
    """MiB allocated by loading the scorer (warmed up), then by loading the adapter."""
    from listening.analyze.adapter import Adapter
    from listening.analyze.sentiment.scorer import Scorer

    tracemalloc.start()
    scorer = Scorer()
    for t in texts:
        scorer.score(t, "fr")
    scorer_bytes, _ = tracemalloc.get_traced_memory()
    adapter = Adapter.from_json("bench", "bench", adapter_file.read_text("utf-8"))
    for t in texts[:500]:
        adapter.apply(t, scorer.score(t, "fr"))
    total, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return scorer_bytes / 2**20, total / 2**20


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tweets", type=Path, default=DEFAULT_TWEETS)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, texts_file, adapter_file = args.child
        child(kind, texts_file, adapter_file or None)
        return

    texts = load_texts(args.tweets)
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        adapter_file = Path(tmp) / "adapter.json"
        n_words = train_adapter(adapter_file)
        one_core()
        colds = cold(KINDS, str(texts_file), str(adapter_file), args.repeat)
        fns = {k: make_scorer(k, str(adapter_file))[1] for k in KINDS}
        warms = warm(fns, texts, args.repeat)
        scorer_mib, total_mib = memory(adapter_file, texts)

    n = len(texts)
    mean_len = sum(map(len, texts)) / n
    print(
        f"{n} tweets (dev set, train + val), mean {mean_len:.0f} characters, one core, "
        f"best of {args.repeat}"
    )
    print(f"{'':<24}{'cold texts/s':>13}{'load s':>8}{'warm texts/s':>14}  (per CPU second)")
    for k in KINDS:
        print(
            f"{LABELS[k]:<24}{n / colds[k]['seconds']:>13,.0f}{colds[k]['load']:>8.2f}"
            f"{n / warms[k]:>14,.0f}"
        )
    v = "vader"
    print(
        f"ratio ours / vader-fr: cold {colds[v]['seconds'] / colds['ours']['seconds']:.2f}x, "
        f"warm {warms[v] / warms['ours']:.2f}x; with adapter: cold "
        f"{colds[v]['seconds'] / colds['adapter']['seconds']:.2f}x, "
        f"warm {warms[v] / warms['adapter']:.2f}x"
    )
    print(
        f"memory: scorer {scorer_mib:.1f} MiB, scorer + adapter ({n_words:,} n-grams) "
        f"{total_mib:.1f} MiB (tracemalloc, after warm-up)"
    )


KINDS = ("ours", "adapter", "vader")
LABELS = {"ours": "ours (fr, document)", "adapter": "ours + adapter", "vader": "vader-fr 1.3.4"}

if __name__ == "__main__":
    main()
