"""Charts of the portfolio page: heatmap, gap map, NPS per account and per wave.

Each takes a frame of :mod:`helpers.stats.comparisons` and returns the
``Axes``.  Rows are labelled by account name (``names``) in the order given
(``rows``: what matters first — :mod:`.select` picks and orders them), colours
come from :mod:`helpers.report.style` (wine below / blind spot, green above /
hidden strength, the client's colour for the client's NPS), every text from
the catalogue (``portfolio_plots``) and numbers by locale, ticks included.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.report import style
from helpers.report.formatting import check_language, count, number
from helpers.words import say

__all__ = [
    "plot_heatmap",
    "plot_gap_map",
    "plot_nps_distribution",
    "plot_nps_trend",
    "locale_ticks",
]


def locale_ticks(axis, language: str, digits: int = 0, *, sign: bool = False) -> None:
    """Tick labels of ``axis`` (``ax.xaxis``, a colour bar's ``ax.yaxis``) by locale: decimal comma, real minus."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda x, _: number(x, language, digits, sign=sign)))


def _legend_below(ax, *, inches: float = 0.55, ncol: int = 3) -> None:
    """The legend under the x axis and its label, outside the data, ``inches`` below the axes."""
    height = ax.get_position().height * ax.figure.get_figheight()
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -inches / max(height, 0.1)), ncol=ncol, fontsize=8,
              frameon=False)


def _labels(inst: Instrument, language: str, dims: Sequence[str]) -> list[str]:
    """Dimension labels in ``language``; anything that is not a dimension of ``inst`` as it is."""
    return [inst.label(d, language) if d in inst.dimension_ids else str(d) for d in dims]


