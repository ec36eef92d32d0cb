"""Render the demo world as the files a WordPress-like web would serve.

Shapes follow WordPress's own templates (wp-includes/feed-rss2.php, feed-atom.php,
feed-rss2-comments.php, feed-atom-comments.php and the default comment list markup), so the
collector meets what it will meet in the wild:

- RSS 2.0 posts carry ``wfw:commentRss`` and ``slash:comments``; Atom posts carry
  ``link rel="replies"`` and ``thr:total`` (RFC 4685).
- Comment feeds title each item "Par : <author>". Atom comments carry ``thr:in-reply-to`` whose
  ``ref``/``href`` point to the post, or to the parent comment for a reply. WordPress's RSS2
  comment feed says nothing about parents; ours adds the same ``thr:in-reply-to`` element so that
  threads survive in RSS too (unknown namespaced elements are ignored by readers).
"""

from __future__ import annotations

from email.utils import format_datetime
from html import escape as _html_escape

RSS_NS = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:wfw="http://wellformedweb.org/CommentAPI/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" '
    'xmlns:slash="http://purl.org/rss/1.0/modules/slash/" '
    'xmlns:thr="http://purl.org/syndication/thread/1.0"'
)
ATOM_NS = 'xmlns="http://www.w3.org/2005/Atom" xmlns:thr="http://purl.org/syndication/thread/1.0"'
GENERATOR = "https://wordpress.org/?v=6.6"
FR_MONTHS = [
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
]  # fmt: skip


def escape(text: str) -> str:
    # Like html.escape, but apostrophes stay readable (&#x27; is valid yet ugly in titles);
    # every attribute here is double-quoted.
    return _html_escape(text, quote=False).replace('"', "&quot;")


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rfc822(dt) -> str:
    return format_datetime(dt)  # WordPress: "Mon, 05 May 2025 08:12:00 +0000"


def rfc3339(dt) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def html_paragraphs(paragraphs: list[str]) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def fr_date(dt) -> str:
    return f"{dt.day} {FR_MONTHS[dt.month - 1]} {dt.year} à {dt.hour} h {dt.minute:02d} min"


# -- feeds ----------------------------------------------------------------------------------


def rss_feed(base: str, site, posts) -> str:
    home = f"{base}/{site.key}/"
    last = max((p.published_at for p in posts), default=None)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<rss version="2.0" {RSS_NS}>',
        "<channel>",
        f"<title>{escape(site.title)}</title>",
        f'<atom:link href="{base}{site.feed_path}" rel="self" type="application/rss+xml" />',
        f"<link>{home}</link>",
        f"<description>{escape(site.title)}, le site</description>",
        f"<lastBuildDate>{rfc822(last)}</lastBuildDate>" if last else "",
        "<language>fr-FR</language>",
        "<sy:updatePeriod>hourly</sy:updatePeriod>",
        "<sy:updateFrequency>1</sy:updateFrequency>",
        f"<generator>{GENERATOR}</generator>",
    ]
    for p in sorted(posts, key=lambda p: p.published_at, reverse=True):
        link = base + p.path
        body = html_paragraphs(p.paragraphs)
        out += [
            "<item>",
            f"<title>{escape(p.title)}</title>",
            f"<link>{link}</link>",
            # Kept when comment feeds are off: the only pointer to the comments in the page.
            f"<comments>{link}#comments</comments>",
            f"<dc:creator>{cdata(p.author)}</dc:creator>",
            f"<pubDate>{rfc822(p.published_at)}</pubDate>",
            f"<category>{cdata(p.category)}</category>",
            f'<guid isPermaLink="true">{link}</guid>',
            f"<description>{cdata(escape(p.paragraphs[0]))}</description>",
            f"<content:encoded>{cdata(body)}</content:encoded>",
        ]
        if site.mode != "html-comments":
            out += [
                f"<wfw:commentRss>{link}feed/</wfw:commentRss>",
                f"<slash:comments>{len(p.comments)}</slash:comments>",
            ]
        out.append("</item>")
    out += ["</channel>", "</rss>", ""]
    return "\n".join(x for x in out if x)


