"""Fixtures for the Airflow tests: a private AIRFLOW_HOME, French fixture feeds on loopback,
and a project (config + store) that the DAGs read through ``LISTENING_CONFIG``.

Airflow reads its configuration when it is first imported, so this module sets the Airflow
environment at import time, before any test module imports ``airflow``: use it with
``pytest_plugins = ["tests.airflow_fixtures"]`` and import Airflow inside tests or fixtures.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
AIRFLOW = Path(sys.executable).with_name("airflow")

if "airflow" in sys.modules:  # pragma: no cover - a guard for the session's import order
    raise RuntimeError("tests.airflow_fixtures must be imported before airflow")

_HOME = tempfile.mkdtemp(prefix="listening-airflow-home-")


def airflow_env(home: str | os.PathLike[str]) -> dict[str, str]:
    """The environment for Airflow in tests: a private home, our DAGs, no examples."""
    return {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        # The DAG files import their siblings (listening_assets, listening_runtime); the
        # DAG processor and task runner add the bundle folder to sys.path, dag.test() does not.
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(DAGS), os.environ.get("PYTHONPATH", "")) if p
        ),
    }


os.environ.update(airflow_env(_HOME))
if str(DAGS) not in sys.path:
    sys.path.insert(0, str(DAGS))


def migrate_metadata_db(env: dict[str, str]) -> None:
    proc = subprocess.run(
        [str(AIRFLOW), "db", "migrate"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"airflow db migrate failed:\n{proc.stdout}\n{proc.stderr}"


@pytest.fixture(scope="session")
def airflow_home() -> Path:
    """The session's AIRFLOW_HOME, its sqlite metadata DB migrated once."""
    migrate_metadata_db(airflow_env(_HOME))
    return Path(_HOME)


# -- fixture feeds --------------------------------------------------------------------------------

BRAND = "Acme"


def _rss(title: str, link: str, items: list[str], extra_ns: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:wfw="http://wellformedweb.org/CommentAPI/"'
        f' xmlns:slash="http://purl.org/rss/1.0/modules/slash/"{extra_ns}>\n'
        f"<channel><title>{title}</title><link>{link}</link><language>fr</language>\n"
        + "\n".join(items)
        + "\n</channel></rss>\n"
    )


def _item(base: str, path: str, title: str, text: str, date: str, comments: int = 0) -> str:
    comment_tags = (
        f"<wfw:commentRss>{base}{path}comments.xml</wfw:commentRss>"
        f"<slash:comments>{comments}</slash:comments>"
        if comments
        else ""
    )
    return (
        f"<item><title>{title}</title><link>{base}{path}</link><guid>{base}{path}</guid>"
        f"<pubDate>{date}</pubDate><dc:creator xmlns:dc='http://purl.org/dc/elements/1.1/'>"
        f"Greg</dc:creator><description>{text}</description>{comment_tags}</item>"
    )


def _comment(base: str, path: str, n: int, author: str, text: str, date: str) -> str:
    return (
        f"<item><title>Commentaire de {author}</title><link>{base}{path}#comment-{n}</link>"
        f"<guid>{base}{path}#comment-{n}</guid><pubDate>{date}</pubDate>"
        f"<dc:creator xmlns:dc='http://purl.org/dc/elements/1.1/'>{author}</dc:creator>"
        f"<description>{text}</description></item>"
    )


def write_feeds(folder: Path, base: str) -> dict[str, str]:
    """Two blog feeds (one with a comment feed) and a forum feed; returns name → feed URL."""
    folder.mkdir(parents=True, exist_ok=True)
    greg = "/greg/"
    post = "/greg/2026/11/acme-enclume/"
    (folder / "greg").mkdir(exist_ok=True)
    (folder / "greg/2026/11/acme-enclume").mkdir(parents=True, exist_ok=True)
    (folder / "greg/feed.xml").write_text(
        _rss(
            "Le blog de Greg",
            base + greg,
            [
                _item(
                    base,
                    post,
                    "J'ai testé l'enclume Acme",
                    "L'enclume Acme est vraiment excellente, solide et pas chère. "
                    "Je recommande Acme sans hésiter.",
                    "Mon, 23 Nov 2026 09:00:00 +0000",
                    comments=2,
                ),
                _item(
                    base,
                    "/greg/2026/11/jardin/",
                    "Mon jardin en novembre",
                    "Les feuilles tombent, rien à signaler au potager.",
                    "Tue, 24 Nov 2026 10:00:00 +0000",
                ),
            ],
        ),
        "utf-8",
    )
    (folder / "greg/2026/11/acme-enclume/comments.xml").write_text(
        _rss(
            "Commentaires sur : J'ai testé l'enclume Acme",
            base + post,
            [
                _comment(
                    base,
                    post,
                    1,
                    "Sophie",
                    "Le service client Acme est lent et décevant, livraison en retard.",
                    "Mon, 23 Nov 2026 12:00:00 +0000",
                ),
                _comment(
                    base,
                    post,
                    2,
                    "Karim",
                    "Merci pour ce test très utile !",
                    "Mon, 23 Nov 2026 13:00:00 +0000",
                ),
            ],
        ),
        "utf-8",
    )
    (folder / "forum").mkdir(exist_ok=True)
    (folder / "forum/feed.xml").write_text(
        _rss(
            "Forum Bricolage",
            base + "/forum/",
            [
                _item(
                    base,
                    "/forum/t/42/",
                    "Avis sur Acme ?",
                    "Quelqu'un a déjà commandé chez Acme ? Les prix me semblent élevés "
                    "mais la qualité a l'air bonne.",
                    "Wed, 25 Nov 2026 08:30:00 +0000",
                ),
            ],
        ),
        "utf-8",
    )
    return {"Blog de Greg": base + "/greg/feed.xml", "Forum Bricolage": base + "/forum/feed.xml"}


class _QuietHandler(SimpleHTTPRequestHandler):
    extensions_map: ClassVar[dict[str, str]] = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".xml": "application/rss+xml; charset=utf-8",
    }

    def log_message(self, format: str, *args) -> None:
        pass


@dataclass
class Project:
    """A listening project in a temporary folder: config, store, fixture feed server."""

    root: Path
    config: Path
    db: Path
    base_url: str
    sources: dict[str, str]

    @property
    def env(self) -> dict[str, str]:
        return {"LISTENING_CONFIG": str(self.config)}


def write_config(path: Path, sources: dict[str, str]) -> None:
    blocks = [
        "[settings]",
        'store = "data/listening.duckdb"',
        "allow_private_networks = true  # the fixture feeds are served on 127.0.0.1",
        "",
        "[[brands]]",
        f'name = "{BRAND}"',
        f"query = '\"{BRAND}\"'",
    ]
    for name, url in sources.items():
        channel = "forum" if "forum" in url else "blog"
        blocks += [
            "",
            "[[sources]]",
            f'name = "{name}"',
            f'url = "{url}"',
            'kind = "feed"',
            f'channel = "{channel}"',
        ]
    path.write_text("\n".join(blocks) + "\n", "utf-8")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    """Fixture feeds served on 127.0.0.1 and a config pointing at them (LISTENING_CONFIG set)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(www))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        sources = write_feeds(www, base)
        config = tmp_path / "listening.toml"
        write_config(config, sources)
        monkeypatch.setenv("LISTENING_CONFIG", str(config))
        monkeypatch.delenv("LISTENING_DB", raising=False)
        monkeypatch.delenv("LISTENING_WEBHOOK_URL", raising=False)
        yield Project(tmp_path, config, tmp_path / "data" / "listening.duckdb", base, sources)
    finally:
        server.shutdown()
        server.server_close()
