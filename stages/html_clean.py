"""HTML made safe and lean for main-text extraction, before trafilatura sees it.

- `cap_attributes`: a start tag with thousands of attributes makes parsing quadratic (lxml checks each new
  attribute against all earlier ones), so a page with one such tag could hold a worker for minutes. Tags
  past `MAX_ATTRIBUTES` keep their first ones. Attributes are markup, not text: nothing of the article goes.
- `visible_paragraphs`: the page's visible text outside navigation, forms, headers and footers, one
  paragraph per block element, leaving out paragraphs that are mostly link text (menus, link lists): the
  fallback for a page where trafilatura finds no main text.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import regex

MAX_ATTRIBUTES = 256
# Only a tag this long can hold more than MAX_ATTRIBUTES attributes; the rest of the page is not looked at.
# Possessive quantifiers keep a long run without `>` linear: `re` has them from 3.11 (and is twice as fast
# as `regex` here, which runs on every page), `regex` before.
_LONG_TAG = (re if sys.version_info >= (3, 11) else regex).compile(
    r"<([A-Za-z][^\s<>/]*+)([^<>]{" + str(3 * MAX_ATTRIBUTES) + r",}+)>")
_ATTRIBUTE = re.compile(r"""[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?""")

# Elements whose text is not the page's prose: code, navigation, forms and their controls, link text.
_NOT_PROSE = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object", "canvas", "video",
                        "audio", "select", "datalist", "option", "button", "input", "textarea", "form", "nav",
                        "header", "footer", "aside", "menu", "head", "title", "meta", "link"})
# A paragraph with at least this share of its characters in links is a menu or a link list, not prose.
MAX_LINK_SHARE = 0.5
_BLOCK = frozenset({"address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt",
                    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main", "ol", "p",
                    "pre", "section", "summary", "table", "td", "th", "tr", "ul", "br"})


def cap_attributes(html: str) -> tuple[str, list[tuple[str, int]]]:
    """`html` with every start tag cut to its first MAX_ATTRIBUTES attributes, and (tag, attributes it had)
    for each tag cut."""
    if _LONG_TAG.search(html) is None:  # many pages: one search costs less than half a sub
        return html, []
    cut: list[tuple[str, int]] = []

    def shorten(match: re.Match[str]) -> str:
        attributes = _ATTRIBUTE.findall(match.group(2))
        if len(attributes) <= MAX_ATTRIBUTES:
            return match.group(0)
        cut.append((match.group(1).lower(), len(attributes)))
        closing = "/" if match.group(2).rstrip().endswith("/") else ""
        return f"<{match.group(1)} {' '.join(attributes[:MAX_ATTRIBUTES])}{closing}>"

    return _LONG_TAG.sub(shorten, html), cut


def visible_paragraphs(tree: Any) -> list[str]:
    """The visible prose of `tree`, one string per run of text between block boundaries."""
    paragraphs: list[str] = []
    current: list[tuple[str, bool]] = []  # (text, inside a link)

    def flush() -> None:
        text = " ".join(" ".join(piece for piece, _ in current).split())
        linked = sum(len(piece.strip()) for piece, in_link in current if in_link)
        if text and linked < MAX_LINK_SHARE * len(text):
            paragraphs.append(text)
        current.clear()

    def walk(element: Any, in_link: bool) -> None:
        tag = element.tag if isinstance(element.tag, str) else ""
        hidden = element.get("hidden") is not None or element.get("aria-hidden") == "true" \
            or "display:none" in (element.get("style") or "").replace(" ", "")
        if tag in _BLOCK:
            flush()
        if tag and tag not in _NOT_PROSE and not hidden:
            current.append((element.text or "", in_link or tag == "a"))
            for child in element:
                walk(child, in_link or tag == "a")
        if tag in _BLOCK:
            flush()
        current.append((element.tail or "", in_link))

    walk(tree, False)
    flush()
    return paragraphs
