"""robots.txt: whether a crawler may fetch a page (RFC 9309).

No network here: the crawler fetches robots.txt once per site and asks this for each page.
"""

from __future__ import annotations

from urllib.robotparser import RobotFileParser


def robots_allows(robots_txt: bytes, user_agent: str, url: str) -> bool:
    """Whether robots.txt lets ``user_agent`` fetch ``url`` (RFC 9309, via urllib.robotparser)."""
    parser = RobotFileParser()
    parser.parse(robots_txt.decode("utf-8", "replace").splitlines())
    return parser.can_fetch(user_agent, url)
