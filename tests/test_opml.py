"""OPML import and export through the real CLI: round trip, comments kept, duplicates and
unsafe URLs reported, hostile XML refused, the config never half-written."""

from __future__ import annotations

import os
import subprocess
import sys

from defusedxml.ElementTree import fromstring

from listening.collect.opml import NS
from listening.configfile import load_config

CONFIG = """\
# Notre veille : ce commentaire doit survivre à l'import.
[settings]
store = "data/listening.duckdb"  # à côté du fichier

[[brands]]
name = "Acme"
query = "Acme"

# Les sources, dans l'ordre où nous les lisons.
[[sources]]
name = "Blog de Greg"
url = "https://greg.example.fr/feed/"
channel = "blog"

[[sources]]
name = "Forum Acme"
url = "https://forum.example.fr/comments/feed/"
kind = "comments"
channel = "forum"  # les fils du forum

[[sources]]
name = "Le Journal"
url = "https://journal.example.fr/"
kind = "site"
channel = "news"
"""


def run_cli(*args, cwd=None, check=True):
    proc = subprocess.run(
        [sys.executable, "-m", "listening.cli", *args],
        capture_output=True,
        cwd=cwd,
        env={k: v for k, v in os.environ.items() if not k.startswith("LISTENING_")},
        timeout=120,
    )
    if check:
        assert proc.returncode == 0, proc.stderr.decode()
    return proc


def outlines(opml: bytes) -> list[dict]:
    root = fromstring(opml)
    assert root.tag == "opml" and root.get("version") == "2.0"
    out = []
    for folder in root.find("body"):
        for o in folder:
            out.append({"folder": folder.get("text"), **o.attrib})
    return out


def test_export_writes_opml_2_that_feed_readers_import(tmp_path):
    (tmp_path / "listening.toml").write_text(CONFIG, "utf-8")
    run_cli("sources", "--export", "out.opml", cwd=tmp_path)
    data = (tmp_path / "out.opml").read_bytes()
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = fromstring(data)
    assert root.find("head/title").text and root.find("head/dateCreated").text
    feeds = outlines(data)
    # Readers need text (OPML 2.0 requires it), type="rss" and xmlUrl; folders are categories.
    assert [(f["folder"], f["text"], f["type"], f["xmlUrl"]) for f in feeds] == [
        ("blog", "Blog de Greg", "rss", "https://greg.example.fr/feed/"),
        ("news", "Le Journal", "rss", "https://journal.example.fr/"),
        ("forum", "Forum Acme", "rss", "https://forum.example.fr/comments/feed/"),
    ]
    assert all(f["title"] == f["text"] for f in feeds)
    # Our kinds ride in a namespaced attribute that readers ignore.
    assert [f.get(f"{{{NS}}}kind") for f in feeds] == [None, "site", "comments"]
    stdout = run_cli("sources", "--export", "-", cwd=tmp_path).stdout
    assert outlines(stdout) == feeds


def test_round_trip_keeps_comments_order_and_every_source(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "listening.toml").write_text(CONFIG, "utf-8")
    run_cli("sources", "--export", str(tmp_path / "a.opml"), cwd=a)
    other = CONFIG.split("# Les sources")[0] + (
        "# Déjà là, avec une autre casse d'hôte :\n"
        '[[sources]]\nname = "Greg"\nurl = "https://GREG.example.fr/feed"\nchannel = "blog"\n'
    )
    config = b / "listening.toml"
    config.write_text(other, "utf-8")

    dry = run_cli("sources", "--import", str(tmp_path / "a.opml"), "--dry-run", cwd=b)
    assert config.read_text("utf-8") == other  # a dry run writes nothing
    lines = dry.stdout.decode().splitlines()
    assert "skip   'Blog de Greg' https://greg.example.fr/feed/: already configured as 'Greg'" in (
        lines
    )
    assert sum(line.startswith("add ") for line in lines) == 2
    assert "dry run: listening.toml unchanged" in lines

    run_cli("sources", "--import", str(tmp_path / "a.opml"), cwd=b)
    new = config.read_text("utf-8")
    assert new.startswith(other)  # comments, order and spacing as the user wrote them
    assert [p.name for p in b.iterdir()] == ["listening.toml"]  # nothing left aside
    got = {(s.name, s.url, s.kind, s.channel) for s in load_config(config).sources}
    want = {(s.name, s.url, s.kind, s.channel) for s in load_config(a / "listening.toml").sources}
    assert got - {("Greg", "https://GREG.example.fr/feed", "feed", "blog")} == want - {
        ("Blog de Greg", "https://greg.example.fr/feed/", "feed", "blog")
    }
    # Importing again adds nothing: every feed is a duplicate now.
    again = run_cli("sources", "--import", str(tmp_path / "a.opml"), cwd=b)
    assert "nothing to add" in again.stdout.decode()
    assert config.read_text("utf-8") == new


