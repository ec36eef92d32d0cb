from pathlib import Path

import pytest

pytest_plugins = ["tests.feedserver"]


class _Quiet:
    def progress(self, message: str) -> None:
        pass

    def say(self, message: str) -> None:
        pass

    def result(self, message: str) -> None:
        self.lines.append(message)

    def __init__(self):
        self.lines: list[str] = []


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> tuple[Path, list[str]]:
    """The demo world run through the whole pipeline once per session: (store, printed lines)."""
    from listening.demo.run import run_demo

    out = _Quiet()
    folder = tmp_path_factory.mktemp("demo")
    db = run_demo(folder, out=out)
    return db, out.lines
