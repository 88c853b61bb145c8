"""Reports: parameterised notebooks rendered to self-contained HTML, one account or a whole wave.

The notebooks in ``notebooks/`` tell the story; this module runs them.  For each
report it

1. validates the parameter names against the notebook's ``parameters`` cell
   (:func:`check_parameters`; papermill itself only warns about unknown names),
2. injects the values papermill-style (:func:`inject_parameters`: a cell tagged
   ``injected-parameters`` after the ``parameters`` cell),
3. executes the notebook in a Jupyter kernel (nbclient), and
4. exports HTML for sharing (:func:`to_html`): code hidden unless
   ``with_code=True``, every HTML and Markdown output sanitised, images
   embedded, no script and no link to a CDN — the file opens offline and makes
   no request outside itself — with a readable ``<title>`` and a table of
   contents built from the headings.

:func:`run_batch` renders every account of a wave into
``reports/<wave>/<account-slug>.html`` (plus the executed ``.ipynb``), the
portfolio and drivers notebooks when they exist, an ``index.html`` and a
``manifest.json``.  It keeps one warm kernel per worker process and resets it
between reports, skips reports whose inputs have not changed, writes every file
under a temporary name and renames it, and carries on when one report fails.
``flamekit reports`` is its command line (:func:`register_cli`).

Notes
-----
**Warm kernels.**  Starting a kernel and importing pandas, matplotlib and the
helpers costs more than computing one account's report, so each worker process
keeps one kernel for the whole batch.  Workers fork from a server that has
already imported nbconvert and friends; their kernels fork from a template
process (:mod:`helpers.kernels`) that imported ipykernel and the notebooks' own
imports once, while the parent was still reading the store — a kernel the
template cannot serve is launched as usual and runs those imports itself.
Before every notebook the kernel's user namespace, execution
counter, working directory, ``sys.path``, environment, warning filters and
"already warned" registries, matplotlib figures, ``rcParams`` and unit
converters, pandas options and the global random seeds (``random`` and
``numpy.random``, seeded with 0) are put back to the state of a freshly started
kernel, so a report never sees another account's variables and its output does
not depend on which reports ran before it in the same kernel.  After any
failure (an exception, a timeout, a dead kernel) the worker starts a fresh
kernel.  Module state outside these (a cache keyed without the account) cannot
be reset: keep such state out of the helpers.

**Same inputs, same files.**  Kernels run with ``PYTHONHASHSEED=0`` and without
an inherited ``MPLBACKEND`` (a shell's ``Agg`` would hide every inline figure);
cell timings are not recorded; object addresses in plain-text reprs
(``<Styler at 0x7f…>``) are written as ``0x…``; cells get fixed ids.  The HTML
and ``.ipynb`` files are then byte-identical whatever the number of jobs —
provided the notebook's own computations are deterministic.  Only
``manifest.json`` holds times.

**Sanitising.**  nbconvert's ``sanitize_html`` filter keeps only bleach's
default tags, which escapes headings, paragraphs and table headers into
visible markup (jupyter/nbconvert#2016).  The exporter therefore keeps
``sanitize_html=True`` but registers :func:`sanitize_html` as the ``clean_html``
filter: a wider allow-list (headings, paragraphs, tables, lists, images with a
``data:`` source) with no script, no event attribute, no ``javascript:`` URL,
no ``<style>`` element and no remote image, built on nh3.  Text the notebook
escaped stays escaped.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import difflib
import functools
import hashlib
import html
import json
import os
import platform
import re
import sys
import tempfile
import time
import traceback
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .instrument import LANGUAGES

__all__ = [
    "ACCOUNT_NOTEBOOK",
    "EXTRA_NOTEBOOKS",
    "BatchResult",
    "ParameterError",
    "RenderError",
    "ReportError",
    "ReportResult",
    "ReportWorker",
    "account_slugs",
    "atomic_write",
    "check_parameters",
    "html_exporter",
    "inject_parameters",
    "notebook_parameters",
    "register_cli",
    "render_notebook",
    "run_batch",
    "sanitize_html",
    "slugify",
    "to_html",
    "wave_folder",
]

# helpers.store.PROJECT_ROOT / "notebooks", without importing DuckDB and pandas: the worker processes (and
# `flamekit --help`, which imports this module) need neither.
NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
ACCOUNT_NOTEBOOK = NOTEBOOKS / "account_report.ipynb"
#: Notebooks rendered once per wave beside the account reports (when the file exists).
EXTRA_NOTEBOOKS = {"portfolio": NOTEBOOKS / "portfolio.ipynb", "drivers": NOTEBOOKS / "drivers.ipynb"}
KERNEL_NAME = "python3"
#: Seconds one cell may run before the report fails (nbclient's per-cell timeout).
DEFAULT_TIMEOUT = 600
#: Bump when the HTML or file layout changes, so unchanged-input skipping re-renders.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
INDEX = "index.html"
#: Values the batch offers every notebook; each gets the ones its parameters cell declares.
BATCH_PARAMETERS = ("account_id", "wave", "waves", "store", "language")

# Cell tags understood by the exporter (JupyterBook's names).
REMOVE_CELL_TAGS = frozenset({"remove-cell", "remove_cell"})
REMOVE_INPUT_TAGS = frozenset({"remove-input", "remove_input"})
HIDE_INPUT_TAGS = frozenset({"hide-input", "hide_input"})
REMOVE_OUTPUT_TAGS = frozenset({"remove-output", "remove_output"})
HEADLINE_TAG = "headline"

TEXT = {
    "en": {
        "contents": "Contents",
        "index_title": "Reports {wave}",
        "index_intro": "Survey wave {wave}. Data {data_hash}. {ok} of {total} reports rendered{failed}.",
        "failed_note": ", {n} failed",
        "overview": "Overviews",
        "accounts": "Accounts",
        "account": "Account",
        "report": "Report",
        "n_client": "Client answers",
        "n_staff": "Team answers",
        "nps": "Client NPS [95% CI]",
        "status": "Status",
        "ok": "ok",
        "failed": "failed",
        "partial": "partial notebook",
        "notebook": "executed notebook",
        "nps_note": "NPS on the −100…100 scale with its adjusted-Wald 95% interval; – = no answers.",
    },
    "fi": {
        "contents": "Sisällys",
        "index_title": "Raportit {wave}",
        "index_intro": "Kyselykierros {wave}. Aineisto {data_hash}. {ok}/{total} raporttia valmiina{failed}.",
        "failed_note": ", {n} epäonnistui",
        "overview": "Yleiskuvat",
        "accounts": "Asiakkuudet",
        "account": "Asiakkuus",
        "report": "Raportti",
        "n_client": "Asiakasvastauksia",
        "n_staff": "Tiimin vastauksia",
        "nps": "Asiakkaiden NPS [95 %:n LV]",
        "status": "Tila",
        "ok": "ok",
        "failed": "epäonnistui",
        "partial": "keskeneräinen muistio",
        "notebook": "ajettu muistio",
        "nps_note": "NPS asteikolla −100…100 ja sen 95 %:n luottamusväli (adjusted Wald); – = ei vastauksia.",
    },
}


class ReportError(ValueError):
    """A report or batch cannot start: unknown account, wave without data, missing notebook, …"""


class ParameterError(ReportError):
    """A parameter the notebook does not declare, or a value of the wrong type."""


class RenderError(RuntimeError):
    """A notebook failed to execute or export; ``result`` says why and where the partial notebook is."""

    def __init__(self, message: str, result: ReportResult | None = None):
        super().__init__(message)
        self.result = result


# ---------------------------------------------------------------------------
# Slugs
# ---------------------------------------------------------------------------
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def slugify(text: object, *, max_length: int = 48) -> str:
    """A file-name-safe, readable slug: lower-case letters and digits joined by hyphens.

    Parameters
    ----------
    text : str
        An account name, id or any label.
    max_length : int
        Longest slug kept (cut at a character, hyphens trimmed).

    Returns
    -------
    str
        Only Unicode letters, digits and ``-``; never starts or ends with ``-``;
        may be empty.

    Notes
    -----
    Finnish and Swedish letters stay as they are (``Mäkelä`` → ``mäkelä``): the
    reports are read by people who write these names every day, and every
    current file system and browser handles them (links in ``index.html`` are
    percent-encoded).  The text is NFKC-normalised first, so look-alike
    compatibility characters (full-width ``／``, ligatures) become their plain
    forms before anything but letters and digits — slashes, dots, quotes,
    semicolons, spaces — turns into a hyphen.  A slug therefore cannot climb
    out of its folder (``../../etc/x`` → ``etc-x``) or mean anything to a shell.

    Examples
    --------
    >>> slugify("Mäkelä Rakennus")
    'mäkelä-rakennus'
    >>> slugify("../../etc/x")
    'etc-x'
    >>> slugify("\\"'; import os")
    'import-os'
    """
    s = unicodedata.normalize("NFKC", "" if text is None else str(text)).casefold()
    s = unicodedata.normalize("NFC", s)
    s = _NOT_WORD.sub("-", s).strip("-")
    return s[:max_length].strip("-")


def account_slugs(accounts: Any, *, id_column: str = "account_id", name_column: str = "name") -> dict[str, str]:
    """A unique, stable file slug for every account: ``<name>-<id>``.

    Parameters
    ----------
    accounts : DataFrame
        One row per account (:func:`helpers.store.load_accounts`).
    id_column, name_column : str
        Columns with the account id and the display name.

    Returns
    -------
    dict
        account_id → slug, e.g. ``{"A002": "mäkelä-rakennus-a002"}``.

    Notes
    -----
    The id makes slugs unique even when two accounts share a name, and keeps an
    account's file name the same from wave to wave.  Should two slugs still
    coincide (ids that differ only in punctuation or case, such as ``A-1`` and
    ``a/1``), each of them gets the first 8 hex digits of the SHA-1 of its id
    appended — the same suffix whatever the order of the accounts.

    Examples
    --------
    >>> import pandas as pd
    >>> account_slugs(pd.DataFrame({"account_id": ["A1", "A2"], "name": ["Oy Ab", "Oy Ab"]}))
    {'A1': 'oy-ab-a1', 'A2': 'oy-ab-a2'}
    """
    ids = [str(a) for a in accounts[id_column]]
    names = list(accounts[name_column]) if name_column in accounts else [""] * len(ids)
    base = {}
    for account_id, name in zip(ids, names):
        parts = [p for p in (slugify(name), slugify(account_id, max_length=24)) if p]
        base[account_id] = "-".join(parts) or "account"
    seen: dict[str, list[str]] = {}
    for account_id, slug in base.items():
        seen.setdefault(slug, []).append(account_id)
    out = {}
    for account_id, slug in base.items():
        if len(seen[slug]) > 1:
            slug = f"{slug}-{hashlib.sha1(account_id.encode()).hexdigest()[:8]}"
        out[account_id] = slug
    return out


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader sees the old file or the complete new one, never half a file; if
    writing fails, the temporary file is removed and ``path`` is untouched.

    Parameters
    ----------
    path : path
        Destination.  Its folder must exist.
    data : str or bytes
        Content; text is written as UTF-8.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def _read_notebook(path: str | Path) -> tuple[str, str]:
    """A notebook file's text and the SHA-256 of its bytes, from one read (:class:`ReportError` if not UTF-8).

    The batch sends this text to the workers, so every report runs the very
    notebook whose hash is in its key, even if the file is edited meanwhile.
    """
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8"), hashlib.sha256(data).hexdigest()
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path} is not a readable notebook: {exc}") from None


def code_hash() -> str:
    """A short hash of what the reports compute with: the helpers package's source (``*.py``, ``*.yml``)
    and the instrument in use (``$FLAMEKIT_INSTRUMENT``, see :func:`helpers.instrument.load_instrument`),
    so that a changed helper or instrument re-renders."""
    h = hashlib.sha256()
    pkg = Path(__file__).parent
    files = sorted([*pkg.glob("*.py"), *pkg.glob("*.yml"), *pkg.glob("*.yaml")])
    own = os.environ.get("FLAMEKIT_INSTRUMENT")
    if own and Path(own).is_file():
        files.append(Path(own))
    for p in files:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------
_TYPE_CHECKS = {
    "str": (lambda v: isinstance(v, str), "a string"),
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number"),
    "float": (lambda v: isinstance(v, (int, float)) and not isinstance(v, bool), "a number"),
    "bool": (lambda v: isinstance(v, bool), "True or False"),
}


def notebook_parameters(notebook: str | Path) -> dict[str, dict[str, Any]]:
    """The parameters a notebook declares in its cell tagged ``parameters``.

    Parameters
    ----------
    notebook : path
        The ``.ipynb`` file.

    Returns
    -------
    dict
        name → {"name", "inferred_type_name", "default", "help"}, as
        :func:`papermill.inspect_notebook` gives them.

    Raises
    ------
    ReportError
        No file at ``notebook``, or not a notebook (not UTF-8 JSON).
    """
    import papermill as pm

    path = Path(notebook)
    if not path.is_file():
        raise ReportError(f"No notebook at {path}.")
    try:
        return dict(pm.inspect_notebook(str(path)))
    except ValueError as exc:  # also nbformat's NotJSONError and UnicodeDecodeError
        raise ReportError(f"{path} is not a readable notebook: {exc}") from None


def check_parameters(notebook: str | Path, parameters: Mapping[str, Any],
                     *, declared: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Check parameter names and simple types against the notebook before running it.

    papermill injects unknown names with only a warning, so a misspelt name
    (``acount_id``) would silently run the report with the default account.

    Parameters
    ----------
    notebook : path
        The notebook (named in messages; read unless ``declared`` is given).
    parameters : mapping
        name → value to inject.
    declared : mapping, optional
        The notebook's parameters as from :func:`notebook_parameters`.

    Returns
    -------
    dict
        The parameters, unchanged, as a plain dict.

    Raises
    ------
    ParameterError
        A name the notebook does not declare (with the closest declared name), or
        a value whose type differs from the declared ``str``/``int``/``float``/``bool``.
    """
    declared = notebook_parameters(notebook) if declared is None else declared
    name = Path(notebook).name
    listing = ", ".join(f"{k} ({v.get('inferred_type_name') or '?'})" for k, v in declared.items()) or "none"
    for key, value in parameters.items():
        if key not in declared:
            close = difflib.get_close_matches(key, list(declared), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            raise ParameterError(
                f"Unknown parameter '{key}' for {name}.{hint} The notebook's parameters are: {listing}. "
                "(papermill would only warn and run the report with the default value.)"
            )
        type_name = (declared[key].get("inferred_type_name") or "").strip()
        check = _TYPE_CHECKS.get(type_name)
        if check and not check[0](value):
            raise ParameterError(
                f"Parameter '{key}' of {name} must be {check[1]} ({type_name}); got {value!r} "
                f"({type(value).__name__})."
            )
    return dict(parameters)


def inject_parameters(nb: Any, parameters: Mapping[str, Any], *, kernel_name: str = KERNEL_NAME,
                      language: str = "python") -> Any:
    """A copy of ``nb`` with the parameter values in a cell after the ``parameters`` cell.

    Parameters
    ----------
    nb : NotebookNode
        The notebook as read by :func:`nbformat.read`.
    parameters : mapping
        name → value (str, int, float, bool or None).
    kernel_name, language : str
        Select papermill's translator (Python by default).

    Returns
    -------
    NotebookNode
        The copy.  The new cell is tagged ``injected-parameters`` and has that
        id; an earlier injected cell is replaced; ``metadata.papermill.parameters``
        records the values — as ``papermill`` does, minus its random cell id and
        run timestamps, so the same inputs give the same file.

    Notes
    -----
    Strings go through papermill's escaping (``unicode_escape``, quotes
    backslashed), so a value such as ``"'; import os`` stays a string literal.
    """
    import nbformat
    from papermill.translators import translate_parameters

    nb = copy.deepcopy(nb)
    source = translate_parameters(kernel_name, language, dict(parameters), "Parameters")
    cell = nbformat.v4.new_code_cell(source=source)
    cell.metadata["tags"] = ["injected-parameters"]
    if nb.get("nbformat_minor", 0) >= 5:
        cell["id"] = "injected-parameters"
    else:
        cell.pop("id", None)
    tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
    injected = next((i for i, t in enumerate(tags) if "injected-parameters" in t), None)
    params_at = next((i for i, t in enumerate(tags) if "parameters" in t), None)
    if injected is not None:
        nb.cells[injected] = cell
    elif params_at is not None:
        nb.cells.insert(params_at + 1, cell)
    else:
        nb.cells.insert(0, cell)
    _ensure_cell_ids(nb)
    nb.metadata.setdefault("papermill", {})["parameters"] = dict(parameters)
    return nb


def _ensure_cell_ids(nb: Any) -> None:
    """Give cells without an id a deterministic one (nbformat ≥ 4.5 needs ids; nbformat's are random)."""
    if nb.get("nbformat_minor", 0) < 5:
        return
    used = {c.get("id") for c in nb.cells if c.get("id")}
    for i, c in enumerate(nb.cells):
        if not c.get("id"):
            new = f"cell-{i}"
            while new in used:
                new += "x"
            c["id"] = new
            used.add(new)


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------
_ALLOWED_TAGS = frozenset({
    "a", "abbr", "acronym", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
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
    s = re.sub(r"\\(.)", r"\1", md)
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


# ---------------------------------------------------------------------------
# Execution: one warm kernel per worker
# ---------------------------------------------------------------------------
_KERNEL_WARMUP = r'''
for __flamekit_statement in %r:
    try:
        exec(__flamekit_statement, {})
    except Exception:
        pass
del __flamekit_statement
'''

_KERNEL_SETUP = r'''
def __flamekit_setup():
    import gc, os, sys, types, warnings
    try:
        import matplotlib
        import matplotlib.pyplot as plt
        import matplotlib.units
        plt.figure()  # resolves the backend and turns interactive mode on, as a report's first figure would
        plt.close("all")
        rc = matplotlib.rcParams.copy()
        units = dict(matplotlib.units.registry)
    except ImportError:
        rc = units = None
    with __import__("contextlib").suppress(ImportError):
        import pandas
    state = types.ModuleType("_flamekit_kernel_state")
    state.cwd, state.path, state.environ = os.getcwd(), list(sys.path), dict(os.environ)
    state.filters, state.rc, state.units = list(warnings.filters), rc, units
    sys.modules["_flamekit_kernel_state"] = state
    # What is loaded now lives as long as the kernel: keep it out of every later garbage collection,
    # which then only looks at what the reports create (a full collection drops from ~0.1 s to a few ms).
    gc.collect()
    gc.freeze()
__flamekit_setup()
del __flamekit_setup
'''

_KERNEL_RESET = r'''
def __flamekit_reset(cwd, seed):
    import os, random, sys, warnings
    state = sys.modules["_flamekit_kernel_state"]
    get_ipython().reset(new_session=True)  # also collects the previous report's garbage
    os.chdir(cwd)
    sys.path[:] = state.path
    os.environ.clear()
    os.environ.update(state.environ)
    warnings.filters[:] = state.filters
    getattr(warnings, "_filters_mutated", lambda: None)()
    for module in list(sys.modules.values()):
        registry = getattr(module, "__warningregistry__", None)
        if isinstance(registry, dict):
            registry.clear()
    mpl = sys.modules.get("matplotlib")
    if mpl is not None and state.rc is not None:
        import matplotlib.pyplot as plt
        import matplotlib.units
        plt.close("all")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dict.update(mpl.rcParams, state.rc)
        matplotlib.units.registry.clear()
        matplotlib.units.registry.update(state.units)
    pd = sys.modules.get("pandas")
    if pd is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.reset_option("all")
    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(seed)
__flamekit_reset(%r, 0)
'''


def _kernel_env(threads: int | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a report kernel: ``base`` (default: this process's) with the settings that keep
    reports reproducible."""
    env = dict(os.environ if base is None else base)
    env["PYTHONHASHSEED"] = "0"
    env.pop("MPLBACKEND", None)  # a shell's MPLBACKEND=Agg would stop the kernel from showing figures
    env.pop("PYTHONEXECUTABLE", None)  # as jupyter_client removes it for Python kernels
    # One BLAS thread per kernel whatever the number of jobs (a report's matrices are small, and the thread
    # count must not change floating-point results between runs); DuckDB gets the worker's share of cores.
    env.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    if threads:
        env["FLAMEKIT_DUCKDB_THREADS"] = str(int(threads))
    return env


def _kernel_cwd() -> str:
    """Where report kernels start (each report then runs in its notebook's folder)."""
    return str(NOTEBOOKS if NOTEBOOKS.is_dir() else Path.cwd())


async def _wait_for_kernel(kc: Any, *, timeout: float) -> None:
    """Wait until a new kernel answers on its shell channel and its IOPub channel is connected.

    ``KernelClient.wait_for_ready`` does the same but then listens to IOPub
    until it has been silent for 0.2 s — a fixed 0.2 s, with the CPU idle, for
    every kernel a batch starts.  Here IOPub counts as connected as soon as
    the ``idle`` status of the ``kernel_info`` request arrives on it; if it
    does not come within 0.2 s the request is sent again, as
    ``wait_for_ready`` does.

    Raises
    ------
    RuntimeError
        The kernel died, or did not answer within ``timeout`` seconds.
    """
    from queue import Empty

    deadline = time.monotonic() + timeout
    while True:
        msg_id = kc.kernel_info()
        with contextlib.suppress(Empty):
            reply = await kc.shell_channel.get_msg(timeout=1)
            if reply["msg_type"] == "kernel_info_reply":
                while True:  # until this request's idle status, or 0.2 s without a message
                    msg = await kc.iopub_channel.get_msg(timeout=0.2)
                    if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                            and msg["parent_header"].get("msg_id") == msg_id):
                        kc._handle_kernel_info_reply(reply)  # protocol version, as wait_for_ready does
                        return
        if not await kc.is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class _KernelFailure(RuntimeError):
    pass


class ReportWorker:
    """Executes notebooks one after another in one warm Jupyter kernel and exports them.

    Parameters
    ----------
    kernel_name : str
        Jupyter kernel (default ``python3``).
    timeout : float
        Seconds one cell may run; a longer cell fails the report and the kernel
        is replaced.
    startup_timeout : float
        Seconds to wait for a new kernel.
    warmup : sequence of str
        Import statements run in every new kernel before its first notebook
        (errors ignored), e.g. from :func:`_notebook_imports`.
    threads : int, optional
        DuckDB threads per connection in the kernel (``$FLAMEKIT_DUCKDB_THREADS``);
        the batch gives each worker its share of the cores.  BLAS libraries
        always get one thread per kernel.
    kernel_template : str, optional
        Socket of a :class:`helpers.kernels.KernelTemplate`: new kernels are
        forked from it, with the imports done (else, or when it cannot serve,
        launched as usual).
    env : mapping, optional
        Environment the kernels start from (default: this process's); the
        batch passes its own, which its kernel template has too.

    Notes
    -----
    Use as a context manager, or call :meth:`close`.  Between notebooks the
    kernel is reset (see the module notes); after any failure it is replaced by
    a fresh one before the next notebook.

    Examples
    --------
    >>> with ReportWorker() as worker:                                   # doctest: +SKIP
    ...     result = worker.render({"notebook": "nb.ipynb", "parameters": {}, "out_dir": "out",
    ...                             "slug": "nb", "name": "nb"})
    """

    def __init__(self, *, kernel_name: str = KERNEL_NAME, timeout: float = DEFAULT_TIMEOUT,
                 startup_timeout: float = 60, warmup: Sequence[str] = (), threads: int | None = None,
                 kernel_template: str | None = None, env: Mapping[str, str] | None = None):
        self.kernel_name = kernel_name
        self.threads = threads
        self.kernel_template = kernel_template
        self.env = None if env is None else dict(env)
        self.warmup = list(warmup)
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.km = None
        self.kc = None
        self.kernel_starts = 0
        self._needs_restart = False
        self._ipc_dir: str | None = None
        import asyncio  # here, not at the top: `flamekit --help` imports this module

        self._loop = asyncio.new_event_loop()
        self._exporters: dict[tuple[bool, str], Any] = {}
        self._notebooks: dict[str, Any] = {}

    # -- kernel ------------------------------------------------------------
    def start(self) -> None:
        """Start the kernel now (it is otherwise started on the first notebook)."""
        self._run(self._ensure_kernel())

    def close(self) -> None:
        """Shut the kernel down and close the event loop."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(Exception):
            self._run(self._stop_kernel())
        self._loop.close()
        if self._ipc_dir is not None:
            import shutil

            shutil.rmtree(self._ipc_dir, ignore_errors=True)

    def __enter__(self) -> ReportWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    async def _stop_kernel(self) -> None:
        kc, km = self.kc, self.km
        self.kc = self.km = None
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        if km is not None:
            # Kill the kernel and wait for its process here: shutdown_kernel(now=True) polls it every 0.1 s,
            # so every batch's end waited a tenth of a second for kernels that were already gone.  The
            # provisioner's own wait then lets go of the process, so shutdown_kernel signals no one.
            provisioner = getattr(km, "provisioner", None)
            process = getattr(provisioner, "process", None)
            if process is not None:
                with contextlib.suppress(Exception):
                    await provisioner.kill()
                    process.wait(timeout=5)
                    await provisioner.wait()
            with contextlib.suppress(Exception):
                await km.shutdown_kernel(now=True)
            with contextlib.suppress(Exception):
                await km.cleanup_resources()

    async def _start_kernel(self) -> None:
        from jupyter_client.manager import AsyncKernelManager

        self._needs_restart = True  # until the kernel is fully prepared
        # IPC sockets in a private folder: local only, and no "running over TCP without encryption" warning.
        if self._ipc_dir is None:
            self._ipc_dir = tempfile.mkdtemp(prefix="flamekit-kernel-")
        ip = os.path.join(self._ipc_dir, f"k{self.kernel_starts}")
        if self.kernel_template:
            from .kernels import ForkingKernelManager

            km = ForkingKernelManager(kernel_name=self.kernel_name, transport="ipc", ip=ip,
                                      template_address=self.kernel_template)
        else:
            km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc", ip=ip)
        await km.start_kernel(env=_kernel_env(self.threads, self.env),
                              extra_arguments=["--HistoryManager.enabled=False"], cwd=_kernel_cwd())
        kc = km.client()
        kc.start_channels()
        try:
            await _wait_for_kernel(kc, timeout=self.startup_timeout)
        except Exception:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
            raise
        self.km, self.kc = km, kc
        self.kernel_starts += 1
        if self.warmup:
            await self._silent(_KERNEL_WARMUP % (self.warmup,), "import the notebooks' modules",
                               timeout=max(self.timeout, self.startup_timeout))
        await self._silent(_KERNEL_SETUP, "prepare the kernel")
        self._needs_restart = False

    async def _ensure_kernel(self) -> None:
        alive = self.km is not None and await self.km.is_alive()
        if self._needs_restart or not alive:
            await self._stop_kernel()
            await self._start_kernel()

    async def _silent(self, code: str, what: str, *, timeout: float | None = None) -> None:
        outputs: list[str] = []

        def hook(msg: dict) -> None:
            if msg["msg_type"] in ("stream", "error"):
                c = msg["content"]
                outputs.append(c.get("text") or f"{c.get('ename')}: {c.get('evalue')}")

        reply = await self.kc.execute_interactive(code, silent=False, store_history=False, allow_stdin=False,
                                                  timeout=timeout or self.startup_timeout, output_hook=hook)
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise _KernelFailure(f"Could not {what}: {content.get('ename')}: {content.get('evalue')} "
                                 + "".join(outputs)[-500:])

    async def _execute(self, nb: Any, cwd: Path, progress: dict) -> None:
        from nbclient import NotebookClient

        await self._ensure_kernel()
        try:
            await self._silent(_KERNEL_RESET % str(cwd), "reset the kernel")
        except Exception:  # the previous notebook left the kernel unusable: not this report's fault
            self._needs_restart = True
            await self._ensure_kernel()
            await self._silent(_KERNEL_RESET % str(cwd), "reset the kernel")
        client = NotebookClient(nb, km=self.km, kernel_name=self.kernel_name, timeout=self.timeout,
                                startup_timeout=self.startup_timeout, allow_errors=False, record_timing=False,
                                interrupt_on_timeout=False, coalesce_streams=True,
                                skip_cells_with_tag="skip-execution", resources={"metadata": {"path": str(cwd)}},
                                on_cell_start=lambda cell, cell_index: progress.__setitem__("cell", cell_index))
        client.kc = self.kc
        await client.async_execute()

    # -- notebooks -----------------------------------------------------------
    def _parse(self, source: str) -> Any:
        """The notebook parsed from its text, once per worker (the batch sends the same text with each report)."""
        if source not in self._notebooks:
            import nbformat

            self._notebooks[source] = nbformat.reads(source, as_version=4)
        return self._notebooks[source]

    def _exporter(self, with_code: bool, language: str) -> Any:
        key = (bool(with_code), language)
        if key not in self._exporters:
            self._exporters[key] = html_exporter(with_code=with_code, language=language)
        return self._exporters[key]

    def render(self, task: Mapping[str, Any]) -> dict[str, Any]:
        """Execute one notebook and write ``<slug>.ipynb`` and ``<slug>.html`` into ``out_dir``.

        Parameters
        ----------
        task : mapping
            notebook (path), source (optional: the notebook's text, else the
            file is read), parameters (dict, already checked), out_dir, slug,
            name, title (optional: else :func:`notebook_title`), with_code,
            language; anything else but source is passed through to the result.

        Returns
        -------
        dict
            The task's fields plus status ("ok" or "failed"), error,
            error_detail, html, ipynb, failed_ipynb, headline, title,
            seconds, seconds_execute, seconds_export.  A failure leaves
            ``<slug>.failed.ipynb`` (the partial notebook) and removes any
            earlier ``<slug>.html``/``.ipynb``; a success removes an earlier
            ``<slug>.failed.ipynb``.  Nothing is raised for a failing notebook.
        """
        import nbformat

        t0 = time.perf_counter()
        out_dir = Path(task["out_dir"])
        slug = task["slug"]
        html_path, nb_path = out_dir / f"{slug}.html", out_dir / f"{slug}.ipynb"
        failed_path = out_dir / f"{slug}.failed.ipynb"
        notebook = Path(task["notebook"])
        language = task.get("language", "en")
        result = {k: v for k, v in task.items() if k not in ("out_dir", "source")}
        result.update(status="failed", error=None, error_detail=None, html=None, ipynb=None, failed_ipynb=None,
                      headline=None, seconds_execute=None, seconds_export=None, worker_pid=os.getpid())
        progress: dict[str, Any] = {"cell": None}
        nb = None
        stage = "execute"
        try:
            source = task.get("source")
            nb = inject_parameters(self._parse(notebook.read_text(encoding="utf-8") if source is None else source),
                                   task["parameters"], kernel_name=self.kernel_name)
            self._run(self._execute(nb, notebook.parent.resolve(), progress))
            t1 = time.perf_counter()
            result["seconds_execute"] = round(t1 - t0, 3)
            stage = "export"
            _normalise_executed(nb)
            title = task.get("title")
            wave = str(task.get("wave") or "")
            if not title and task.get("kind") == "account":
                kind = notebook_title(nb, default="Report", outputs=False)
                title = " · ".join(p for p in (f"{task.get('name')} ({task.get('account_id')})", kind, wave) if p)
            elif not title:
                title = notebook_title(nb, default=task.get("name") or slug)
                title = f"{title} · {wave}" if wave and wave not in title else title
            page = to_html(nb, title=title, exporter=self._exporter(task.get("with_code", False), language),
                           language=language, path=notebook.parent)
            atomic_write(nb_path, nbformat.writes(nb))
            atomic_write(html_path, page)
            failed_path.unlink(missing_ok=True)
            result.update(status="ok", html=str(html_path), ipynb=str(nb_path), title=title,
                          headline=headline_from_notebook(nb), seconds_export=round(time.perf_counter() - t1, 3))
        except BaseException as exc:  # a report's failure must not stop the batch
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            if stage == "execute":
                self._needs_restart = True
            result["error"], result["error_detail"] = _describe_failure(exc, nb, progress.get("cell"),
                                                                        self.timeout, stage)
            for p in (html_path, nb_path):
                p.unlink(missing_ok=True)
            if nb is not None:
                with contextlib.suppress(Exception):
                    _normalise_executed(nb)
                    atomic_write(failed_path, nbformat.writes(nb))
                    result["failed_ipynb"] = str(failed_path)
        result["seconds"] = round(time.perf_counter() - t0, 3)
        result["kernel_starts"] = self.kernel_starts
        if self.km is not None:
            result["kernel"] = "forked" if getattr(self.km, "forked", False) else "launched"
        return result


_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{4,16}>")


def _normalise_executed(nb: Any) -> None:
    """Make an executed notebook independent of the kernel's history and memory layout.

    ``Out[n]`` gets its cell's ``In[n]``; object addresses in plain-text reprs
    (``<Styler at 0x7f…>``, which differ from process to process) become
    ``at 0x…``; cells get ids.
    """
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "execute_result":
                out["execution_count"] = cell.get("execution_count")
            text = out.get("data", {}).get("text/plain")
            if isinstance(text, str) and " at 0x" in text:
                out["data"]["text/plain"] = _ADDRESS.sub("at 0x…>", text)
        cell.get("metadata", {}).pop("execution", None)
    _ensure_cell_ids(nb)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _describe_failure(exc: BaseException, nb: Any, cell_index: int | None, timeout: float,
                      stage: str) -> tuple[str, str]:
    """A one-line reason for the index and a longer detail for the manifest."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    where = ""
    if nb is not None and cell_index is not None and 0 <= cell_index < len(nb.cells):
        cell = nb.cells[cell_index]
        first = next((ln.strip() for ln in cell.get("source", "").splitlines() if ln.strip()), "")
        where = f" in cell {cell_index + 1}" + (f" ({first[:60]})" if first else "")
    detail = _ANSI.sub("", "".join(traceback.format_exception(exc)))
    if isinstance(exc, CellTimeoutError):
        msg = f"Timeout: a cell ran longer than {timeout:g} s{where}; the kernel was replaced."
    elif isinstance(exc, DeadKernelError):
        msg = f"The kernel died{where} (killed, or out of memory); a fresh kernel took over."
    elif isinstance(exc, CellExecutionError):
        msg = f"{exc.ename}: {_ANSI.sub('', str(exc.evalue))}{where}"
        detail = _ANSI.sub("", str(exc))
    elif stage == "export":
        msg = f"HTML export failed: {type(exc).__name__}: {exc}"
    else:
        msg = f"{type(exc).__name__}: {exc}"
    return msg.strip(), detail


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------
@dataclass
class ReportResult:
    """One rendered (or failed) report of a batch.

    Attributes
    ----------
    name : str
        Account name, or the overview's name ("portfolio", "drivers").
    kind : str
        "account" or the overview's name.
    slug : str
        File stem in the wave's folder.
    status : str
        "ok" or "failed".
    action : str
        "rendered", "unchanged" (inputs as last time, files kept) or "kept"
        (not part of this run; listed from the previous manifest).
    kernel : str
        How the kernel that ran it started: "forked" from the batch's kernel
        template (:mod:`helpers.kernels`) or "launched" as a new process.
    """

    name: str
    kind: str
    slug: str
    status: str
    action: str = "rendered"
    account_id: str | None = None
    title: str | None = None
    notebook: str | None = None
    notebook_sha256: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    key: str | None = None
    data_hash: str | None = None
    html: str | None = None
    ipynb: str | None = None
    failed_ipynb: str | None = None
    error: str | None = None
    error_detail: str | None = None
    headline: dict[str, Any] | None = None
    seconds: float | None = None
    seconds_execute: float | None = None
    seconds_export: float | None = None
    worker_pid: int | None = None
    kernel_starts: int | None = None
    kernel: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportResult:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    Attributes
    ----------
    wave : str
    out_dir : Path
        ``<out_root>/<wave>``.
    index, manifest : Path
        ``index.html`` and ``manifest.json`` in ``out_dir``.
    reports : list of ReportResult
        Overviews first, then accounts by name.
    seconds : float
        Wall time of the batch.
    """

    wave: str
    out_dir: Path
    index: Path
    manifest: Path
    reports: list[ReportResult]
    seconds: float = 0.0

    @property
    def failed(self) -> list[ReportResult]:
        """Reports that failed in this run."""
        return [r for r in self.reports if r.status == "failed" and r.action != "kept"]

    @property
    def exit_code(self) -> int:
        """0 when every report of this run rendered (or was unchanged), else 1."""
        return 1 if self.failed else 0


# ---------------------------------------------------------------------------
# Pool
# ---------------------------------------------------------------------------
_WORKER: ReportWorker | None = None
# Imported once by the fork server, so each worker process starts warm: what a worker uses, and nothing else
# (the store, pandas and the progress bar stay in the parent), since the workers wait for these imports.
_PRELOAD = ["helpers._startup", "helpers.reports", "nbformat", "nbclient", "nbconvert", "jupyter_client", "nh3",
            "papermill"]


def _mp_context() -> Any:
    """The fork server where available (workers fork from a process with the imports done), else spawn."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _start_fork_server() -> None:
    """Start the fork server now: its imports then run beside the batch's own preparation.

    The fork server otherwise starts with the first worker, after the batch
    has opened the store and checked its input, and every worker waits for
    its imports.  Starting it costs nothing when the batch later stops on bad
    input: it holds no kernel and ends with the calling process.
    """
    ctx = _mp_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with contextlib.suppress(Exception):  # the pool starts it itself if this fails
            forkserver.ensure_running()


# Imported by every report's first styled table and first PNG: in the template, once, not once per kernel.
_KERNEL_PRELOAD = ("import pandas.io.formats.style", "import PIL.PngImagePlugin")


def _start_kernel_template(kernel_name: str, imports: Sequence[str]) -> Any:
    """A :class:`helpers.kernels.KernelTemplate` for the batch's kernels, given the notebooks' ``imports``
    (``None`` where it cannot run)."""
    from .kernels import KernelTemplate

    template = KernelTemplate.start(env=_kernel_env(), cwd=_kernel_cwd(), kernel_name=kernel_name)
    if template is not None:
        template.preload([*imports, *_KERNEL_PRELOAD])
    return template


def _imports_of(notebooks: Iterable[str | Path]) -> list[str]:
    """:func:`_notebook_imports` of the notebook files that exist (a missing or unreadable one is reported later)."""
    sources = []
    for path in notebooks:
        with contextlib.suppress(OSError, ValueError):
            sources.append(Path(path).read_text(encoding="utf-8"))
    return _notebook_imports(sources)


def _notebooks_parameters(paths: Sequence[str | Path]) -> list[dict[str, dict[str, Any]]]:
    return [notebook_parameters(p) for p in paths]


def _inspect_notebooks(paths: Sequence[str | Path]) -> list[dict[str, dict[str, Any]]]:
    """:func:`notebook_parameters` of each notebook, read in a process forked from the fork server.

    The fork server has papermill imported already, so the batch's own
    process never imports it (a quarter of a second of CPU, spent while the
    kernels start).  Errors (:class:`ReportError`) come back as raised.
    Without a fork server the notebooks are read here.
    """
    ctx = _mp_context()
    if ctx.get_start_method() != "forkserver":
        return _notebooks_parameters(paths)
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(_notebooks_parameters, [str(p) for p in paths]).result()


def _init_pool_worker(kwargs: dict[str, Any]) -> None:
    from . import _startup  # noqa: F401  (done in the fork server already; here for the spawn start method)

    import signal
    from multiprocessing.util import Finalize

    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    exporter = kwargs.pop("exporter", None)
    _WORKER = ReportWorker(**kwargs)
    Finalize(_WORKER, _WORKER.close, exitpriority=10)
    with contextlib.suppress(Exception):  # a kernel that cannot start fails the first report, with the reason
        _WORKER.start()  # every worker warms its kernel at once, while the parent prepares the batch
    if exporter:
        with contextlib.suppress(Exception):
            _WORKER._exporter(*exporter)
    import gc

    gc.collect()
    gc.freeze()  # the imports live as long as the worker; later collections skip them


def _pool_ready() -> int:
    return os.getpid()


def _pool_render(task: dict[str, Any]) -> dict[str, Any]:
    assert _WORKER is not None
    return _WORKER.render(task)


class _Pool:
    """Worker processes, each with one warm kernel, started as soon as the batch knows it needs them."""

    def __init__(self, workers: int, worker_kwargs: dict[str, Any]):
        import threading
        from concurrent.futures import ProcessPoolExecutor

        self.ex = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                                      initializer=_init_pool_worker, initargs=(worker_kwargs,))

        def start() -> None:
            for _ in range(workers):  # each submit starts one more process until all are up
                self.ex.submit(_pool_ready)

        # Starting the first worker waits for the fork server's imports: do it beside the caller's work.
        self._starter = threading.Thread(target=start, name="flamekit-pool-start", daemon=True)
        self._starter.start()

    def render(self, tasks: list[dict[str, Any]], *, progress: bool, desc: str) -> Iterator[dict[str, Any]]:
        """Render the tasks; yield results as they finish (a dead worker fails only its reports)."""
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc=desc, unit="report", disable=not progress, file=sys.stderr,
                   dynamic_ncols=True)
        failed = 0
        self._starter.join()
        try:
            futures = {self.ex.submit(_pool_render, t): t for t in tasks}
            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except Exception as exc:
                    hint = (" Worker processes import the calling script again: call run_batch under "
                            "`if __name__ == \"__main__\":` in a script." if isinstance(exc, BrokenProcessPool)
                            else "")
                    res = {k: v for k, v in futures[fut].items() if k != "out_dir"}
                    res.update(status="failed", error=f"The worker process failed: {type(exc).__name__}: {exc}{hint}",
                               error_detail="".join(traceback.format_exception(exc)))
                failed += res.get("status") != "ok"
                bar.set_postfix(failed=failed, refresh=False)
                bar.update(1)
                yield res
        finally:
            bar.close()

    def close(self, *, cancel: bool = False, terminate: bool = False) -> None:
        """Stop the workers and their kernels.

        ``cancel`` drops reports not yet started (running ones finish, so no
        file is left half-written); ``terminate`` also stops workers at once —
        only safe before any report started.  A kernel whose worker is gone
        shuts itself down.
        """
        self._starter.join()
        processes = list(getattr(self.ex, "_processes", {}).values()) if terminate else []
        self.ex.shutdown(wait=not (cancel or terminate), cancel_futures=cancel or terminate)
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.terminate()


def _notebook_imports(sources: Iterable[str]) -> list[str]:
    """The top-level import statements of the notebooks' code cells (from their texts), for warming a kernel up."""
    import ast

    found: list[str] = []
    for source in sources:
        try:
            nb = json.loads(source)
        except ValueError:
            continue
        cells = nb.get("cells") if isinstance(nb, dict) else None
        for cell in cells if isinstance(cells, list) else []:
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            src = cell.get("source", "")
            try:
                tree = ast.parse(src if isinstance(src, str) else "".join(src))
            except SyntaxError:
                continue
            found += [ast.unparse(node) for node in tree.body
                      if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and not node.level)]
    return list(dict.fromkeys(found))


# ---------------------------------------------------------------------------
# Single notebook
# ---------------------------------------------------------------------------
def render_notebook(
    notebook: str | Path,
    html_path: str | Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    with_code: bool = False,
    language: str = "en",
    title: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    kernel_name: str = KERNEL_NAME,
) -> ReportResult:
    """Execute one parameterised notebook and export it to a self-contained HTML file.

    Parameters
    ----------
    notebook : path
        The ``.ipynb`` with a cell tagged ``parameters``.
    html_path : path
        Where the HTML goes; the executed notebook is written beside it
        (same stem, ``.ipynb``).
    parameters : mapping, optional
        Values to inject; every name must be declared by the notebook (pass ids
        as strings).
    with_code : bool
        Keep the code (analyst variant); default hidden.
    language : {"en", "fi"}
        Language of the page chrome (``lang``, the contents heading).
    title : str, optional
        ``<title>``; default the first level-1 heading (see :func:`notebook_title`).
    timeout : float
        Seconds one cell may run.
    kernel_name : str
        Jupyter kernel.

    Returns
    -------
    ReportResult

    Raises
    ------
    ParameterError
        Unknown parameter name or wrong type (nothing is run).
    ReportError
        No readable notebook at ``notebook``, an unknown ``language`` or a
        ``timeout`` that is not positive (nothing is run).
    RenderError
        The notebook raised, timed out or its kernel died, or the export failed.
        The partial notebook is kept as ``<stem>.failed.ipynb`` and no HTML is
        written; ``exc.result`` has the details.

    Examples
    --------
    >>> render_notebook("notebooks/account_report.ipynb", "reports/a001.html",      # doctest: +SKIP
    ...                 parameters={"account_id": "A001", "wave": "2026Q3"})
    """
    notebook = Path(notebook)
    html_path = Path(html_path)
    params = check_parameters(notebook, dict(parameters or {}))
    _check_options(language=language, timeout=timeout)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    stem = html_path.name[:-5] if html_path.name.endswith(".html") else html_path.name
    source, sha = _read_notebook(notebook)
    task = {"name": notebook.stem, "kind": "notebook", "notebook": str(notebook.resolve()), "source": source,
            "notebook_sha256": sha, "parameters": params, "out_dir": str(html_path.parent),
            "slug": stem, "title": title, "with_code": with_code, "language": language}
    with ReportWorker(kernel_name=kernel_name, timeout=timeout) as worker:
        res = ReportResult.from_dict(worker.render(task))
    if not res.ok:
        where = f" The partial notebook is {res.failed_ipynb}." if res.failed_ipynb else ""
        raise RenderError(f"{notebook.name} failed: {res.error}.{where}", res)
    return res


# ---------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------
_SAFE_WAVE = re.compile(r"^\w[\w .()+-]*(?<![. ])$", re.UNICODE)


def wave_folder(wave: str) -> str:
    """The folder name of a wave's reports: the label itself when it is a safe name, else its slug.

    ``2026Q3`` and ``Syksy 2025`` stay as they are; a label with slashes,
    leading dots or shell characters becomes a slug (``../x`` → ``x``).
    """
    label = unicodedata.normalize("NFC", str(wave))
    if _SAFE_WAVE.match(label) and len(label) <= 64:
        return label
    folder = slugify(label)
    if not folder:
        raise ReportError(f"Wave {wave!r} has no letters or digits to name its folder.")
    return folder


def _check_options(*, language: str, timeout: float, jobs: int = 1) -> None:
    """Raise :class:`ReportError` for an unknown language, a timeout that is not positive or fewer than 1 job."""
    if language not in LANGUAGES:
        raise ReportError(f"language must be one of {list(LANGUAGES)}, not {language!r}.")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ReportError(f"timeout must be a positive number of seconds (per cell), not {timeout!r}.")
    if int(jobs) < 1:
        raise ReportError(f"jobs must be at least 1, not {jobs}.")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("flamekit", "papermill", "nbconvert", "nbclient", "nbformat", "jupyter_client", "ipykernel",
                "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "duckdb", "nh3"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _task_key(nb_sha: str, parameters: Mapping[str, Any], data_hash: str, code: str, with_code: bool) -> str:
    blob = json.dumps({"notebook": nb_sha, "parameters": dict(parameters), "data": data_hash, "code": code,
                       "with_code": bool(with_code), "format": FORMAT_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _store_headlines(store: Path, wave: str, accounts: Sequence[str]) -> dict[str, dict[str, Any]]:
    """n per side and client NPS of these accounts in the wave, straight from the store (the index's fallback)."""
    from .scores import nps
    from .store import load_responses

    resp = load_responses(account=list(accounts), wave=wave, store=store)
    out: dict[str, dict[str, Any]] = {}
    counts = resp.groupby(["account_id", "side"]).size()
    client = resp[resp["side"] == "client"]
    net = nps(client, by=["account_id"]).set_index("account_id") if len(client) else None
    for account_id in resp["account_id"].unique():
        row = {"account_id": account_id, "wave": wave,
               "n_client": int(counts.get((account_id, "client"), 0)),
               "n_staff": int(counts.get((account_id, "staff"), 0)),
               "nps": None, "nps_ci_low": None, "nps_ci_high": None}
        if net is not None and account_id in net.index and net.loc[account_id, "n"] > 0:
            for k_out, k_in in (("nps", "nps"), ("nps_ci_low", "ci_low"), ("nps_ci_high", "ci_high")):
                row[k_out] = round(float(net.loc[account_id, k_in]), 6)
        out[str(account_id)] = row
    return out


def _resolve_extras(extra_notebooks: Mapping[str, str | Path] | None) -> dict[str, Path]:
    if extra_notebooks is None:
        return {k: p for k, p in EXTRA_NOTEBOOKS.items() if p.is_file()}
    out = {}
    for name, p in extra_notebooks.items():
        p = Path(p)
        if not p.is_file():
            raise ReportError(f"No notebook at {p} (overview '{name}').")
        if not slugify(name) or name == "account":
            raise ReportError(f"Overview name {name!r} cannot be used (it needs letters or digits, "
                              "and 'account' is taken).")
        out[str(name)] = p
    return out


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def run_batch(
    wave: str,
    *,
    accounts: Iterable[str] | None = None,
    jobs: int = 1,
    language: str = "en",
    with_code: bool = False,
    force: bool = False,
    store: str | Path | None = None,
    out_root: str | Path = "reports",
    timeout: float = DEFAULT_TIMEOUT,
    notebook: str | Path | None = None,
    extra_notebooks: Mapping[str, str | Path] | None = None,
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str = KERNEL_NAME,
    progress: bool = True,
) -> BatchResult:
    """Render every account's report for one wave, plus the overviews, an index and a manifest.

    Parameters
    ----------
    wave : str
        Survey wave, e.g. ``"2026Q3"``.
    accounts : iterable of str, optional
        Account ids to render (default: every account with answers in the
        wave).  Unknown ids, and ids without answers in the wave, are an error
        before anything runs.
    jobs : int
        Worker processes, each with one warm kernel.  The output files are the
        same whatever the number.
    language : {"en", "fi"}
        Language of the reports and the index.
    with_code : bool
        Keep the code in the HTML (analyst variant).
    force : bool
        Render even reports whose inputs have not changed.
    store : path, optional
        The store (default :func:`helpers.store.default_store`).
    out_root : path
        Reports go to ``<out_root>/<wave>/`` (the folder named by :func:`wave_folder`).
    timeout : float
        Seconds one cell may run before its report fails.
    notebook : path, optional
        The per-account notebook (default ``notebooks/account_report.ipynb``).
        It must declare ``account_id``, ``wave`` and ``store``.
    extra_notebooks : mapping, optional
        name → notebook rendered once per wave (default: ``portfolio`` and
        ``drivers`` in ``notebooks/`` when they exist; ``{}`` for none).  Each
        must declare ``store`` and ``wave`` or ``waves``.
    parameters : mapping, optional
        Further parameters, e.g. ``{"min_group_size": 5}``, passed to every
        notebook that declares them; a name no notebook declares is an error.
    kernel_name : str
        Jupyter kernel.
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    BatchResult
        ``exit_code`` is 1 when any report of this run failed.

    Raises
    ------
    ReportError
        Nothing to do or bad input: a wave without answers, unknown accounts,
        a missing notebook or parameter, an unknown language, ``jobs`` below 1
        or a ``timeout`` that is not positive.  Nothing has run then.
    helpers.store.StoreError
        No store file, or it is open for writing in another process.

    Notes
    -----
    Each notebook gets, of ``account_id``, ``wave``, ``waves`` (every wave up
    to ``wave``, comma-separated), ``store`` and ``language``, the ones its
    parameters cell declares — ids always as strings.

    Files in ``<out_root>/<wave>/``: ``<slug>.html`` and ``<slug>.ipynb`` per
    report (slugs from :func:`account_slugs`), ``<slug>.failed.ipynb`` for a
    failed one (no HTML then), ``index.html`` (every report with its headline
    figures — from the notebook's cell tagged ``headline`` whose output is
    ``application/json``, else counted from the store — and links) and
    ``manifest.json`` (parameters, data hash, package versions, timings, status
    and error of every report).  Every file is written under a temporary name
    and renamed.

    A report is skipped when its key — hash of the notebook file, its
    parameters, :func:`helpers.store.data_hash`, the helpers' source and the
    HTML options — equals the key in the previous manifest and its files exist.
    Reports of earlier runs not in this one stay listed (``action="kept"``).

    Examples
    --------
    >>> result = run_batch("2026Q3", jobs=2)          # doctest: +SKIP
    >>> result.index                                   # doctest: +SKIP
    PosixPath('reports/2026Q3/index.html')
    """
    t_start = time.perf_counter()
    started = datetime.now(timezone.utc)
    _check_options(language=language, timeout=timeout, jobs=jobs)
    _start_fork_server()  # first: its imports run beside this process's import of the store (DuckDB)
    template = None
    try:
        # The notebooks' imports warm every kernel up: done once in a template process that forks each
        # worker's kernel (helpers.kernels), or by each kernel when the template cannot serve it.
        extras_given = EXTRA_NOTEBOOKS if extra_notebooks is None else extra_notebooks
        warmup = _imports_of([notebook or ACCOUNT_NOTEBOOK, *extras_given.values()])
        template = _start_kernel_template(kernel_name, warmup)
        from .store import data_hash as store_data_hash
        from .store import default_store, load_accounts, query, waves as store_waves

        wave = str(wave)
        store_path = Path(store) if store else default_store()
        store_path = store_path.resolve()
        all_waves = store_waves(store=store_path)
        if wave not in all_waves:
            raise ReportError(f"No survey answers for wave {wave!r} in {store_path}. "
                              f"Waves in the store: {', '.join(all_waves) or 'none (ingest exports first)'}.")
        folder = wave_folder(wave)
        acc = load_accounts(store=store_path)
        names = {str(a): str(n) for a, n in zip(acc["account_id"], acc["name"])}
        in_wave = [str(a) for a in query("SELECT DISTINCT account_id FROM responses WHERE wave = ? ORDER BY account_id",
                                          [wave], store=store_path)["account_id"]]
        if accounts is None:
            ids = in_wave
        else:
            ids = list(dict.fromkeys(str(a) for a in accounts))
            unknown = [a for a in ids if a not in names]
            if unknown:
                hints = []
                folded = {k.casefold().strip(): k for k in names}
                for a in unknown:
                    same = folded.get(a.casefold().strip())
                    close = [same] if same else difflib.get_close_matches(a, list(names), n=1)
                    hints.append(f"{a!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
                raise ReportError(f"Unknown account id(s): {', '.join(hints)}. "
                                  f"The store has {len(names)} accounts, e.g. {', '.join(list(names)[:3])}.")
            quiet = [a for a in ids if a not in set(in_wave)]
            if quiet:
                raise ReportError(f"No answers in wave {wave} for account(s) {', '.join(quiet)}; "
                                  "there is nothing to report on.")
        if not ids:
            raise ReportError(f"No accounts to report on in wave {wave}.")

        nb_path = Path(notebook) if notebook else ACCOUNT_NOTEBOOK
        if not nb_path.is_file():
            raise ReportError(f"No account report notebook at {nb_path}.")
        extras = _resolve_extras(extra_notebooks)
        extra_params = dict(parameters or {})
        for key in extra_params:
            if key in BATCH_PARAMETERS:
                raise ParameterError(f"Parameter '{key}' is set by the batch itself; use run_batch's own argument.")
        offered = {"wave": wave, "waves": ",".join(all_waves[: all_waves.index(wave) + 1]), "store": str(store_path),
                   "language": language}
        out_dir = Path(out_root) / folder
        dhash = store_data_hash(store=store_path)
        chash = code_hash()
        slugs = account_slugs(acc)
        previous = {e.get("slug"): e for e in _load_manifest(out_dir / MANIFEST).get("reports", [])}

        # One task per report.  The key hashes every value the batch offers (each notebook takes the ones it
        # declares, a function of the notebook whose hash is in the key too), so it is known before the
        # notebooks' parameters are inspected and the workers can start warming up at once.
        tasks: list[dict[str, Any]] = []
        for name, path in extras.items():
            tasks.append({"name": name, "kind": name, "account_id": None, "slug": slugify(name), "notebook": path})
        for account_id in sorted(ids, key=lambda a: (names[a].casefold(), a)):
            tasks.append({"name": names[account_id], "kind": "account", "account_id": account_id,
                          "slug": slugs[account_id], "notebook": nb_path})
        sources: dict[str, tuple[str, str]] = {}  # notebook path → (text, sha256): each file read once
        for t in tasks:
            t["notebook"] = str(Path(t["notebook"]).resolve())
            if t["notebook"] not in sources:
                sources[t["notebook"]] = _read_notebook(t["notebook"])
            source, sha = sources[t["notebook"]]
            key_values = {**offered, "account_id": t["account_id"], **extra_params}
            t.update(source=source, notebook_sha256=sha, key=_task_key(sha, key_values, dhash, chash, with_code),
                     data_hash=dhash, out_dir=str(out_dir), with_code=with_code, language=language, wave=wave)
        results: dict[str, ReportResult] = {}
        to_run = []
        for t in tasks:
            prev = previous.get(t["slug"])
            if (not force and prev and prev.get("status") == "ok" and prev.get("key") == t["key"]
                    and (out_dir / f"{t['slug']}.html").is_file() and (out_dir / f"{t['slug']}.ipynb").is_file()):
                kept = {**prev, **{k: v for k, v in t.items() if k != "out_dir"}}
                kept.update(action="unchanged", seconds=0.0, seconds_execute=None, seconds_export=None,
                            html=str(out_dir / f"{t['slug']}.html"), ipynb=str(out_dir / f"{t['slug']}.ipynb"))
                results[t["slug"]] = ReportResult.from_dict(kept)
            else:
                to_run.append(t)

        pool = None
        if to_run:
            workers = max(1, min(int(jobs), len(to_run)))
            worker_kwargs = {"kernel_name": kernel_name, "timeout": timeout, "exporter": (with_code, language),
                             "threads": max(1, (os.cpu_count() or 1) // workers),
                             "warmup": warmup,
                             "kernel_template": template.address if template is not None else None,
                             "env": dict(os.environ)}  # the workers' own may be the fork server's, older
            pool = _Pool(workers, worker_kwargs)
        try:
            # Check every notebook's parameters (papermill only warns about unknown names) before anything runs.
            found = _inspect_notebooks([nb_path, *extras.values()])
            declared = dict(zip(["account", *extras], found))
            for need in ("account_id", "wave", "store"):
                if need not in declared["account"]:
                    raise ReportError(f"{nb_path.name} has no '{need}' parameter; the batch needs it to pass "
                                      f"the {need.replace('_', ' ')} of each report.")
            for name, decl in declared.items():
                if name != "account" and ("store" not in decl or not ({"wave", "waves"} & set(decl))):
                    raise ReportError(f"{extras[name].name} needs 'store' and 'wave' (or 'waves') parameters.")
            known = list(dict.fromkeys(k for d in declared.values() for k in d))
            for key in extra_params:
                if key not in known:
                    close = difflib.get_close_matches(key, known, n=1)
                    nb_list = ", ".join([nb_path.name, *(p.name for p in extras.values())])
                    raise ParameterError(
                        f"Unknown parameter '{key}': no notebook of the batch ({nb_list}) declares it."
                        + (f" Did you mean '{close[0]}'?" if close else "")
                        + f" Their parameters are: {', '.join(known)}.")
            for t in tasks:
                decl = declared[t["kind"]]
                values = dict(offered, account_id=t["account_id"])
                p = {k: values[k] for k in BATCH_PARAMETERS if k in decl and values.get(k) is not None}
                p.update({k: v for k, v in extra_params.items() if k in decl})
                t["parameters"] = check_parameters(t["notebook"], p, declared=decl)
                if t["slug"] in results:
                    results[t["slug"]].parameters = t["parameters"]
            out_dir.mkdir(parents=True, exist_ok=True)
            if pool is not None:
                for res in pool.render(to_run, progress=progress, desc=f"reports {wave}"):
                    results[res["slug"]] = ReportResult.from_dict({**res, "action": "rendered"})
        except ReportError:
            if pool is not None:
                pool.close(terminate=True)  # nothing has run yet
            raise
        except BaseException:
            if pool is not None:
                pool.close(cancel=True)
            raise
        if pool is not None:
            pool.close()

        # Reports of earlier runs that this run did not touch stay listed while their files exist.
        for slug, prev in previous.items():
            if slug and slug not in results and prev.get("status") == "ok" and (out_dir / f"{slug}.html").is_file():
                results[slug] = ReportResult.from_dict({**prev, "action": "kept"})

        missing = [r for r in results.values()
                   if r.kind == "account" and r.account_id and not r.headline and r.action != "kept"]
        if missing:  # counted from the store only for reports whose notebook gave no headline (e.g. failed ones)
            fallback = _store_headlines(store_path, wave, [r.account_id for r in missing])
            for r in missing:
                r.headline = fallback.get(r.account_id)
        order = {t["slug"]: i for i, t in enumerate(tasks)}
        reports = sorted(results.values(), key=lambda r: (r.kind == "account", order.get(r.slug, len(order)),
                                                          (r.name or "").casefold(), r.slug))
        seconds = time.perf_counter() - t_start
        index_path = atomic_write(out_dir / INDEX, _index_html(reports, wave=wave, language=language,
                                                               data_hash=dhash))
        manifest = {
            "wave": wave,
            "created_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "parameters": {"wave": wave, "accounts": None if accounts is None else ids, "jobs": int(jobs),
                           "language": language, "with_code": with_code, "force": force, "store": str(store_path),
                           "out_root": str(out_root), "timeout": timeout, "kernel_name": kernel_name,
                           "notebook": str(nb_path.resolve()), "extra_notebooks": {k: str(v.resolve()) for k, v in
                                                                                    extras.items()},
                           "parameters": extra_params},
            "data_hash": dhash,
            "code_hash": chash,
            "notebooks": {path: sha for path, (_, sha) in sources.items()},
            "versions": _versions(),
            "platform": platform.platform(),
            "timings": {"seconds": round(seconds, 3), "rendered": sum(r.action == "rendered" for r in reports),
                        "unchanged": sum(r.action == "unchanged" for r in reports),
                        "failed": sum(r.status == "failed" and r.action != "kept" for r in reports),
                        "seconds_per_rendered_report": round(seconds / max(1, len(to_run)), 3)},
            "reports": [asdict(r) for r in reports],
        }
        manifest_path = atomic_write(out_dir / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False,
                                                                    default=str) + "\n")
        return BatchResult(wave=wave, out_dir=out_dir, index=index_path, manifest=manifest_path, reports=reports,
                           seconds=seconds)

    finally:
        if template is not None:
            template.close()


def _fmt_nps(head: Mapping[str, Any] | None, language: str) -> str:
    if not head or head.get("nps") is None:
        return "–"

    def f(v: Any) -> str:
        v = round(float(v))
        return "0" if v == 0 else f"{v:+d}".replace("-", "−")

    out = f(head["nps"])
    if head.get("nps_ci_low") is not None and head.get("nps_ci_high") is not None:
        sep = " … " if language == "fi" else " to "
        out += f" [{f(head['nps_ci_low'])}{sep}{f(head['nps_ci_high'])}]"
    return out


def _index_html(reports: Sequence[ReportResult], *, wave: str, language: str, data_hash: str) -> str:
    """The wave's index page: self-contained, every value escaped, links percent-encoded."""
    from .privacy import escape_text as e

    t = TEXT[language]
    current = [r for r in reports if r.action != "kept"]
    n_failed = sum(r.status == "failed" for r in current)
    ok = sum(r.status == "ok" for r in reports)

    def link(r: ReportResult) -> str:
        label = e(r.name if r.kind == "account" else (r.title or r.name))
        if r.status == "ok":
            return f'<a href="{e(quote(r.slug + ".html"))}">{label}</a>'
        return label

    def status(r: ReportResult) -> str:
        if r.status == "ok":
            return (f'<span class="ok">{e(t["ok"])}</span> · '
                    f'<a class="nb" href="{e(quote(r.slug + ".ipynb"))}">{e(t["notebook"])}</a>')
        partial = (f' · <a class="nb" href="{e(quote(r.slug + ".failed.ipynb"))}">{e(t["partial"])}</a>'
                   if r.failed_ipynb else "")
        return f'<span class="failed">{e(t["failed"])}</span>: <span class="error">{e(r.error)}</span>{partial}'

    overviews = [r for r in reports if r.kind != "account"]
    accounts = [r for r in reports if r.kind == "account"]
    parts = []
    if overviews:
        rows = "\n".join(f"<tr><td>{link(r)}</td><td>{status(r)}</td></tr>" for r in overviews)
        parts.append(f'<h2>{e(t["overview"])}</h2>\n<table>\n<thead><tr><th>{e(t["report"])}</th>'
                     f'<th>{e(t["status"])}</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>')
    if accounts:
        rows = []
        for r in accounts:
            h = r.headline or {}
            n_client = "–" if h.get("n_client") is None else str(int(h["n_client"]))
            n_staff = "–" if h.get("n_staff") is None else str(int(h["n_staff"]))
            rows.append(f'<tr class="{e(r.status)}"><td>{e(r.account_id)}</td><td>{link(r)}</td>'
                        f'<td class="num">{n_client}</td><td class="num">{n_staff}</td>'
                        f'<td class="num">{e(_fmt_nps(h, language))}</td><td>{status(r)}</td></tr>')
        parts.append(
            f'<h2>{e(t["accounts"])}</h2>\n<table>\n<thead><tr><th>id</th><th>{e(t["account"])}</th>'
            f'<th>{e(t["n_client"])}</th><th>{e(t["n_staff"])}</th><th>{e(t["nps"])}</th>'
            f'<th>{e(t["status"])}</th></tr></thead>\n<tbody>\n' + "\n".join(rows) + "\n</tbody>\n</table>\n"
            f'<p class="note">{e(t["nps_note"])}</p>')
    title = t["index_title"].format(wave=wave)
    intro = t["index_intro"].format(wave=wave, data_hash=data_hash, ok=ok, total=len(reports),
                                    failed=t["failed_note"].format(n=n_failed) if n_failed else "")
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="{e(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
  max-width: 72rem; padding: 0 1rem; color: #212529; }}
h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #dee2e6; vertical-align: top; }}
th {{ background: #f8f9fa; }} td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.failed td {{ background: #fff5f5; }} span.failed {{ color: #c92a2a; font-weight: 600; }}
span.ok {{ color: #2b8a3e; }} a.nb {{ color: #868e96; font-size: .9em; }} .error {{ font-family: monospace; }}
.note {{ color: #868e96; font-size: .9em; }}
</style>
</head>
<body>
<h1>{e(title)}</h1>
<p>{e(intro)}</p>
{body}
</body>
</html>
"""


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------
def _cmd_reports(args: argparse.Namespace) -> int:
    from . import _startup  # noqa: F401  (before nbformat is imported)

    try:
        result = run_batch(args.wave, accounts=args.accounts, jobs=args.jobs, language=args.lang,
                           with_code=args.with_code, force=args.force, store=args.store, out_root=args.out,
                           timeout=args.timeout, progress=not args.quiet)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: reports not yet started were dropped; index.html and manifest.json were not updated.",
              file=sys.stderr)
        return 130
    rendered = sum(r.action == "rendered" and r.ok for r in result.reports)
    unchanged = sum(r.action == "unchanged" for r in result.reports)
    print(f"{rendered} rendered, {unchanged} unchanged, {len(result.failed)} failed "
          f"in {result.seconds:.1f} s ({args.jobs} job{'s' if args.jobs != 1 else ''}).")
    for r in result.failed:
        print(f"failed: {r.name} ({r.account_id or r.kind}): {r.error}", file=sys.stderr)
        if r.failed_ipynb:
            print(f"        partial notebook: {r.failed_ipynb}", file=sys.stderr)
    print(result.index)
    return result.exit_code


def register_cli(sub: argparse._SubParsersAction) -> None:
    """Add ``flamekit reports``: render a wave's account reports, overviews, index and manifest."""
    p = sub.add_parser("reports", help="render every account's HTML report for a wave (+ index and manifest)",
                       description="Render the account reports of one survey wave, and the portfolio and drivers "
                                   "overviews, into <out>/<wave>/ with index.html and manifest.json. The data come "
                                   "from the store given to flamekit (--store before the command). Exit code: 0 "
                                   "when every report rendered or was unchanged; 1 when any report failed (the "
                                   "others are still written and listed); 2 when the batch cannot start (missing "
                                   "store, wave without answers, unknown account, bad option) and nothing ran.")
    p.add_argument("--wave", required=True, help="survey wave, e.g. 2026Q3")
    p.add_argument("--accounts", nargs="+", metavar="ID", help="only these account ids (default: every account "
                                                                "with answers in the wave)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes, one kernel each (default 1)")
    p.add_argument("--lang", choices=list(LANGUAGES), default="en", help="report language (default en)")
    p.add_argument("--with-code", action="store_true", help="keep the code in the HTML (analyst variant)")
    p.add_argument("--force", action="store_true", help="render even reports whose inputs have not changed")
    p.add_argument("--out", default="reports", metavar="DIR", help="root folder for the reports (default reports)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"seconds one notebook cell may run (default {DEFAULT_TIMEOUT})")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_reports)
