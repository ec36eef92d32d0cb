"""Plain records passed between stages. Staging files hold these as JSON Lines."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


def stable_id(*parts: str) -> str:
    """A short, stable identifier: the first 16 hex digits of the SHA-256 of the parts."""
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8"))
    return h.hexdigest()[:16]


@dataclass
class Document:
    """One collected post or comment, ready for the store (the ``documents`` view)."""

    document_id: str
    kind: str  # 'post' | 'comment'
    url: str
    thread_url: str  # the post a comment belongs to; a post's own url
    source: str  # source name from the config (a comment feed: its parent source's name)
    text: str  # plain text
    published_at: datetime  # timezone-aware, UTC
    collected_at: datetime  # timezone-aware, UTC
    parent_id: str | None = None  # document_id of the comment this one answers
    author: str | None = None
    title: str | None = None
    lang: str | None = None
    is_date_estimated: bool = False  # published_at fell back to collected_at
    guid: str | None = None
    content_hash: str | None = None  # for near-duplicate linking
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("published_at", "collected_at"):
            d[key] = d[key].astimezone(UTC).isoformat()
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Document:
        d = dict(d)
        for key in ("published_at", "collected_at"):
            d[key] = datetime.fromisoformat(d[key])
        return cls(**d)
