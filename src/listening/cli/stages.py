"""The pipeline's commands: init, collect, analyze, build, run; and sentiment (score text as
the analyze stage does, or train the store's adapter)."""

from __future__ import annotations

import json
import sys

from listening.cli.common import Output, config_of, db_of
from listening.errors import ListeningError


def cmd_init(args, out: Output) -> int:
    from listening import pipeline

    config = config_of(args)
    db = db_of(args, config)
    applied = pipeline.init(config, db, out.say)
    if applied:
        out.result(f"store {db}: applied {', '.join(applied)}")
    else:
        out.result(f"store {db}: up to date")
    out.result(f"{len(config.brands)} brands, {len(config.sources)} sources in {config.path}")
    return 0


def cmd_collect(args, out: Output) -> int:
    from listening import pipeline

    config = config_of(args)
    stats = pipeline.collect(
        config,
        db_of(args, config),
        say=out.say,
        on_progress=lambda name, done, total: out.progress(f"collect {done}/{total}: {name}"),
    )
    _report_collect(out, stats)
    return 0


def _report_collect(out: Output, stats) -> None:
    load = stats.load
    out.result(
        f"collect: {stats.n_units} sources due, {stats.n_fetches} fetches "
        f"({stats.n_not_modified} unchanged), {load.n_documents_new} new documents, "
        f"{load.n_documents_updated} updated, {load.n_duplicates_linked} near-duplicates linked"
    )
    for e in stats.errors:
        out.say(f"  warning: {e}")


def cmd_analyze(args, out: Output) -> int:
    from listening import pipeline
    from listening.analyze.run import failure_lines

    config = config_of(args)
    stats = pipeline.analyze_stage(
        config,
        db_of(args, config),
        rescore=args.rescore,
        say=out.say,
        on_progress=lambda done, total: out.progress(f"analyze {done}/{total} documents"),
    )
    failed = f", {len(stats.failed)} failed" if stats.failed else ""
    out.result(
        f"analyze: {stats.n_documents} documents, {stats.n_mentions} mentions "
        f"({stats.n_unscored} not French: not scored{failed})"
    )
    for line in failure_lines(stats):
        out.say(line)
    return 0


def cmd_build(args, out: Output) -> int:
    from listening import pipeline
    from listening.marts.build import slowest_steps, summary

    config = config_of(args)
    stats = pipeline.build_stage(
        config,
        db_of(args, config),
        say=out.say,
        on_progress=lambda n: out.progress(f"build {n}"),
        full=getattr(args, "full", False),  # `listening run` builds incrementally
    )
    out.result(f"build: {summary(stats)}; snapshot published")
    out.say(f"build: slowest steps {slowest_steps(stats)}")
    if stats.n_expired:
        days = config.settings.retention_days
        out.result(f"retention: {stats.n_expired:,} documents older than {days} days deleted")
    return 0


def cmd_run(args, out: Output) -> int:
    for step in (cmd_collect, cmd_analyze, cmd_build):
        step(args, out)
    return 0


def cmd_sentiment(args, out: Output) -> int:
    if args.action == "train":
        from listening import pipeline
        from listening.analyze.adapter import describe

        config = config_of(args)
        report = pipeline.train_stage(config, db_of(args, config), say=out.say)
        out.result(describe(report))
        if report.adopted:
            out.result("new mentions use it now; `listening analyze --rescore` applies it to all")
        return 0
    from listening.analyze.target import score_text

    bad = 0
    for n, line in enumerate(sys.stdin, 1):
        text, target = line.rstrip("\n"), args.target
        if not text.strip():
            continue
        if args.jsonl:
            try:
                item = json.loads(text)
                text, target = item["text"], item.get("target", target)
                if not isinstance(text, str) or not isinstance(target, str | None):
                    raise TypeError
            except (ValueError, KeyError, TypeError, AttributeError):
                bad += 1
                out.say(
                    f'stdin line {n}: skipped, not a JSON object with a string "text" '
                    '(expected {"text": "...", "target": "..."}, target optional)'
                )
                continue
        print(json.dumps(score_text(text, target), ensure_ascii=False), flush=True)
    if bad:
        raise ListeningError(f"{bad} input line(s) skipped; fix them and run again")
    return 0
