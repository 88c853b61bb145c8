"""An executed notebook as one self-contained, sanitised HTML page with a table of contents.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers.data.instrument import LANGUAGES

from .index import TEXT

__all__ = [
    "html_exporter",
    "sanitize_html",
    "to_html",
]


# Cell tags understood by the exporter (JupyterBook's names).
REMOVE_CELL_TAGS = frozenset({"remove-cell", "remove_cell"})
REMOVE_INPUT_TAGS = frozenset({"remove-input", "remove_input"})
HIDE_INPUT_TAGS = frozenset({"hide-input", "hide_input"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})
HEADLINE_TAG = "headline"


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------
_ALLOWED_TAGS = frozenset({
    "a", "abbr", "acronym", "b", "bdi", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span",
    "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
})
_ALLOWED_CSS = frozenset({"text-align", "vertical-align", "font-weight", "font-style", "color", "background-color",
                          "white-space", "width", "min-width", "max-width"})
_ALLOWED_ATTRIBUTES = {
    "*": {"class", "id", "title", "lang", "dir"},
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "th": {"colspan", "rowspan", "style"},
    "td": {"colspan", "rowspan", "style"},
    "col": {"span", "style"},
    "colgroup": {"span", "style"},
    "ol": {"start", "type"},
}
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_EMPTY_IMG = re.compile(r"<img(?:\s+(?:alt|title|width|height|class|id)=\"[^\"]*\")*\s*/?>", re.I)


def _filter_attribute(tag: str, name: str, value: str) -> str | None:
    """Images only from an embedded ``data:image/…`` source; links never to ``data:``."""
    if tag == "img" and name == "src":
        return value if _DATA_IMAGE.match(value.strip()) else None
    if tag == "a" and name == "href" and value.strip().lower().startswith("data:"):
        return None
    return value


@functools.cache
def _cleaner() -> Any:
    """The nh3 cleaner's ``clean``, its options compiled once per process."""
    import nh3

    return nh3.Cleaner(tags=set(_ALLOWED_TAGS), clean_content_tags={"script", "style"},
                       attributes={k: set(v) for k, v in _ALLOWED_ATTRIBUTES.items()},
                       attribute_filter=_filter_attribute, url_schemes={"http", "https", "mailto", "data"},
                       link_rel=None, strip_comments=True, filter_style_properties=set(_ALLOWED_CSS)).clean


def sanitize_html(text: object) -> str:
    """Sanitise an HTML fragment from a notebook (Markdown cell or output) for sharing.

    Parameters
    ----------
    text : str or bytes
        HTML, e.g. a DataFrame's ``_repr_html_`` or rendered Markdown.

    Returns
    -------
    str
        The fragment with only report markup left: headings, paragraphs,
        emphasis, lists, tables, links, images whose source is an embedded
        ``data:image/…`` (PNG, JPEG, GIF, WebP).  Any other tag — ``<iframe>``,
        ``<svg>``, forms — is removed and its text kept; ``<script>`` and
        ``<style>`` elements are removed with their content; event attributes
        (``onerror``, ``onclick``), ``javascript:`` and ``data:`` links and
        remote image sources are removed, and an image left without a source is
        dropped.  Inline ``style`` is kept on table cells for alignment and
        colour only.  Text that is already escaped (``&lt;script&gt;``) stays
        escaped.

    Notes
    -----
    Built on nh3 (the Rust html5ever/ammonia sanitiser; bleach, which
    nbconvert's own ``clean_html`` uses, is deprecated and was over twenty
    times slower on the sample reports) with a wider allow-list than
    nbconvert's, which escapes headings, paragraphs and table headers
    (jupyter/nbconvert#2016).

    Examples
    --------
    >>> sanitize_html('<h2>Care</h2><img src=x onerror=alert(1)><script>alert(1)</script>')
    '<h2>Care</h2>'
    """
    s = text.decode("utf-8") if isinstance(text, bytes) else str(text)
    s = _cleaner()(s)
    return _EMPTY_IMG.sub(lambda m: m.group(0) if "src=" in m.group(0) else "", s)


