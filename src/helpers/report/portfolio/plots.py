"""Charts of the portfolio page: heatmap, gap map, NPS per account and per wave.

Each takes a frame of :mod:`helpers.stats.comparisons` and returns the ``Axes``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument

__all__ = [
    "plot_heatmap",
    "plot_gap_map",
    "plot_nps_distribution",
    "plot_nps_trend",
]


def _labels(inst: Instrument, language: str, dims: Sequence[str]) -> list[str]:
    """Dimension labels in ``language``; anything that is not a dimension of ``inst`` as it is."""
    return [inst.label(d, language) if d in inst.dimension_ids else str(d) for d in dims]


def _message_axes(text: str, *, figsize: tuple[float, float], title: str | None = None, ax=None):
    """An Axes without axes that only says ``text``: what a plot shows when it has nothing to draw."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center")
    if title:
        ax.set_title(title)
    return ax


def _grid(table: pd.DataFrame, row: str, column: str, value: str, rows: Sequence | None,
          columns: Sequence) -> pd.DataFrame:
    """``value`` as a ``row`` × ``column`` grid, rows in ``rows`` order (default sorted), columns as given."""
    wide = table.pivot_table(index=row, columns=column, values=value, aggfunc="first", dropna=False)
    return wide.reindex(index=list(rows) if rows is not None else sorted(wide.index), columns=list(columns))


def plot_heatmap(
    table: pd.DataFrame,
    *,
    row: str = "account_id",
    color: str = "diff",
    text: str = "mean",
    significant: str = "significant",
    n: str | Sequence[str] = "n",
    rows: Sequence[str] | None = None,
    limit: float | None = None,
    language: str = "en",
    instrument: str | Instrument | None = None,
    title: str | None = None,
    colorbar_label: str = "difference from the rest of the portfolio (scale points)",
    fmt: str = ".1f",
    hide_empty: bool = False,
    ax=None,
):
    """Draw the account × dimension heatmap; significant cells get a black frame.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`dimension_heatmap` (one wave, one side) or any tidy
        frame with ``row``, dimension, ``color``, ``text``, ``n`` and
        ``significant`` columns (e.g. :func:`gap_map`).
    row : str
        Column for the rows (one row per account).
    color : str
        Column mapped to colour on a diverging scale centred on 0 (blue above,
        red below).
    text : str
        Column written in each cell, with ``n`` under it.  Cells whose value is
        NaN (e.g. suppressed staff groups) stay empty and grey.
    significant : str
        Boolean column; True cells are framed and their text is bold.
    n : str or sequence of str
        Count column(s) written after the value, e.g. ``("n_client", "n_staff")``
        gives "(n=12/6)".
    rows : sequence, optional
        Row order (default: sorted).
    limit : float, optional
        Colour scale runs from −limit to +limit (default: largest |value|).
    language : str
        Dimension labels from the instrument, "en" or "fi".
    title, colorbar_label : str
        Texts.
    fmt : str
        Format of the cell value, e.g. ``"+.2f"`` for gaps.
    hide_empty : bool
        Leave out rows with no value at all (e.g. accounts whose every team
        cell is suppressed).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One text per non-empty cell, one framing ``Rectangle`` per significant
        cell, x tick labels = dimension labels, y tick labels = rows.  With
        nothing to show, an empty Axes that says so.
    """
    import matplotlib.pyplot as plt

    inst = load_instrument(instrument)
    dims = _dimension_columns(table, inst)
    col = _grid(table, row, "dimension", color, rows, dims)
    if hide_empty:
        col = col[col.notna().any(axis=1)]
    if col.empty:
        return _message_axes("Nothing to show: every cell is empty or hidden.", figsize=(6, 1.5), title=title, ax=ax)
    txt = _grid(table, row, "dimension", text, col.index, dims)
    n_cols = [n] if isinstance(n, str) else list(n)
    nn = [_grid(table, row, "dimension", c, col.index, dims) for c in n_cols if c in table]
    sig = _grid(table.assign(_sig=table[significant].astype(float)), row, "dimension", "_sig", col.index, dims) \
        if significant in table else None
    if ax is None:
        _, ax = plt.subplots(figsize=(1.3 * len(dims) + 2.5, 0.32 * len(col) + 1.5))
    vals = col.to_numpy(dtype=float)
    lim = limit if limit is not None else (np.nanmax(np.abs(vals)) if np.isfinite(vals).any() else 1.0)
    lim = lim or 1.0
    cmap = plt.get_cmap("RdBu").with_extremes(bad="#dddddd")
    im = ax.imshow(np.ma.masked_invalid(vals), cmap=cmap, vmin=-lim, vmax=lim, aspect="auto")
    _write_cells(ax, vals, txt, counts=nn, significant=sig, limit=lim, fmt=fmt)
    ax.set_xticks(range(len(dims)), _labels(inst, language, dims))
    ax.set_yticks(range(len(col)), [str(r) for r in col.index])
    ax.tick_params(axis="x", top=True, bottom=False, labeltop=True, labelbottom=False)
    ax.set_xlabel("")
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, label=colorbar_label, shrink=0.6)
    return ax


def _dimension_columns(table: pd.DataFrame, inst: Instrument) -> list:
    """The table's dimensions: the instrument's in its order, then any others as they come."""
    dims = [d for d in inst.dimension_ids if d in set(table["dimension"])]
    return dims + [d for d in pd.unique(table["dimension"]) if d not in dims]


