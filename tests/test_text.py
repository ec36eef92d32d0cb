"""Plain-text, author, URL and fingerprint helpers."""

from __future__ import annotations

import pytest

from listening.collect.text import (
    canonical_url,
    comment_fragment,
    content_fingerprint,
    html_to_text,
    near_duplicate,
    normalise_author,
    unwrap_redirect,
)

# --- html_to_text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Premier paragraphe.</p><p>Second.</p>", "Premier paragraphe.\n\nSecond."),
        ("Ligne un<br>ligne deux<br/>ligne trois", "Ligne un\nligne deux\nligne trois"),
        ("<p>Café &eacute;t&#233; &#xE9;t&amp; &lt;b&gt;</p>", "Café été ét& <b>"),
        ("<p>a\n   b\t\tc&nbsp;&nbsp;d</p>", "a b c d"),
        ("<script>var x = '<p>non</p>';</script><style>p{}</style><p>oui</p>", "oui"),
        ("<!-- commentaire --><p>visible</p><!-- autre -->", "visible"),
        ("<ul><li>un</li><li>deux</li></ul>", "un\ndeux"),
        ("<div><p>non fermé <b>gras <i>italique</div>suite", "non fermé gras italique\n\nsuite"),
        ("<p>texte</p></span></div></p>", "texte"),
        ("<head><title>Titre de la page</title></head><body>Corps</body>", "Corps"),
        ("texte brut sans balise", "texte brut sans balise"),
        ("", ""),
        ("<p>Emoji 😍 et accents àéèç</p>", "Emoji 😍 et accents àéèç"),
        ("<div>\n\n\n<p>a</p>\n\n\n\n<p>b</p></div>", "a\n\nb"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text


def test_html_to_text_survives_garbage() -> None:
    assert html_to_text("<<<>>><p <a href='x>ok</p>&#99999999;&bogus;") is not None


# --- normalise_author --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("By: Julie", "Julie"),
        ("Par : Kévin", "Kévin"),
        ("Par\u00a0: Kévin", "Kévin"),
        ("by:   Jean   Dupont ", "Jean Dupont"),
        ("redaction@journal.fr (Léa Dubois)", "Léa Dubois"),
        ("Léa Dubois <lea@journal.fr>", "Léa Dubois"),
        ("Contact@Journal.fr", "contact@journal.fr"),
        ("noreply@blogger.com", None),
        ("jean DUPONT", "jean DUPONT"),  # case is the author's, not ours
        ("", None),
        (None, None),
        ("   ", None),
        ("Byron", "Byron"),  # only the "By:" prefix, not names starting with By
        ("Paris Hilton", "Paris Hilton"),
    ],
)
def test_normalise_author(raw, name) -> None:
    assert normalise_author(raw) == name


# --- canonical_url -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("HTTPS://WWW.Example.FR/Article", "https://www.example.fr/Article"),
        ("http://example.fr:80/a", "http://example.fr/a"),
        ("https://example.fr:443/a", "https://example.fr/a"),
        ("https://example.fr:8443/a", "https://example.fr:8443/a"),
        ("https://example.fr", "https://example.fr/"),
        (
            "https://example.fr/a?utm_source=x&id=3&UTM_Medium=y&fbclid=z&gclid=w&b=1",
            "https://example.fr/a?id=3&b=1",
        ),
        ("https://example.fr/a?z=1&a=2", "https://example.fr/a?z=1&a=2"),  # order kept
        ("https://example.fr/a?q=caf%C3%A9+cr%C3%A8me", "https://example.fr/a?q=caf%C3%A9+cr%C3%A8me"),
        ("https://example.fr/a#top", "https://example.fr/a"),
        ("https://example.fr/a#comments", "https://example.fr/a"),
        ("https://example.fr/a/#comment-123", "https://example.fr/a/#comment-123"),
        ("https://example.fr/a.html?showComment=1#c456", "https://example.fr/a.html?showComment=1#c456"),
        ("https://x.typepad.com/b/p.html#comment-6a00d8341c", "https://x.typepad.com/b/p.html#comment-6a00d8341c"),
        ("  https://example.fr/a  ", "https://example.fr/a"),
        ("/relative/path", "/relative/path"),
        ("not a url", "not a url"),
        ("https://example.fr:notaport/a", "https://example.fr:notaport/a"),
    ],
)  # fmt: skip
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_canonical_url_is_idempotent() -> None:
    url = "HTTP://Example.fr:80/a?utm_campaign=x&b=2#comment-9"
    assert canonical_url(canonical_url(url)) == canonical_url(url)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("https://e.fr/a/#comment-12", "comment-12"),
        ("https://e.fr/a?p=4#c99", "c99"),
        ("https://e.fr/a#comments", None),
        ("https://e.fr/a", None),
        (None, None),
    ],
)
def test_comment_fragment(url, fragment) -> None:
    assert comment_fragment(url) == fragment


