"""Tables and notes for the report pages: labelled, formatted, HTML-escaping Stylers and Markdown lists.

:func:`display_table` shows any result frame of the portfolio and drivers
pages; :func:`escaped_styler` is the last step of every table already put into
words (the account report's tables, the comment lists).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument

__all__ = [
    "notes_markdown",
    "methods_table",
    "display_table",
    "escaped_styler",
]


def notes_markdown(messages: Sequence[str], *, heading: str | None = None):
    """Sentences as an escaped Markdown bullet list for a report (None when there are none).

    Parameters
    ----------
    messages : sequence of str
        Warnings or caveats.
    heading : str, optional
        A bold lead-in line.

    Returns
    -------
    IPython.display.Markdown or None
    """
    import html

    from IPython.display import Markdown

    items = [m for m in dict.fromkeys(messages) if m]
    if not items:
        return None
    text = "\n".join(f"- {html.escape(m, quote=False)}" for m in items)
    return Markdown((f"**{html.escape(heading, quote=False)}**\n\n" if heading else "") + text)


# ---------------------------------------------------------------------------
# Methods note
# ---------------------------------------------------------------------------
def methods_table(
    *,
    store: str | None = None,
    parameters: Mapping[str, object] | None = None,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Provenance for a report's methods note: data hash, instrument, thresholds, versions.

    Parameters
    ----------
    store : path, optional
        The store the report read (default :func:`helpers.data.store.default_store`).
    parameters : mapping, optional
        The notebook's parameters, listed as ``parameter <name>``.
    instrument : path or Instrument, optional

    Returns
    -------
    DataFrame
        item, value — strings, one row per fact.
    """
    import platform
    from importlib import metadata

    from helpers import __version__
    from helpers.data.store import data_hash

    inst = load_instrument(instrument)
    rows = [("data hash", data_hash(store=store)),
            ("instrument", f"{inst.name} ({len(inst.dimension_ids)} dimensions, {len(inst.item_ids)} items, "
                           f"scale {inst.scale_min}–{inst.scale_max}, score needs ≥ {inst.min_items} items)"),
            ("flamekit", __version__), ("python", platform.python_version())]
    for pkg in ("pandas", "numpy", "scipy", "statsmodels", "matplotlib"):
        try:
            rows.append((pkg, metadata.version(pkg)))
        except metadata.PackageNotFoundError:  # pragma: no cover
            rows.append((pkg, "not installed"))
    for k, v in (parameters or {}).items():
        rows.append((f"parameter {k}", "(default)" if v in ("", None) else str(v)))
    return pd.DataFrame(rows, columns=["item", "value"])


# ---------------------------------------------------------------------------
# Display
# ---------------------------------------------------------------------------
def _format_p(v) -> str:
    """p-value for an HTML table; the Styler escapes data, not a formatter's output, so "<" is escaped here."""
    if v is None or not np.isfinite(v):
        return "–"
    return "&lt;0.001" if v < 0.001 else f"{v:.3f}"


def display_table(
    data: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    precision: int = 2,
    language: str = "en",
    instrument: str | Instrument | None = None,
    rename: Mapping[str, str] | None = None,
    uuid: str | None = None,
):
    """A result frame as an HTML-escaping ``Styler`` for reports: labels, rounding, no index.

    Parameters
    ----------
    data : DataFrame
        Any tidy result.
    columns : sequence of str, optional
        Columns to show, in order (default all).
    precision : int
        Decimals of float columns (display only; the data keep full precision).
    language : str
        A ``dimension`` column is shown with the instrument's labels, a
        ``term`` column with :func:`term_label`.
    rename : mapping, optional
        Column headers to show instead of the snake_case names.
    uuid : str, optional
        Fixed id of the HTML table, so a re-run gives identical HTML
        (pandas draws a random one otherwise).

    Returns
    -------
    pandas.io.formats.style.Styler
        Every cell is escaped (``escape="html"``): pandas' Styler does not
        escape by default, and account names such as "Metsä & Meri" or pasted
        text must render as text.  Dates show as YYYY-MM-DD, missing values
        as "–"; p-values
        (``p_val``, ``p_fdr``) with three decimals, or "<0.001".
    """
    from helpers.stats.fitting import term_label

    inst = load_instrument(instrument)
    d = data[list(columns)] if columns is not None else data
    d = d.copy()
    if "dimension" in d:
        d["dimension"] = d["dimension"].map(lambda v: inst.label(v, language) if v in inst.dimension_ids else v)
    if "term" in d:
        d["term"] = d["term"].map(lambda v: term_label(v, language=language, instrument=inst))
    for c in d.columns:
        if pd.api.types.is_datetime64_any_dtype(d[c]):
            d[c] = d[c].dt.strftime("%Y-%m-%d")
    if rename:
        d = d.rename(columns=dict(rename))
    styler = d.style.format(precision=precision, na_rep="–", escape="html").hide(axis="index")
    p_cols = [c for c in d.columns if isinstance(c, str) and c in ("p_val", "p_fdr")]
    if p_cols:
        styler = styler.format(_format_p, subset=p_cols, na_rep="–", escape="html")
    return styler.set_uuid(uuid) if uuid else styler


def escaped_styler(frame: pd.DataFrame, *, left: Sequence[str] = (), uuid: str | None = None):
    """A frame of display text as a ``Styler`` that HTML-escapes every cell and header, without the index.

    Parameters
    ----------
    frame : DataFrame
        Cells and headers already in the page's words and number format.
    left : sequence of str
        Headers of the text columns, aligned left.
    uuid : str, optional
        Fixed id of the HTML table, so a re-run gives identical HTML.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    styler = (frame.style.format(escape="html").format_index(escape="html", axis=1).hide(axis="index")
              .set_properties(subset=list(left), **{"text-align": "left"}))
    return styler.set_uuid(uuid) if uuid else styler
