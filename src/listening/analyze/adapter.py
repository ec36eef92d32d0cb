"""A per-store sentiment adapter learned from analysts' label corrections.

Analysts correct labels in the dashboards (``raw.sentiment_overrides``). Once a store has enough
of them, :func:`train` fits a small linear model on those corrections: scikit-learn's
``LogisticRegression`` on the base scorer's own features (its compound, its positive and negative
weights, its label) plus the words and word pairs of the text. Corrections are the scorer's
mistakes, so as many uncorrected mentions, with the labels analysts left alone, anchor the model
(see :func:`anchors`). It then compares the model with the base scorer by cross-validation on
those same examples (out-of-fold predictions against the analysts' labels) and adopts the model
only when it is right more often, by a margin that a paired bootstrap says is not luck. The
adopted model is stored in ``raw.sentiment_adapters`` as plain JSON weights, so scoring needs
neither scikit-learn nor pickle: :meth:`Adapter.apply` adds up a few weights per word.

The adapter is per store: what "terrible" or "mortel" means to one brand's audience says nothing
about another's. A store without corrections has no adapter and scores exactly as before.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from listening.analyze import sentiment
from listening.analyze.folding import fold
from listening.analyze.sentiment import SentimentResult, label_for
from listening.analyze.sentiment.scorer import get_scorer
from listening.models import stable_id

if TYPE_CHECKING:
    import duckdb

LABELS = ("negative", "neutral", "positive")
AUTO_TRAIN_MIN = 50  # analyze trains on its own from this many corrections
MIN_CORRECTIONS = 10  # below this, too few to judge any model
FOLDS = 5
BOOTSTRAP = 1000
N_EXPLAINED = 5  # adapter words listed in an explanation
DENSE = ("compound", "positive_weight", "negative_weight", "n_terms", "is_positive", "is_negative")
_WORD = re.compile(r"[^\W\d_]+")


def ngrams(text: str) -> list[str]:
    """Accent-folded words and word pairs: the model's vocabulary."""
    words = _WORD.findall(fold(text))
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def dense_features(result: SentimentResult) -> list[float]:
    """What the base scorer saw: its compound, summed weights (squashed), size, label."""
    pos = sum(e["weight"] for e in result.explanation if e["weight"] > 0)
    neg = sum(e["weight"] for e in result.explanation if e["weight"] < 0)
    compound = result.compound or 0.0
    return [
        compound,
        math.tanh(pos / 4),
        math.tanh(neg / 4),
        math.tanh(len(result.explanation) / 4),
        float(result.label == "positive"),
        float(result.label == "negative"),
    ]


def mention_text(kind: str, title: str | None, text: str, spans=None) -> str:
    """The text analyze scored for a mention: the clauses about its brand
    (``sentiment_spans``, offsets into ``text``), else the document (a comment's title repeats
    its post's, so a comment is its text alone)."""
    if spans:
        scored = "\n".join((text or "")[a:b] for a, b in spans)
        if scored.strip():
            return scored
    return text if kind == "comment" or not title else f"{title}\n{text}"