def atom_feed(base: str, site, posts) -> str:
    home = f"{base}/{site.key}/"
    last = max((p.published_at for p in posts), default=None)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<feed {ATOM_NS} xml:lang="fr-FR">',
        f'<title type="text">{escape(site.title)}</title>',
        f'<subtitle type="text">{escape(site.title)}, le site</subtitle>',
        f"<updated>{rfc3339(last)}</updated>"
        if last
        else "<updated>1970-01-01T00:00:00Z</updated>",
        f'<link rel="alternate" type="text/html" href="{home}" />',
        f"<id>{base}{site.feed_path}</id>",
        f'<link rel="self" type="application/atom+xml" href="{base}{site.feed_path}" />',
        '<generator uri="https://wordpress.org/" version="6.6">WordPress</generator>',
    ]
    for p in sorted(posts, key=lambda p: p.published_at, reverse=True):
        link = base + p.path
        n = len(p.comments)
        out += [
            "<entry>",
            f"<author><name>{escape(p.author)}</name></author>",
            f'<title type="html">{cdata(escape(p.title))}</title>',
            f'<link rel="alternate" type="text/html" href="{link}" />',
            f"<id>{link}</id>",
            f"<updated>{rfc3339(p.published_at)}</updated>",
            f"<published>{rfc3339(p.published_at)}</published>",
            f'<category scheme="{home}" term="{escape(p.category)}" />',
            f'<summary type="html">{cdata(escape(p.paragraphs[0]))}</summary>',
            f'<content type="html" xml:base="{link}">'
            f"{cdata(html_paragraphs(p.paragraphs))}</content>",
            f'<link rel="replies" type="text/html" href="{link}#comments" thr:count="{n}" />',
            f'<link rel="replies" type="application/atom+xml" href="{link}feed/atom/" '
            f'thr:count="{n}" />',
            f"<thr:total>{n}</thr:total>",
            "</entry>",
        ]
    out += ["</feed>", ""]
    return "\n".join(out)


def _in_reply_to(link: str, c) -> str:
    target = f"{link}#comment-{c.parent.number}" if c.parent else link
    return f'<thr:in-reply-to ref="{target}" href="{target}" type="text/html" />'


def rss_comments(base: str, post) -> str:
    link = base + post.path
    last = max((c.published_at for c in post.comments), default=post.published_at)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<rss version="2.0" {RSS_NS}>',
        "<channel>",
        f"<title>{escape('Commentaires sur : ' + post.title)}</title>",
        f'<atom:link href="{link}feed/" rel="self" type="application/rss+xml" />',
        f"<link>{link}</link>",
        f"<description>{escape(post.site.title)}, le site</description>",
        f"<lastBuildDate>{rfc822(last)}</lastBuildDate>",
        "<sy:updatePeriod>hourly</sy:updatePeriod>",
        "<sy:updateFrequency>1</sy:updateFrequency>",
        f"<generator>{GENERATOR}</generator>",
    ]
    for c in sorted(post.comments, key=lambda c: c.number, reverse=True):
        url = f"{link}#comment-{c.number}"
        out += [
            "<item>",
            f"<title>{escape('Par : ' + c.author)}</title>",
            f"<link>{url}</link>",
            f"<dc:creator>{cdata(c.author)}</dc:creator>",
            f"<pubDate>{rfc822(c.published_at)}</pubDate>",
            f'<guid isPermaLink="false">{url}</guid>',
            f"<description>{cdata(escape(c.text))}</description>",
            f"<content:encoded>{cdata(html_paragraphs([c.text]))}</content:encoded>",
            _in_reply_to(link, c),
            "</item>",
        ]
    out += ["</channel>", "</rss>", ""]
    return "\n".join(out)


