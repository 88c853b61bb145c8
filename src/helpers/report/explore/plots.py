"""The explore notebook's two charts, in the kit's colours and the page's language.

Both take tidy frames, draw on ``ax`` (a new figure when None) and return the
Axes; tick labels are formatted by :mod:`helpers.report.formatting` (decimal
comma and real minus in Finnish), titles and labels come from the catalogue.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter

from helpers.data.instrument import Instrument, load_instrument
from helpers.report.formatting import number, points
from helpers.report.style import CLIENT, INK, NEUTRAL, side_color
from helpers.words import say

__all__ = ["plot_account_nps", "plot_client_team", "tick_formatter"]


def tick_formatter(language: str, digits: int | None = None) -> FuncFormatter:
    """Tick labels by locale: "−50", "4,5"; whole ticks without decimals unless ``digits`` is given."""
    def fmt(x: float, _pos: int) -> str:
        d = digits if digits is not None else (0 if float(x).is_integer() else 1)
        return number(x, language, d)
    return FuncFormatter(fmt)


def _tidy(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=INK)
    ax.title.set_color(INK)


def plot_account_nps(rows: pd.DataFrame, *, language: str, wave: str, reference: float | None = None,
                     most: int = 20, ax: Axes | None = None) -> Axes:
    """Client NPS of each account with its 95% interval, lowest at the top, accounts by name.

    Parameters
    ----------
    rows : DataFrame
        name, nps, ci_low, ci_high — accounts whose NPS is shown, lowest first.
    language : {"en", "fi"}
    wave : str
        For the title.
    reference : float, optional
        The selection's pooled NPS, drawn as a dashed grey line with its label.
    most : int
        With more accounts, only the ``most // 2`` lowest and highest are drawn (the title says so).
    ax : Axes, optional

    Returns
    -------
    Axes
        One errorbar container (``ax.containers``) with a point per account drawn; account names as y tick
        labels, top to bottom in the order of ``rows``.

    Examples
    --------
    >>> rows = pd.DataFrame({"name": ["Beta", "Alfa"], "nps": [-20.0, 35.0], "ci_low": [-50.0, 5.0],
    ...                      "ci_high": [12.0, 60.0]})
    >>> ax = plot_account_nps(rows, language="fi", wave="2026Q3")
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['Beta', 'Alfa']
    >>> plt.close(ax.figure)
    """
    n = len(rows)
    cut = n > most
    if cut:
        half = most // 2
        rows = pd.concat([rows.iloc[:half], rows.iloc[-half:]])
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.28 * len(rows) + 1.3))
    y = np.arange(len(rows))[::-1].astype(float)
    vals = rows["nps"].to_numpy(dtype=float)
    err = np.vstack([vals - rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float) - vals])
    ax.errorbar(vals, y, xerr=np.clip(err, 0, None), fmt="o", color=CLIENT, ecolor=CLIENT, elinewidth=1.2,
                capsize=2, markersize=5)
    ax.set_yticks(y)
    ax.set_yticklabels([str(v) for v in rows["name"]])
    ax.set_ylim(-0.8, len(rows) - 0.2)
    ax.set_xlim(-100, 100)
    if cut:  # a gap between the lowest and the highest
        ax.axhline(y[len(rows) // 2 - 1] - 0.5, color=NEUTRAL, linewidth=0.8, linestyle=":")
    if reference is not None and reference == reference:
        ax.axvline(reference, color=NEUTRAL, linestyle="--", linewidth=1)
        ax.annotate(say("explore.glance.chart_reference", language, nps=points(reference, language)),
                    xy=(reference, 1.0), xycoords=("data", "axes fraction"), xytext=(3, 2),
                    textcoords="offset points", color=NEUTRAL, fontsize=8, va="bottom")
    ax.xaxis.set_major_formatter(tick_formatter(language, 0))
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(say("explore.glance.chart_axis", language))
    title = (say("explore.glance.chart_title_cut", language, wave=wave, k=most // 2, n=n) if cut
             else say("explore.glance.chart_title", language, wave=wave))
    ax.set_title(title, loc="left", pad=14)
    _tidy(ax)
    return ax


def plot_client_team(view: pd.DataFrame, *, language: str, title: str, ax: Axes | None = None,
                     instrument: str | Instrument | None = None) -> Axes:
    """The client's and the team's mean on each dimension with 95% intervals, in the sides' colours.

    Parameters
    ----------
    view : DataFrame
        side, dimension, mean, ci_low, ci_high — one account and wave, blank where a report would not show it
        (:func:`helpers.report.account.view_360`).
    language : {"en", "fi"}
    title : str
        What the chart shows, in the page's language.
    ax : Axes, optional
    instrument : path or Instrument, optional
        Dimension order and labels.

    Returns
    -------
    Axes
        One errorbar container per side drawn (client first), dimension labels on the y axis in instrument
        order (top to bottom), the legend outside the plot area, a note under it for a side not shown.

    Examples
    --------
    >>> v = pd.DataFrame({"side": ["client", "staff"], "dimension": "care", "mean": [3.4, float("nan")],
    ...                   "ci_low": [3.1, float("nan")], "ci_high": [3.7, float("nan")]})
    >>> ax = plot_client_team(v, language="en", title="Care")
    >>> len(ax.containers), [t.get_text() for t in ax.texts]
    (1, ['Team: not shown (too few answers)'])
    >>> plt.close(ax.figure)
    """
    inst = load_instrument(instrument)
    dims = [d for d in inst.dimension_ids if d in set(view["dimension"])]
    labels = inst.labels(language)
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 0.55 * len(dims) + 1.5))
    y = np.arange(len(dims))[::-1].astype(float)
    offset = {"client": 0.14, "staff": -0.14}
    missing = []
    for side in ("client", "staff"):
        rows = view[view["side"] == side].set_index("dimension").reindex(dims)
        vals = rows["mean"].to_numpy(dtype=float)
        name = say(f"gaps.side.{side}", language)
        if np.isnan(vals).all():
            missing.append(say("explore.account.chart_hidden", language, side=name))
            continue
        lo, hi = rows["ci_low"].to_numpy(dtype=float), rows["ci_high"].to_numpy(dtype=float)
        err = np.nan_to_num(np.clip(np.vstack([vals - lo, hi - vals]), 0, None))
        ax.errorbar(vals, y + offset[side], xerr=err, fmt="o", color=side_color(side), capsize=3, label=name)
    ax.set_yticks(y)
    ax.set_yticklabels([labels[d] for d in dims])
    ax.set_xlim(inst.scale_min, inst.scale_max)
    ax.xaxis.set_major_formatter(tick_formatter(language))
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(say("explore.account.chart_axis", language, lo=inst.scale_min, hi=inst.scale_max))
    ax.set_title(title, loc="left")
    if ax.containers:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    for i, note in enumerate(missing):
        ax.text(0.0, -0.28 - 0.08 * i, note, transform=ax.transAxes, fontsize=8, color=INK, ha="left")
    _tidy(ax)
    return ax