_TEMPLATE = r"""
{%- extends 'index.html.j2' -%}
{#- flamekit report: the lab template without scripts, CDN links or random ids. -#}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{% block jupyter_widgets %}{% endblock jupyter_widgets %}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}
<style type="text/css">
main { max-width: 72rem; margin: 0 auto; }
nav.fk-toc { margin: 1rem 0 1.5rem; padding: .5rem 1.25rem; border-left: 3px solid #d9480f;
  background: #fff8f3; font-family: var(--jp-ui-font-family, sans-serif); font-size: 0.95rem; }
nav.fk-toc p { margin: .25rem 0; font-weight: 600; }
nav.fk-toc ol { margin: .25rem 0; padding-left: 1.25rem; }
nav.fk-toc ul { margin: 0; padding-left: 1.25rem; list-style-type: circle; }
.jp-RenderedHTMLCommon table { margin-left: 0; }
/* The summary band: tiles in a row, one column on a phone. */
.fk-band { margin: .5rem 0 1.5rem; font-family: var(--jp-ui-font-family, system-ui, sans-serif); }
.fk-band-heading { font-size: 1.05rem; margin: 0 0 .5rem; }
.fk-tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(10.5rem, 1fr)); gap: .6rem; }
.fk-tile { border: 1px solid #DEE2E6; border-top: 4px solid #868E96; border-radius: 4px; padding: .5rem .75rem;
  background: #FFFFFF; }
.fk-tile.fk-good { border-top-color: #117733; } .fk-tile.fk-attention { border-top-color: #882255; }
.fk-tile.fk-client { border-top-color: #D55E00; } .fk-tile.fk-team { border-top-color: #0072B2; }
.fk-tile-label { font-size: .85rem; color: #495057; }
.fk-tile-value { font-size: 1.6rem; font-weight: 600; line-height: 1.2; font-variant-numeric: tabular-nums; }
.fk-tile-change { font-size: .9rem; } .fk-tile-change.fk-up { color: #117733; }
.fk-tile-change.fk-down { color: #882255; } .fk-tile-change.fk-flat { color: #495057; }
.fk-tile-detail { font-size: .8rem; color: #495057; margin-top: .15rem; }
.fk-findings { margin: .75rem 0 .25rem; padding-left: 1.25rem; font-size: 1.02rem; }
.fk-findings li { margin: .2rem 0; }
.fk-focus { margin: .5rem 0 0; }
/* Tables for people: text left, numbers right; wide tables scroll in their own box. */
.fk-scroll { overflow-x: auto; max-width: 100%; }
table.fk-table { border-collapse: collapse; font-size: .92rem; }
table.fk-table th, table.fk-table td { padding: .3rem .6rem; border-bottom: 1px solid #DEE2E6; vertical-align: top; }
table.fk-table th { background: #F8F9FA; font-weight: 600; }
table.fk-table caption { caption-side: top; text-align: left; color: #495057; padding: .25rem 0; }
.jp-OutputArea-output { overflow-x: auto; max-width: 100%; }
.jp-RenderedImage img { max-width: 100%; height: auto; }
/* The links back to the index and the portfolio. */
nav.fk-links { font-family: var(--jp-ui-font-family, sans-serif); font-size: .95rem; margin: .5rem 0; }
nav.fk-links a { margin-right: 1rem; }
@media (max-width: 600px) {
  main { padding: 0 .5rem; }
  .jp-Cell { padding: 0 !important; }
  .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  .fk-tile-value { font-size: 1.35rem; }
}
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  nav.fk-toc, nav.fk-links { display: none; }
  .fk-tile, table.fk-table tr, .jp-RenderedImage, figure { break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3 { break-after: avoid; page-break-after: avoid; }
  .fk-scroll, .jp-OutputArea-output { overflow: visible; }
  .jp-RenderedImage img { max-height: 120mm; width: auto; }
  main { max-width: none; }
}
</style>
{% endblock extra_css %}
{%- block data_javascript scoped %}{%- endblock -%}
{%- block data_widget_view scoped %}{%- endblock -%}
{% block data_mermaid scoped -%}
<div class="jp-RenderedText jp-OutputArea-output"><pre>{{ output.data['text/vnd.mermaid'] | escape_html }}</pre></div>
{%- endblock data_mermaid %}
{#- Images: embedded only, alt/width/height from the output's metadata, every value escaped. -#}
{%- macro embedded_image(output, mime, extra_class) -%}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img src="data:{{ mime }};base64,{{ output.data[mime] | escape_html }}"
{%- set alt = output | get_metadata('alt', mime) -%}
{%- if alt %} alt="{{ alt | escape_html }}"{% endif -%}
{%- set width = output | get_metadata('width', mime) -%}
{%- if width is not none %} width="{{ width | escape_html }}"{% endif -%}
{%- set height = output | get_metadata('height', mime) -%}
{%- if height is not none %} height="{{ height | escape_html }}"{% endif -%}
>
</div>
{%- endmacro %}
{% block data_png scoped %}
{{ embedded_image(output, 'image/png', extra_class) }}
{%- endblock data_png %}
{% block data_jpg scoped %}
{{ embedded_image(output, 'image/jpeg', extra_class) }}
{%- endblock data_jpg %}
"""


