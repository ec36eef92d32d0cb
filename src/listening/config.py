"""What ``listening.toml`` holds, as frozen records: settings, brands and sources.

``listening.configfile`` reads and validates the file into a ``Config``; every stage takes one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("feed", "comments", "page", "site")
CHANNELS = ("blog", "news", "forum", "review", "other")
ASPECTS = ("produit", "service", "prix", "service client", "livraison", "communication")


@dataclass(frozen=True)
class Settings:
    store: str = "data/listening.duckdb"
    # Where fetch writes and load reads staging files; "" = `staging/` beside the store. Set it
    # to shared storage when fetch workers run on other machines (the store never moves).
    staging_dir: str = ""
    allow_private_networks: bool = False
    poll_interval_minutes: int = 30
    max_failures: int = 8
    backoff_base_minutes: int = 30
    backoff_cap_hours: int = 24
    connect_timeout: float = 5.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0
    max_body_mib: int = 10
    max_per_host: int = 2
    max_concurrency: int = 8
    fetch_processes: int = 0  # 0: one per CPU core
    thread_quiet_days: int = 30
    reputation_half_life_days: int = 90
    timezone: str = "Europe/Paris"
    # Reputation analytics and alerts (sql/marts, listening.marts.alerts).
    reputation_prior_weight: float = 10.0  # votes' worth of the prior in the index shrinkage
    campaign_window_days: int = 28  # days before and after a campaign compared with it
    alert_cooldown_days: int = 14  # an episode within this many days of the last one extends it
    alert_lookback_days: int = 30  # older episodes are stored, not sent to the webhook
    unanswered_hours: int = 48  # a negative thread with no brand answer for this long alerts
    # people (voices) with a negative mention of the brand unanswered in it: one is an opinion
    alert_unanswered_min_voices: int = 2
    # An alert needs volume and strength (listening.marts.alerts): this many mentions (or votes)
    # behind it, and a z-score this high (3.5: Iglewicz & Hoaglin's cut-off for outliers).
    alert_min_count: int = 5
    alert_min_z: float = 3.5
    # Personal data (listening.store.privacy).
    retention_days: int = 0  # documents older than this are deleted at each build; 0: kept
    pseudonymize_authors: bool = False  # names replaced by keyed hashes (LISTENING_PSEUDONYM_KEY)
    # Weekly reports: the link posted to the webhook is this URL + "<brand>/<week>.pdf" (where
    # the reports/ folder is served); empty: the file's own path.
    report_base_url: str = ""


@dataclass(frozen=True)
class Brand:
    name: str
    query: str
    competitors: tuple[str, ...] = ()
    official_authors: tuple[str, ...] = ()
    aspects: dict[str, tuple[str, ...]] = field(default_factory=dict)
    report_recipients: tuple[str, ...] = ()  # who receives the weekly report by e-mail


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    kind: str = "feed"
    channel: str = "other"
    enabled: bool = True


@dataclass(frozen=True)
class Config:
    path: Path
    settings: Settings
    brands: tuple[Brand, ...]
    sources: tuple[Source, ...]

    @property
    def store_path(self) -> Path:
        """``settings.store``, relative paths taken from the config file's folder."""
        p = Path(self.settings.store).expanduser()
        return p if p.is_absolute() else (self.path.parent / p)

    @property
    def staging_path(self) -> Path | None:
        """``settings.staging_dir`` (relative to the config's folder), or None: beside the store."""
        if not self.settings.staging_dir:
            return None
        p = Path(self.settings.staging_dir).expanduser()
        return p if p.is_absolute() else (self.path.parent / p)

    def brand(self, name: str) -> Brand:
        for b in self.brands:
            if b.name == name:
                return b
        raise KeyError(name)
