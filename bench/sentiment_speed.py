"""Throughput of our scorer against unmodified vaderSentiment-fr, and memory of the loaded scorer.

Usage::

    .venv/bin/python bench/sentiment_speed.py [--texts 3000] [--repeat 3]

Texts are comment-length (three to six sentences, about 200-350 characters) built from our own
labelled sentences in tests/data/sentiment_fr.tsv; both scorers see the same texts in the same
process, one core, best of ``--repeat`` interleaved runs. Memory is what loading the scorer
allocates (tracemalloc), so it excludes the interpreter and imports.
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
import warnings
from pathlib import Path

SENTENCES = Path(__file__).resolve().parent.parent / "tests" / "data" / "sentiment_fr.tsv"


def comment_texts(n: int, seed: int = 7) -> list[str]:
    lines = SENTENCES.read_text(encoding="utf-8").splitlines()[1:]
    sentences = [line.split("\t", 1)[1] for line in lines if "\t" in line]
    rng = random.Random(seed)
    return [" ".join(rng.sample(sentences, rng.randint(3, 6))) for _ in range(n)]


def best_rates(fns: dict, texts: list[str], repeat: int) -> dict[str, float]:
    """Texts per second for each function, best of ``repeat`` runs, interleaved so that a busy
    machine slows both alike."""
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            for text in texts:
                fn(text)
            best[name] = min(best[name], time.perf_counter() - start)
    return {name: len(texts) / seconds for name, seconds in best.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    texts = comment_texts(args.texts)

    from listening.sentiment import Scorer

    tracemalloc.start()
    scorer = Scorer()
    for text in texts[:200]:  # include the word-lookup cache once warmed up
        scorer.score(text)
    memory, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    with warnings.catch_warnings():  # the package warns about fuzzywuzzy, unused on this path
        warnings.simplefilter("ignore")
        from vaderSentiment_fr.vaderSentiment import SentimentIntensityAnalyzer
    vader = SentimentIntensityAnalyzer()

    rates = best_rates(
        {"ours": lambda t: scorer.score(t, "fr"), "vader": vader.polarity_scores},
        texts,
        args.repeat,
    )
    ours, base = rates["ours"], rates["vader"]
    mean_len = sum(map(len, texts)) / len(texts)
    print(f"{len(texts)} texts, mean {mean_len:.0f} characters, best of {args.repeat}, one core")
    print(f"ours            {ours:>9,.0f} texts/s")
    print(f"vader-fr 1.3.4  {base:>9,.0f} texts/s")
    print(f"ratio           {ours / base:>9.2f}x")
    print(f"loaded scorer   {memory / 2**20:>9.1f} MiB (tracemalloc, after warm-up)")


if __name__ == "__main__":
    main()