def _message_axes(text: str, *, figsize: tuple[float, float], title: str | None = None, ax=None):
    """An Axes without axes that only says ``text``: what a plot shows when it has nothing to draw."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", color=style.INK)
    if title:
        ax.set_title(title, loc="left", color=style.INK)
    return ax


def _grid(table: pd.DataFrame, row: str, column: str, value: str, rows: Sequence | None,
          columns: Sequence) -> pd.DataFrame:
    """``value`` as a ``row`` × ``column`` grid, rows in ``rows`` order (default sorted), columns as given."""
    wide = table.pivot_table(index=row, columns=column, values=value, aggfunc="first", dropna=False)
    return wide.reindex(index=list(rows) if rows is not None else sorted(wide.index), columns=list(columns))


def _row_label(key, names: Mapping[str, str] | None) -> str:
    return str(names.get(key, key)) if names else str(key)


def plot_heatmap(
    table: pd.DataFrame,
    *,
    row: str = "account_id",
    color: str = "diff",
    text: str = "mean",
    significant: str = "significant",
    n: str | Sequence[str] = "n",
    rows: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    limit: float | None = None,
    language: str = "en",
    instrument: str | Instrument | None = None,
    title: str | None = None,
    colorbar_label: str | None = None,
    digits: int = 1,
    sign: bool = False,
    hide_empty: bool = False,
    ax=None,
):
    """Draw the account × dimension heatmap; significant cells get a frame and bold text.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`dimension_heatmap` (one wave, one side) or any tidy
        frame with ``row``, dimension, ``color``, ``text``, ``n`` and
        ``significant`` columns (e.g. :func:`gap_map`).
    row : str
        Column for the rows (one row per account).
    color : str
        Column mapped to colour on :func:`helpers.report.style.diverging_cmap`
        centred on 0 (green above, wine below).
    text : str
        Column written in each cell, with ``n`` after it.  Cells whose value
        is NaN (e.g. suppressed team groups) stay empty and grey.
    significant : str
        Boolean column; True cells are framed and their text is bold.
    n : str or sequence of str
        Count column(s) written after the value, e.g. ``("n_client", "n_staff")``
        gives "(n=12/6)".
    rows : sequence, optional
        Which rows, top to bottom (default: every row, sorted).
    names : mapping, optional
        Row label per row key (account id → name); default the key.
    limit : float, optional
        Colour scale runs from −limit to +limit (default: largest |value|).
    language : str
        Dimension labels and numbers, "en" or "fi".
    title, colorbar_label : str, optional
        Texts (the colour bar's default says "difference from the rest of the
        portfolio" in ``language``).
    digits, sign : int, bool
        Decimals of the cell value and whether it carries "+" (gaps).
    hide_empty : bool
        Leave out rows with no value at all (e.g. accounts whose every team
        cell is suppressed).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One text per non-empty cell, one framing ``Rectangle`` per significant
        cell, x tick labels = dimension labels, y tick labels = row names.
        With nothing to show, an empty Axes that says so.
    """
    import matplotlib.pyplot as plt

    check_language(language)
    inst = load_instrument(instrument)
    dims = _dimension_columns(table, inst)
    col = _grid(table, row, "dimension", color, rows, dims)
    if hide_empty:
        col = col[col.notna().any(axis=1)]
    if col.empty:
        return _message_axes(say("portfolio_plots.nothing", language), figsize=(6, 1.2), title=title, ax=ax)
    txt = _grid(table, row, "dimension", text, col.index, dims)
    n_cols = [n] if isinstance(n, str) else list(n)
    nn = [_grid(table, row, "dimension", c, col.index, dims) for c in n_cols if c in table]
    sig = _grid(table.assign(_sig=table[significant].astype(float)), row, "dimension", "_sig", col.index, dims) \
        if significant in table else None
    if ax is None:
        _, ax = plt.subplots(figsize=(1.25 * len(dims) + 3.2, 0.3 * len(col) + 1.3))
    vals = col.to_numpy(dtype=float)
    lim = limit if limit is not None else (np.nanmax(np.abs(vals)) if np.isfinite(vals).any() else 1.0)
    lim = lim or 1.0
    im = ax.imshow(np.ma.masked_invalid(vals), cmap=style.diverging_cmap(), vmin=-lim, vmax=lim, aspect="auto")
    _write_cells(ax, vals, txt, counts=nn, significant=sig, limit=lim, digits=digits, sign=sign,
                 language=language)
    ax.set_xticks(range(len(dims)), _labels(inst, language, dims))
    ax.set_yticks(range(len(col)), [_row_label(r, names) for r in col.index])
    ax.tick_params(axis="x", top=True, bottom=False, labeltop=True, labelbottom=False, colors=style.INK)
    ax.tick_params(axis="y", colors=style.INK, labelsize=8)
    ax.set_xlabel("")
    ax.set_ylabel("")
    if title:
        ax.set_title(title, loc="left", color=style.INK, pad=8)
    bar = ax.figure.colorbar(im, ax=ax, shrink=min(0.6, 4 / max(len(col), 1) + 0.3), pad=0.02,
                             label=colorbar_label or say("portfolio_plots.heat_colorbar", language))
    step = next((s for s in (0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0) if lim / s <= 4), lim / 4)
    bar.set_ticks(np.arange(-np.floor(lim / step), np.floor(lim / step) + 1) * step)
    locale_ticks(bar.ax.yaxis, language, 2 if step < 0.5 else 1 if step < 1 else 0, sign=True)
    return ax


def _dimension_columns(table: pd.DataFrame, inst: Instrument) -> list:
    """The table's dimensions: the instrument's in its order, then any others as they come."""
    dims = [d for d in inst.dimension_ids if d in set(table["dimension"])]
    return dims + [d for d in pd.unique(table["dimension"]) if d not in dims]


def _cell_label(value, counts: list, *, digits: int, sign: bool, language: str) -> str:
    """A cell's text: the value by locale, then "(n=…)" with its counts when all are known."""
    if isinstance(value, (float, int, np.floating, np.integer)):
        label = number(value, language, digits, sign=sign)
    else:
        label = str(value)
    if counts and all(pd.notna(c) for c in counts):
        label += " (n=" + "/".join(count(c, language) for c in counts) + ")"
    return label


def _write_cells(ax, vals: np.ndarray, txt: pd.DataFrame, *, counts: list[pd.DataFrame],
                 significant: pd.DataFrame | None, limit: float, digits: int, sign: bool, language: str) -> None:
    """Write every non-empty cell (white on dark colours); frame and embolden the significant ones."""
    from matplotlib.patches import Rectangle

    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            t = txt.iat[i, j]
            if pd.isna(t):
                continue
            is_sig = significant is not None and significant.iat[i, j] == 1
            label = _cell_label(t, [g.iat[i, j] for g in counts], digits=digits, sign=sign, language=language)
            shade = abs(vals[i, j]) / limit if np.isfinite(vals[i, j]) else 0
            ax.text(j, i, label, ha="center", va="center", fontsize=7,
                    fontweight="bold" if is_sig else "normal", color="white" if shade > 0.6 else style.INK)
            if is_sig:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor=style.INK, linewidth=1.8))


def plot_gap_map(
    gaps: pd.DataFrame,
    *,
    row: str = "account_id",
    rows: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    hide_empty: bool = True,
    language: str = "en",
    instrument: str | Instrument | None = None,
    title: str | None = None,
    ax=None,
):
    """Draw the gap map: colour = client − team gap, framed cells = clear gaps.

    Parameters
    ----------
    gaps : DataFrame
        Output of :func:`gap_map` for one wave.
    rows : sequence, optional
        Which accounts, top to bottom.
    names : mapping, optional
        Account id → name for the row labels.
    hide_empty : bool
        Leave out accounts whose every team cell is suppressed (default True).
    language : str
        Dimension labels and numbers, "en" or "fi".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        As :func:`plot_heatmap`: each cell shows the gap and "(n=client/team)";
        suppressed team groups stay grey and empty (their n is not drawn
        either).  Wine = blind spot (team above client), green = hidden
        strength.
    """
    return plot_heatmap(gaps, row=row, color="gap", text="gap", significant="significant",
                        n=("n_client", "n_staff"), rows=rows, names=names, language=language, instrument=instrument,
                        title=title, digits=1, sign=True, hide_empty=hide_empty,
                        colorbar_label=say("portfolio_plots.gap_colorbar", language), ax=ax)


