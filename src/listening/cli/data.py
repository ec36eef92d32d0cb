"""Commands on the store's contents: query the snapshot (sql), list, re-enable, import and
export the sources (sources), erase a person (forget)."""

from __future__ import annotations

import csv
import json
import sys
import threading
from pathlib import Path

from listening.cli.common import Output, config_of, db_of, print_table, reader_db
from listening.errors import ListeningError


def cmd_sql(args, out: Output) -> int:
    import duckdb

    from listening.store import open_reader

    con = open_reader(reader_db(args))
    # DuckDB has no statement timeout: a timer interrupts the connection instead.
    timer = threading.Timer(args.timeout, con.interrupt)
    timer.start()
    try:
        cur = con.execute(args.query)
        columns = [d[0] for d in cur.description] if cur.description else None
        rows = cur.fetchall() if columns else []
    except duckdb.InterruptException:
        raise ListeningError(
            f"SQL error: the query ran longer than {args.timeout:g} s and was stopped; "
            "narrow it (a where clause, a limit) or raise --timeout"
        ) from None
    except duckdb.Error as exc:
        msg = str(exc).strip().splitlines()[0]
        if "read-only" in msg.lower():
            msg += " (listening sql reads the published snapshot; it never writes)"
        raise ListeningError(f"SQL error: {msg}") from None
    finally:
        timer.cancel()
    if columns is None:
        return 0
    if args.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
    elif args.json:
        for r in rows:
            print(json.dumps(dict(zip(columns, r, strict=True)), default=str, ensure_ascii=False))
    else:
        print_table(out, columns, rows)
    return 0


def cmd_sources(args, out: Output) -> int:
    if args.import_opml or args.export_opml:
        return _sources_opml(args, out)
    if args.dry_run:
        raise ListeningError("--dry-run goes with --import FILE")
    if args.enable:
        from listening import pipeline

        config = config_of(args)
        pipeline.enable_source(config, db_of(args, config), args.enable, say=out.say)
        out.result(f"source {args.enable!r} re-enabled; it will be fetched on the next collect")
        return 0
    from listening.store import open_reader

    con = open_reader(reader_db(args))
    cur = con.execute(
        "select name, kind, state, last_status, last_fetch_at, next_fetch_at, "
        "consecutive_failures as failures, n_documents as docs, last_error "
        "from source_health order by name"
    )
    rows = cur.fetchall()
    if not rows:
        out.result("no source yet: add [[sources]] to listening.toml, then `listening init`")
        return 0
    print_table(out, [d[0] for d in cur.description], rows, max_width=70)
    return 0


def _sources_opml(args, out: Output) -> int:
    from listening.collect import opml
    from listening.configfile import config_path

    if args.export_opml:
        data = opml.export_opml(config_of(args))
        if args.export_opml == "-":
            sys.stdout.buffer.write(data)
        else:
            opml.write_aside(Path(args.export_opml), data)
            out.result(f"wrote {args.export_opml}: OPML 2.0, {data.count(b'xmlUrl=')} feeds")
        return 0
    path = Path(args.import_opml)
    try:
        data = sys.stdin.buffer.read() if args.import_opml == "-" else path.read_bytes()
    except OSError as exc:
        raise ListeningError(f"cannot read {path}: {exc.strerror}") from None
    plan = opml.plan_import(config_path(args.config), data, source_name=str(path))
    for line in plan.report():
        out.result(line)
    if args.dry_run or not plan.added:
        out.result("dry run: listening.toml unchanged" if args.dry_run else "nothing to add")
        return 0
    opml.apply_import(plan)
    out.result(
        f"{plan.config_path}: {len(plan.added)} sources added; "
        "they are fetched at the next `listening collect`"
    )
    return 0


def cmd_forget(args, out: Output) -> int:
    from listening import pipeline

    config = config_of(args)
    r = pipeline.forget(
        config, db_of(args, config), args.author, args.site, dry_run=args.dry_run, say=out.say
    )
    s = r.stats
    out.result(
        f"{'would remove' if args.dry_run else 'removed'}: {s.n_documents} documents, "
        f"{s.n_mentions} mentions, {s.n_overrides} label corrections, {s.n_alerts} alerts; "
        f"{s.n_replies_reattached} replies by others re-attached to the thread; name redacted "
        f"in {s.n_texts_redacted} other texts"
    )
    if args.dry_run:
        out.result("dry run: nothing changed")
        return 0
    out.result(
        f"files beside the store cleaned: {s.n_files}; marts rebuilt; store rewritten without "
        f"the erased bytes ({r.size_before / 1e6:.1f} MB -> {r.size_after / 1e6:.1f} MB); "
        "snapshot published"
    )
    if r.n_reports:
        out.result(
            f"weekly reports deleted: {r.n_reports} (they may quote the person); "
            "`listening report --week YYYY-Www` writes any of them again without the person"
        )
    where = f"on {args.site}" if args.site else "on any site"
    out.result(
        f"suppressed: documents by this author {where} are dropped at load from now on; "
        "audit line added to the `erasures` table (counts only)"
    )
    if args.author.casefold() in config.path.read_text("utf-8").casefold():
        out.say(f"note: the name also appears in {config.path}: edit it there by hand")
    return 0
