"""Small pieces of a page as escaped HTML: sentences that name accounts, paragraphs, folded tables.

An account's name is data, not the page's prose: it may be in any language
or script.  :func:`words_with_names` writes a catalogue sentence with every
name isolated in ``<bdi>`` (so a right-to-left name cannot turn the sentence
around, and the language check of the pages leaves it out) and everything
else escaped.  :class:`Html` shows such a fragment in JupyterLab and in the
exported page.
"""

from __future__ import annotations

import html
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from helpers.report.band import SummaryBand
from helpers.report.fragment import Html
from helpers.words import say

__all__ = ["Html", "words_with_names", "names_html", "paragraphs", "details", "band_with_findings", "chart_image"]


def names_html(names: Iterable[str], *, separator: str = ", ") -> str:
    """Names, each escaped and isolated in ``<bdi>``, joined by ``separator``."""
    return html.escape(separator).join(f"<bdi>{html.escape(str(n))}</bdi>" for n in names)


def words_with_names(key: str, language: str, /, *, names: Mapping[str, str | Sequence[str]] | None = None,
                     **fields: Any) -> str:
    """The catalogue text of ``key`` as HTML: ``names`` fields isolated in ``<bdi>``, every other part escaped.

    Parameters
    ----------
    key, language
        As :func:`helpers.words.say`.
    names : mapping
        Placeholder → a name or a list of names (joined by ", ").
    **fields
        The other placeholders: plain text (escaped here) or :class:`Html`
        (kept as it is).

    Examples
    --------
    >>> words_with_names("portfolio.band.first", "en", names={"names": ["Metsä & Meri"]})
    'First on the list: <bdi>Metsä &amp; Meri</bdi>.'
    """
    template = say(key, language)
    names = names or {}
    out = []
    for literal, field, spec, conv in string.Formatter().parse(template):
        out.append(html.escape(literal, quote=False))
        if field is None:
            continue
        if field in names:
            value = names[field]
            out.append(names_html([value] if isinstance(value, str) else value))
        elif isinstance(fields.get(field), Html):
            out.append(str(fields[field]))
        else:
            out.append(html.escape(format(fields[field], spec or ""), quote=False))
    return "".join(out)


def paragraphs(*parts: str, css_class: str = "") -> Html:
    """One ``<p>`` per non-empty part (each already HTML)."""
    cls = f' class="{html.escape(css_class)}"' if css_class else ""
    return Html("".join(f"<p{cls}>{p}</p>" for p in parts if p))


def details(summary: str, inner: str | Any) -> Html:
    """A folded block: ``summary`` (plain text, escaped) and ``inner`` (HTML, or anything with ``_repr_html_``)."""
    body = inner._repr_html_() if hasattr(inner, "_repr_html_") else str(inner)
    return Html(f"<details><summary>{html.escape(summary)}</summary>{body}</details>")


def band_with_findings(band: SummaryBand, findings: Sequence[str]) -> Html:
    """The summary band with ``findings`` (HTML sentences that may name accounts) as its list of findings.

    :class:`~helpers.report.band.SummaryBand` escapes its sentences whole, so
    a name in them could not be marked as data; the band is drawn without
    sentences and the findings (from :func:`words_with_names`) are put in
    its findings list, inside the band.
    """
    page = band.to_html()
    if band.sentences or not page.endswith("</div>"):
        raise ValueError("band_with_findings takes a band without sentences; pass the findings instead.")
    items = "".join(f"<li>{f}</li>" for f in findings if f)
    if not items:
        return Html(page)
    cut = page.rfind('<p class="fk-focus">') if band.focus else len(page) - len("</div>")
    return Html(page[:cut] + f'<ul class="fk-findings">{items}</ul>' + page[cut:])


def chart_image(obj: Any, *, alt: str, colors: int = 256):
    """A chart as an embedded PNG with alt text (:func:`helpers.report.figures.to_image`), in indexed colour.

    A chart is flat colour and anti-aliased text: ``colors`` palette entries
    keep it looking the same at a quarter of the bytes, which keeps a page
    with several charts light.
    """
    import io

    from IPython.display import Image
    from PIL import Image as PILImage

    from helpers.report.figures import to_image

    full = to_image(obj, alt=alt)
    out = io.BytesIO()
    PILImage.open(io.BytesIO(full.data)).convert("RGB").quantize(
        colors=colors, method=PILImage.Quantize.MEDIANCUT).save(out, format="PNG", optimize=True)
    return Image(data=out.getvalue(), format="png", alt=alt) if len(out.getvalue()) < len(
        full.data) else full
