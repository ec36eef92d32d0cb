"""The CLI: help with examples for every command, init idempotence, sql on an empty store."""

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from listening import store
from listening.cli import main
from listening.cli.parser import build_parser

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)


def run_cli(*args, cwd=None, input=None, env=None):
    return subprocess.run(
        [sys.executable, "-m", "listening.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=input,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


@pytest.fixture
def project(tmp_path, monkeypatch):
    (tmp_path / "listening.toml").write_text(
        (ROOT / "listening.example.toml").read_text("utf-8"), "utf-8"
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LISTENING_CONFIG", raising=False)
    monkeypatch.delenv("LISTENING_DB", raising=False)
    return tmp_path


def test_the_issue_commands_exist():
    assert {
        "init",
        "collect",
        "analyze",
        "build",
        "run",
        "sentiment",
        "sql",
        "sources",
        "demo",
        "dashboard",
    } <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command, "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert "example:" in out and f"listening {command}" in out
    assert "--config" in out and "--db" in out


def test_init_twice_is_a_no_op(project, capsys):
    assert main(["init"]) == 0
    assert "applied 001_core" in capsys.readouterr().out
    db = project / "data" / "listening.duckdb"
    snap = store.snapshot_path(db)
    before = (db.read_bytes(), snap.stat().st_mtime_ns)
    time.sleep(0.01)
    assert main(["init"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert (db.read_bytes(), snap.stat().st_mtime_ns) == before


def test_sql_on_an_empty_store(project, capsys):
    main(["init"])
    capsys.readouterr()
    assert main(["sql", "select count(*) as n from mentions"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^n\s*$", out, re.M) and "(1 row)" in out
    assert main(["sql", "select * from documents", "--json"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["sql", "select 1 as a, 'é' as b", "--csv"]) == 0
    assert capsys.readouterr().out == "a,b\n1,é\n"


def test_sql_is_read_only_and_errors_are_one_line(project):
    assert run_cli("init").returncode == 0
    proc = run_cli("sql", "insert into raw.documents (document_id) values ('x')")
    assert proc.returncode == 1
    assert "read-only" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    proc = run_cli("sql", "select * from nope")
    assert proc.returncode == 1 and proc.stderr.startswith("listening: error: SQL error")


def test_sql_before_init_says_what_to_do(project):
    proc = run_cli("sql", "select 1")
    assert proc.returncode == 1
    assert "listening init" in proc.stderr and "Traceback" not in proc.stderr


def test_db_flag_and_env_override_settings_store(project, tmp_path):
    other = tmp_path / "elsewhere" / "x.duckdb"
    assert run_cli("init", "--db", str(other)).returncode == 0
    assert other.exists() and not (project / "data").exists()
    proc = run_cli("sql", "select count(*) from documents", env={"LISTENING_DB": str(other)})
    assert proc.returncode == 0, proc.stderr


def test_second_writer_waits_for_the_lock(project):
    assert run_cli("init").returncode == 0
    db = project / "data" / "listening.duckdb"
    with store.writer_lock(db):
        proc = subprocess.Popen(
            [sys.executable, "-m", "listening.cli", "init"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # The waiting message is written before the blocking flock: read it while we hold.
        line = proc.stderr.readline()
        assert "waiting for the store lock" in line
        assert proc.poll() is None
    assert proc.wait(timeout=60) == 0


def test_sources_lists_configured_sources(project, capsys):
    main(["init"])
    capsys.readouterr()
    assert main(["sources"]) == 0
    out = capsys.readouterr().out
    assert "Blog de Greg" in out and "active" in out


def test_enable_unknown_source_is_a_clear_error(project, capsys):
    main(["init"])
    assert main(["sources", "--enable", "Nope"]) == 1
    assert "no source named 'Nope'" in capsys.readouterr().err


def test_match_shows_where(capsys):
    assert main(["match", '"Acme" NOT "Acme Anvil"', "J'adore Acme"]) == 0
    assert "[[Acme]]" in capsys.readouterr().out


def test_sentiment_reads_lines_and_writes_json(project):
    proc = run_cli("sentiment", input="Je ne le recommande pas du tout\nThis is great\n")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows[0]["label"] == "negative" and rows[0]["explanation"]
    assert {"compound", "label", "explanation"} <= set(rows[0])
    assert rows[1]["label"] == "non évalué" and rows[1]["compound"] is None


def test_usage_mistakes_are_one_line_errors(project):
    for args in (
        [
            "campaigns",
            "add",
            "--name",
            "x",
            "--brand",
            "Acme",
            "--channel",
            "tv",
            "--start",
            "2026-13-01",
            "--end",
            "2026-12-01",
        ],
        ["demo", "--until", "hier"],
        ["dashboard", "--port", "x"],
        ["nope"],
    ):
        proc = run_cli(*args)
        assert proc.returncode == 1, (args, proc.stderr)
        assert proc.stderr.startswith("listening: error:"), proc.stderr
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_match_with_a_syntax_error_exits_1_and_shows_where(capsys):
    assert main(["match", "(Acme", "x"]) == 1
    out = capsys.readouterr().out
    assert "syntax error" in out and "^" in out


def test_unusable_store_path_is_a_clear_error(project):
    proc = run_cli("collect", "--db", "/proc/nope/x.duckdb")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "lock file" in proc.stderr


def test_enable_without_a_store_creates_nothing(project):
    proc = run_cli("sources", "--enable", "Blog de Greg")
    assert proc.returncode == 1 and "listening init" in proc.stderr
    assert not (project / "data").exists()


def test_sql_cannot_reach_the_live_store_or_files(project, tmp_path):
    assert run_cli("init").returncode == 0
    live = project / "data" / "listening.duckdb"
    proc = run_cli("sql", f"attach '{live}' as w; create table w.main.pwn as select 1 as x")
    assert proc.returncode == 1
    proc = run_cli("sql", f"copy (select 1) to '{tmp_path / 'x.csv'}'")
    assert proc.returncode == 1 and not (tmp_path / "x.csv").exists()
    import duckdb

    con = duckdb.connect(str(live), read_only=True)
    assert (
        con.execute("select count(*) from duckdb_tables() where table_name = 'pwn'").fetchone()[0]
        == 0
    )


def test_progress_on_a_terminal_and_quiet_in_logs(tmp_path, blog):
    """`listening collect` rewrites one progress line on a terminal; piped, it prints none."""
    import pty

    from tests.test_collect import write_config

    write_config(tmp_path / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    cmd = [
        sys.executable,
        "-m",
        "listening.cli",
        "collect",
        "--config",
        str(tmp_path / "listening.toml"),
    ]
    piped = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0, piped.stderr
    assert "\r" not in piped.stderr and "collect 1/1" not in piped.stderr
    assert piped.stdout.startswith("collect: 1 sources due")

    # The same collect on a fresh project, with stderr on a pseudo-terminal.
    tty_project = tmp_path / "tty"
    tty_project.mkdir()
    write_config(tty_project / "listening.toml", {"Blog de Greg": blog.url("/greg/feed/")})
    cmd[-1] = str(tty_project / "listening.toml")
    leader, follower = pty.openpty()
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=follower, timeout=120)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(leader)
    assert proc.returncode == 0
    assert b"\rcollect 1/1: Blog de Greg" in seen


def test_demo_on_a_busy_port_says_so_and_how_to_fix_it(tmp_path, capsys):
    """--port fixes the demo server's port (URLs, and so ids, carry it); a port already taken
    is one clear line, not a traceback, and nothing is written."""
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code = main(["demo", "-q", "--port", str(port), "--dir", str(tmp_path / "demo")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"127.0.0.1:{port}" in err and "--port" in err and "Traceback" not in err
    assert not (tmp_path / "demo" / "listening.toml").exists()
