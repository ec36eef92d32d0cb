"""Brand matching with NEAR/n on a hostile, very long comment: linear in the occurrences.

Usage::

    .venv/bin/python bench/near.py [--words 10000 100000] [--repeat 3]

The text repeats a French comment sentence in which the brand and the other term each occur
once every 12 words, so both sides have thousands of occurrences. For each size it prints the
time to tokenise the text (``TextIndex``, the baseline: one pass over the text, measured in the
same run), the time of ``Telzio NEAR/50 panne`` on that index, and their ratio. Matching is
linear when the ratio stays flat as the text grows ten times; the quadratic pairing it replaced
grew with the square of the occurrences (``NEAR/1000000`` on 100,000 words: about 15 s).
"""

from __future__ import annotations

import argparse
import time

from listening.matching import MAX_NEAR, TextIndex, parse_query

SENTENCE = "franchement la box Telzio tombe en panne tous les soirs depuis la mise à jour"


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    query = parse_query(f"Telzio NEAR/{MAX_NEAR} panne")
    per_sentence = len(SENTENCE.split())
    print(f"query: Telzio NEAR/{MAX_NEAR} panne   (best of {args.repeat})")
    print(
        f"{'words':>8} {'occurrences':>12} {'tokenise s':>11} {'match s':>9} {'match/tokenise':>15}"
    )
    for n_words in args.words:
        text = " ".join([SENTENCE] * (n_words // per_sentence))
        index = TextIndex(text)
        n_occ = len(index.occurrences(query._terms[0]))
        tokenise = best(lambda text=text: TextIndex(text), args.repeat)

        def match(text=text):
            query.match(TextIndex(text))

        total = best(match, args.repeat)
        matching = max(total - tokenise, 0.0)
        print(
            f"{n_words:>8} {n_occ:>12} {tokenise:>11.4f} {matching:>9.4f} "
            f"{matching / tokenise:>15.2f}"
        )


if __name__ == "__main__":
    main()
