"""The ``listening`` command: a thin shell over the library (nothing imports this package).

``parser`` holds the grammar; the commands live by what they touch: ``stages`` (the pipeline),
``data`` (the store's contents), ``tools`` (demo, dashboards, reports), ``campaigns``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from listening.cli.common import Output
from listening.cli.parser import build_parser
from listening.errors import ListeningError


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = Output(quiet=getattr(args, "quiet", False))
    try:
        return args.func(args, out) or 0
    except ListeningError as exc:
        out._clear()
        print(f"listening: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        out._clear()
        print("listening: interrupted", file=sys.stderr)
        return 130