_MISSING_ALT = "No description has been provided for this image"  # nbconvert's wording
_START_TAG = re.compile(r"""<([a-zA-Z][^\t\n\r\f />\x00]*)"""  # the tag name, as html.parser reads it
                        r"""((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*/?>""")
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_FOCUSABLE = re.compile(r"(?:^|\s)jp-(?:Cell-inputWrapper|OutputArea-output)(?:\s|$)")
_RAW_TEXT_END = {tag: re.compile(rf"</{tag}\s*>", re.I) for tag in ("script", "style")}  # as html.parser


def accessible_html(page: str) -> tuple[str, int]:
    """nbconvert's accessibility pass, on the tags alone: alt text for images, keyboard focus for cells.

    Every ``<img>`` without ``alt`` gets nbconvert's "No description has been
    provided for this image"; every ``div.jp-Cell-inputWrapper`` and
    ``div.jp-OutputArea-output`` inside the ``.jp-Notebook`` element gets
    ``tabindex="0"`` (so a wide table can be scrolled from the keyboard).
    nbconvert's ``HTMLExporter`` does the same by parsing the whole page with
    BeautifulSoup and writing it out again — for a report with tables and
    embedded charts, a third of the export.  Here the page is only scanned tag
    by tag (``<script>``/``<style>`` content, comments and quoted attribute
    values skipped as ``html.parser`` skips them) and the attributes inserted
    in place; everything else stays byte for byte.

    Returns
    -------
    (str, int)
        The page and the number of images that had no alt text.
    """
    out: list[str] = []
    pos = i = missing = 0
    in_notebook = False
    n = len(page)
    while True:
        j = page.find("<", i)
        if j < 0:
            break
        if page.startswith("<!--", j):
            k = page.find("-->", j + 4)
            i = n if k < 0 else k + 3
            continue
        m = _START_TAG.match(page, j)
        if m is None:  # an end tag, a declaration or a stray "<": nothing to change in it
            k = page.find(">", j + 1)
            i = n if k < 0 else k + 1
            continue
        tag = m.group(1).lower()
        i = m.end()
        if in_notebook and tag not in ("img", "div") and tag not in _RAW_TEXT_END:
            continue  # nothing to add to this tag
        attrs = {a.group(1).lower(): "".join(v for v in a.groups()[1:] if v) for a in _ATTRIBUTE.finditer(m.group(2))}
        cls = attrs.get("class", "")
        extra = ""
        if tag == "img" and "alt" not in attrs:
            extra, missing = f' alt="{_MISSING_ALT}"', missing + 1
        elif tag == "div" and in_notebook and "tabindex" not in attrs and _FOCUSABLE.search(cls):
            extra = ' tabindex="0"'
        if extra:
            out += [page[pos:m.end(2)], extra]
            pos = m.end(2)
        in_notebook = in_notebook or "jp-Notebook" in cls.split()
        if tag in _RAW_TEXT_END:  # raw text up to the closing tag
            close = _RAW_TEXT_END[tag].search(page, i)
            i = n if close is None else close.start()
    out.append(page[pos:])
    return "".join(out), missing


