"""Analyze: match brands, score French sentiment and tag aspects for documents not yet analysed.

A document is analysed again only when its text changed, when the brand queries changed
(``queries_fingerprint``), or on ``--rescore`` when an older scorer version scored it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

import duckdb

from listening import store
from listening.config import Config
from listening.models import stable_id

BATCH = 2000


@dataclass
class AnalyzeStats:
    n_documents: int = 0
    n_mentions: int = 0
    n_unscored: int = 0
    # documents the analysis failed on, with the error: left unanalysed, tried again next run
    failed: list[tuple[str, str]] = field(default_factory=list)


def failure_lines(stats: AnalyzeStats, most: int = 10) -> list[str]:
    """What to tell ops of the documents the analysis failed on (the first ``most``)."""
    lines = [
        f"analyze: document {doc} not analysed ({error}); it is tried again at the next run, "
        "report the error with this document's text if it keeps failing"
        for doc, error in stats.failed[:most]
    ]
    if len(stats.failed) > most:
        lines.append(f"analyze: and {len(stats.failed) - most} more documents not analysed")
    return lines


def queries_fingerprint(config: Config) -> str:
    parts = []
    for b in sorted(config.brands, key=lambda b: b.name):
        aspects = json.dumps({k: list(v) for k, v in sorted(b.aspects.items())})
        parts.append(f"{b.name}\x1e{b.query}\x1e{aspects}")
    return stable_id("queries", *parts)


def analyze(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    now: datetime,
    *,
    rescore: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
) -> AnalyzeStats:
    from listening.analyze.adapter import current_adapter
    from listening.analyze.aspects import tag_aspects
    from listening.analyze.matching import TextIndex
    from listening.analyze.query import parse_query
    from listening.analyze.sentiment.scorer import get_scorer
    from listening.analyze.target import get_target_scorer, version

    fingerprint = queries_fingerprint(config)
    sentiment_version = version()
    queries = [(b, parse_query(b.query)) for b in config.brands]
    scorer = get_scorer()
    targets = get_target_scorer()
    adapter = current_adapter(con)  # None until analysts' corrections taught one (adapter.py)
    adapter_id = adapter.adapter_id if adapter else None
    where = "a.document_id is null or a.queries_fingerprint <> $fp"
    params: dict = {"fp": fingerprint}
    if rescore:
        where += (
            " or a.sentiment_version is distinct from $version or d.document_id in (select "
            "document_id from raw.mentions where sentiment_label is not null and "
            "sentiment_adapter_id is distinct from $adapter)"
        )
        params.update(version=sentiment_version, adapter=adapter_id)
    todo = con.execute(
        f"select d.document_id, d.kind, d.title, d.text, d.lang from raw.documents d "
        f"left join raw.document_analysis a using (document_id) where {where} "
        f"order by d.document_id",
        params,
    ).fetchall()

    def mention_rows(document_id, kind, title, text, lang) -> list[tuple]:
        """The mention rows of one document: one per brand it names."""
        rows = []
        # A comment's title repeats its post's ("Re: …", "Par : …"): match its text.
        haystack = text if kind == "comment" or not title else f"{title}\n{text}"
        title_end = len(haystack) - len(text or "")
        index = TextIndex(haystack)
        matches = [(b, m) for b, q in queries if (m := q.match(index)).matched]
        for brand, match in matches:
            # Each brand is scored on the clauses about it (listening.analyze.target).
            others = [sp for b, m in matches if b is not brand for sp in m.spans]
            result = targets.score(haystack, match.spans, lang, others=others, title_end=title_end)
            # the clauses scored for this brand: the adapter and the aspects read them
            scored = "\n".join((text or "")[a:b] for a, b in result.spans)
            if adapter is not None and result.label is not None:
                adapted = adapter.apply(scored or haystack, result)
                result = replace(
                    result,
                    compound=adapted.compound,
                    label=adapted.label,
                    explanation=adapted.explanation,
                )
            extra = {k: list(v) for k, v in brand.aspects.items()} or None
            aspects = {}
            if result.label:  # aspects of the same clauses
                aspects = tag_aspects(scored, extra, scorer, french=True)
            rows.append(
                (
                    stable_id("mention", document_id, brand.name),
                    document_id,
                    brand.name,
                    match.terms,
                    result.compound,
                    result.label,
                    json.dumps(result.explanation, ensure_ascii=False),
                    result.version,
                    adapter_id if result.label is not None else None,
                    sorted(aspects),
                    json.dumps(aspects, ensure_ascii=False),
                    now,
                    result.scope,
                    [list(span) for span in result.spans],
                    result.note or None,
                )
            )
        return rows

    stats = AnalyzeStats(n_documents=len(todo))
    with store.transaction(con):
        for start in range(0, len(todo), BATCH):
            batch = todo[start : start + BATCH]
            rows = []
            failed = set()
            for document_id, kind, title, text, lang in batch:
                try:
                    doc_rows = mention_rows(document_id, kind, title, text, lang)
                except Exception as exc:  # one document must not stop the stage
                    failed.add(document_id)
                    stats.failed.append((document_id, f"{type(exc).__name__}: {exc}"))
                    continue
                rows += doc_rows
                stats.n_unscored += sum(1 for r in doc_rows if r[_LABEL] is None)
            ids = [r[0] for r in batch if r[0] not in failed]
            _write_batch(con, ids, rows, fingerprint, sentiment_version, now)
            stats.n_mentions += len(rows)
            if on_progress:
                on_progress(min(start + BATCH, len(todo)), len(todo))
    return stats


_MENTION_COLUMNS = (
    "mention_id",
    "document_id",
    "brand",
    "matched_terms",
    "sentiment",
    "sentiment_label",
    "sentiment_explanation",
    "sentiment_version",
    "sentiment_adapter_id",
    "aspects",
    "aspect_sentiment",
    "analyzed_at",
    "sentiment_scope",
    "sentiment_spans",
    "sentiment_scope_note",
)
_LABEL = _MENTION_COLUMNS.index("sentiment_label")  # None: not French, not scored


def _write_batch(con, ids, rows, fingerprint, version, now) -> None:
    """Replace the batch's mentions: Arrow tables, since row-by-row executemany is ~50× slower."""
    import pyarrow as pa

    con.execute("delete from raw.mentions where document_id in (select unnest(?))", [ids])
    if rows:
        columns = list(zip(*rows, strict=True))
        batch = pa.table(
            {name: list(col) for name, col in zip(_MENTION_COLUMNS, columns, strict=True)}
        )
        con.register("mention_batch", batch)
        con.execute(
            f"insert into raw.mentions ({', '.join(_MENTION_COLUMNS)}) "
            f"select {', '.join(_MENTION_COLUMNS)} from mention_batch"
        )
        con.unregister("mention_batch")
    con.execute(
        "insert or replace into raw.document_analysis select unnest(?), ?, ?, ?",
        [ids, fingerprint, version, now],
    )
