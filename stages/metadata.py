"""Page metadata for `extract`: title, author, date, site name and URL from a parsed HTML tree.

trafilatura's `extract_metadata` costs about as much as the main-text extraction itself: it also reads
categories, tags and a licence (which tamis does not keep), and hands dates to htmldate's extensive search,
which scans the page text with dateparser. Here the same readers run in the order of the evidence's
reliability and only while a field is still empty: `<meta>` tags and JSON-LD first, then the page's own
title and URL elements, and htmldate's fast search (header, JSON-LD, URL, `<time>` and date elements,
timestamps; no free-text scan) for the date. The author comes from `<meta>` and JSON-LD only: trafilatura's
search of the page for byline elements copies and prunes the whole tree (a third of the metadata's cost),
and `boilerplate` already takes a byline beside the headline into `metadata.author`.
"""

from __future__ import annotations

import contextlib
from datetime import date
from typing import Any


def page_metadata(tree: Any, url: str | None) -> dict[str, str]:
    """The fields found in `tree` (an lxml HTML tree, not modified), keyed by tamis's `Metadata` names."""
    from htmldate import find_date
    from trafilatura import metadata as meta

    found = meta.examine_meta(tree)
    if found.author and " " not in found.author:  # a one-word meta author is a handle or the site
        found.author = None
    # trafilatura's JSON-LD reader fails on odd JSON (it guards its own call the same way); the rest still runs.
    with contextlib.suppress(Exception):
        found = meta.extract_meta_json(tree, found)
    title = found.title or meta.extract_title(tree)
    author = found.author
    page_url = found.url or meta.extract_url(tree, url)
    day = find_date(tree, extensive_search=False, original_date=True, url=page_url,
                    max_date=date.today().isoformat())
    site = found.sitename or meta.extract_sitename(tree)
    if site:
        site = site.lstrip("@")
        if site and "." not in site and not site[0].isupper():
            site = site.title()
    elif page_url and (domain := meta.META_URL.match(page_url)):
        site = domain[1]
    values = {"title": title, "author": author, "date": day, "site": site, "url": page_url}
    return {name: " ".join(value.split()) for name, value in values.items() if value and value.strip()}
