"""Named exceptions of the library; only the edges (CLI, DAG tasks) turn them into messages."""


class ListeningError(Exception):
    """Base class for errors a user can act on; the message says what to do next."""


class ConfigError(ListeningError):
    """The configuration file is invalid. ``problems`` lists every problem found."""

    def __init__(self, path: str, problems: list[str]):
        self.path = path
        self.problems = problems
        noun = "problem" if len(problems) == 1 else "problems"
        body = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"{path}: {len(problems)} {noun} in the configuration:\n{body}")


class StoreError(ListeningError):
    """The DuckDB store cannot be used as asked (too new, locked, missing snapshot…)."""


class QuerySyntaxError(ListeningError):
    """A brand query does not parse. ``position`` is the 0-based character offset."""

    def __init__(self, message: str, query: str, position: int):
        self.query = query
        self.position = position
        self.reason = message
        super().__init__(f"{message} at position {position} in query {query!r}")


class SourceBlocked(ListeningError):
    """A URL was refused by the network guard (scheme or resolved address not allowed)."""
