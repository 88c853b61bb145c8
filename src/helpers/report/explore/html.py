"""Small pieces of HTML for the explore notebook: text from the catalogue with data isolated, and any view as HTML.

The explore notebook's views are built once and shown twice: live in
JupyterLab (inside a widget that follows the drill-down controls) and as the
cell's plain HTML output, which is what a papermill run and an exported page
keep.  :func:`as_html` turns what a view returns — a summary band, a table, a
chart — into that one HTML fragment.
"""

from __future__ import annotations

import base64
import functools
import html
import re
from collections.abc import Sequence
from typing import Any

from helpers.report.fragment import Html
from helpers.words import say

__all__ = ["Html", "as_html", "band", "bdi", "code", "heading", "join_names", "lab_style", "paragraph", "say_html",
           "words"]


def bdi(value: Any) -> str:
    """A data value (an account or owner name, a wave label) escaped and isolated: ``<bdi>…</bdi>``."""
    return f"<bdi>{html.escape(str(value))}</bdi>"


def words(key: str, language: str, /, **fields: Any) -> str:
    """The text ``explore.<key>`` in ``language`` with ``fields`` put in (plain text, not escaped)."""
    return say(f"explore.{key}", language, **fields)


def code(value: Any) -> str:
    """A parameter name, a command or a path: escaped and marked as data, not the page's prose."""
    return f'<code class="fk-data">{html.escape(str(value))}</code>'


def say_html(key: str, language: str, /, *, data: dict[str, Any] | None = None, codes: dict[str, Any] | None = None,
             markup: dict[str, str] | None = None, **fields: Any) -> str:
    """The text ``explore.<key>`` as HTML: the catalogue's words escaped, data isolated.

    ``fields`` are formatted numbers or words of the page's language
    (escaped); ``data`` are names, ids and labels from the store (escaped and
    set in ``<bdi>``, so a right-to-left name or markup in a name stays
    inert); ``codes`` are parameter names, commands and paths (escaped, in
    ``<code class="fk-data">``); ``markup`` is HTML built by the caller from
    escaped parts (a link).
    """
    template = html.escape(say(f"explore.{key}", language), quote=False)
    values = {k: html.escape(str(v), quote=False) for k, v in fields.items()}
    values.update({k: bdi(v) for k, v in (data or {}).items()})
    values.update({k: code(v) for k, v in (codes or {}).items()})
    values.update(markup or {})
    return template.format(**values)


def paragraph(*fragments: str, css_class: str = "") -> Html:
    """One ``<p>`` of HTML fragments (already escaped), joined by a space."""
    cls = f' class="{css_class}"' if css_class else ""
    return Html(f"<p{cls}>" + " ".join(f for f in fragments if f) + "</p>")


def heading(fragment: str, level: int = 3) -> Html:
    """A heading of escaped HTML (e.g. from :func:`say_html`)."""
    return Html(f"<h{level}>{fragment}</h{level}>")


def _image_html(image: Any) -> str:
    """An ``IPython.display.Image`` (as :func:`helpers.report.figures.to_image` makes) as an embedded ``<img>``."""
    data = image.data if isinstance(image.data, bytes) else bytes(image.data)
    alt = (getattr(image, "metadata", None) or {}).get("alt") or getattr(image, "alt", "") or ""
    src = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return f'<img src="{src}" alt="{html.escape(str(alt))}" style="max-width: 100%; height: auto">'


def as_html(view: Any) -> str:
    """What a view returned, as one HTML fragment.

    Parameters
    ----------
    view : object or sequence of objects
        A :class:`helpers.report.band.SummaryBand`, a
        :class:`helpers.report.formatting.PeopleTable`, an :class:`Html`, an
        ``IPython.display.Image`` (a chart with its alt text), plain text
        (escaped into a paragraph), None (nothing), or a list of these.

    Returns
    -------
    str
    """
    if view is None:
        return ""
    if isinstance(view, (list, tuple)):
        return "\n".join(as_html(v) for v in view)
    if isinstance(view, str):
        return f"<p>{html.escape(view)}</p>"
    from IPython.display import Image

    if isinstance(view, Image):
        return _image_html(view)
    if hasattr(view, "to_html"):
        return view.to_html()
    if hasattr(view, "_repr_html_"):
        return view._repr_html_()
    raise TypeError(f"A view returned {type(view).__name__}, which has no HTML form; return a SummaryBand, "
                    "a people_table, an Html fragment, a chart from figures.to_image or text.")


def band(tiles: Sequence[Any], findings: Sequence[str], *, heading: str = "") -> Html:
    """A :class:`helpers.report.band.SummaryBand` whose findings are HTML (names isolated in ``<bdi>``).

    ``findings`` are fragments already escaped (:func:`say_html`); the tiles are escaped by the band.
    """
    from helpers.report.band import SummaryBand

    core = SummaryBand(tiles=list(tiles), heading=heading).to_html()
    items = "".join(f"<li>{f}</li>" for f in findings)
    return Html(core[: -len("</div>")] + (f'<ul class="fk-findings">{items}</ul>' if items else "") + "</div>")


@functools.cache
def lab_style() -> str:
    """The exported pages' rules for bands and tables (``fk-`` classes), as a ``<style>`` for JupyterLab.

    Taken from the batch's page template (:mod:`helpers.batch.html`), so a band reads as tiles in JupyterLab
    as it does on a page; "" when the template has none.  The page sanitiser removes ``<style>`` from outputs,
    so an exported page keeps its own.
    """
    try:
        from helpers.batch import html as page
    except ImportError:  # pragma: no cover - the batch is part of the kit
        return ""
    css = getattr(page, "_TEMPLATE", "")
    css = css[css.find("<style"): css.find("@media")] if "<style" in css else ""
    rules = re.findall(r"([^{}]*\bfk-[^{}]*)\{([^{}]*)\}", css.split(">", 1)[-1] if css else "")
    body = "\n".join(f"{sel.strip()} {{{decl.strip()}}}" for sel, decl in rules if "nav" not in sel)
    return f"<style>{body}</style>" if body else ""


def join_names(names: Sequence[str], language: str) -> str:
    """Names (escaped and isolated) as one phrase: "A, B and C" / "A, B ja C"."""
    parts = [bdi(n) for n in names]
    if len(parts) <= 1:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " " + html.escape(words("and", language)) + " " + parts[-1]
