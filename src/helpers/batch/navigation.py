"""The bar at the top of every page of a wave: back to the index, on to the portfolio and the drivers page.

Takes the page's language and, where known, which page it is; hands on a
``<nav class="fk-links">`` with relative links (the pages of a wave sit side
by side in one folder, so the links work offline and wherever the folder is
copied) and words from the catalogue (``pages.nav.*``).  The page stylesheet
hides it in print.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

from helpers.words import check_language, say

__all__ = ["PAGES", "navigation_html"]

#: The pages every page links to, in this order: the index and the overviews (file names in the wave's folder).
PAGES = {"index": "index.html", "portfolio": "portfolio.html", "drivers": "drivers.html"}


def navigation_html(language: str, *, current: str | None = None, pages: Iterable[str] | None = None) -> str:
    """The navigation bar of a page.

    Parameters
    ----------
    language : {"en", "fi"}
        Language of the link texts.
    current : str, optional
        The page itself ("index", "portfolio", "drivers"): named, not linked
        (``aria-current="page"``).
    pages : iterable of str, optional
        Which of :data:`PAGES` exist (default: all of them).

    Returns
    -------
    str
        ``<nav class="fk-links" aria-label="…">`` with one link per page.

    Examples
    --------
    >>> navigation_html("en", current="index", pages=["index", "portfolio"])  # doctest: +NORMALIZE_WHITESPACE
    '<nav class="fk-links" aria-label="Pages of this wave"><span aria-current="page">All accounts</span>
    <a href="portfolio.html">Portfolio</a></nav>'
    """
    check_language(language)
    wanted = set(PAGES if pages is None else pages)
    items = []
    for key, href in PAGES.items():
        if key not in wanted:
            continue
        label = html.escape(say(f"pages.nav.{key}", language))
        items.append(f'<span aria-current="page">{label}</span>' if key == current
                     else f'<a href="{html.escape(href, quote=True)}">{label}</a>')
    aria = html.escape(say("pages.nav.label", language), quote=True)
    return f'<nav class="fk-links" aria-label="{aria}">' + "\n".join(items) + "</nav>"