READER_EXPORT = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0"><head><title>NetNewsWire</title></head><body>
<outline text="News" title="News">
  <outline text="Le Monde" type="rss" xmlUrl="https://www.lemonde.fr/rss/une.xml"
    htmlUrl="https://www.lemonde.fr/"/>
  <outline text="Le Monde (copie)" type="rss" xmlUrl="https://www.lemonde.fr/rss/une.xml"/>
</outline>
<outline text="Local" title="Local">
  <outline text="Fichier" type="rss" xmlUrl="file:///etc/passwd"/>
  <outline text="Script" type="rss" xmlUrl="javascript:alert(1)"/>
  <outline text="Routeur" type="rss" xmlUrl="http://192.168.1.1/feed"/>
  <outline text="Métadonnées" type="rss" xmlUrl="http://169.254.169.254/latest/"/>
  <outline text="Ici" type="rss" xmlUrl="http://localhost:8080/feed"/>
  <outline text="Secret" type="rss" xmlUrl="https://bob:hunter2@example.fr/feed"/>
  <outline text="Espace" type="rss" xmlUrl="https://example.fr/a feed"/>
</outline>
<outline text="Blog"><outline title="Sans texte" xmlUrl="https://blog.example.org/feed"/></outline>
</body></opml>""".encode()


def test_import_reports_duplicates_and_unsafe_urls(tmp_path):
    (tmp_path / "listening.toml").write_text(CONFIG, "utf-8")
    (tmp_path / "reader.opml").write_bytes(READER_EXPORT)
    out = run_cli("sources", "--import", "reader.opml", cwd=tmp_path).stdout.decode()
    assert "add    'Le Monde' https://www.lemonde.fr/rss/une.xml (channel news)" in out
    assert "add    'Sans texte' https://blog.example.org/feed (channel blog)" in out
    expected = {
        "'Le Monde (copie)'": "already in this file as 'Le Monde'",
        "'Fichier'": "scheme 'file' is not allowed",
        "'Script'": "scheme 'javascript' is not allowed",
        "'Routeur'": "private address",
        "'Métadonnées'": "link-local address",
        "'Ici'": "names a local host",
        "'Secret'": "user name or password",
        "'Espace'": "spaces",
    }
    skips = [line for line in out.splitlines() if line.startswith("skip")]
    for title, why in expected.items():
        line = next(line for line in skips if line.startswith(f"skip   {title} "))
        assert why in line, line
    assert "hunter2" not in out  # a password in a URL is never echoed
    assert "hunter2" not in "".join(s.url for s in load_config(tmp_path / "listening.toml").sources)
    assert "2 to add, 8 skipped (1 duplicates)" in out


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE opml [
 <!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">
 <!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
 <!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
 <!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
 <!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;">
 <!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">
]>
<opml version="2.0"><head><title>&f;</title></head><body>
<outline text="&f;" type="rss" xmlUrl="https://example.fr/feed"/></body></opml>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE opml [<!ENTITY secret SYSTEM "file:///etc/hostname">]>
<opml version="2.0"><head/><body>
<outline text="&secret;" type="rss" xmlUrl="https://example.fr/feed"/></body></opml>"""


def test_hostile_or_broken_opml_is_refused_and_the_config_untouched(tmp_path):
    config = tmp_path / "listening.toml"
    config.write_text(CONFIG, "utf-8")
    cases = {
        "bomb.opml": (BOMB, "refused, the file declares XML entities"),
        "xxe.opml": (XXE, "refused, the file declares XML entities"),
        "broken.opml": (b"<opml><body><outline", "not well-formed XML"),
        "feed.opml": (b"<rss version='2.0'><channel/></rss>", "root element is <rss>"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        proc = run_cli("sources", "--import", name, cwd=tmp_path, check=False)
        err = proc.stderr.decode()
        assert proc.returncode == 1, name
        assert name in err and message in err, err
        assert len(err.splitlines()) == 1, err  # one clear line, no traceback
    assert config.read_text("utf-8") == CONFIG
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_import_into_a_broken_config_writes_nothing(tmp_path):
    config = tmp_path / "listening.toml"
    config.write_text(CONFIG.replace('channel = "news"', 'channel = "journal"'), "utf-8")
    (tmp_path / "reader.opml").write_bytes(READER_EXPORT)
    proc = run_cli("sources", "--import", "reader.opml", cwd=tmp_path, check=False)
    assert proc.returncode == 1
    assert "channel" in proc.stderr.decode()
    assert 'channel = "journal"' in config.read_text("utf-8")
    assert "lemonde" not in config.read_text("utf-8")


def test_export_then_import_into_an_empty_config(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "listening.toml").write_text(CONFIG, "utf-8")
    run_cli("sources", "--export", str(tmp_path / "x.opml"), cwd=src)
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "listening.toml").write_text("[settings]\n", "utf-8")
    run_cli("sources", "--import", str(tmp_path / "x.opml"), cwd=dst)
    a = load_config(src / "listening.toml").sources
    b = load_config(dst / "listening.toml").sources
    assert sorted(a, key=lambda s: s.url) == sorted(b, key=lambda s: s.url)