# --- unwrap_redirect ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "target"),
    [
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://www.lemonde.fr/eco/article.html"
            "&ct=ga&cd=CAIyGjU5&usg=AOvVaw0",
            "https://www.lemonde.fr/eco/article.html",
        ),
        (
            "https://www.google.fr/url?q=https://blog.example.fr/a%3Fx%3D1&sa=U",
            "https://blog.example.fr/a?x=1",
        ),
        (
            "https://www.bing.com/news/apiclick.aspx?ref=FexRss&aid=&url=https%3a%2f%2fwww.example.fr%2fa&c=1",
            "https://www.example.fr/a",
        ),
        ("https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.fr%2Fp&h=AT0", "https://example.fr/p"),
        ("https://www.google.com/url?url=javascript:alert(1)", "https://www.google.com/url?url=javascript:alert(1)"),
        ("https://www.google.com/search?q=hydra", "https://www.google.com/search?q=hydra"),
        ("https://example.fr/url?url=https://other.fr/", "https://example.fr/url?url=https://other.fr/"),
        ("https://www.lemonde.fr/a.html", "https://www.lemonde.fr/a.html"),
    ],
)  # fmt: skip
def test_unwrap_redirect(url: str, target: str) -> None:
    assert unwrap_redirect(url) == target


# --- fingerprints ------------------------------------------------------------------------------

ARTICLE = (
    "La marque Hydra a annoncé mercredi le rappel d'un lot de crèmes hydratantes vendues en "
    "pharmacie depuis le mois de septembre. Selon le communiqué du fabricant, une contamination "
    "bactérienne a été détectée lors d'un contrôle de routine dans l'usine de Lyon. Les clients "
    "qui ont acheté un pot portant le numéro de lot indiqué sont invités à ne pas l'utiliser et "
    "à le rapporter en magasin, où il leur sera remboursé. Aucun cas d'irritation n'a été "
    "signalé à ce jour, précise l'entreprise, qui dit agir par précaution. L'agence nationale de "
    "sécurité du médicament a été informée et suit le dossier. La marque, fondée en 2004, "
    "réalise l'essentiel de ses ventes en France et en Belgique."
)
OTHER = (
    "La marque Solara a annoncé jeudi le lancement d'une nouvelle gamme de crèmes solaires "
    "vendues en pharmacie à partir du mois de mai. Selon le communiqué du fabricant, les "
    "formules ont été testées dans l'usine de Marseille pendant deux ans avant la mise en vente."
)


def test_fingerprint_shape_and_stability() -> None:
    fp = content_fingerprint(ARTICLE)
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert content_fingerprint(ARTICLE) == fp
    assert content_fingerprint("") == "0" * 16
    # Case, accents composition and punctuation do not matter.
    assert content_fingerprint(ARTICLE.upper().replace(",", "")) == fp


def test_syndicated_copy_is_a_near_duplicate() -> None:
    copy = "Publié par Le Journal. " + ARTICLE.replace("mercredi", "mardi")
    assert near_duplicate(content_fingerprint(ARTICLE), content_fingerprint(copy))


def test_different_article_on_the_same_topic_is_not() -> None:
    assert not near_duplicate(content_fingerprint(ARTICLE), content_fingerprint(OTHER))
    assert not near_duplicate(content_fingerprint(ARTICLE), content_fingerprint(OTHER), 10)


def test_near_duplicate_distance() -> None:
    assert near_duplicate("0000000000000000", "0000000000000007")
    assert not near_duplicate("0000000000000000", "000000000000000f")
    assert near_duplicate("0000000000000000", "000000000000000f", max_distance=4)


def _simhash_by_counters(text: str) -> str:
    """The textbook simhash: 64 counters, each word's blake2b bits voted by its count."""
    import hashlib
    import re
    import unicodedata
    from collections import Counter

    counts = Counter(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))
    total = sum(counts.values())
    votes = [0] * 64
    for word, n in counts.items():
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            if h >> bit & 1:
                votes[bit] += n
    value = sum(1 << bit for bit in range(64) if 2 * votes[bit] > total)
    return f"{value:016x}"


def test_fingerprint_is_the_textbook_simhash() -> None:
    """The bit-sliced tally, word by word, votes as 64 counters weighted by word counts do:
    texts with repeated words, one word, accents and ligatures, and the fixtures' article."""
    import random

    rng = random.Random(12)
    vocabulary = [*ARTICLE.split(), "ﬁn", "Straße", "ÉTÉ", "l'été", "café", "naïve", "x"]
    texts = [ARTICLE, OTHER, "mot", "mot mot mot autre", "ﬁn ﬁn fin"]
    texts += [" ".join(rng.choices(vocabulary, k=rng.randint(1, 300))) for _ in range(300)]
    texts += [" ".join(rng.choices(vocabulary[:5], k=rng.randint(1, 40))) for _ in range(300)]
    for text in texts:
        assert content_fingerprint(text) == _simhash_by_counters(text), text


def test_fingerprint_read_chunk_by_chunk_is_the_textbook_simhash() -> None:
    """The words summed chunk by chunk (between whitespace), from the cache the second time,
    vote as the textbook counters do over the whole text's words: fixture feeds, the collect
    bench's entries and random texts of letters, digits, underscores, ligatures and every
    kind of whitespace."""
    import re

    from listening.collect.text import _CHUNK_SPREAD
    from tests.test_lang import _texts_to_compare

    # str.split() cuts only at characters \w does not match.
    assert not [c for c in map(chr, range(0x110000)) if c.isspace() and re.match(r"\w", c)]
    texts = _texts_to_compare()[::3]
    for _ in range(2):
        for text in texts:
            assert content_fingerprint(text) == _simhash_by_counters(text), repr(text)
    _CHUNK_SPREAD.clear()
