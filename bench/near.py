"""Brand matching with NEAR/n on a hostile, very long comment: linear in the occurrences.

Usage::

    .venv/bin/python bench/near.py [--words 10000 100000] [--repeat 3]

The text repeats a French comment sentence in which the brand and the other term each occur
once every 15 words, so both sides have thousands of occurrences. For each size it prints, best
of ``--repeat``: the time to tokenise the text (``TextIndex``: one pass over the text, the
baseline), the time of ``Telzio NEAR/50 panne`` on the tokenised text, and the same query
paired the way it was before issue 11 (for each brand occurrence, slice out every partner in
range: quadratic when the window holds many). Ratios are against the tokenising time of the
same run, so they hold on a busy machine; linear matching keeps its ratio flat as the text grows.
"""

from __future__ import annotations

import argparse
import time
from bisect import bisect_left, bisect_right

from listening.analyze.matching import TextIndex
from listening.analyze.query import MAX_NEAR, parse_query

SENTENCE = "franchement la box Telzio tombe en panne tous les soirs depuis la mise à jour"


def quadratic_pairs(near, index: TextIndex) -> tuple[set[int], set[int]]:
    """The pairing replaced in issue 11, kept here as the baseline to beat."""
    lefts, rights = index.occurrences(near.left), index.occurrences(near.right)
    n_left, n_right, d = len(near.left.words), len(near.right.words), near.distance
    used_left: set[int] = set()
    used_right: set[int] = set()
    for a in lefts:
        a_end = a + n_left - 1
        after = rights[bisect_left(rights, a_end + 1) : bisect_right(rights, a_end + d)]
        before = rights[
            bisect_left(rights, a - d - n_right + 1) : bisect_right(rights, a - n_right)
        ]
        if after or before:
            used_left.add(a)
            used_right.update(after, before)
    return used_left, used_right


def best(fn, text: str, repeat: int) -> float:
    """Best time of ``fn(index)`` on a fresh index of ``text`` (indexes cache occurrences)."""
    times = []
    for _ in range(repeat):
        index = TextIndex(text)
        start = time.perf_counter()
        fn(index)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    near = parse_query(f"Telzio NEAR/{MAX_NEAR} panne")._root
    # What a query could ask before the cap: the whole comment as the window.
    unbounded = parse_query("Telzio NEAR/1 panne")._root
    unbounded.distance = 1_000_000
    per_sentence = len(SENTENCE.split())
    print(f"pairing Telzio NEAR/n panne, best of {args.repeat}; ratio = time / tokenise time")
    print(
        f"{'words':>7} {'occurr.':>7} {'tokenise s':>10} | {'now n=50':>9} {'ratio':>6} | "
        f"{'before n=50':>11} {'ratio':>6} | {'before n=10^6':>13} {'ratio':>7}"
    )
    for n_words in args.words:
        text = " ".join([SENTENCE] * (n_words // per_sentence))
        n_occ = len(TextIndex(text).occurrences(near.left))
        tokenise = best(lambda _index, text=text: TextIndex(text), text, args.repeat)
        now = best(near._pairs, text, args.repeat)
        before = best(lambda index: quadratic_pairs(near, index), text, args.repeat)
        before_unbounded = best(lambda index: quadratic_pairs(unbounded, index), text, 1)
        print(
            f"{n_words:>7} {n_occ:>7} {tokenise:>10.4f} | {now:>9.4f} {now / tokenise:>6.2f} | "
            f"{before:>11.4f} {before / tokenise:>6.2f} | {before_unbounded:>13.3f} "
            f"{before_unbounded / tokenise:>7.1f}"
        )


if __name__ == "__main__":
    main()
