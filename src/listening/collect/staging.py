"""The staging files: the one contract between fetching, which writes them, and loading.

Fetching never touches the store. Planning writes ``<staging>/<run_id>/plan.json`` (the due
units); fetching then turns each *unit* (one configured source and the comment threads under it)
into ``<source_id>.documents.jsonl`` (one JSON document per line; absent when nothing new came)
and then ``<source_id>.state.json``, whose atomic rename marks the unit complete.
``listening.store.load`` moves complete units into the store. So a crash between fetch and load
loses nothing, and fetch can run on another machine that shares the folder.

A unit that brought no documents (every answer a 304, or an error) has only its new state to
give: such units are staged together at the end of a fetch, one state a line in ONE
``<token>.states.jsonl`` (its atomic rename marks them all complete), instead of a file each:
creating, renaming, reading and deleting a file costs the kernel about as much as the whole
re-poll of a source that answered 304. A crash before that file is written loses no data:
those sources are due still, and the next collect fetches them again.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from listening.collect.state import SourceState

PLAN = "plan.json"
STATE = ".state.json"
DOCUMENTS = ".documents.jsonl"
STATES = ".states.jsonl"  # the states of units with no documents, one a line


def new_run_id(now: datetime) -> str:
    """Time-sortable and unique: staged runs load in the order they were fetched."""
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S}Z-{secrets.token_hex(3)}"


@dataclass
class Unit:
    """One configured source with its known comment threads: the work of one fetch task."""

    source: dict[str, Any]  # name, url, kind, channel
    main: SourceState
    children: list[SourceState] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.source["name"]

    @property
    def is_due(self) -> bool:
        return self.main.is_due or any(c.is_due for c in self.children)

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "main": self.main.to_json(),
            "children": [c.to_json() for c in self.children],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Unit:
        return cls(
            d["source"],
            SourceState.from_json(d["main"]),
            [SourceState.from_json(c) for c in d["children"]],
        )


# -- the plan of a run ---------------------------------------------------------------------------


def write_plan(units: list[Unit], run_dir: Path) -> Path:
    """Write the run's plan (creating its folder); return the plan's path."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / PLAN
    path.write_text(json.dumps([u.to_json() for u in units], ensure_ascii=False), "utf-8")
    return path


def read_plan(path: Path) -> list[Unit]:
    return [Unit.from_json(d) for d in json.loads(path.read_text("utf-8"))]


def planned_source_ids(run_dir: Path) -> list[str]:
    """The units a run planned, or (no readable plan) those it staged."""
    try:
        return [u["main"]["source_id"] for u in json.loads((run_dir / PLAN).read_text("utf-8"))]
    except (OSError, ValueError, KeyError, TypeError):
        return [p.name.removesuffix(STATE) for p in _unit_paths(run_dir)]


# -- one unit: written by fetch, read by load ------------------------------------------------------


@dataclass
class StagedUnit:
    """What a unit's state file holds."""

    source: dict[str, Any]  # name, url, kind, channel
    source_id: str
    main: SourceState
    children: list[SourceState]  # the threads fetched or found in this run
    n_documents: int
    fetched_at: str


def write_unit(
    run_dir: Path,
    unit: Unit,
    children: Iterable[SourceState],
    documents: list[bytes],
    fetched_at: datetime,
) -> None:
    """Write documents, then state: the state file's rename marks the unit complete."""
    sid = unit.main.source_id
    if documents:  # none (all 304, or an error): no documents file at all
        docs_path = run_dir / f"{sid}{DOCUMENTS}"
        tmp = docs_path.with_suffix(".tmp")
        with open(tmp, "wb") as fh:
            fh.write(b"\n".join(documents) + b"\n")
        os.replace(tmp, docs_path)
    state_path = unit_path(run_dir, sid)
    tmp = state_path.with_suffix(".tmp")
    tmp.write_bytes(unit_state(unit, children, len(documents), fetched_at))
    os.replace(tmp, state_path)


def unit_state(
    unit: Unit, children: Iterable[SourceState], n_documents: int, fetched_at: datetime
) -> bytes:
    """A unit's state record, as its state file or a line of a ``.states.jsonl`` holds it."""
    import msgspec

    state = {
        "source": unit.source,
        "source_id": unit.main.source_id,
        "main": unit.main.to_json(),
        "children": [c.to_json() for c in children],
        "n_documents": n_documents,
        "fetched_at": fetched_at.isoformat(),
    }
    return msgspec.json.encode(state)


def write_states(run_dir: Path, states: list[bytes]) -> None:
    """Stage units that brought no documents together: their state records (``unit_state``)
    in one ``.states.jsonl``, whose atomic rename marks them all complete."""
    if not states:
        return
    path = run_dir / f"{secrets.token_hex(6)}{STATES}"
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(b"\n".join(states) + b"\n")
    os.replace(tmp, path)


def _staged_unit(d: dict[str, Any]) -> StagedUnit:
    return StagedUnit(
        d["source"],
        d["source_id"],
        SourceState.from_json(d["main"]),
        [SourceState.from_json(c) for c in d["children"]],
        d.get("n_documents", 0),
        d.get("fetched_at", ""),
    )


def read_units(state_paths: list[Path]) -> list[StagedUnit]:
    """The states of complete units (paths from ``complete_units``), in the same order."""
    together = {p for p in state_paths if not p.exists()}  # no file of its own
    batched: dict[Path, dict[str, Any]] = {}
    for run_dir in {p.parent for p in together}:
        batched.update(_batched_states(run_dir))
    return [_staged_unit(batched[p] if p in together else _read_json(p)) for p in state_paths]


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def _batched_states(run_dir: Path) -> dict[Path, dict[str, Any]]:
    """The units staged together in a run's ``.states.jsonl`` files, by the path their own
    state file would have (the first record of a unit staged twice, as a retried fetch
    may)."""
    states: dict[Path, dict[str, Any]] = {}
    for batch in sorted(run_dir.glob(f"*{STATES}")):
        for line in batch.read_bytes().splitlines():
            if line.strip():
                d = json.loads(line)
                states.setdefault(unit_path(run_dir, d["source_id"]), d)
    return states


def _unit_paths(run_dir: Path) -> list[Path]:
    """A run's complete units: its state files, and the units staged together (named by the
    state file each would have; a unit with a file of its own is that file)."""
    return sorted({*run_dir.glob(f"*{STATE}"), *_batched_states(run_dir)})


def unit_path(run_dir: Path, sid: str) -> Path:
    """The state file of unit ``sid`` in a run: it exists once the unit is complete."""
    return run_dir / f"{sid}{STATE}"


def unit_key(state_path: Path) -> str:
    """How ``raw.staged_files`` names a loaded unit: ``<run_id>/<source_id>.state.json``."""
    return f"{state_path.parent.name}/{state_path.name}"


def documents_path(state_path: Path) -> Path:
    """The unit's documents file (it may not exist)."""
    return state_path.with_name(state_path.name.replace(STATE, DOCUMENTS))


def complete_units(staging: Path) -> list[Path]:
    """Every complete unit's state file, oldest run first; a unit staged in a
    ``.states.jsonl`` is named by the state file it would have (``read_units`` reads both)."""
    return [p for run in sorted(runs(staging)) for p in _unit_paths(run)]


def document_files(staging: Path) -> list[Path]:
    """Every staged documents file, loaded or not."""
    return sorted(staging.glob(f"*/*{DOCUMENTS}")) if staging.is_dir() else []


def runs(staging: Path) -> list[Path]:
    """The run folders."""
    return [run for run in staging.iterdir() if run.is_dir()] if staging.is_dir() else []
