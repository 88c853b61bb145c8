"""Charts of the drivers page: the key drivers and importance against performance.

Each takes a frame of :mod:`helpers.stats` (key drivers, importance against
performance), draws on ``ax`` and returns the ``Axes``.  Every word comes
from the catalogue (``drivers.chart.*``) in the page's language, tick labels
are formatted by locale (decimal comma in Finnish), and colours come from
:mod:`helpers.report.style`: whose rating a bar is (client or team), what
needs attention, what to keep up.  The model-check charts are in
:mod:`.check_plots`, the response surface in :mod:`.surface_plots`; both are
importable from here too.
"""

from __future__ import annotations

import textwrap

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument
from helpers.report import formatting as fmt
from helpers.report import style
from helpers.stats.fitting import term_label
from helpers.words import say

from .check_plots import (
                          plot_calibration,
                          plot_diagnostics,
                          plot_influence,
                          plot_model_check,
                          plot_residuals,
)
from .surface_plots import plot_congruence, plot_response_surface

__all__ = [
    "plot_calibration",
    "plot_importance_performance",
    "plot_drivers",
    "plot_response_surface",
    "plot_residuals",
    "plot_influence",
    "plot_diagnostics",
    "plot_model_check",
    "plot_congruence",
    "locale_ticks",
    "QUADRANT_COLORS",
]

#: One colour per quadrant of importance against performance: act (wine), keep up (green), the rest grey.
QUADRANT_COLORS = {"concentrate here": style.ATTENTION, "keep up the good work": style.CELEBRATE,
                   "possible overkill": style.NEUTRAL, "low priority": style.NEUTRAL, "no data": "#CED4DA"}


def locale_ticks(ax, axis: str = "x", *, language: str = "en", digits: int = 1, percent: float | None = None) -> None:
    """Tick labels by locale: "4,0" in Finnish; with ``percent`` the value × ``percent`` as a percentage."""
    from matplotlib.ticker import FuncFormatter

    if percent is not None:
        formatter = FuncFormatter(lambda v, _: fmt.percent(v / percent, language))
    else:
        formatter = FuncFormatter(lambda v, _: fmt.number(v, language, digits))
    (ax.xaxis if axis == "x" else ax.yaxis).set_major_formatter(formatter)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _outcome_label(data: pd.DataFrame, outcome: str | None = None, *, language: str = "en") -> str | None:
    """The outcome's name: ``outcome`` if given, else the data's ``outcome`` column in words (:func:`term_label`)."""
    if outcome is not None:
        return outcome
    if "outcome" in data and data["outcome"].notna().any():
        return term_label(str(data["outcome"].dropna().iloc[0]), language=language)
    return None