def _cell_label(value, counts: list, fmt: str) -> str:
    """A cell's text: the value in ``fmt``, then "(n=…)" with its counts when all are known."""
    label = f"{value:{fmt}}" if isinstance(value, (float, int, np.floating, np.integer)) else str(value)
    if counts and all(pd.notna(c) for c in counts):
        label += " (n=" + "/".join(str(int(c)) for c in counts) + ")"
    return label


def _write_cells(ax, vals: np.ndarray, txt: pd.DataFrame, *, counts: list[pd.DataFrame],
                 significant: pd.DataFrame | None, limit: float, fmt: str) -> None:
    """Write every non-empty cell (white on dark colours); frame and embolden the significant ones."""
    from matplotlib.patches import Rectangle

    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            t = txt.iat[i, j]
            if pd.isna(t):
                continue
            is_sig = significant is not None and significant.iat[i, j] == 1
            label = _cell_label(t, [g.iat[i, j] for g in counts], fmt)
            shade = abs(vals[i, j]) / limit if np.isfinite(vals[i, j]) else 0
            ax.text(j, i, label, ha="center", va="center", fontsize=7,
                    fontweight="bold" if is_sig else "normal", color="white" if shade > 0.6 else "black")
            if is_sig:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.8))


def plot_gap_map(
    gaps: pd.DataFrame,
    *,
    row: str = "account_id",
    rows: Sequence[str] | None = None,
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
        Row order.
    hide_empty : bool
        Leave out accounts whose every team cell is suppressed (default True;
        list them beside the map).
    language : str
        Dimension labels, "en" or "fi".
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        As :func:`plot_heatmap`: each cell shows the gap and "(n=client/team)";
        suppressed team groups stay grey and empty (their n is not drawn either
        — the table beside the map gives it).  Red = blind spot (team above
        client), blue = hidden strength.
    """
    return plot_heatmap(gaps, row=row, color="gap", text="gap", significant="significant",
                        n=("n_client", "n_staff"), rows=rows, language=language, instrument=instrument,
                        title=title, fmt="+.2f", hide_empty=hide_empty,
                        colorbar_label="client − team (scale points); red: team rates itself higher", ax=ax)


def plot_nps_distribution(
    table: pd.DataFrame,
    *,
    account: str = "account_id",
    portfolio: float | None = None,
    title: str | None = None,
    ax=None,
):
    """Dot plot of every account's NPS with its interval, sorted, portfolio line.

    Parameters
    ----------
    table : DataFrame
        Output of :func:`nps_vs_portfolio` for one wave (account, n, nps,
        ci_low, ci_high, direction).
    portfolio : float, optional
        Portfolio NPS drawn as a vertical line.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One error bar per account (y tick labels "A001 (n=12)"), coloured by
        ``direction``: blue above the rest of the portfolio, red below, grey
        not distinguishable after the FDR correction.
    """
    import matplotlib.pyplot as plt

    t = table.dropna(subset=["nps"]).sort_values("nps").reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.22 * len(t) + 1.5))
    colours = {"above": "#2166ac", "below": "#b2182b"}
    direction = t["direction"] if "direction" in t else pd.Series("", index=t.index)
    for key, grp in t.groupby(direction.fillna(""), sort=False):
        ax.errorbar(grp["nps"], grp.index, xerr=[grp["nps"] - grp["ci_low"], grp["ci_high"] - grp["nps"]],
                    fmt="o", ms=4, color=colours.get(key, "#777777"), ecolor=colours.get(key, "#bbbbbb"),
                    label={"above": "above the rest (FDR 5 %)", "below": "below the rest (FDR 5 %)"}.get(
                        key, "not distinguishable"))
    if portfolio is not None and np.isfinite(portfolio):
        ax.axvline(portfolio, color="black", linestyle="--", linewidth=1, label=f"portfolio {portfolio:+.0f}")
    ax.set_yticks(range(len(t)), [f"{a} (n={int(n)})" for a, n in zip(t[account], t["n"])], fontsize=7)
    ax.set_xlim(-100, 100)
    ax.set_xlabel("NPS (−100…100) with 95% interval")
    ax.set_ylabel("")
    ax.legend(loc="lower right", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def plot_nps_trend(trend: pd.DataFrame, *, wave: str = "wave", title: str | None = None, ax=None):
    """Portfolio NPS per wave with its account-cluster bootstrap interval.

    Parameters
    ----------
    trend : DataFrame
        Output of :func:`nps_trend`.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        One line (the NPS), a shaded band (cluster interval) and dotted
        adjusted-Wald limits; x tick labels are the waves with n.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3.5))
    x = np.arange(len(trend))
    ax.plot(x, trend["nps"], marker="o", color="#2166ac", label="portfolio NPS")
    ax.fill_between(x, trend["cluster_low"], trend["cluster_high"], color="#2166ac", alpha=0.2,
                    label="95% interval (accounts resampled)")
    ax.plot(x, trend["ci_low"], ":", color="#555555", linewidth=1, label="95% adjusted Wald (respondents)")
    ax.plot(x, trend["ci_high"], ":", color="#555555", linewidth=1)
    for xi, v in zip(x, trend["nps"]):
        ax.annotate(f"{v:+.0f}", (xi, v), textcoords="offset points", xytext=(0, 7), ha="center", fontsize=8)
    ax.set_xticks(x, [f"{w}\nn={int(n)}" for w, n in zip(trend[wave], trend["n"])])
    ax.set_ylabel("NPS (−100…100)")
    ax.set_xlabel("")
    ax.legend(fontsize=8, loc="best")
    if title:
        ax.set_title(title)
    return ax
