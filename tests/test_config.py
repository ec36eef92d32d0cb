"""Config validation: every problem reported, with its line; a bad config writes nothing."""

import subprocess
import sys
from pathlib import Path

import pytest

from listening.configfile import config_path, load_config, parse_config
from listening.errors import ConfigError

GOOD = """
[settings]
store = "data/listening.duckdb"
allow_private_networks = false

[[brands]]
name = "Acme"
query = '"Acme" OR "Acme Corp" NOT "Acme Anvil"'
competitors = ["Globex"]

[[brands]]
name = "Globex"
query = "Globex"

[[sources]]
name = "Blog de Greg"
url = "https://example.fr/feed/"
kind = "feed"
channel = "blog"
"""

THREE_MISTAKES = """
[settings]
store = "data/listening.duckdb"
allow_private_networks = "yes"

[[brands]]
name = "Acme"
query = '"Acme" OR (Acme Corp'

[[sources]]
name = "Blog de Greg"
url = "ftp://example.fr/feed/"
kind = "feed"
channel = "blog"
"""


def test_minimal_contract_shape_loads(tmp_path):
    path = tmp_path / "listening.toml"
    path.write_text(GOOD)
    config = load_config(path)
    assert config.settings.allow_private_networks is False
    assert [b.name for b in config.brands] == ["Acme", "Globex"]
    assert config.brands[0].competitors == ("Globex",)
    assert config.sources[0].kind == "feed" and config.sources[0].channel == "blog"
    # Relative store paths start at the config file's folder.
    assert config.store_path == tmp_path / "data" / "listening.duckdb"


def test_three_mistakes_are_all_reported_with_lines(tmp_path):
    path = tmp_path / "listening.toml"
    path.write_text(THREE_MISTAKES)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    problems = exc.value.problems
    assert len(problems) == 3, problems
    text = str(exc.value)
    assert str(path) in text
    assert "line 4: settings.allow_private_networks: expected true/false" in text
    assert "line 8: brands[0] (Acme).query:" in text and "parenthes" in text
    assert "line 12: sources[0] (Blog de Greg).url: expected an http:// or https:// URL" in text


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ('[[sources]]\nname = "x"\nurl = "https://a.fr/"\nkind = "rss"', "sources[0] (x).kind"),
        (
            '[[sources]]\nname = "x"\nurl = "https://a.fr/"\nchannel = "tv"',
            "sources[0] (x).channel",
        ),
        ('[[sources]]\nurl = "https://a.fr/"', "sources[0].name: missing"),
        ('[[brands]]\nname = "A"\nquery = "a"\ncompetitors = ["Z"]', "'Z' is not a brand"),
        (
            '[[brands]]\nname = "A"\nquery = "a"\n[[brands]]\nname = "A"\nquery = "b"',
            "duplicate brand name",
        ),
        (
            '[[brands]]\nname = "A"\nquery = "a"\naspects = { couleur = ["rouge"] }',
            "unknown aspect",
        ),
        ("[settings]\npoll_interval_minutes = -5", "expected a positive number"),
        ("[settings]\nstoer = 'x.duckdb'", "unknown setting"),
        ("[setings]\nstore = 'x'", "unknown top-level key"),
        ("[settings\nstore = 'x'", "not valid TOML"),
    ],
)
def test_each_problem_names_key_and_fix(tmp_path, snippet, expected):
    with pytest.raises(ConfigError) as exc:
        parse_config(snippet, tmp_path / "c.toml")
    assert expected in str(exc.value)


def test_missing_file_says_what_to_do(tmp_path):
    with pytest.raises(ConfigError, match=r"listening\.example\.toml"):
        load_config(tmp_path / "nope.toml")


def test_config_path_precedence(monkeypatch):
    monkeypatch.delenv("LISTENING_CONFIG", raising=False)
    assert config_path(None) == Path("listening.toml")
    monkeypatch.setenv("LISTENING_CONFIG", "/etc/l.toml")
    assert config_path(None) == Path("/etc/l.toml")
    assert config_path("mine.toml") == Path("mine.toml")


def test_shipped_example_config_is_valid():
    example = Path(__file__).resolve().parents[1] / "listening.example.toml"
    config = load_config(example)
    assert config.brands and config.sources


def test_bad_config_writes_nothing(tmp_path):
    path = tmp_path / "listening.toml"
    path.write_text(THREE_MISTAKES)
    proc = subprocess.run(
        [sys.executable, "-m", "listening.cli", "--help"], capture_output=True, text=True
    )
    assert proc.returncode == 0
    proc = subprocess.run(
        [sys.executable, "-m", "listening.cli", "init", "--config", str(path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 1
    assert "3 problems" in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["listening.toml"]
