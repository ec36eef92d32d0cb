"""``python -m listening.cli``: the same as the ``listening`` command."""

from listening.cli import main

raise SystemExit(main())
