"""An executed notebook as one self-contained, sanitised HTML page: navigation, contents, a print stylesheet.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from helpers.data.instrument import LANGUAGES
from helpers.words import say

from .css import BAND_CSS, NAV_CSS, TABLE_CSS
from .navigation import navigation_html

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
/* The contents: one compact line of links under the summary band. */
nav.fk-toc { display: flex; align-items: baseline; gap: .9rem; margin: .25rem 0 1.25rem; padding: .4rem .75rem;
  border-left: 3px solid #868E96; background: #F8F9FA;
  font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: .9rem; line-height: 1.5; }
nav.fk-toc .fk-toc-label { flex: none; font-weight: 600; color: #495057; }
nav.fk-toc ol { display: flex; flex-wrap: wrap; gap: .1rem 1rem; list-style: none; margin: 0; padding: 0; }
nav.fk-toc a { color: #0B5394; }
nav.fk-toc li.fk-toc-appendix a { color: #495057; }
.jp-RenderedHTMLCommon table { margin-left: 0; }
""" + BAND_CSS + TABLE_CSS + r""".jp-OutputArea-output { overflow-x: auto; max-width: 100%; }
.jp-RenderedImage img { max-width: 100%; height: auto; }
""" + NAV_CSS + r"""@media (max-width: 600px) {
  main { padding: 0 .5rem; }
  .jp-Cell { padding: 0 !important; }
  .jp-InputPrompt, .jp-OutputPrompt { display: none !important; }
  .fk-tile-value { font-size: 1.35rem; }
}
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { font-size: 10pt; }
  nav.fk-toc, nav.fk-links { display: none !important; }
  main { max-width: none; padding: 0; }
  .jp-Cell { padding: 0 !important; }
  /* nothing cut: a chart, a tile, a table row, a list item stays on one sheet; headings stay with what follows */
  .fk-band, .fk-tile, tr, li, .jp-RenderedImage, .jp-OutputArea-output img, figure {
    break-inside: avoid; page-break-inside: avoid; }
  h1, h2, h3, h4 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  /* the appendix for analysts starts on a sheet of its own */
  h2.fk-appendix { break-before: page; page-break-before: always; }
  /* wide tables wrap inside the sheet instead of scrolling */
  .fk-scroll, .jp-OutputArea-output, .jp-RenderedHTMLCommon { overflow: visible !important; max-width: 100%; }
  table { width: 100%; max-width: 100%; table-layout: auto; }
  th, td { white-space: normal !important; overflow-wrap: break-word; font-size: 8.5pt; }
  .jp-RenderedImage img { max-width: 100% !important; max-height: 120mm; width: auto; height: auto; }
  a { color: inherit; text-decoration: none; }
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
_CLASS_ATTR = re.compile(r"\bclass=\"([^\"]*)\"")
_TAG = re.compile(r"<[^>]+>")
_ANCHOR_LINK = re.compile(r"<a\b[^>]*class=\"anchor-link\"[^>]*>.*?</a>", re.S)
_CELL_START = re.compile(r"<div\b[^>]*\bclass=\"jp-Cell\b")
_BAND = 'class="fk-band"'


def _sections(page: str, *, language: str) -> list[tuple[str, str, bool, int]]:
    """The page's level-2 headings: (id, text, is the appendix, position)."""
    appendix = say("pages.appendix", language).casefold()
    found = []
    for m in _HEADING.finditer(page):
        ident = _ID_ATTR.search(m.group(2))
        if m.group(1) != "2" or not ident:
            continue
        label = html.unescape(_TAG.sub("", _ANCHOR_LINK.sub("", m.group(3)))).strip()
        if label:
            found.append((html.unescape(ident.group(1)), label, label.casefold() == appendix, m.start()))
    return found