def atom_comments(base: str, post) -> str:
    link = base + post.path
    last = max((c.published_at for c in post.comments), default=post.published_at)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<feed {ATOM_NS} xml:lang="fr-FR">',
        f'<title type="text">{escape("Commentaires sur : " + post.title)}</title>',
        f'<subtitle type="text">{escape(post.site.title)}, le site</subtitle>',
        f"<updated>{rfc3339(last)}</updated>",
        f'<link rel="alternate" type="text/html" href="{link}" />',
        f'<link rel="self" type="application/atom+xml" href="{link}feed/atom/" />',
        f"<id>{link}feed/atom/</id>",
    ]
    for c in sorted(post.comments, key=lambda c: c.number, reverse=True):
        url = f"{link}#comment-{c.number}"
        out += [
            "<entry>",
            f"<title>{escape('Par : ' + c.author)}</title>",
            f'<link rel="alternate" href="{url}" type="text/html" />',
            f"<author><name>{escape(c.author)}</name></author>",
            f"<id>{url}</id>",
            f"<updated>{rfc3339(c.published_at)}</updated>",
            f"<published>{rfc3339(c.published_at)}</published>",
            _in_reply_to(link, c),
            f'<content type="html" xml:base="{url}">{cdata(html_paragraphs([c.text]))}</content>',
            "</entry>",
        ]
    out += ["</feed>", ""]
    return "\n".join(out)


# -- pages ----------------------------------------------------------------------------------


def _head(title: str, alternates: list[tuple[str, str, str]], canonical: str = "") -> str:
    links = "".join(
        f'<link rel="alternate" type="{t}" title="{escape(label)}" href="{href}">\n'
        for t, label, href in alternates
    )
    return (
        '<!DOCTYPE html>\n<html lang="fr-FR">\n<head>\n<meta charset="UTF-8">\n'
        f"<title>{escape(title)}</title>\n{links}"
        + (f'<link rel="canonical" href="{canonical}">\n' if canonical else "")
        + "</head>\n"
    )


def _feed_alternate(base: str, site) -> tuple[str, str, str]:
    kind = "application/atom+xml" if site.fmt == "atom" else "application/rss+xml"
    return (kind, f"{site.title} » Flux", base + site.feed_path)


def _comment_li(link: str, c, children: dict, depth: int) -> list[str]:
    parity = "odd" if c.number % 2 else "even"
    kids = children.get(c.number, [])
    parent_cls = " parent" if kids else ""
    out = [
        f'<li id="comment-{c.number}" class="comment {parity} depth-{depth}{parent_cls}">',
        f'<article id="div-comment-{c.number}" class="comment-body">',
        '<footer class="comment-meta">',
        '<div class="comment-author vcard">'
        f'<b class="fn">{escape(c.author)}</b> <span class="says">dit :</span></div>',
        '<div class="comment-metadata">'
        f'<a href="{link}#comment-{c.number}"><time datetime="{c.published_at.isoformat()}">'
        f"{fr_date(c.published_at)}</time></a></div>",
        "</footer>",
        f'<div class="comment-content">{html_paragraphs([c.text])}</div>',
        '<div class="reply"><a rel="nofollow" class="comment-reply-link" '
        f'href="?replytocom={c.number}#respond">Répondre</a></div>',
        "</article>",
    ]
    if kids:
        out.append('<ol class="children">')
        for k in kids:
            out += _comment_li(link, k, children, depth + 1)
        out.append("</ol>")
    out.append("</li>")
    return out


def post_page(base: str, post) -> str:
    site, link = post.site, base + post.path
    alternates = [_feed_alternate(base, site)]
    if site.mode != "html-comments":
        kind = "application/atom+xml" if site.fmt == "atom" else "application/rss+xml"
        feed = f"{link}feed/atom/" if site.fmt == "atom" else f"{link}feed/"
        alternates.append((kind, f"{site.title} » {post.title} Flux des commentaires", feed))
    out = [
        _head(f"{post.title} – {site.title}", alternates, canonical=link),
        '<body class="post-template-default single">',
        f'<header class="site-header"><a href="{base}/{site.key}/">{escape(site.title)}</a>'
        "</header>",
        '<article class="post">',
        f'<h1 class="entry-title">{escape(post.title)}</h1>',
        '<div class="entry-meta"><time class="entry-date published" '
        f'datetime="{post.published_at.isoformat()}">{fr_date(post.published_at)}</time> '
        f'<span class="byline">par <span class="author vcard"><span class="fn">'
        f"{escape(post.author)}</span></span></span></div>",
        f'<div class="entry-content">{html_paragraphs(post.paragraphs)}</div>',
        "</article>",
        '<div id="comments" class="comments-area">',
    ]
    if post.comments:
        n = len(post.comments)
        label = "réponse" if n == 1 else "réponses"
        out.append(f'<h2 class="comments-title">{n} {label} à « {escape(post.title)} »</h2>')
        children: dict[int, list] = {}
        roots = []
        for c in sorted(post.comments, key=lambda c: c.number):
            if c.parent:
                children.setdefault(c.parent.number, []).append(c)
            else:
                roots.append(c)
        out.append('<ol class="comment-list">')
        for c in roots:
            out += _comment_li(link, c, children, 1)
        out.append("</ol>")
    out += ["</div>", "</body>", "</html>", ""]
    return "\n".join(out)


