"""The demo world: six French brands, ~20 sites, 18 months of posts and comments.

``build_world(base_url)`` runs the generator (``generate.py``) over the cast and story
(``cast.py``) and renders the files (``render.py``). The same seed, end date and base URL give
byte-identical files in any process. Every document keeps the labels it was generated with
(``World.documents``), so tests assert on the generator's intent, not on a scorer.
"""

from __future__ import annotations

import tomllib
from datetime import date
from functools import cached_property
from pathlib import Path

from listening.demo import render
from listening.demo.cast import BRAND_BY_KEY, BRANDS, SITES, Story
from listening.demo.generate import Generator, Post

DEFAULT_SEED = 20261031
DEFAULT_END = date(2026, 10, 31)


# -- the world ------------------------------------------------------------------------------


class World:
    """The generated files plus the config, the story and the labels they were made from."""

    def __init__(
        self,
        base_url: str,
        seed: int,
        end: date,
        posts: list[Post],
        story: Story,
        switchers: list[tuple[str, date]] = (),
    ):
        self.base_url = base_url.rstrip("/")
        self.seed = seed
        self.end = end
        self.posts = posts
        self._story = story
        # regulars planted as Orvéa fans who turn detractors: (name, day they turn)
        self.switchers = list(switchers)
        self.files: dict[str, bytes] = render.render_all(self.base_url, SITES, posts)
        self.brands = [
            {
                "name": b.name,
                "query": b.query,
                "competitors": [BRAND_BY_KEY[b.competitor].name],
                "official_authors": list(b.official_authors),
            }
            for b in BRANDS
        ]
        self.sources = [
            {
                "name": s.key,
                "url": self.base_url + (f"/{s.key}/" if s.mode == "autodiscovery" else s.feed_path),
                "kind": "site" if s.mode == "autodiscovery" else "feed",
                "channel": s.channel,
            }
            for s in SITES
        ]

    def story(self) -> list[dict]:
        return self._story.events()

    def campaigns(self) -> list[dict]:
        s = self._story
        return [
            {
                "name": s.campaign_name,
                "brand": "Ambrelle",
                "channel": "TV",
                "start": s.campaign_start,
                "end": s.campaign_end,
            }
        ]

    @cached_property
    def documents(self) -> list[dict]:
        """One labelled record per post and comment: the generator's ground truth."""
        out = []
        for p in self.posts:
            url = self.base_url + p.path
            brand = BRAND_BY_KEY[p.brand].name if p.brand else None
            out.append(
                {
                    "kind": "post",
                    "url": url,
                    "thread_url": url,
                    "parent_url": None,
                    "source": p.site.key,
                    "channel": p.site.channel,
                    "author": p.author,
                    "published_at": p.published_at,
                    "brand": brand,
                    "brands_named": list(p.brands_named),
                    "story_kind": p.kind,
                    "sentiment": p.sentiment,
                    "aspect": p.aspect,
                    "lang": "fr",
                    "is_spam": False,
                    "is_official": False,
                    "is_ironic": False,
                    "text": " ".join([p.title, *p.paragraphs]),
                }
            )
            for c in p.comments:
                out.append(
                    {
                        "kind": "comment",
                        "url": f"{url}#comment-{c.number}",
                        "thread_url": url,
                        "parent_url": f"{url}#comment-{c.parent.number}" if c.parent else None,
                        "source": p.site.key,
                        "channel": p.site.channel,
                        "author": c.author,
                        "published_at": c.published_at,
                        "brand": brand,
                        "brands_named": list(c.brands_named),
                        "story_kind": p.kind,
                        "sentiment": c.sentiment,
                        "aspect": c.aspect,
                        "lang": c.lang,
                        "is_spam": c.is_spam,
                        "is_official": c.is_official,
                        "is_ironic": c.is_ironic,
                        "text": c.text,
                    }
                )
        return out

    def write(self, folder: Path) -> None:
        """Write the files under ``folder``; a path ending in "/" becomes its index file."""
        for path, body in self.files.items():
            target = Path(folder) / render.file_name(path, body)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(body)

    def config_toml(self, store: str, staging_dir: str | None = None) -> str:
        lines = [
            "# listening.toml for the demo world (generated by `listening demo`).",
            f"# Seed {self.seed}, 18 months ending {self.end.isoformat()}, served from",
            f"# {self.base_url}. Regenerate rather than edit: the port changes on every run.",
            "",
            "[settings]",
            "# The DuckDB file the pipeline writes; dashboards read a published snapshot of it.",
            f"store = {_toml_str(store)}",
            *([f"staging_dir = {_toml_str(staging_dir)}"] if staging_dir else []),
            "# The demo server listens on 127.0.0.1, which the network guard refuses by default",
            "# (server-side request forgery protection). Allow it for the demo only.",
            "allow_private_networks = true",
            "",
            "# Brands: `query` uses the boolean syntax (AND OR NOT, parentheses, quoted phrases,",
            "# NEAR/n, trailing *). Official accounts' messages are the brand's own answers,",
            "# kept out of reputation scores.",
        ]
        for b in self.brands:
            lines += [
                "",
                "[[brands]]",
                f"name = {_toml_str(b['name'])}",
                f"query = {_toml_str(b['query'])}",
                f"competitors = [{', '.join(_toml_str(c) for c in b['competitors'])}]",
                f"official_authors = [{', '.join(_toml_str(a) for a in b['official_authors'])}]",
            ]
        lines += [
            "",
            "# Sources: kind 'feed' is an RSS/Atom URL (comment feeds are followed from",
            "# wfw:commentRss / rel=replies links; a feed without them has its comments in the",
            "# post pages), kind 'site' is a homepage whose feed is found by autodiscovery.",
        ]
        for s in self.sources:
            lines += [
                "",
                "[[sources]]",
                f"name = {_toml_str(s['name'])}",
                f"url = {_toml_str(s['url'])}",
                f"kind = {_toml_str(s['kind'])}",
                f"channel = {_toml_str(s['channel'])}",
            ]
        lines += [
            "",
            "# The story's campaigns, for the campaign_impact mart (also `World.campaigns()`):",
        ]
        for c in self.campaigns():
            lines += [
                "# [[campaigns]]",
                f"# name = {_toml_str(c['name'])}",
                f"# brand = {_toml_str(c['brand'])}",
                f"# channel = {_toml_str(c['channel'])}",
                f"# start = {c['start'].isoformat()}",
                f"# end = {c['end'].isoformat()}",
            ]
        text = "\n".join(lines) + "\n"
        tomllib.loads(text)  # we promise a valid file
        return text


def _toml_str(value: str) -> str:
    if "'" not in value and "\n" not in value:
        return f"'{value}'"  # a literal string keeps queries readable: '"A B" OR C'
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def build_world(base_url: str, seed: int = DEFAULT_SEED, end: date = DEFAULT_END) -> World:
    generator = Generator(seed, end)
    posts = generator.run()
    switchers = [(v.name, v.switch_at) for v in generator.people.switchers]
    return World(base_url, seed, end, posts, generator.story, switchers)