def _toc_position(page: str, first_heading: int) -> int:
    """Where the contents go: after the cell with the summary band, else before the cell of the first section."""
    band = page.find(_BAND)
    if band >= 0:
        nxt = _CELL_START.search(page, band)
        if nxt:
            return nxt.start()
        end = page.find("</main>", band)
        return end if end >= 0 else band
    cells = [m.start() for m in _CELL_START.finditer(page, 0, first_heading)]
    if cells:
        return cells[-1]
    main = page.find("<main>")
    return main + len("<main>") if main >= 0 else first_heading


def _add_toc(page: str, *, language: str = "en") -> str:
    """A compact table of contents — one line of links to the sections — under the page's summary band.

    The band answers first; the contents come right after it (or, on a page
    without a band, before its first section) and list the level-2
    headings that follow, the "For analysts" appendix last.  Fewer than two
    sections: no contents.
    """
    sections = _sections(page, language=language)
    if not sections:
        return page
    at = _toc_position(page, sections[0][3])
    listed = [s for s in sections if s[3] >= at]
    if len(listed) < 2:
        return page
    appendix_class = ' class="fk-toc-appendix"'
    items = "\n".join(f'<li{appendix_class if is_appendix else ""}><a href="#{html.escape(ident, quote=True)}">'
                      f"{html.escape(label)}</a></li>" for ident, label, is_appendix, _ in listed)
    words = html.escape(say("pages.contents", language))
    nav = (f'<nav class="fk-toc" aria-label="{words}"><span class="fk-toc-label">{words}</span>\n'
           f"<ol>\n{items}\n</ol></nav>\n")
    return page[:at] + nav + page[at:]


def _mark_appendix(page: str, *, language: str = "en") -> str:
    """The "For analysts" heading gets class ``fk-appendix`` (in print it starts a new sheet)."""
    appendix = [s for s in _sections(page, language=language) if s[2]]
    if not appendix:
        return page
    at = appendix[-1][3]
    end = page.index(">", at)
    tag = page[at:end]
    cls = _CLASS_ATTR.search(tag)
    tag = (tag[:cls.start(1)] + "fk-appendix " + tag[cls.start(1):]) if cls else tag + ' class="fk-appendix"'
    return page[:at] + tag + page[end:]


def _add_navigation(page: str, *, language: str = "en", pages: Sequence[str] | None = None,
                    current: str | None = None) -> str:
    """The bar of links to the index and the overviews (:func:`helpers.batch.navigation.navigation_html`),
    first in ``<main>``."""
    main = page.find("<main>")
    at = main + len("<main>") if main >= 0 else page.find(">", page.find("<body")) + 1
    bar = navigation_html(language, current=current, pages=pages)
    return page[:at] + "\n" + bar + "\n" + page[at:]


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
            path: str | Path | None = None, navigation: Sequence[str] | None = None,
            page: str | None = None) -> str:
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
    navigation : sequence of str, optional
        The pages of the wave to link to at the top of the page
        (``<nav class="fk-links">``, relative links; see
        :func:`helpers.batch.navigation.navigation_html`); default the
        notebook's ``metadata.flamekit.pages``, which the batch sets to the
        index and the overviews it writes.  None there either (a page
        rendered on its own): no navigation.
    page : str, optional
        Which of them this page is (default ``metadata.flamekit.page``).

    Returns
    -------
    str
        The page, with the navigation bar, a compact table of contents
        (``<nav class="fk-toc">``) of its level-2 headings under the summary
        band, and the "For analysts" heading marked ``fk-appendix`` (it starts
        a new sheet in print).
    """
    exporter = exporter if exporter is not None else html_exporter(with_code=with_code, language=language)
    if language in LANGUAGES:
        exporter.language_code = language
    resources = {"metadata": {"name": title, "path": str(path or "")}}
    own = nb.metadata.get("flamekit", {})
    pages = own.get("pages") if navigation is None else navigation
    current = own.get("page") if page is None else page
    html_page, _ = exporter.from_notebook_node(_export_copy(nb, title=title), resources=resources)
    language = language if language in LANGUAGES else "en"
    html_page = _mark_appendix(_add_toc(html_page, language=language), language=language)
    return _add_navigation(html_page, language=language, pages=pages, current=current) if pages else html_page


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