def home_page(base: str, site, posts) -> str:
    latest = sorted(posts, key=lambda p: p.published_at, reverse=True)[:20]
    items = "".join(
        f'<li><a href="{base}{p.path}">{escape(p.title)}</a> '
        f'<time datetime="{p.published_at.isoformat()}">{fr_date(p.published_at)}</time></li>\n'
        for p in latest
    )
    return (
        _head(site.title, [_feed_alternate(base, site)])
        + f'<body class="home blog">\n<h1 class="site-title">{escape(site.title)}</h1>\n'
        + f"<ul>\n{items}</ul>\n</body>\n</html>\n"
    )


def index_page(base: str, sites) -> str:
    items = "".join(
        f'<li><a href="{base}/{s.key}/">{escape(s.title)}</a> ({s.channel})</li>\n' for s in sites
    )
    return (
        _head("listening – monde de démonstration", [])
        + "<body>\n<h1>Le web de démonstration</h1>\n<p>Sites fictifs générés pour "
        + f"<code>listening demo</code>.</p>\n<ul>\n{items}</ul>\n</body>\n</html>\n"
    )


def robots_txt(sites) -> str:
    # One host serves every demo site, so one robots.txt speaks for all of them
    # (RFC 9309: the file applies to the whole authority).
    lines = ["User-agent: *"]
    for s in sites:
        lines.append(f"Disallow: /{s.key}/wp-admin/")
    lines += ["Disallow: /*?replytocom=", "Allow: /", ""]
    return "\n".join(lines)


def render_all(base: str, sites, posts) -> dict[str, bytes]:
    files: dict[str, str] = {"/": index_page(base, sites), "/robots.txt": robots_txt(sites)}
    by_site: dict[str, list] = {s.key: [] for s in sites}
    for p in posts:
        by_site[p.site.key].append(p)
    for site in sites:
        mine = by_site[site.key]
        files[f"/{site.key}/"] = home_page(base, site, mine)
        files[site.feed_path] = (atom_feed if site.fmt == "atom" else rss_feed)(base, site, mine)
        for p in mine:
            files[p.path] = post_page(base, p)
            if site.mode == "html-comments":
                continue
            if site.fmt == "atom":
                files[f"{p.path}feed/atom/"] = atom_comments(base, p)
            else:
                files[f"{p.path}feed/"] = rss_comments(base, p)
    return {k: v.encode("utf-8") for k, v in sorted(files.items())}


# -- files on disk and over HTTP ------------------------------------------------------------


def content_type(path: str, body: bytes) -> str:
    if path.endswith(".txt"):
        return "text/plain; charset=utf-8"
    head = body[:300]
    if head.startswith(b"<?xml"):
        if b"<rss" in head:
            return "application/rss+xml; charset=utf-8"
        return "application/atom+xml; charset=utf-8"
    return "text/html; charset=utf-8"


def file_name(path: str, body: bytes) -> str:
    """Relative file name for a URL path: "/a/feed/" -> "a/feed/index.xml"."""
    rel = path.lstrip("/")
    if path.endswith("/"):
        ext = "html" if content_type(path, body).startswith("text/html") else "xml"
        rel += f"index.{ext}"
    return rel


def url_path(rel: str) -> str:
    """Inverse of ``file_name``."""
    rel = rel.replace("\\", "/")
    for index in ("index.html", "index.xml"):
        if rel == index or rel.endswith("/" + index):
            return "/" + rel[: -len(index)]
    return "/" + rel
