"""``python -m listening.cli``: the same as the ``listening`` command."""

from listening.cli import main

if __name__ == "__main__":  # importing this module (a walk over the package) runs nothing
    raise SystemExit(main())