def _intervals(ax, centre, low, high, *, vertical: bool = False, **style_) -> None:
    """Interval lines drawn from their limits, so a limit on the wrong side of the estimate is drawn as it is."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    centre = np.asarray(centre, dtype=float)
    ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(centre)
    if ok.any():
        (ax.vlines if vertical else ax.hlines)(centre[ok], low[ok], high[ok], **style_)


def _term_color(term: str, side: str | None) -> str:
    """A bar's colour: the team's for team ratings, the client's for the client's, grey for a gap."""
    if term.startswith("gap_"):
        return style.NEUTRAL
    if term.startswith("staff_") or side == "staff":
        return style.TEAM
    return style.CLIENT


def _n_text(tab: pd.DataFrame, language: str) -> str:
    """"3,529 answers from 60 accounts" or "42 accounts", from the n and n_clusters columns."""
    n = tab["n"].iloc[0] if "n" in tab and len(tab) else np.nan
    k = tab["n_clusters"].iloc[0] if "n_clusters" in tab and len(tab) else np.nan
    if pd.notna(n) and pd.notna(k) and k < n:
        return say("drivers.chart.n_answers", language, n=fmt.count(n, language), k=fmt.count(k, language))
    return say("drivers.chart.n_accounts", language, n=fmt.count(n, language))


def plot_drivers(
    importance: pd.DataFrame,
    *,
    outcome: str | None = None,
    side: str | None = None,
    language: str = "en",
    instrument: str | Instrument | None = None,
    ax=None,
    title: str | None = None,
):
    """Horizontal bars of each rating's share of what the ratings explain, with intervals, largest on top.

    Parameters
    ----------
    importance : DataFrame
        From :func:`key_drivers` (term, share, share_ci_low, share_ci_high,
        r2, n, n_clusters; outcome if present).
    outcome : str, optional
        The outcome's name in the title and axis ("client NPS"); default the
        ``outcome`` column in words.
    side : {"client", "staff", "both"}, optional
        Whose ratings explain the outcome: bars take the client's or the
        team's colour (:mod:`helpers.report.style`), gaps grey.  Default: by
        the term (``staff_<d>`` team, else client).
    language : str
        "en" or "fi": labels, title and ticks.
    instrument : path or Instrument, optional
        Dimension labels.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title (default: what is explained, how much the ratings explain
        together and n).

    Returns
    -------
    matplotlib Axes
        One bar per driver, one interval line per driver with an interval,
        and each bar's share written beside it; most important on top.

    Notes
    -----
    Bars show share of the explained variance (sum 100%); lines are the
    bootstrap percentile intervals.  The percentile interval of a share near
    zero need not contain the estimate (a share's resamples are biased
    upwards), so the interval is drawn from its limits as it is, never as
    ± error bars.

    Examples
    --------
    >>> imp = pd.DataFrame({"term": ["care", "gap_dare"], "share": [0.7, 0.003], "share_ci_low": [0.6, 0.005],
    ...                     "share_ci_high": [0.8, 0.3], "rank": [1, 2], "r2": [0.4, 0.4], "n": [50, 50],
    ...                     "method": ["dominance"] * 2})
    >>> ax = plot_drivers(imp, language="fi")
    >>> len(ax.patches), [t.get_text() for t in ax.get_yticklabels()]
    (2, ['Uskallus (ero, asiakas − tiimi)', 'Välittäminen'])
    """
    import matplotlib.pyplot as plt

    tab = importance.dropna(subset=["share"]).sort_values("share").reset_index(drop=True)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 0.42 * max(len(tab), 1) + 1.4))
    what = _outcome_label(importance, outcome, language=language)
    if tab.empty:
        ax.axis("off")
        ax.set_title(title or say("drivers.chart.drivers_empty", language))
        return ax
    y = np.arange(len(tab))
    ax.barh(y, tab["share"] * 100, color=[_term_color(t, side) for t in tab["term"]], alpha=0.9, height=0.6)
    high = tab["share"] * 100
    if {"share_ci_low", "share_ci_high"} <= set(tab.columns):
        _intervals(ax, y, tab["share_ci_low"] * 100, tab["share_ci_high"] * 100, color=style.INK, lw=1.5)
        high = np.fmax(high, tab["share_ci_high"].astype(float) * 100)
    for yi, x, share in zip(y, high, tab["share"]):
        ax.text(x + 1, yi, fmt.percent(share, language), va="center", fontsize=9, color=style.INK)
    ax.set_xlim(0, max(float(np.nanmax(high)) * 1.18, 10))
    ax.set_yticks(y, [term_label(t, language=language, instrument=instrument) for t in tab["term"]])
    locale_ticks(ax, "x", language=language, percent=100)
    ax.set_xlabel(say("drivers.chart.drivers_x", language, what=what) if what
                  else say("drivers.chart.drivers_x_plain", language))
    if title is None:
        r2 = tab["r2"].dropna()
        head = (say("drivers.chart.drivers_title", language, what=_capital(what)) if what
                else say("drivers.chart.drivers_title_plain", language))
        sub = say("drivers.chart.drivers_subtitle", language, r2=fmt.percent(r2.iloc[0], language) if len(r2) else
                  fmt.MISSING, n=_n_text(tab, language))
        title = f"{head}\n" + textwrap.fill(sub, 72)  # no wider than the bars: the chart stays legible on a phone
    ax.set_title(title, loc="left", fontsize=10.5)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return ax


def plot_importance_performance(
    table: pd.DataFrame,
    *,
    outcome: str | None = None,
    language: str = "en",
    ax=None,
    title: str | None = None,
):
    """Quadrant chart of :func:`importance_performance`: importance (x) against performance (y), quadrants named.

    Parameters
    ----------
    table : DataFrame
        From :func:`importance_performance`.
    outcome : str, optional
        The outcome's name on the x axis, e.g. "client NPS".  Default: the
        ``outcome`` column of ``table`` (as :func:`key_drivers` records it),
        named by :func:`helpers.stats.fitting.term_label`.  Without either
        the axis names no outcome.
    language : str
        "en" or "fi": axis titles, quadrant names and ticks (the point labels
        are ``table["label"]``, in the language :func:`importance_performance`
        was asked for).
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib Axes
        One labelled point per dimension (text gid ``"point"``) with its
        importance and performance intervals as lines, the cross-hairs
        (dashed) and each quadrant's name written in it (gid
        ``"quadrant"``), coloured as the points in it: wine where to act,
        green what to keep up, grey the rest.  No legend covers the data:
        the quadrant names sit in bands kept free above and below the points.

    Notes
    -----
    Bottom-right ("important, scored low") is where action pays most.  A
    percentile bootstrap interval of a share need not contain the share
    itself, so intervals are drawn from their limits, not as ± errors.

    Examples
    --------
    >>> tab = pd.DataFrame({"term": ["care"], "label": ["Care"], "importance": [0.6], "importance_ci_low": [0.5],
    ...                     "importance_ci_high": [0.7], "performance": [3.4], "performance_ci_low": [3.2],
    ...                     "performance_ci_high": [3.6], "importance_cut": [0.2], "performance_cut": [3.6],
    ...                     "quadrant": ["concentrate here"], "scope": ["portfolio"], "outcome": ["churned"]})
    >>> ax = plot_importance_performance(tab)
    >>> [t.get_text() for t in ax.texts if t.get_gid() == "point"], ax.get_xlabel()
    (['Care'], 'Importance: share of the explained variation in churn')
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5))
    for _, r in table.iterrows():
        color = QUADRANT_COLORS.get(r["quadrant"], style.INK)
        _intervals(ax, [r["performance"]], [r.get("importance_ci_low", np.nan)], [r.get("importance_ci_high", np.nan)],
                   color=color, lw=1.5, alpha=0.8)
        _intervals(ax, [r["importance"]], [r.get("performance_ci_low", np.nan)],
                   [r.get("performance_ci_high", np.nan)], vertical=True, color=color, lw=1.5, alpha=0.8)
        ax.plot([r["importance"]], [r["performance"]], "o", ms=8, color=color)
        ax.annotate(str(r["label"]), (r["importance"], r["performance"]), xytext=(7, 5), textcoords="offset points",
                    fontsize=9, color=style.INK, gid="point")
    x_cut = float(table["importance_cut"].iloc[0]) if len(table) else 0.2
    cut = table["performance_cut"]
    ax.axvline(x_cut, color=style.NEUTRAL, ls="--", lw=1)
    if cut.nunique() == 1:
        ax.axhline(cut.iloc[0], color=style.NEUTRAL, ls="--", lw=1)
    elif len(cut):
        ax.scatter(table["importance"], cut, marker="_", s=200, color=style.NEUTRAL,
                   label=say("drivers.chart.ipa_mean", language))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), fontsize=8, frameon=False)
    _quadrant_limits(ax, table, x_cut)
    _quadrant_names(ax, x_cut, language)
    what = _outcome_label(table, outcome, language=language)
    ax.set_xlabel(say("drivers.chart.ipa_x", language, what=what) if what else say("drivers.chart.ipa_x_plain", language))
    scope = table["scope"].iloc[0] if "scope" in table and len(table) else "portfolio"
    ax.set_ylabel(say("drivers.chart.ipa_y_portfolio" if scope == "portfolio" else "drivers.chart.ipa_y", language))
    locale_ticks(ax, "x", language=language, percent=1)
    locale_ticks(ax, "y", language=language, digits=1)
    ax.set_title(title or say("drivers.chart.ipa_title", language), loc="left", fontsize=10.5)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    return ax


