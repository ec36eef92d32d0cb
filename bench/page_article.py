"""What a ``kind = "page"`` source stores as the post: the article, or the whole page?

Usage::

    .venv/bin/python bench/page_article.py [--repeat 3]

Data: every post page of the demo world that has comments (WordPress markup: header, article,
comment thread), with the generator's own post paragraphs and comments as ground truth. For each
way of turning the page into the post's text it prints, over all pages:

- recall: share of the article's words found in the stored text;
- precision: share of the stored words that belong to the article (the rest is navigation,
  dates, comment authors and comments);
- comment leak: share of pages whose stored text contains a comment's text (each such comment's
  brand is then counted twice, and its tone mixed into the post's sentiment);
- speed: pages per second, and the ratio to the baseline measured in the same run.

Contenders: the whole page as text (what was stored before issue 11, the baseline) and
``parse.parse_page`` (lxml, the page's own markup). When ``trafilatura`` is importable it is
measured too (it is not a dependency: install it in a scratch environment to compare).

Measured when choosing (1,742 pages): whole page 100% recall, 29.7% precision, 100% leak;
parse_page 100%, 100%, 0.1%, 0.45x the baseline's speed (it also reads the comments and detects
the language); trafilatura 2.3.1 100%, 75.9%, 0.1%, 0.19x. The one page flagged for both is a
comment repeating a sentence of its article, not a leak.
"""

from __future__ import annotations

import argparse
import re
import time
from datetime import UTC, datetime

from listening.collect.pages import parse_page
from listening.collect.text import html_to_text
from listening.demo.world import build_world

WORD = re.compile(r"\w+")
NOW = datetime(2026, 11, 1, tzinfo=UTC)


def words(text: str) -> list[str]:
    return WORD.findall(text.casefold())


def whole_page(html: bytes, url: str) -> str:
    return html_to_text(html.decode("utf-8"))


def article(html: bytes, url: str) -> str:
    return parse_page(html, url, source="bench", collected_at=NOW)[0].text


def contenders() -> dict:
    out = {"whole page (before)": whole_page, "parse_page (lxml)": article}
    try:
        import trafilatura
    except ImportError:
        return out

    def extract(html: bytes, url: str) -> str:
        return trafilatura.extract(html, url=url, include_comments=False) or ""

    out["trafilatura"] = extract
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    world = build_world("http://127.0.0.1:8000")
    pages = [
        (world.files[p.path], world.base_url + p.path, p)
        for p in world.posts
        if p.comments and p.path in world.files
    ]
    print(f"{len(pages)} demo post pages with comments; best of {args.repeat} for speed")
    print(
        f"{'contender':<22} {'recall':>7} {'precision':>9} {'leak':>6} {'pages/s':>8} {'ratio':>6}"
    )
    baseline = None
    for name, fn in contenders().items():
        found = total = stored = relevant = leaks = 0
        for html, url, post in pages:
            text = fn(html, url)
            truth = set(words(" ".join(post.paragraphs)))
            got = words(text)
            found += len(truth & set(got))
            total += len(truth)
            stored += len(got)
            relevant += sum(w in truth for w in got)
            leaks += any(c.text[:60] in text for c in post.comments)
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            for html, url, _post in pages:
                fn(html, url)
            best = min(best, time.perf_counter() - start)
        rate = len(pages) / best
        baseline = baseline or rate
        print(
            f"{name:<22} {found / total:>7.1%} {relevant / max(stored, 1):>9.1%} "
            f"{leaks / len(pages):>6.1%} {rate:>8.0f} {rate / baseline:>6.2f}"
        )


if __name__ == "__main__":
    main()
