"""Who and when: the six brands, the sites that talk about them, and the story's calendar.

The story the dashboards must show: a TV campaign that makes buzz and leaves reputation flat,
a product defect that slowly erodes one brand, and a customer-service fix that lets another
brand recover. ``Story.mix`` turns it into probabilities for each document's aspect and tone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = 18


@dataclass(frozen=True)
class Brand:
    key: str
    name: str
    sector: str  # 'bakery' | 'telecom' | 'fashion'
    query: str
    competitor: str  # key of the competing brand
    official_authors: tuple[str, ...]
    products: tuple[str, ...]  # feminine singular nouns, so templates can say "la {product}"
    spellings: tuple[str, ...]  # how people write the name; all matched by ``query``
    posts_per_month: float


BRANDS = [
    Brand(
        "dupre", "Fournil Dupré", "bakery",
        '"Fournil Dupré" OR "Fournils Dupré" OR "Fournil Dupre"',
        "kervalec", ("Service client Fournil Dupré", "Fournil Dupré"),
        ("baguette tradition", "brioche", "fougasse", "tarte aux pommes", "commande du dimanche"),
        ("Fournil Dupré", "Fournil Dupré", "Fournil Dupré", "Fournils Dupré", "Fournil Dupre"),
        17,
    ),
    Brand(
        "kervalec", "Maison Kervalec", "bakery",
        'Kervalec* NOT "pointe de Kervalec"',
        "dupre", ("Maison Kervalec",),
        ("galette bretonne", "brioche au beurre salé", "tarte au sucre", "baguette de campagne"),
        ("Maison Kervalec", "Kervalec", "Kervalec"),
        11,
    ),
    Brand(
        "orvea", "Orvéa", "telecom",
        '(Orvéa* OR Orvea*) NOT "Orvéa-les-Bains"',
        "telzio", ("Orvéa Assistance", "Orvéa"),
        ("Box 6", "fibre", "offre mobile", "TV d'Orvéa", "Box 6"),
        ("Orvéa", "Orvéa", "Orvea"),
        18,
    ),
    Brand(
        "telzio", "Telzio", "telecom",
        'Telzio* OR ("TZ Box" NEAR/5 fibre)',
        "orvea", ("Telzio Care",),
        ("TZ Box", "offre fibre", "carte SIM", "offre 5G"),
        ("Telzio", "Telzio"),
        11,
    ),
    Brand(
        "ambrelle", "Ambrelle", "fashion",
        '(Ambrelle OR "Maison Ambrelle") NOT "Ambrelle Hôtel"',
        "tissandre", ("Ambrelle Officiel", "Service client Ambrelle"),
        ("robe en lin", "veste", "chemise", "collection", "marinière"),
        ("Ambrelle", "Ambrelle", "Maison Ambrelle"),
        16,
    ),
    Brand(
        "tissandre", "Tissandre", "fashion",
        'Tissandre OR (Tissandr* NEAR/3 soldes)',
        "ambrelle", ("Tissandre",),
        ("robe pull", "chemise en jean", "collection hiver", "doudoune"),
        ("Tissandre", "Tissandre"),
        11,
    ),
]  # fmt: skip
BRAND_BY_KEY = {b.key: b for b in BRANDS}


@dataclass(frozen=True)
class Site:
    key: str
    title: str
    channel: str  # 'blog' | 'news' | 'forum' | 'review'
    fmt: str  # 'rss' | 'atom'
    sectors: tuple[str, ...]
    weight: float  # share of the brand posts of its sectors
    comments_mean: float
    mode: str = "feed"  # 'feed' | 'html-comments' (no comment feeds) | 'autodiscovery'

    @property
    def feed_path(self) -> str:
        return f"/{self.key}/feed/atom/" if self.fmt == "atom" else f"/{self.key}/feed/"


ALL = ("bakery", "telecom", "fashion")
SITES = [
    Site("blog-pain", "Le Blog du Pain", "blog", "rss", ("bakery",), 1.0, 6),
    Site("croquant-moelleux", "Croquant & Moelleux", "blog", "atom", ("bakery",), 0.8, 5),
    Site("la-tartine", "La Tartine du Matin", "blog", "rss", ("bakery",), 0.6, 5),
    Site("gourmandises-du-nord", "Gourmandises du Nord", "blog", "rss", ("bakery",), 0.5, 4),
    Site("box-et-reseaux", "Box & Réseaux", "blog", "rss", ("telecom",), 1.0, 7),
    Site("geek-du-dimanche", "Le Geek du Dimanche", "blog", "atom", ("telecom",), 0.7, 6),
    Site("fibre-info", "Fibre Info", "news", "rss", ("telecom",), 0.8, 5),
    Site("signal-fort", "Signal Fort", "news", "atom", ("telecom",), 0.6, 5),
    Site("dressing-parisien", "Le Dressing Parisien", "blog", "rss", ("fashion",), 1.0, 6),
    Site("fil-et-lin", "Fil & Lin", "blog", "atom", ("fashion",), 0.7, 5),
    Site("la-penderie", "La Penderie", "blog", "rss", ("fashion",), 0.6, 4),
    Site("style-petit-prix", "Style à Petit Prix", "blog", "rss", ("fashion",), 0.5, 4),
    Site("petit-quotidien", "Le Petit Quotidien", "news", "rss", ALL, 0.5, 7),
    Site("eco-matin", "Éco Matin", "news", "atom", ALL, 0.4, 4),
    Site("conso-hebdo", "Conso Hebdo", "news", "rss", ALL, 0.4, 7),
    Site("ouest-actu", "Ouest Actu", "news", "rss", ALL, 0.4, 5),
    Site("gazette-du-marche", "La Gazette du Marché", "news", "atom", ("bakery", "fashion"), 0.4,
         4),
    Site("media-pub", "Média & Pub", "news", "rss", ALL, 0.2, 3),
    Site("forum-conso", "Forum Conso", "forum", "atom", ALL, 0.7, 8),
    Site("avis-clients", "Avis Clients", "review", "rss", ALL, 0.7, 1.2),
    Site("cuisine-de-mamie", "La Cuisine de Mamie", "blog", "rss", ("bakery",), 0.6, 5,
         mode="html-comments"),
    Site("le-fil-local", "Le Fil Local", "news", "rss", ALL, 0.4, 5, mode="autodiscovery"),
]  # fmt: skip


# -- calendar helpers -------------------------------------------------------------------------


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def ramp(d: date, start: date, stop: date) -> float:
    """0 before ``start``, 1 after ``stop``, linear in between."""
    if d <= start:
        return 0.0
    if d >= stop:
        return 1.0
    return (d - start).days / (stop - start).days


def weighted(rng: random.Random, table: dict[str, float]) -> str:
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


# -- the story ------------------------------------------------------------------------------

BASE_ASPECTS = {
    "produit": 0.36,
    "service": 0.15,
    "prix": 0.15,
    "service client": 0.14,
    "livraison": 0.1,
    "publicité": 0.1,
}
# (positive, negative, neutral, mixed) per aspect, for a brand with a steady reputation.
BASE_SENTIMENTS = {
    "produit": (0.5, 0.15, 0.23, 0.12),
    "service": (0.45, 0.2, 0.25, 0.1),
    "prix": (0.2, 0.35, 0.35, 0.1),
    "service client": (0.3, 0.35, 0.25, 0.1),
    "livraison": (0.35, 0.3, 0.25, 0.1),
    "publicité": (0.3, 0.1, 0.5, 0.1),
}
SENTIMENTS = ("positive", "negative", "neutral", "mixed")


class Story:
    """Dates of the three storylines, placed relative to the 18-month window ending at ``end``."""

    def __init__(self, end: date):
        self.end = end
        self.start = add_months(date(end.year, end.month, 1), -(MONTHS - 1))
        self.campaign_start = add_months(self.start, 10) + timedelta(days=1)
        self.campaign_end = self.campaign_start + timedelta(days=20)
        self.campaign_name = "Printemps en lin"
        self.box_launch = add_months(self.start, 4) + timedelta(days=14)
        self.defect_start = add_months(self.start, 5) + timedelta(days=19)
        self.care_fix = add_months(self.start, 8) + timedelta(days=11)
        self.care_recovered = self.care_fix + timedelta(days=150)

    def events(self) -> list[dict]:
        return [
            {
                "kind": "campaign",
                "brand": "Ambrelle",
                "title": f"Campagne TV « {self.campaign_name} »",
                "start": self.campaign_start,
                "end": self.campaign_end,
                "expect": "buzz ×4 during the campaign, mostly neutral talk about the ad; "
                "reputation flat",
            },
            {
                "kind": "launch",
                "brand": "Orvéa",
                "title": "Lancement de la Box 6",
                "start": self.box_launch,
                "end": None,
                "expect": "new product, no effect yet",
            },
            {
                "kind": "defect",
                "brand": "Orvéa",
                "title": "La Box 6 redémarre toute seule (premiers signalements)",
                "start": self.defect_start,
                "end": self.end,
                "expect": "share of negative product comments rises gradually (~15% to ~65%); "
                "no spike",
            },
            {
                "kind": "care_complaints",
                "brand": "Fournil Dupré",
                "title": "Service client injoignable, remboursements en attente",
                "start": self.start,
                "end": self.care_fix,
                "expect": "customer-care complaints, mostly negative",
            },
            {
                "kind": "care_fix",
                "brand": "Fournil Dupré",
                "title": "Nouveau service client : rappel sous 24h, remboursement immédiat",
                "start": self.care_fix,
                "end": self.care_recovered,
                "expect": "customer-care tone turns increasingly positive; reputation recovers",
            },
        ]

    def in_campaign(self, brand: str, d: date, tail: int = 0) -> bool:
        return brand == "ambrelle" and self.campaign_start <= d <= self.campaign_end + timedelta(
            days=tail
        )

    def post_rate_factor(self, brand: str, d: date) -> float:
        return 4.5 if self.in_campaign(brand, d) else 1.0

    def mix(self, brand: str, d: date) -> tuple[dict[str, float], dict[str, tuple]]:
        """Aspect weights and per-aspect sentiment weights for a document about ``brand``."""
        aspects = dict(BASE_ASPECTS)
        sentiments = dict(BASE_SENTIMENTS)
        if self.in_campaign(brand, d, tail=7):
            aspects = {k: v * 0.35 for k, v in aspects.items()}
            aspects["publicité"] = 0.65
            sentiments["publicité"] = (0.33, 0.07, 0.52, 0.08)
        if brand == "orvea":
            x = ramp(d, self.defect_start, self.end)
            aspects["produit"] += 0.2 * x
            sentiments["produit"] = (
                0.5 - 0.38 * x,
                0.15 + 0.5 * x,
                0.23 - 0.1 * x,
                0.12 - 0.02 * x,
            )
        if brand == "dupre":
            y = ramp(d, self.care_fix, self.care_recovered)
            aspects["service client"] = 0.4 - 0.15 * y
            sentiments["service client"] = (
                0.06 + 0.62 * y,
                0.74 - 0.62 * y,
                0.15 - 0.05 * y,
                0.05 + 0.05 * y,
            )
        return aspects, sentiments

    def draw(self, rng: random.Random, brand: str, d: date) -> tuple[str, str]:
        aspects, sentiments = self.mix(brand, d)
        aspect = weighted(rng, aspects)
        sentiment = rng.choices(SENTIMENTS, weights=sentiments[aspect])[0]
        return aspect, sentiment


SITES_BY_KEY = {s.key: s for s in SITES}