def _quadrant_limits(ax, table: pd.DataFrame, x_cut: float) -> None:
    """Axes limits with a free band above and below the points, where the quadrant names go."""
    cols = [c for c in ("performance", "performance_ci_low", "performance_ci_high", "performance_cut") if c in table]
    ys = table[cols].to_numpy(dtype=float).ravel()
    ys = ys[np.isfinite(ys)]
    lo, hi = (ys.min(), ys.max()) if len(ys) else (1.0, 5.0)
    span = max(hi - lo, 0.2)
    ax.set_ylim(lo - 0.2 * span, hi + 0.2 * span)
    xcols = [c for c in ("importance", "importance_ci_high") if c in table]
    xs = table[xcols].to_numpy(dtype=float).ravel()
    xs = xs[np.isfinite(xs)]
    right = max(float(xs.max()) if len(xs) else 0.0, x_cut) * 1.2 + 0.02
    ax.set_xlim(0, right)


def _quadrant_names(ax, x_cut: float, language: str) -> None:
    """Each quadrant's name beside the cross-hair, in the free bands at the top and bottom."""
    from matplotlib.transforms import blended_transform_factory

    trans = blended_transform_factory(ax.transData, ax.transAxes)
    pad = 0.01 * (ax.get_xlim()[1] - ax.get_xlim()[0])
    for key, quadrant, x, ha, y, va in (
            ("overkill", "possible overkill", x_cut - pad, "right", 0.98, "top"),
            ("keep", "keep up the good work", x_cut + pad, "left", 0.98, "top"),
            ("low", "low priority", x_cut - pad, "right", 0.02, "bottom"),
            ("concentrate", "concentrate here", x_cut + pad, "left", 0.02, "bottom")):
        color = QUADRANT_COLORS[quadrant]
        text = ax.text(x, y, say(f"drivers.quadrant.{key}", language), transform=trans, ha=ha, va=va, fontsize=9,
                       fontweight="bold" if color != style.NEUTRAL else "normal",
                       color=style.INK if color == style.NEUTRAL else color, gid="quadrant")
        _keep_inside(ax, text)


def _keep_inside(ax, text) -> None:
    """A quadrant name that sticks out of the axes (a narrow quadrant) is wrapped onto two lines; if it still
    does not fit, it starts at the axes' edge one line further in, clear of the name beside it."""
    renderer = ax.figure.canvas.get_renderer()
    axes_box = ax.get_window_extent(renderer=renderer)

    def sticks_out() -> bool:
        box = text.get_window_extent(renderer=renderer)
        return box.x0 < axes_box.x0 or box.x1 > axes_box.x1

    if not sticks_out():
        return
    words = text.get_text().split(" ")
    if len(words) > 1:
        cut = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
        text.set_text(" ".join(words[:cut]) + "\n" + " ".join(words[cut:]))
        text.set_multialignment(text.get_horizontalalignment())
        if not sticks_out():
            return
        text.set_text(" ".join(words))
    left = text.get_window_extent(renderer=renderer).x0 < axes_box.x0
    edge = axes_box.x0 + 2 if left else axes_box.x1 - 2
    text.set_x(ax.transData.inverted().transform((edge, 0))[0])
    text.set_horizontalalignment("left" if left else "right")
    x, y = text.get_position()
    text.set_y(y - 0.06 if y > 0.5 else y + 0.06)
