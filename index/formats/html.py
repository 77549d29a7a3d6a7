"""HTML: news pages as saved from a site (trafilatura), and article bodies from a CMS.

A saved page carries a site around its article: menus, ads, related links, comments, a
cookie banner. trafilatura finds the article and its metadata (title, author, date,
URL); see the README for why this library. A CMS body (``text`` of a JSONL dump) is the
article already, so :func:`fragment_text` keeps all of its text and only drops the tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urljoin

from index.formats import Extracted, FormatError

# Ads trafilatura's own filters miss: its ad tokens are "ad-", " ad " inside a class and
# the big networks, not a class that starts with "ad", the plain "advertisement" boxes
# many sites use, nor AdSense slots.
_PRUNE = [
    "//*[contains(concat(' ', normalize-space(@class), ' '), ' ad ')]",
    "//*[contains(@class, 'advert') or contains(@id, 'advert')]",
    "//*[contains(@class, 'adsbygoogle') or @data-ad-slot or @data-ad-unit]",
]
# Dates only from where a page states them (meta tags, JSON-LD, <time>, the URL):
# trafilatura's extensive search would take "© 2024" in a footer for 2024-01-01.
_DATE_PARAMS = {"extensive_search": False, "original_date": True}
_HTML_TAG = re.compile(
    r"<(?:p|div|br|span|a|b|i|em|strong|h[1-6]|ul|ol|li|blockquote|figure|figcaption|table"
    r"|tr|td|img|article|section|html|body)\b[^<>]*>", re.IGNORECASE)
_FULL_PAGE = re.compile(r"<(?:html|body)\b", re.IGNORECASE)
_LANG = re.compile(r"[a-z]{2,3}")

# fragment_text: tags whose content is not text, block tags that end a paragraph.
_SKIP = frozenset("script style noscript template iframe object embed svg math head title "
                  "button select textarea".split())
_BLOCK = frozenset("address article aside blockquote dd div dl dt figcaption figure footer "
                   "h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section table tr ul"
                   .split())
_PARA, _LINE = "\ue000", "\ue001"  # private-use markers, gone before the text is returned


def looks_like_html(text: str) -> bool:
    """Whether ``text`` (a dump's article body) is HTML rather than plain text."""
    return _HTML_TAG.search(text) is not None


def extract_page(raw: bytes | str) -> Extracted:
    """The article of a saved news page, without the site around it.

    Raises:
        FormatError: not HTML, or no article text in it.
    """
    import trafilatura

    try:
        tree = trafilatura.load_html(raw)
    except Exception as exc:  # lxml's parser raises several types on garbage
        raise FormatError(f"not a readable HTML page ({exc})") from exc
    if tree is None:
        raise FormatError("not a readable HTML page")
    canonical = _canonical(tree)
    lang = _lang(tree)
    try:
        found = trafilatura.bare_extraction(
            tree, with_metadata=True, include_comments=False, include_tables=True,
            include_images=False, include_links=False, prune_xpath=_PRUNE,
            date_extraction_params=_DATE_PARAMS)
    except Exception as exc:  # a page that trips the extractor is one bad file, not a crash
        raise FormatError(f"the page could not be read ({type(exc).__name__}: {exc})") from exc
    text = str(getattr(found, "text", None) or "")
    if not text.strip():
        raise FormatError("no article text found in the page")
    url = str(getattr(found, "url", None) or "")
    return Extracted(
        text=_paragraphs(text.split("\n")),
        title=str(getattr(found, "title", None) or ""),
        author=str(getattr(found, "author", None) or ""),
        published=str(getattr(found, "date", None) or ""),
        url=urljoin(url, canonical) if canonical else url,
        lang=lang,
    )


def is_page(markup: str) -> bool:
    """Whether ``markup`` is a whole page (``<html>``/``<body>``), not an article body."""
    return _FULL_PAGE.search(markup) is not None


def article_text(markup: str) -> str:
    """Plain text of a dump's HTML ``text``: a whole page goes through
    :func:`extract_page`, an article body through :func:`fragment_text`."""
    if is_page(markup):
        return extract_page(markup).text
    return fragment_text(markup)


def fragment_text(markup: str) -> str:
    """All text of an HTML fragment, one paragraph per block, tags and scripts dropped.

    Raises:
        FormatError: lxml cannot parse it.
    """
    from lxml import etree
    from lxml import html as lxml_html

    try:
        root = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.LxmlError, ValueError) as exc:
        raise FormatError(f"HTML text cannot be parsed ({exc})") from exc
    parts: list[str] = []
    skipping = 0
    # Iterative (not recursive): hostile nesting must not exhaust the stack.
    for event, element in etree.iterwalk(root, events=("start", "end", "comment", "pi")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event in ("comment", "pi"):  # their text is not content; what follows them is
            parts.append("" if skipping else element.tail or "")
            continue
        if event == "start":
            if skipping or tag in _SKIP:
                skipping += 1
                continue
            parts.append(_PARA if tag in _BLOCK else _LINE if tag == "br" else "")
            parts.append(element.text or "")
            continue
        if skipping:
            skipping -= 1
            if skipping == 0:
                parts.append(element.tail or "")
            continue
        parts.append(_PARA if tag in _BLOCK else "")
        parts.append(element.tail or "")
    flat = re.sub(r"\s+", " ", "".join(parts))
    # Two line breaks in a row (<br><br>) end a paragraph, as a CMS means them to.
    flat = re.sub(f"{_LINE} *{_LINE}[ {_LINE}]*", _PARA, flat)
    paragraphs = [p.replace(_LINE, "\n") for p in flat.split(_PARA)]
    return _paragraphs(paragraphs)


def _paragraphs(pieces: Iterable[str]) -> str:
    """Non-blank pieces, each line stripped, joined by blank lines (one per paragraph)."""
    out = []
    for piece in pieces:
        lines = [line.strip() for line in piece.split("\n")]
        text = "\n".join(line for line in lines if line)
        if text:
            out.append(text)
    return "\n\n".join(out)


def _canonical(tree: Any) -> str:
    """``<link rel="canonical">``: the page's own address (og:url often carries tracking)."""
    for link in tree.iter("link"):
        rel = str(link.get("rel") or "").lower().split()
        href = str(link.get("href") or "").strip()
        if "canonical" in rel and href:
            return href
    return ""


def _lang(tree: Any) -> str:
    """The primary language subtag of ``<html lang>`` ("id" for "id-ID"), or ""."""
    root = tree.getroottree().getroot()
    tag = str(root.get("lang") or "").strip().lower().replace("_", "-").split("-")[0]
    return tag if _LANG.fullmatch(tag) else ""