@functools.cache
def _exporter_class() -> Any:
    """``HTMLExporter`` with :func:`accessible_html` in place of nbconvert's BeautifulSoup pass (built once)."""
    from nbconvert import HTMLExporter
    from nbconvert.exporters.templateexporter import TemplateExporter
    from nbconvert.filters.highlight import Highlight2HTML
    from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

    class ReportHTMLExporter(HTMLExporter):
        def from_notebook_node(self, nb: Any, resources: dict | None = None, **kw: Any) -> tuple[str, dict]:
            # HTMLExporter.from_notebook_node up to its BeautifulSoup pass (nbconvert 7.x), then the same
            # changes made on the tags (tests/test_reports.py compares the two on a real report).
            langinfo = nb.metadata.get("language_info", {})
            lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
            self.register_filter("highlight_code",
                                 self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
            resources = self._init_resources(resources)
            self.register_filter("filter_data_type", WidgetsDataTypeFilter(
                notebook_metadata=self._nb_metadata, parent=self, resources=resources))
            page, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
            page, missing = accessible_html(page)
            if missing:
                self.log.warning("Alternative text is missing on %s image(s).", missing)
            return page, resources

    return ReportHTMLExporter


def html_exporter(*, with_code: bool = False, language: str = "en") -> Any:
    """An nbconvert ``HTMLExporter`` for shareable, self-contained reports.

    Parameters
    ----------
    with_code : bool
        Keep code cells (and prompts) for analysts.  Default: hidden
        (``exclude_input=True``), the management variant.
    language : {"en", "fi"}
        ``<html lang>`` of the page.

    Returns
    -------
    nbconvert.HTMLExporter
        The lab template without require.js, MathJax, Mermaid or widget
        scripts (all loaded from CDNs by default), no ``<script>`` at all,
        ``sanitize_html=True`` with :func:`sanitize_html` as the filter,
        ``embed_images=True``, image ``alt`` text from the output metadata, and
        cell tags honoured: ``remove-cell``, ``remove-input``, ``remove-output``
        always; ``hide-input`` only without code.  Its accessibility pass
        (alt text, keyboard focus) is :func:`accessible_html`.  Reuse it:
        building one costs more than exporting a report.
    """
    from jinja2 import DictLoader
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_cell_tags = set(REMOVE_CELL_TAGS)
    c.TagRemovePreprocessor.remove_all_outputs_tags = set(REMOVE_OUTPUT_TAGS)
    c.TagRemovePreprocessor.remove_input_tags = set(REMOVE_INPUT_TAGS) | (set() if with_code else set(HIDE_INPUT_TAGS))
    exporter = _exporter_class()(
        config=c,
        # only the preprocessors that are on (the others are skipped, but nbconvert validates the whole
        # notebook after each of them); HTMLExporter adds its CSS one
        default_preprocessors=[f"nbconvert.preprocessors.{name}" for name in (
            "TagRemovePreprocessor", "RegexRemovePreprocessor", "HighlightMagicsPreprocessor")],
        template_name="lab",
        extra_loaders=[DictLoader({"flamekit_report.html.j2": _TEMPLATE})],
        template_file="flamekit_report.html.j2",
        exclude_input=not with_code,
        exclude_input_prompt=not with_code,
        exclude_output_prompt=not with_code,
        sanitize_html=True,
        embed_images=True,
        language_code=language if language in LANGUAGES else "en",
    )
    exporter.register_filter("clean_html", sanitize_html)
    return exporter


_HEADING = re.compile(r"<h([1-3])\b([^>]*)>(.*?)</h\1\s*>", re.I | re.S)
_ID_ATTR = re.compile(r"\bid=\"([^\"]+)\"")
_TAG = re.compile(r"<[^>]+>")


def _add_toc(page: str, *, language: str = "en") -> str:
    """Insert a table of contents of the h2/h3 headings before the cell holding the first h2."""
    entries = []
    for m in _HEADING.finditer(page):
        level = int(m.group(1))
        ident = _ID_ATTR.search(m.group(2))
        if level == 1 or not ident:
            continue
        inner = re.sub(r"<a\b[^>]*class=\"anchor-link\"[^>]*>.*?</a>", "", m.group(3), flags=re.S)
        label = html.unescape(_TAG.sub("", inner)).strip()
        if label:
            entries.append((level, html.unescape(ident.group(1)), label, m.start()))
    if not entries:
        return page
    parts, open_sub = [], False
    for i, (lvl, ident, label, _) in enumerate(entries):
        link = f'<a href="#{html.escape(ident, quote=True)}">{html.escape(label)}</a>'
        if lvl == 3 and i > 0:  # a sub-section: nested under the section before it
            if not open_sub:
                parts.append("<ul>")
                open_sub = True
            parts.append(f"<li>{link}</li>")
            continue
        if open_sub:
            parts.append("</ul>")
            open_sub = False
        parts.append(("</li>" if i else "") + f"<li>{link}")
    parts.append(("</ul>" if open_sub else "") + "</li>")
    items = "\n".join(parts)
    nav = (f'<nav class="fk-toc" aria-label="{html.escape(TEXT[language]["contents"])}">'
           f'<p>{html.escape(TEXT[language]["contents"])}</p>\n<ol>\n{items}\n</ol></nav>\n')
    first = entries[0][3]
    at = page.rfind('<div class="jp-Cell ', 0, first)
    if at < 0:
        main = page.find("<main>")
        at = main + len("<main>") if main >= 0 else first
    return page[:at] + nav + page[at:]


def _export_copy(nb: Any, *, title: str) -> Any:
    """The notebook as exported: title set, widget state and headline JSON left out.

    Only what changes is new (the top level, its metadata, the cell list and
    the headline cell); everything else is shared with ``nb``, which stays
    untouched — the exporter deep-copies the notebook itself before it
    changes anything.
    """
    from nbformat import NotebookNode

    out = NotebookNode(nb)
    out.metadata = NotebookNode({k: v for k, v in nb.metadata.items() if k != "widgets"}, title=title)
    out.cells = [NotebookNode(cell, outputs=[o for o in cell.get("outputs", []) if "application/json"
                                             not in o.get("data", {})])
                 if cell.get("cell_type") == "code" and HEADLINE_TAG in cell.get("metadata", {}).get("tags", [])
                 else cell for cell in nb.cells]
    return out


def to_html(nb: Any, *, title: str, exporter: Any = None, with_code: bool = False, language: str = "en",
            path: str | Path | None = None) -> str:
    """Export an executed notebook to one self-contained HTML page.

    Parameters
    ----------
    nb : NotebookNode
        The executed notebook.
    title : str
        The page's ``<title>`` (escaped).
    exporter : HTMLExporter, optional
        From :func:`html_exporter`; built when not given (``with_code``,
        ``language`` apply then).
    with_code, language
        See :func:`html_exporter`.
    path : path, optional
        Folder for relative image paths in Markdown (embedded as ``data:``).

    Returns
    -------
    str
        The page, with a table of contents (``<nav class="fk-toc">``) of its
        level-2 and level-3 headings.
    """
    exporter = exporter if exporter is not None else html_exporter(with_code=with_code, language=language)
    if language in LANGUAGES:
        exporter.language_code = language
    resources = {"metadata": {"name": title, "path": str(path or "")}}
    page, _ = exporter.from_notebook_node(_export_copy(nb, title=title), resources=resources)
    return _add_toc(page, language=language if language in LANGUAGES else "en")


_H1 = re.compile(r"^ {0,3}#\s+(.+?)\s*#*\s*$", re.M)


def _plain_heading(md: str) -> str:
    s = re.sub(r"</?bdi>", "", md)  # the isolation marks around names in a heading
    s = re.sub(r"\\(.)", r"\1", s)
    s = re.sub(r"[*_`]+", "", s)
    return html.unescape(s).strip()


def notebook_title(nb: Any, *, default: str, outputs: bool = True) -> str:
    """The report's title: the first level-1 heading a cell *outputs*, else the first in a Markdown cell.

    A heading written by code (``# Portfolio 2026Q3``) can carry the data's
    name; the static one in the first Markdown cell cannot.  ``outputs=False``
    looks at Markdown cells only.
    """
    for cell in nb.cells if outputs else []:
        for out in cell.get("outputs", []) if cell.get("cell_type") == "code" else []:
            md = out.get("data", {}).get("text/markdown")
            m = _H1.search(md if isinstance(md, str) else "".join(md or []))
            if m:
                return _plain_heading(m.group(1))
    for cell in nb.cells:
        if cell.get("cell_type") == "markdown":
            m = _H1.search(cell.get("source", ""))
            if m:
                return _plain_heading(m.group(1))
    return default


def headline_from_notebook(nb: Any) -> dict[str, Any] | None:
    """The ``application/json`` output of the last cell tagged ``headline`` (None when there is none)."""
    found = None
    for cell in nb.cells:
        if cell.get("cell_type") == "code" and HEADLINE_TAG in cell.get("metadata", {}).get("tags", []):
            for out in cell.get("outputs", []):
                data = out.get("data", {}).get("application/json")
                if isinstance(data, Mapping):
                    found = dict(data)
    return found