@dataclass
class Adapter:
    """A trained linear model: one weight vector per label, for dense features and n-grams."""

    adapter_id: str
    base_version: str
    classes: list[str]
    intercept: list[float]
    dense: list[list[float]]  # [class][feature]
    words: dict[str, list[float]] = field(default_factory=dict)  # n-gram → weight per class

    def __post_init__(self) -> None:
        self._starts = {g.split(" ", 1)[0] for g in self.words if " " in g}  # bigrams' 1st word
        pos = self.classes.index("positive") if "positive" in self.classes else None
        neg = self.classes.index("negative") if "negative" in self.classes else None
        self._polarity = {
            g: (ws[pos] if pos is not None else 0.0) - (ws[neg] if neg is not None else 0.0)
            for g, ws in self.words.items()
        }

    def apply(self, text: str, base: SentimentResult) -> SentimentResult:
        """The adapter's label for ``text`` given the base scorer's result on it."""
        if base.label is None:  # not French: the base did not score it, neither do we
            return base
        x = dense_features(base)
        scores = [
            b + sum(w * v for w, v in zip(ws, x, strict=True))
            for b, ws in zip(self.intercept, self.dense, strict=True)
        ]
        words = _WORD.findall(fold(text))
        seen = {w for w in words if w in self.words}
        starts = self._starts
        seen.update(
            g
            for a, b in itertools.pairwise(words)
            if a in starts and (g := f"{a} {b}") in self.words
        )
        seen = sorted(seen)  # one order whatever the interpreter's string hashing
        for g in seen:
            for c, w in enumerate(self.words[g]):
                scores[c] += w
        top = max(scores)
        exp = [math.exp(s - top) for s in scores]
        total = sum(exp)
        probs = {c: e / total for c, e in zip(self.classes, exp, strict=True)}
        label = max(probs, key=probs.__getitem__)
        compound = round(probs.get("positive", 0.0) - probs.get("negative", 0.0), 4)
        if label_for(compound) != label:  # keep score and label telling the same story
            compound = {"positive": 0.5, "negative": -0.5}.get(label, 0.0)
        # What each n-gram did, on the base scorer's scale: > 0 toward positive, < 0 negative.
        moved = sorted(((g, self._polarity[g]) for g in seen), key=lambda gw: (-abs(gw[1]), gw[0]))
        moved = moved[:N_EXPLAINED]
        explanation = list(base.explanation) + [
            {"term": g, "weight": round(w, 3), "negated": False, "source": "adapter"}
            for g, w in moved
            if abs(w) >= 0.05
        ]
        return SentimentResult(compound, label, explanation, base.version)

    def to_json(self) -> str:
        return json.dumps(
            {
                "classes": self.classes,
                "intercept": self.intercept,
                "dense": self.dense,
                "dense_features": list(DENSE),
                "words": self.words,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, adapter_id: str, base_version: str, text: str) -> Adapter:
        m = json.loads(text)
        return cls(adapter_id, base_version, m["classes"], m["intercept"], m["dense"], m["words"])


@dataclass
class TrainReport:
    n_corrections: int
    cv_base: float | None  # share of corrections the base scorer agrees with (out of fold)
    cv_adapter: float | None  # same for the adapter, each fold trained on the other folds
    # 95% bootstrap interval of the adapter's gain over the base, corrections and anchors pooled
    interval: tuple[float, float] | None
    adopted: bool
    adapter_id: str | None
    reason: str
    kept: float | None = None  # share of uncorrected (anchor) mentions whose label it keeps


def corrections(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, str]]:
    """(mention_id, text analyze scored, the analyst's label) for every correction."""
    rows = con.execute(
        "select o.mention_id, d.kind, d.title, d.text, m.sentiment_spans, d.lang, "
        "o.sentiment_label "
        "from raw.sentiment_overrides o join raw.mentions m using (mention_id) "
        # by content, as the anchors: the folds of the cross-validation follow this order
        "join raw.documents d using (document_id) "
        "order by md5(coalesce(d.title, '') || d.text || m.brand), o.mention_id"
    ).fetchall()
    return [
        (mid, mention_text(kind, title, text, spans), label)
        for mid, kind, title, text, spans, lang, label in rows
        if lang in ("fr", None)
    ]


def anchors(con: duckdb.DuckDBPyConnection, n: int) -> list[tuple[str, str, str]]:
    """Up to ``n`` uncorrected French mentions with the label the base scorer gave them.

    Analysts correct the scorer's mistakes, so a model fitted on corrections alone learns
    "the scorer is wrong" and would flip every label. Mentions they left alone anchor it: the
    adapter must fix more corrections than it changes labels nobody corrected.
    """
    rows = con.execute(
        "select m.mention_id, d.kind, d.title, d.text, m.sentiment_spans, m.sentiment_label "
        "from raw.mentions m join raw.documents d using (document_id) "
        "where m.sentiment_label is not null and m.mention_id not in "
        "(select mention_id from raw.sentiment_overrides) and d.lang = 'fr' "
        # by content, not by id: ids hash URLs, and one text must anchor the same way on any host
        "order by md5(coalesce(d.title, '') || d.text || m.brand), m.mention_id limit ?",
        [n],
    ).fetchall()
    return [
        (mid, mention_text(kind, title, text, spans), label)
        for mid, kind, title, text, spans, label in rows
    ]


