"""The generator: people, posts and comments drawn from seeded random streams.

Every stream is ``random.Random(f"{seed}:{name}")``: a str seed is hashed with SHA-512 by
``random``, not with ``hash()``, so runs agree across processes and PYTHONHASHSEED values. No
clock is read; dates come from the story's calendar.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from listening.demo import texts
from listening.demo.cast import BRAND_BY_KEY, BRANDS, SITES, SITES_BY_KEY, Brand, Site, Story, ramp


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug if len(slug) <= 90 else slug[:90].rsplit("-", 1)[0]


def poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method; fine for the small rates used here.
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


# -- people ---------------------------------------------------------------------------------


@dataclass
class Voice:
    name: str
    sector: str | None  # None: comments everywhere
    active_from: date
    active_to: date
    weight: float
    switch_at: date | None = None  # promoter of the defect brand before, detractor after


class People:
    """Regular commenters who come back for months, plus one-off voices made up on demand."""

    def __init__(self, rng: random.Random, story: Story):
        self.rng = rng
        self.used: set[str] = set()
        self.regulars: list[Voice] = []
        span = (story.end - story.start).days
        for i in range(180):
            name = self._new_name(nickname=i % 3 == 0)
            start = story.start + timedelta(days=rng.randrange(0, span - 180))
            length = rng.randrange(180, span)
            sector = rng.choice([*texts.SECTOR_WORDS, None])
            weight = rng.choice([1, 1, 2, 3, 5])
            self.regulars.append(Voice(name, sector, start, start + timedelta(days=length), weight))
        # Orvéa fans who turn into detractors once their Box 6 starts rebooting.
        self.switchers = []
        for _ in range(6):
            name = self._new_name(nickname=False)
            at = story.defect_start + timedelta(days=rng.randrange(30, 240))
            self.switchers.append(Voice(name, "telecom", story.start, story.end, 6, switch_at=at))
        self.regulars.extend(self.switchers)

    def _new_name(self, nickname: bool) -> str:
        rng = self.rng
        while True:
            if nickname:
                name = rng.choice(texts.NICKNAMES) + rng.choice(texts.NICK_SUFFIXES)
            else:
                first = rng.choice(texts.FIRST_NAMES)
                style = rng.randrange(5)
                if style == 0:
                    name = first
                elif style == 1:
                    name = f"{first} {rng.choice('ABCDEFGHJLMNPRST')}."
                elif style == 2:
                    name = f"{first.lower()}{rng.randrange(1, 99)}"
                elif style == 3:
                    name = f"{first}_{rng.choice(texts.CITIES)}"
                else:
                    name = f"{first} de {rng.choice(texts.CITIES)}"
            name = name.strip()
            if name not in self.used:
                self.used.add(name)
                return name
            nickname = not nickname if rng.random() < 0.5 else nickname

    def pick(self, sector: str | None, d: date) -> Voice | str:
        """A regular (about half the time) or a brand-new one-off voice."""
        rng = self.rng
        if rng.random() < 0.5:
            pool = [
                v
                for v in self.regulars
                if v.active_from <= d <= v.active_to and v.sector in (sector, None)
            ]
            if pool:
                return rng.choices(pool, weights=[v.weight for v in pool])[0]
        return self._new_name(nickname=rng.random() < 0.15)


# -- documents ------------------------------------------------------------------------------


@dataclass
class Comment:
    post: Post
    author: str
    text: str
    published_at: datetime
    parent: Comment | None
    sentiment: str | None  # None for spam
    aspect: str | None
    brands_named: list[str]
    lang: str = "fr"
    is_spam: bool = False
    is_official: bool = False
    is_ironic: bool = False
    number: int = 0  # WordPress comment id, numbered per site in publication order


@dataclass
class Post:
    site: Site
    slug: str
    title: str
    author: str
    published_at: datetime
    paragraphs: list[str]
    category: str
    brand: str | None  # key of the brand the thread is about
    brands_named: list[str]
    kind: str  # news, positive, campaign, defect, noise…
    sentiment: str | None
    aspect: str | None
    comments: list[Comment] = field(default_factory=list)

    @property
    def path(self) -> str:
        d = self.published_at
        return f"/{self.site.key}/{d.year:04d}/{d.month:02d}/{self.slug}/"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


_ELISION = re.compile(r"\b([Ll]a|[Dd]e) (?=[AEIOUÉaeiouéèê])")


def elide(text: str) -> str:
    """French elision the templates cannot know about: "la agence" -> "l'agence"."""
    return _ELISION.sub(lambda m: m.group(1)[0] + "'", text)


class Writer:
    """Fills the templates of ``texts`` for one brand (or none) at one date."""

    def __init__(self, rng: random.Random, story: Story):
        self.rng = rng
        self.story = story

    def slots(self, brand: Brand | None, sector: str) -> dict[str, str]:
        rng = self.rng
        words = texts.SECTOR_WORDS[sector]
        return {
            "brand": rng.choice(brand.spellings) if brand else "",
            "product": rng.choice(brand.products) if brand else "",
            "shop": rng.choice(words["shop"]),
            "staff": rng.choice(words["staff"]),
            "price": rng.choice(words["price"]),
            "delivery": rng.choice(words["delivery"]),
            "city": rng.choice(texts.CITIES),
            "int": rng.choice(texts.INTENSIFIERS),
        }

    def comment(self, brand: Brand, d: date, aspect: str, sentiment: str) -> tuple[str, bool, bool]:
        """Text, whether it names the brand, whether it is ironic."""
        rng, story = self.rng, self.story
        ironic = False
        if sentiment == "mixed":
            template = rng.choice(texts.MIXED_COMMENTS)
        elif (
            brand.key == "orvea"
            and aspect == "produit"
            and sentiment == "negative"
            and d >= story.defect_start
            and rng.random() < 0.8
        ):
            template = rng.choice(texts.DEFECT_COMMENTS)
        elif (
            brand.key == "dupre"
            and aspect == "service client"
            and sentiment == "positive"
            and d >= story.care_fix
            and rng.random() < 0.7
        ):
            template = rng.choice(texts.RECOVERY_COMMENTS)
        elif sentiment == "negative" and rng.random() < 0.03:
            template, ironic = rng.choice(texts.IRONIC_COMMENTS), True
        else:
            template = rng.choice(texts.COMMENTS[(aspect, sentiment)])
        slots = self.slots(brand, brand.sector)
        if brand.key == "orvea" and "{product}" in template and aspect == "produit":
            slots["product"] = "Box 6" if d >= story.box_launch else "fibre"
        slots["emo"] = rng.choice(texts.EMOJI[sentiment]) if not ironic else ""
        core = elide(template.format(**slots))
        opener = rng.choice(texts.OPENERS) if not ironic else ""
        if opener.endswith((", ", ": ", "Alors ")) and not template.startswith("{"):
            core = core[:1].lower() + core[1:]
        closer = rng.choice(texts.CLOSERS[sentiment]) if not ironic else ""
        text = opener + core
        if closer:
            text = text + ("" if text[-1] in ".!?" else ".") + " " + closer
        return _cap(text), "{brand}" in template, ironic


# -- the generator --------------------------------------------------------------------------


class Generator:
    def __init__(self, seed: int, end: date):
        self.seed = seed
        self.story = Story(end)
        self.end_at = datetime.combine(end, time(23, 59), tzinfo=UTC)
        self.people = People(self.rng("people"), self.story)
        self.editors = self._editors()
        self.posts: list[Post] = []
        self.slugs: set[str] = set()

    def rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.seed}:{stream}")

    def _editors(self) -> dict[str, list[str]]:
        rng = self.rng("editors")
        out = {}
        for site in SITES:
            n = 1 if site.channel == "blog" else 3
            names = []
            for _ in range(n):
                first = rng.choice(texts.FIRST_NAMES)
                names.append(
                    first if site.channel == "blog" else f"{first} {rng.choice('BDGLMR')}."
                )
            out[site.key] = names
        return out

    def days(self):
        d = self.story.start
        while d <= self.story.end:
            yield d
            d += timedelta(days=1)

    def run(self) -> list[Post]:
        for brand in BRANDS:
            rng = self.rng(f"posts:{brand.key}")
            writer = Writer(rng, self.story)
            due = rng.random()
            for d in self.days():
                # A jittered quota rather than a Poisson draw: steady months make the campaign
                # spike and the slow trends readable at a glance.
                due += brand.posts_per_month * 12 / 365 * self.story.post_rate_factor(brand.key, d)
                while due >= 1:
                    due -= rng.uniform(0.6, 1.4)
                    self._brand_post(rng, writer, brand, d)
        rng = self.rng("posts:noise")
        writer = Writer(rng, self.story)
        for d in self.days():
            for sector in texts.SECTOR_WORDS:
                for _ in range(poisson(rng, 0.13)):
                    self._noise_post(rng, writer, sector, d)
        for i, (title, body) in enumerate(texts.DECOY_POSTS):
            d = self.story.start + timedelta(days=60 + 200 * i)
            for k, site in enumerate(("ouest-actu", "le-fil-local")):
                post = self._post(rng, SITES_BY_KEY[site], d + timedelta(days=90 * k), title)
                post.paragraphs, post.kind, post.category = [body], "decoy", "Régions"
                self.posts.append(post)
        crng = self.rng("comments")
        cwriter = Writer(crng, self.story)
        self.posts.sort(key=lambda p: (p.published_at, p.site.key, p.slug))
        for post in self.posts:
            self._comments(crng, cwriter, post)
        self._number_comments()
        return self.posts

    # posts

    def _site(self, rng: random.Random, sector: str, kind: str) -> Site:
        pool = [s for s in SITES if sector in s.sectors]
        weights = [
            s.weight * (4 if kind == "campaign" and s.key == "media-pub" else 1) for s in pool
        ]
        return rng.choices(pool, weights=weights)[0]

    def _post(self, rng: random.Random, site: Site, d: date, title: str) -> Post:
        at = datetime.combine(d, time(rng.randrange(6, 22), rng.randrange(60)), tzinfo=UTC)
        slug = base = slugify(title) or "billet"
        n = 2
        while f"{site.key}/{at:%Y/%m}/{slug}" in self.slugs:
            slug, n = f"{base}-{n}", n + 1
        self.slugs.add(f"{site.key}/{at:%Y/%m}/{slug}")
        author = rng.choice(self.editors[site.key])
        return Post(site, slug, title, author, at, [], "Actualité", None, [], "news", None, None)

    def _brand_post(self, rng: random.Random, writer: Writer, brand: Brand, d: date) -> None:
        story = self.story
        aspect, sentiment = story.draw(rng, brand.key, d)
        kind = {"neutral": "news"}.get(sentiment, sentiment)
        x = rng.random()
        if story.in_campaign(brand.key, d, tail=3) and x < 0.6:
            kind, aspect, sentiment = "campaign", "publicité", "neutral"
        elif (
            brand.key == "orvea"
            and d >= story.defect_start
            and x < 0.08 + 0.3 * ramp(d, story.defect_start, story.end)
        ):
            kind, aspect, sentiment = "defect", "produit", "negative"
        elif brand.key == "dupre" and d < story.care_fix and x < 0.12:
            kind, aspect, sentiment = "care_bad", "service client", "negative"
        elif brand.key == "dupre" and story.care_fix <= d < story.care_recovered and x < 0.15:
            kind, aspect, sentiment = "care_fix", "service client", "positive"
        elif x > 0.88:
            kind, sentiment = "comparison", "neutral"
        site = self._site(rng, brand.sector, kind)
        if site.channel == "review" and kind not in ("campaign", "defect", "care_fix"):
            kind = "review"
        elif site.channel == "forum" and kind not in ("campaign", "defect"):
            kind = "forum"
        other = BRAND_BY_KEY[brand.competitor]
        slots = writer.slots(brand, brand.sector)
        if brand.key == "orvea" and kind == "defect":
            slots["product"] = "Box 6"
        slots.update(
            other=other.name,
            campaign=story.campaign_name,
            stars=texts.STARS[sentiment],
            emo="",
        )
        title = _cap(elide(rng.choice(texts.POST_TITLES[kind]).format(**slots)))
        post = self._post(rng, site, d, title)
        post.brand, post.kind, post.sentiment, post.aspect = brand.key, kind, sentiment, aspect
        post.category = {"review": "Avis", "forum": "Discussions"}.get(kind, brand.sector.title())
        post.brands_named = [brand.name] + ([other.name] if kind == "comparison" else [])
        if kind in ("review", "forum"):
            voice = self.people.pick(brand.sector, d)
            post.author = voice if isinstance(voice, str) else voice.name
            body, _, _ = writer.comment(brand, d, aspect, sentiment)
            lead = elide(rng.choice(texts.POST_SENTENCES["forum"]).format(**slots))
            post.paragraphs = [lead, body] if kind == "forum" else [body]
        else:
            pool = texts.POST_SENTENCES[kind] + texts.POST_SENTENCES["news"][:2]
            k = min(len(pool), rng.randrange(2, 5))
            post.paragraphs = [elide(s.format(**slots)) for s in rng.sample(pool, k)]
            if brand.spellings[0] not in " ".join([title, *post.paragraphs]):
                post.paragraphs.insert(0, f"{brand.name} fait parler de lui cette semaine.")
        self.posts.append(post)

    def _noise_post(self, rng: random.Random, writer: Writer, sector: str, d: date) -> None:
        slots = writer.slots(None, sector)
        title = rng.choice(texts.NOISE_TITLES[sector]).format(**slots)
        site = self._site(rng, sector, "noise")
        post = self._post(rng, site, d, title)
        post.kind, post.category, post.sentiment = "noise", "Conseils", "neutral"
        k = rng.randrange(2, 4)
        post.paragraphs = [s.format(**slots) for s in rng.sample(texts.NOISE_SENTENCES, k)]
        self.posts.append(post)

    # comments

    def _comments(self, rng: random.Random, writer: Writer, post: Post) -> None:
        story = self.story
        brand = BRAND_BY_KEY.get(post.brand or "")
        mean = post.site.comments_mean
        if brand is None:
            mean *= 0.5
        elif story.in_campaign(brand.key, post.published_at.date()):
            mean *= 1.3
        at = post.published_at
        for _ in range(round(mean * rng.uniform(0.4, 1.8))):
            at = at + timedelta(minutes=5 + int(rng.expovariate(1 / 600)))
            if at > self.end_at:
                break
            parent = rng.choice(post.comments) if post.comments and rng.random() < 0.3 else None
            comment = self._comment(rng, writer, post, brand, at, parent)
            post.comments.append(comment)
            if brand and not comment.is_spam:
                self._official_reply(rng, post, brand, comment)

    def _comment(self, rng, writer, post, brand, at, parent) -> Comment:
        d = at.date()
        sector = brand.sector if brand else (post.site.sectors[0])
        voice = self.people.pick(sector, d)
        author = voice if isinstance(voice, str) else voice.name
        x = rng.random()
        if x < 0.015:
            author = rng.choice(texts.SPAM_AUTHORS)
            text = rng.choice(texts.SPAM_COMMENTS)
            return Comment(post, author, text, at, None, None, None, [], is_spam=True)
        if brand is None:
            sentiment = rng.choices(["positive", "neutral", "negative"], weights=[5, 4, 1])[0]
            slots = writer.slots(None, sector)
            slots["emo"] = rng.choice(texts.EMOJI[sentiment])
            text = rng.choice(texts.NOISE_COMMENTS[sentiment]).format(**slots)
            return Comment(post, author, text, at, parent, sentiment, None, [])
        aspect, sentiment = self.story.draw(rng, brand.key, d)
        if isinstance(voice, Voice) and voice.switch_at and brand.key == "orvea":
            aspect = "produit"
            sentiment = "positive" if d < voice.switch_at else "negative"
        if x < 0.045:
            sentiment = "neutral" if sentiment == "mixed" else sentiment
            slots = writer.slots(brand, brand.sector)
            text = rng.choice(texts.ENGLISH_COMMENTS[sentiment]).format(**slots)
            return Comment(post, author, text, at, parent, sentiment, aspect, [brand.name], "en")
        text, named, ironic = writer.comment(brand, d, aspect, sentiment)
        if parent and rng.random() < 0.5:
            prefix = rng.choice(texts.REPLY_PREFIXES).format(parent=parent.author)
            text = prefix + (text if prefix.endswith(". ") else text[:1].lower() + text[1:])
        names = [brand.name] if named else []
        return Comment(post, author, text, at, parent, sentiment, aspect, names, is_ironic=ironic)

    def _official_reply(self, rng, post: Post, brand: Brand, comment: Comment) -> None:
        story, d = self.story, comment.published_at.date()
        if comment.sentiment == "negative":
            if brand.key == "dupre":
                p = 0.75 if d >= story.care_fix else 0.04
            else:
                p = 0.35 if brand.key == "orvea" else 0.15
        elif comment.sentiment == "positive":
            p = 0.05
        else:
            return
        if rng.random() >= p:
            return
        # A slow answer before the fix, within hours after it.
        slow = brand.key == "dupre" and d < story.care_fix
        at = comment.published_at + timedelta(minutes=rng.randrange(30, 4000 if slow else 600))
        if at > self.end_at:
            return
        pool = texts.OFFICIAL_REPLIES[comment.sentiment]
        text = rng.choice(pool).format(parent=comment.author)
        author = brand.official_authors[0]
        reply = Comment(
            post, author, text, at, comment, "neutral", "service client", [], is_official=True
        )
        post.comments.append(reply)
        # After the fix, half the unhappy customers come back to say it worked.
        fixed = brand.key == "dupre" and d >= story.care_fix and comment.sentiment == "negative"
        if fixed and rng.random() < 0.5:
            at2 = at + timedelta(minutes=rng.randrange(60, 2000))
            if at2 <= self.end_at:
                thanks = rng.choice(texts.THANKS_AFTER_FIX)
                aspect = "service client"
                answer = Comment(post, comment.author, thanks, at2, reply, "positive", aspect, [])
                post.comments.append(answer)

    def _number_comments(self) -> None:
        by_site: dict[str, list[Comment]] = {}
        for post in self.posts:
            post.comments.sort(key=lambda c: c.published_at)
            for c in post.comments:
                by_site.setdefault(post.site.key, []).append(c)
        for site in SITES:
            comments = by_site.get(site.key, [])
            comments.sort(key=lambda c: c.published_at)  # stable: ties keep post order
            for n, c in enumerate(comments, start=1):
                c.number = n