def plot_nps_distribution(
    table: pd.DataFrame,
    *,
    account: str = "account_id",
    rows: Sequence[str] | None = None,
    names: Mapping[str, str] | None = None,
    portfolio: float | None = None,
    language: str = "en",
    title: str | None = None,
    ax=None,
):
    """Dot plot of the accounts' NPS with their intervals, sorted by NPS, with the portfolio's NPS as a line.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`nps_vs_portfolio` for one wave (account, n, nps,
        ci_low, ci_high, direction).
    rows : sequence, optional
        Which accounts to draw (default every account with an NPS); drawn
        sorted by NPS, lowest at the bottom.
    names : mapping, optional
        Account id → name for the labels.
    portfolio : float, optional
        Portfolio NPS drawn as a vertical line, labelled on the line.
    language : str
        Texts and numbers, "en" or "fi".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One error bar per account (y tick labels "Name (n=12)"), coloured by
        ``direction``: green above the rest of the portfolio, wine below,
        grey not distinguishable after the correction; the legend sits
        below the axes, outside the data.
    """
    import matplotlib.pyplot as plt

    check_language(language)
    t = table.dropna(subset=["nps"])
    if rows is not None:
        t = t[t[account].isin(list(rows))]
    t = t.sort_values(["nps", account]).reset_index(drop=True)
    if t.empty:
        return _message_axes(say("portfolio_plots.nothing", language), figsize=(6, 1.2), title=title, ax=ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.24 * len(t) + 1.6))
    colours = {"above": style.CELEBRATE, "below": style.ATTENTION}
    direction = (t["direction"] if "direction" in t else pd.Series("", index=t.index)).fillna("")
    for key in ("below", "", "above"):
        grp = t[direction == key]
        if grp.empty:
            continue
        ax.errorbar(grp["nps"], grp.index, xerr=[grp["nps"] - grp["ci_low"], grp["ci_high"] - grp["nps"]],
                    fmt="o", ms=4, color=colours.get(key, style.NEUTRAL), ecolor=colours.get(key, "#BBBBBB"),
                    label=say(f"portfolio_plots.nps_{key or 'same'}", language))
    if portfolio is not None and np.isfinite(portfolio):
        ax.axvline(portfolio, color=style.INK, linestyle="--", linewidth=1)
        ax.text(portfolio, len(t) - 0.4, " " + say("portfolio_plots.portfolio_line", language,
                                                   nps=number(portfolio, language, 0, sign=True)),
                ha="left", va="bottom", fontsize=8, color=style.INK)
    ax.set_yticks(range(len(t)), [f"{_row_label(a, names)} (n={count(n, language)})"
                                  for a, n in zip(t[account], t["n"])], fontsize=8)
    ax.set_ylim(-0.6, len(t) + 0.4)
    ax.set_xlim(-104, 104)
    ax.set_xticks(range(-100, 101, 25))
    locale_ticks(ax.xaxis, language, 0)
    ax.set_xlabel(say("portfolio_plots.nps_axis", language))
    ax.set_ylabel("")
    ax.grid(axis="x", color="#E9ECEF", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _legend_below(ax)
    if title:
        ax.set_title(title, loc="left", color=style.INK)
    return ax


def plot_nps_trend(trend: pd.DataFrame, *, wave: str = "wave", language: str = "en", title: str | None = None,
                   ax=None):
    """Portfolio client NPS per wave with its account-cluster bootstrap interval.

    Parameters
    ----------
    trend : DataFrame
        Output of :func:`nps_trend`.
    language : str
        Texts and numbers, "en" or "fi".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line (the NPS, in the client's colour) labelled at each point, a
        shaded band (the interval that resamples whole accounts — the one the
        page quotes; the narrower adjusted-Wald interval is in the appendix
        table); x tick labels are the waves with n; the legend sits below
        the axes.
    """
    import matplotlib.pyplot as plt

    check_language(language)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.2))
    x = np.arange(len(trend))
    colour = style.side_color("client")
    ax.fill_between(x, trend["cluster_low"], trend["cluster_high"], color=colour, alpha=0.15, linewidth=0,
                    label=say("portfolio_plots.trend_band", language))
    ax.plot(x, trend["nps"], marker="o", color=colour, label=say("portfolio_plots.trend_line", language))
    for xi, v in zip(x, trend["nps"]):
        ax.annotate(number(v, language, 0, sign=True), (xi, v), textcoords="offset points", xytext=(0, 7),
                    ha="center", fontsize=8, color=style.INK)
    ax.set_xticks(x, [f"{w}\nn = {count(n, language)}" for w, n in zip(trend[wave], trend["n"])])
    if len(x):
        ax.set_xlim(-0.4, len(x) - 0.6)
    locale_ticks(ax.yaxis, language, 0)
    ax.set_ylabel(say("portfolio_plots.nps_short", language))
    ax.set_xlabel("")
    ax.grid(axis="y", color="#E9ECEF", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    _legend_below(ax, inches=0.6, ncol=2)
    if title:
        ax.set_title(title, loc="left", color=style.INK)
    return ax