def _fit(texts: list[str], bases: list[SentimentResult], labels: list[str]):
    """A fitted (vectoriser, model) pair; imported here: scoring never needs scikit-learn."""
    import numpy as np
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = CountVectorizer(analyzer=ngrams, binary=True, min_df=2)
    try:
        words = vec.fit_transform(texts)
    except ValueError:  # no n-gram in two texts: the dense features alone
        vec = None
        words = csr_matrix((len(texts), 0))
    dense = csr_matrix(np.array([dense_features(b) for b in bases]))
    model = LogisticRegression(C=1.0, max_iter=2000)
    model.fit(hstack([dense, words]).tocsr(), labels)
    return vec, model


def _to_adapter(vec, model, base_version: str, adapter_id: str) -> Adapter:
    classes = [str(c) for c in model.classes_]
    coef = model.coef_.tolist()
    intercept = model.intercept_.tolist()
    if len(classes) == 2:  # binary: sigmoid(w·x + b) is a softmax over [0, w·x + b]
        coef = [[0.0] * len(coef[0]), coef[0]]
        intercept = [0.0, intercept[0]]
    n_dense = len(DENSE)
    vocab = vec.get_feature_names_out().tolist() if vec is not None else []
    words = {
        g: [round(row[n_dense + j], 5) for row in coef]
        for j, g in enumerate(vocab)
        if any(abs(row[n_dense + j]) > 1e-4 for row in coef)
    }
    dense = [[round(w, 6) for w in row[:n_dense]] for row in coef]
    return Adapter(adapter_id, base_version, classes, intercept, dense, words)


def cross_validate(
    texts: list[str], labels: list[str], seed: int = 0
) -> tuple[list[bool], list[bool]]:
    """Per correction: does the base scorer agree with it, does the out-of-fold adapter?"""
    from sklearn.model_selection import KFold, StratifiedKFold

    scorer = get_scorer()
    bases = [scorer.score(t, "fr") for t in texts]
    base_ok = [b.label == y for b, y in zip(bases, labels, strict=True)]
    smallest = min(labels.count(c) for c in set(labels))
    n_splits = min(FOLDS, len(texts))
    if smallest >= n_splits:
        splits = StratifiedKFold(n_splits, shuffle=True, random_state=seed).split(texts, labels)
    else:
        splits = KFold(n_splits, shuffle=True, random_state=seed).split(texts)
    adapter_ok = [False] * len(texts)
    for train_idx, test_idx in splits:
        train_labels = [labels[i] for i in train_idx]
        if len(set(train_labels)) < 2:  # nothing to learn but one label: predict it
            for i in test_idx:
                adapter_ok[i] = labels[i] == train_labels[0]
            continue
        vec, model = _fit(
            [texts[i] for i in train_idx], [bases[i] for i in train_idx], train_labels
        )
        adapter = _to_adapter(vec, model, "", "")
        for i in test_idx:
            adapter_ok[i] = adapter.apply(texts[i], bases[i]).label == labels[i]
    return base_ok, adapter_ok


