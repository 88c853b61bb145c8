"""An HTML fragment that a notebook cell shows as itself: in JupyterLab, in an exported page, and as text.

Used by the pages whose sections are built as HTML (the portfolio, the explore
notebook); the fragment is already escaped where it holds data.
"""

from __future__ import annotations

import html
import re

__all__ = ["Html"]


class Html:
    """An HTML fragment already escaped where it holds data; shows as HTML (``_repr_html_``).

    >>> (Html("<b>A &amp; B</b>") + Html("<i>!</i>")).fragment
    '<b>A &amp; B</b><i>!</i>'
    >>> repr(Html("<b>A &amp; B</b>"))
    'A & B'
    """

    def __init__(self, fragment: str):
        self.fragment = fragment

    def _repr_html_(self) -> str:
        return self.fragment

    def __str__(self) -> str:
        return self.fragment

    def __add__(self, other: Html) -> Html:
        return Html(self.fragment + other.fragment)

    def __repr__(self) -> str:  # a plain-text view without markup, e.g. under papermill's text output
        return html.unescape(re.sub(r"<[^>]+>", "", self.fragment))
