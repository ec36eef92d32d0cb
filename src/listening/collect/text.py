"""Text helpers shared by the parsers: HTML to plain text, authors, URLs, near-duplicate prints.

Everything here is pure (str in, str out) and stdlib-only, so it is cheap to call per document.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from html import unescape
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from listening.analyze.lang import keep_bounded

# Elements whose content is never readable text.
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg", "iframe", "object"})
# Elements that end a paragraph: a blank line in the text.
_BLOCK = frozenset(
    {
        "p", "div", "section", "article", "aside", "header", "footer", "main", "nav",
        "blockquote", "pre", "table", "form", "fieldset", "figure", "figcaption",
        "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "hr", "address",
    }
)  # fmt: skip
# Elements that end a line only.
_LINE = frozenset({"br", "li", "tr", "dt", "dd", "option"})
_VOID = frozenset({"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "wbr"})


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        # convert_charrefs decodes &eacute; / &#233; / &#xE9; in text for us.
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            if tag not in _VOID:
                self.skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n\n")
        elif tag in _LINE:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <hr/>: never opens a skipped element.
        if tag in _BLOCK:
            self.parts.append("\n\n")
        elif tag in _LINE:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        # Line elements break before themselves only: "</li><li>" is one newline, not two.
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            # In HTML a newline in the source is just a space; our breaks come from the tags.
            self.parts.append(data.replace("\r", " ").replace("\n", " "))

    # Comments, processing instructions and declarations are dropped (default handlers no-op).


def html_to_text(html: str) -> str:
    """Readable plain text: paragraphs become blank lines, <br> a newline, whitespace folded."""
    if not html:
        return ""
    if "<" not in html:
        # Plain text (feeds' type="text"): its newlines are meant, only entities to decode.
        return _fold(unescape(html))
    parts = _simple_markup_parts(html)
    return _fold("".join(_parser_parts(html) if parts is None else parts))


# A start tag with plain attributes (no "<", ">" or "/" outside quotes) or a bare end tag:
# where every "<" of a text opens one of these, html.parser sees exactly these tags.
_SIMPLE_TAG = re.compile(
    r"""<(?:/([a-zA-Z][a-zA-Z0-9]*)\s*"""
    r"""|([a-zA-Z][a-zA-Z0-9]*)"""
    r"""(?:\s+[^\s"'<>/=]+(?:\s*=\s*(?:"[^"<>]*"|'[^'<>]*'|[^\s"'<>/=`]+))?)*\s*/?)>"""
)
# Elements whose content some html.parser versions read as raw text: left to html.parser.
_RAW_TEXT = frozenset({"title", "textarea", "plaintext", "xmp", "noembed", "noframes"})


def _simple_markup_parts(html: str) -> list[str] | None:
    """What ``_TextExtractor`` collects from ``html``, by one regex pass, for markup made of
    simple tags, text and character references only (what feeds' content mostly is: 2 to 3
    times faster); None for anything else (comments, declarations, script or style, a stray
    "<", unusual attributes), which html.parser reads. ``tests/test_parse.py`` checks that
    both give the same parts."""
    parts: list[str] = []
    pos = 0
    for m in _SIMPLE_TAG.finditer(html):
        if m.start() > pos:
            data = html[pos : m.start()]
            if "<" in data:
                return None
            parts.append(unescape(data).replace("\r", " ").replace("\n", " "))
        end, start = m.group(1), m.group(2)
        tag = (end or start).lower()
        if tag in _SKIP or tag in _RAW_TEXT:
            return None
        if tag in _BLOCK:
            parts.append("\n\n")
        elif start and tag in _LINE:
            parts.append("\n")
        pos = m.end()
    if pos < len(html):
        data = html[pos:]
        if "<" in data:
            return None
        parts.append(unescape(data).replace("\r", " ").replace("\n", " "))
    return parts


def _parser_parts(html: str) -> list[str]:
    """What ``_TextExtractor`` collects (the reference ``_simple_markup_parts`` must match)."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient, but bad markup must never stop a run
        pass
    return parser.parts


def _fold(text: str) -> str:
    # Non-breaking and other Unicode spaces count as spaces; newlines inside a paragraph of
    # source HTML are just spaces (HTML semantics), so fold them before re-adding ours.
    # " ".join(line.split()) folds a line's whitespace as re's \s would (str.split's
    # whitespace is re's \s; tests/test_parse.py checks it) at C speed: a third of
    # html_to_text's time on feed entries.
    # A printable line (every whitespace but " " is not) without "  " has only single spaces
    # between its words: stripping its ends folds it (half the time of split and join).
    text = strip_controls(text)
    text = "\n".join(
        [
            line.strip(" ") if line.isprintable() and "  " not in line else " ".join(line.split())
            for line in text.split("\n")
        ]
    )
    # Runs of three newlines or more become two (one blank line), as \n{3,} -> \n\n would:
    # a pass shortens each run of 3+ by a third, never below 2. The regex, which starts
    # with no literal, was tried at every character: a third of the fold's time.
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text.strip()


# C0 and C1 control characters (NUL, ESC, DEL…) but tab and newline: they carry nothing
# readable, and NUL cuts strings short in many tools downstream of the store.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
MAX_TITLE_CHARS = 1000


def strip_controls(text: str) -> str:
    """``text`` without control characters (tab and newline kept; a carriage return is a
    newline)."""
    return _CONTROLS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def cap_title(title: str | None, text: str) -> tuple[str | None, str]:
    """A title of at most ``MAX_TITLE_CHARS``; a longer one keeps its whole wording in the text.

    A title is a label for lists and dashboards; a web page can put a novel in it.
    """
    if title is None:
        return None, text
    title = " ".join(strip_controls(title).split())
    if len(title) <= MAX_TITLE_CHARS:
        return title or None, text
    if title not in text:
        text = f"{title}\n\n{text}" if text else title
    return title[: MAX_TITLE_CHARS - 1].rstrip() + "…", text


# --- authors -----------------------------------------------------------------------------------

# WordPress comment feeds title items "By: <author>" (feed-rss2-comments.php, translated
# "Par : <auteur>" on French sites, with the French non-breaking space before the colon).
_AUTHOR_PREFIX = re.compile(r"^\s*(?:by|par|de|von|por|da)\s*[:：]\s*", re.IGNORECASE)
# RSS 2.0 <author> must be an email, so feeds write "jean@example.org (Jean Dupont)".
_EMAIL_PAREN = re.compile(r"^\s*\S+@\S+\s*\((.+)\)\s*$")
# And the RFC 5322 shape "Jean Dupont <jean@example.org>".
_NAME_ANGLE = re.compile(r"^\s*\"?([^<\"]+?)\"?\s*<[^>]*@[^>]*>\s*$")
_BARE_EMAIL = re.compile(r"^\s*<?([^\s@<>]+@[^\s@<>]+)>?\s*$")


def normalise_author(name: str | None) -> str | None:
    """A display name without feed decorations; None when nothing is left. Case is kept."""
    if not name:
        return None
    s = unicodedata.normalize("NFC", strip_controls(str(name)))
    s = s.replace("\u00a0", " ").replace("\u202f", " ")
    s = _AUTHOR_PREFIX.sub("", s)
    if (m := _EMAIL_PAREN.match(s)) or (m := _NAME_ANGLE.match(s)):
        s = m.group(1)
    elif m := _BARE_EMAIL.match(s):
        email = m.group(1).lower()
        # Blogger writes noreply@blogger.com for every author: it identifies nobody.
        return None if email.startswith(("noreply@", "no-reply@")) else email
    s = " ".join(s.split()).strip(" \"'")
    return s or None


# --- URLs --------------------------------------------------------------------------------------

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_TRACKING = frozenset({"fbclid", "gclid", "dclid", "msclkid", "igshid", "mc_cid", "mc_eid"})
# Fragments that name a comment: WordPress "#comment-123" (comment_link()), TypePad
# "#comment-6a00d8…" (hex ids), Blogger "#c1234567890", Disqus-free forums "#p123".
_COMMENT_FRAGMENT = re.compile(r"^(?:comment-[\w-]+|c\d+|comment\d+|p\d+|reply-\d+)$", re.I)


@functools.lru_cache(maxsize=1 << 14)  # a thread's URL comes back for each of its comments
def canonical_url(url: str) -> str:
    """One spelling per page: lowercase scheme/host, no default port, no tracking parameters.

    The fragment is kept only when it identifies a comment, because a comment's own link is
    usually its post's URL plus ``#comment-N``: dropping it would merge comments with posts.
    """
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    if not parts.scheme or not parts.netloc:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{host}"
    if port is not None and str(port) != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = parts.path or "/"
    # Filter the raw "a=b" pieces so the kept ones are byte-for-byte what the site wrote.
    kept = [
        piece
        for piece in parts.query.split("&")
        if piece and not _is_tracking(piece.split("=", 1)[0])
    ]
    fragment = parts.fragment if _COMMENT_FRAGMENT.match(parts.fragment or "") else ""
    return urlunsplit((scheme, netloc, path, "&".join(kept), fragment))


def comment_fragment(url: str | None) -> str | None:
    """The fragment of ``url`` when it names a comment ("comment-123", "c123"…), else None."""
    if not url or "#" not in url:
        return None
    fragment = url.rsplit("#", 1)[1]
    return fragment if _COMMENT_FRAGMENT.match(fragment) else None


def is_web_url(url: str) -> bool:
    """Whether ``url`` is an http(s) address.

    A javascript: or data: "link" (spam, or a broken CMS) is not an address: it must never
    become a document's URL, which dashboards show as a link.
    """
    return urlsplit(url).scheme.lower() in ("http", "https")


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key.startswith("utm_") or key in _TRACKING


# Redirectors that wrap the real article link: (host suffix, path, parameter names).
# Google Alerts feeds link to https://www.google.com/url?rct=j&sa=t&url=<real>&ct=ga&…
_REDIRECTORS = (
    ("google.", "/url", ("url", "q")),
    ("bing.com", "/news/apiclick.aspx", ("url",)),
    ("facebook.com", "/l.php", ("u",)),
)


@functools.lru_cache(maxsize=1 << 14)  # pure: the same links come back feed after feed
def unwrap_redirect(url: str) -> str:
    """The real target of a search-engine alert or link-shim URL; other URLs unchanged."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    for suffix, path, keys in _REDIRECTORS:
        if (suffix in host) and parts.path == path:
            params = dict(parse_qsl(parts.query, keep_blank_values=True))
            for key in keys:
                target = params.get(key, "")
                if target.startswith(("http://", "https://")):
                    return target
    return url


# --- near duplicates ---------------------------------------------------------------------------

_WORD = re.compile(r"\w+", re.UNICODE)


def content_fingerprint(text: str) -> str:
    """A 64-bit simhash (Charikar 2002) of the text's words, weighted by count, as 16 hex digits.

    Texts differing by a few words land a few bits apart, so syndicated copies of one press
    release can be linked with ``near_duplicate`` without comparing texts pairwise. Words, not
    word shingles: on article-length texts (~120 words) three substituted words stay within
    3 bits about 70% of the time with words, under 10% with 3-word shingles, while unrelated
    texts on the same topic stay ~20 bits apart either way.
    """
    chunks = unicodedata.normalize("NFKC", text or "").casefold().split()
    # Bit-sliced tally: each hash bit gets its own 24-bit lane in one big integer, so adding a
    # word is 8 table lookups instead of 64 updates (about twice as fast on comments). Chunk by
    # chunk in one C loop, each chunk's words summed once and cached, and the word count in a
    # 65th lane: integer sums are exact, so this is the count-weighted sum of the words.
    tally = sum(map(_CHUNK_SPREAD.__getitem__, chunks))
    total = tally >> _COUNT_SHIFT
    if not total:
        return "0" * 16
    lanes = tally & _LANES_MASK
    value = 0
    if total < 1 << (_LANE - 1):
        # All 64 majority votes at once: a lane's count >= total//2 + 1 (2*count > total)
        # exactly when adding 2**23 - (total//2 + 1) sets its top bit.
        voted = (lanes + _LANES_ONE * ((1 << (_LANE - 1)) - total // 2 - 1)) & _LANES_TOP
        raw = voted.to_bytes(_LANE * 8, "little")
        for bit, position in enumerate(_POSITION):
            if raw[3 * bit + 2] & 0x80:
                value |= position
        return f"{value:016x}"
    mask = (1 << _LANE) - 1
    for bit, position in enumerate(_POSITION):
        if 2 * (lanes >> (_LANE * bit) & mask) > total:
            value |= position
    return f"{value:016x}"


_LANE = 24  # bits per counter: words are capped below 2**24 by any sane document size
_SPREAD = [sum(((b >> i) & 1) << (_LANE * i) for i in range(8)) for b in range(256)]
_LANES_ONE = sum(1 << (_LANE * bit) for bit in range(64))  # 1 in every lane
_LANES_TOP = _LANES_ONE << (_LANE - 1)  # the top bit of every lane
# Bit i of byte k (big-endian digest) is bit 8*(7-k)+i of the 64-bit hash.
_POSITION = [1 << (8 * (7 - bit // 8) + bit % 8) for bit in range(64)]


_COUNT_SHIFT = _LANE * 64  # the 65th lane, which counts words
_LANES_MASK = (1 << _COUNT_SHIFT) - 1
_MAX_CHUNKS = 1 << 15  # ~15 MiB at most


class _ChunkSpread(dict[str, int]):
    """Per whitespace-separated chunk of a folded text ("l'été,", "prix"), the sum of its
    ``\\w+`` words' spreads plus their count in the 65th lane; computed once per distinct chunk.

    No word crosses whitespace (``str.split`` cuts only at characters ``\\w`` does not match),
    so the words of the chunks are the words of the text."""

    def __missing__(self, chunk: str) -> int:
        words = _WORD.findall(chunk)
        value = sum(map(_word_spread, words)) + (len(words) << _COUNT_SHIFT)
        return keep_bounded(self, chunk, value, _MAX_CHUNKS)


_CHUNK_SPREAD = _ChunkSpread()


@functools.lru_cache(maxsize=1 << 15)  # ~11 MiB at most
def _word_spread(word: str) -> int:
    """A word's hash spread over the 64 lanes; cached, as a language's common words recur."""
    digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
    spread = 0
    for k, byte in enumerate(digest):
        spread |= _SPREAD[byte] << (_LANE * 8 * k)
    return spread


def near_duplicate(fp_a: str, fp_b: str, max_distance: int = 3) -> bool:
    """True when two fingerprints differ by at most ``max_distance`` bits (Hamming distance)."""
    return (int(fp_a, 16) ^ int(fp_b, 16)).bit_count() <= max_distance