def paired_interval(base_ok: list[bool], adapter_ok: list[bool], seed: int = 0):
    """95% percentile bootstrap interval of (adapter accuracy - base accuracy)."""
    import numpy as np

    diff = np.array(adapter_ok, dtype=float) - np.array(base_ok, dtype=float)
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, len(diff), (BOOTSTRAP, len(diff)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def train(
    con: duckdb.DuckDBPyConnection, now: datetime, say: Callable[[str], None] | None = None
) -> TrainReport:
    """Fit, compare, and record a candidate adapter; it becomes the store's adapter only when it
    beats the base scorer. Call from a writer stage (it commits its own transaction)."""
    say = say or (lambda _msg: None)
    fixes = corrections(con)
    rows = fixes + anchors(con, len(fixes))
    texts = [t for _, t, _ in rows]
    labels = [y for _, _, y in rows]
    last = con.execute("select max(created_at) from raw.sentiment_overrides").fetchone()[0]
    n = len(fixes)
    if n < MIN_CORRECTIONS or len(set(labels)) < 2:
        why = (
            f"{n} corrections (at least {MIN_CORRECTIONS} needed)"
            if n < MIN_CORRECTIONS
            else "every correction has the same label"
        )
        report = TrainReport(n, None, None, None, False, None, f"not trained: {why}")
        _record(con, now, sentiment.SENTIMENT_VERSION, last, report, None)
        return report
    say(
        f"sentiment train: {n} corrections and {len(rows) - n} uncorrected mentions, "
        f"{FOLDS}-fold cross-validation"
    )
    base_ok, adapter_ok = cross_validate(texts, labels)
    cv_base, cv_adapter = sum(base_ok[:n]) / n, sum(adapter_ok[:n]) / n
    kept = sum(adapter_ok[n:]) / (len(rows) - n) if len(rows) > n else None
    low, high = paired_interval(base_ok, adapter_ok)
    adopted = low > 0
    adapter = None
    if adopted:
        scorer = get_scorer()
        bases = [scorer.score(t, "fr") for t in texts]
        vec, model = _fit(texts, bases, labels)
        adapter_id = stable_id(
            "adapter", sentiment.SENTIMENT_VERSION, *(f"{m}\x1e{y}" for m, _, y in rows)
        )
        adapter = _to_adapter(vec, model, sentiment.SENTIMENT_VERSION, adapter_id)
        reason = "adopted: it fixes more corrections than it changes labels left alone"
    elif cv_adapter > cv_base:
        reason = "not adopted: ahead of the base scorer, but within chance on so few corrections"
    else:
        reason = "not adopted: it changes as many labels left alone as it fixes"
    report = TrainReport(
        n, cv_base, cv_adapter, (low, high), adopted, adapter and adapter.adapter_id, reason, kept
    )
    _record(con, now, sentiment.SENTIMENT_VERSION, last, report, adapter)
    return report


def _record(con, now, base_version, last_correction_at, report: TrainReport, adapter) -> None:
    """One row per training run; the latest run decides which adapter (if any) is in use."""
    run_id = stable_id("adapter-run", now.isoformat(), str(report.n_corrections))
    con.execute(
        "insert or replace into raw.sentiment_adapters (run_id, trained_at, base_version, "
        "n_corrections, last_correction_at, cv_base, cv_adapter, is_adopted, adapter_id, "
        "reason, model) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            run_id,
            now,
            base_version,
            report.n_corrections,
            last_correction_at,
            report.cv_base,
            report.cv_adapter,
            report.adopted,
            report.adapter_id,
            report.reason,
            adapter.to_json() if adapter else None,
        ],
    )


def current_adapter(con: duckdb.DuckDBPyConnection) -> Adapter | None:
    """The adapter of the latest training run, when that run adopted one for this scorer."""
    row = con.execute(
        "select adapter_id, base_version, model, is_adopted from raw.sentiment_adapters "
        "order by trained_at desc, run_id desc limit 1"
    ).fetchone()
    if row is None or not row[3] or row[1] != sentiment.SENTIMENT_VERSION:
        return None  # an adapter learned on another scorer version's features is stale
    return Adapter.from_json(row[0], row[1], row[2])


def needs_training(con: duckdb.DuckDBPyConnection) -> bool:
    """At least ``AUTO_TRAIN_MIN`` corrections, and one arrived since the last training."""
    n, last = con.execute(
        "select count(*), max(created_at) from raw.sentiment_overrides"
    ).fetchone()
    if n < AUTO_TRAIN_MIN:
        return False
    trained = con.execute(
        "select max(last_correction_at) from raw.sentiment_adapters where base_version = ?",
        [sentiment.SENTIMENT_VERSION],
    ).fetchone()[0]
    return trained is None or last > trained


def describe(report: TrainReport) -> str:
    """The figures train prints: both agreement rates, the interval, the decision."""
    if report.cv_base is None:
        return f"sentiment train: {report.reason}"
    low, high = report.interval
    return (
        f"sentiment train: {report.n_corrections} corrections · agreement with analysts "
        f"(cross-validated): base scorer {report.cv_base:.1%}, adapter {report.cv_adapter:.1%}"
        + (
            f"; uncorrected mentions whose label the adapter keeps: {report.kept:.1%}"
            if report.kept is not None
            else ""
        )
        + f" · gain over the base, 95% interval [{low:+.1%}, {high:+.1%}] · {report.reason}"
        + (f" · adapter {report.adapter_id}" if report.adopted else "")
    )
