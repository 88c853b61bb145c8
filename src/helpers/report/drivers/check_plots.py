"""The model-check charts of the drivers page's appendix: residuals, influence, calibration.

Each takes a tidy frame (the rows a model was fitted to, or a calibration
table of :mod:`helpers.stats.validation`), draws on ``ax`` and returns the
``Axes`` (a ``Figure`` for the four-panel diagnostics).  Words come from the
catalogue (``drivers.chart.*``), ticks are formatted by locale, colours from
:mod:`helpers.report.style`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from helpers.report import formatting as fmt
from helpers.report import style
from helpers.stats.diagnostics import influence_table
from helpers.stats.fitting import term_label
from helpers.words import say

from .sections import baseline_comparison
from .setup import DriverSetup

__all__ = [
    "plot_calibration",
    "plot_residuals",
    "plot_influence",
    "plot_diagnostics",
    "plot_model_check",
]

#: Points drawn in a residual panel at most; beyond that an even subsample (the fit and its lines use all).
MAX_POINTS = 4000


def _ticks(ax, language: str, digits: int = 1) -> None:
    from .plots import locale_ticks

    locale_ticks(ax, "x", language=language, digits=digits)
    locale_ticks(ax, "y", language=language, digits=digits)


def _message_axes(text: str, *, figsize: tuple[float, float], ax=None):
    """An Axes without axes that only says ``text``: what a chart shows when it has nothing to draw."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    ax.axis("off")
    ax.text(0.5, 0.5, text, ha="center", va="center", wrap=True)
    return ax


def plot_calibration(calibration: pd.DataFrame, *, ax=None, title: str | None = None, language: str = "en"):
    """Calibration plot: observed churn rate against predicted probability, one line per model.

    Parameters
    ----------
    calibration : DataFrame
        From :func:`calibration_table`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.
    language : str
        "en" or "fi".

    Returns
    -------
    matplotlib Axes
        The diagonal (perfect calibration) plus one line with error bars per
        model ("model": the ratings, ink; "baseline": NPS alone, grey); the
        legend sits below the axes, off the data.

    Notes
    -----
    Points above the diagonal: more churn than predicted (risk understated).
    Error bars run from ci_low to ci_high; limits on the wrong side of the
    observed rate (rounding, or a table from elsewhere) are drawn as zero
    length rather than rejected.

    Examples
    --------
    >>> cal = pd.DataFrame({"model": "m", "bin": [1, 2], "n": [3, 3], "mean_predicted": [.2, .7],
    ...                     "observed": [.33, .67], "ci_low": [.06, .21], "ci_high": [.79, .94]})
    >>> len(plot_calibration(cal).lines) >= 2
    True
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5.4))
    ax.plot([0, 1], [0, 1], color=style.NEUTRAL, ls="--", lw=1, label=say("drivers.chart.calibration_perfect", language))
    colors = {"model": style.INK, "baseline": style.NEUTRAL}
    markers = {"model": "o", "baseline": "s"}
    for model, grp in calibration.groupby("model", sort=False):
        yerr = np.vstack([grp["observed"] - grp["ci_low"], grp["ci_high"] - grp["observed"]]).astype(float)
        yerr = np.clip(np.nan_to_num(yerr, nan=0.0), 0.0, None)
        key = f"drivers.baseline.model_{model}"
        name = say(key, language) if model in ("model", "baseline") else str(model)
        ax.errorbar(grp["mean_predicted"], grp["observed"], yerr=yerr, marker=markers.get(model, "o"), capsize=3,
                    color=colors.get(model), label=f"{name} (n = {fmt.count(grp['n'].sum(), language)})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel(say("drivers.chart.calibration_x", language))
    ax.set_ylabel(say("drivers.chart.calibration_y", language))
    _ticks(ax, language)
    ax.set_title(title or say("drivers.chart.calibration_title", language), loc="left", fontsize=10.5)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=8, frameon=False, ncol=1)
    return ax


def _axes(ax):
    """``ax``, or a new 5 × 4 inch Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def _thin(tab: pd.DataFrame) -> pd.DataFrame:
    """At most :data:`MAX_POINTS` rows, evenly spaced in the order given (every row when fewer)."""
    if len(tab) <= MAX_POINTS:
        return tab
    return tab.iloc[np.linspace(0, len(tab) - 1, MAX_POINTS).round().astype(int)]


def plot_residuals(data: pd.DataFrame, *, outcome: str, predictors: Sequence[str], ax=None, title: str | None = None,
                   language: str = "en"):
    """Residuals against fitted values of an OLS fit, with a smooth trend line.

    Parameters
    ----------
    data, outcome, predictors
        As :func:`influence_table`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.
    language : str
        "en" or "fi".

    Returns
    -------
    matplotlib Axes
        One scatter (the residuals), a horizontal zero line and a LOWESS line.

    Notes
    -----
    A curved LOWESS line suggests a missing non-linearity; a funnel shape
    suggests non-constant variance (Fox 2016, *Applied Regression Analysis*,
    ch. 12).  With NPS on 0–10 the rounding shows as diagonal stripes, which
    is expected.  Above :data:`MAX_POINTS` rows an even subsample is drawn;
    the LOWESS line uses every row.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1, 3, 2, 5, 4.], "x": [1, 2, 3, 4, 5.]})
    >>> ax = plot_residuals(d, outcome="y", predictors=["x"])
    """
    tab = influence_table(data, outcome=outcome, predictors=predictors)
    return _draw_residuals(tab, outcome=outcome, ax=_axes(ax), title=title, language=language)


def _draw_residuals(tab: pd.DataFrame, *, outcome: str, ax, title: str | None, language: str):
    """:func:`plot_residuals` from an :func:`influence_table`."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    tab = tab.sort_values("fitted")
    shown = _thin(tab)
    ax.scatter(shown["fitted"], shown["residual"], s=8, alpha=0.35, color=style.NEUTRAL, lw=0)
    ax.axhline(0, color=style.NEUTRAL, lw=1, ls="--")
    if len(tab) >= 5:
        sm = lowess(tab["residual"], tab["fitted"], frac=0.6, return_sorted=True)
        ax.plot(sm[:, 0], sm[:, 1], color=style.ATTENTION, lw=2)
    ax.set_xlabel(say("drivers.chart.fitted", language))
    ax.set_ylabel(say("drivers.chart.residual", language))
    _ticks(ax, language)
    ax.set_title(title or say("drivers.chart.residuals_title", language, what=term_label(outcome, language=language),
                              n=fmt.count(len(tab), language)), fontsize=10)
    return ax


def plot_influence(
    data: pd.DataFrame,
    *,
    outcome: str,
    predictors: Sequence[str],
    id: str | None = None,
    label: int = 3,
    ax=None,
    title: str | None = None,
    language: str = "en",
):
    """Influence plot: leverage against studentised residual, circle area ∝ Cook's distance.

    Parameters
    ----------
    data, outcome, predictors, id
        As :func:`influence_table`.
    label : int
        Label this many most influential rows.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    language : str
        "en" or "fi".

    Returns
    -------
    matplotlib Axes

    Notes
    -----
    Reference lines at leverage 2p/n and 3p/n and at studentised residual ±2
    (Fox 2016, ch. 11).  Points far right *and* high or low pull the fit.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1, 2, 3, 4, 20.], "x": [1, 2, 3, 4, 5.]})
    >>> ax = plot_influence(d, outcome="y", predictors=["x"])
    """
    tab = influence_table(data, outcome=outcome, predictors=predictors, id=id)
    return _draw_influence(tab, n_terms=len(list(predictors)) + 1, label=label, ax=_axes(ax), title=title,
                           language=language)


def _leverage_digits(leverage: pd.Series) -> int:
    """Decimals that tell leverage ticks apart: with thousands of answers leverage is about 0.0005, not "0.00"."""
    top = float(leverage.max()) if len(leverage) else 0.0
    return max(2, int(np.ceil(-np.log10(top))) + 1) if np.isfinite(top) and top > 0 else 2


def _draw_influence(tab: pd.DataFrame, *, n_terms: int, label: int, ax, title: str | None, language: str):
    """:func:`plot_influence` from an :func:`influence_table` of a model with ``n_terms`` coefficients."""
    n, p = len(tab), n_terms
    top = max(label, 200)  # the most influential rows are always drawn (the table is sorted by Cook's distance)
    shown = pd.concat([tab.head(top), _thin(tab.iloc[top:])])
    size = 20 + 600 * (shown["cooks_d"] / max(tab["cooks_d"].max(), 1e-12))
    ax.scatter(shown["leverage"], shown["student_resid"], s=size, alpha=0.4, color=style.NEUTRAL,
               edgecolor=style.INK, lw=0.5)
    for lev in (2 * p / n, 3 * p / n):
        ax.axvline(lev, color=style.NEUTRAL, lw=1, ls=":")
    for r in (-2, 2):
        ax.axhline(r, color=style.NEUTRAL, lw=1, ls="--")
    for _, row in tab.head(label).iterrows():
        ax.annotate(str(row["id"]), (row["leverage"], row["student_resid"]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel(say("drivers.chart.leverage", language))
    ax.set_ylabel(say("drivers.chart.student", language))
    from .plots import locale_ticks

    locale_ticks(ax, "x", language=language, digits=_leverage_digits(tab["leverage"]))
    locale_ticks(ax, "y", language=language, digits=1)
    ax.set_title(title or say("drivers.chart.influence_title", language), fontsize=10)
    return ax


def plot_diagnostics(data: pd.DataFrame, *, outcome: str, predictors: Sequence[str], id: str | None = None,
                     language: str = "en"):
    """Four-panel diagnostic figure for an OLS fit: residuals, normal Q–Q, scale–location, influence.

    Parameters
    ----------
    data, outcome, predictors, id
        As :func:`influence_table`.
    language : str
        "en" or "fi".

    Returns
    -------
    matplotlib Figure
        With four Axes.

    Notes
    -----
    The panels of R's ``plot.lm`` (Chambers & Hastie 1992), drawn as
    :func:`plot_residuals` and :func:`plot_influence` draw them, from one
    :func:`influence_table`.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1, 3, 2, 5, 4, 6.], "x": [1, 2, 3, 4, 5, 6.]})
    >>> len(plot_diagnostics(d, outcome="y", predictors=["x"]).axes)
    4
    """
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 2, figsize=(9, 7))
    tab = influence_table(data, outcome=outcome, predictors=predictors, id=id)
    _draw_residuals(tab, outcome=outcome, ax=axes[0, 0], title=None, language=language)
    r = np.sort(tab["student_resid"].dropna().to_numpy())
    q = stats.norm.ppf((np.arange(1, len(r) + 1) - 0.5) / max(len(r), 1))
    keep = _thin(pd.DataFrame({"q": q, "r": r}))
    axes[0, 1].scatter(keep["q"], keep["r"], s=8, alpha=0.4, color=style.NEUTRAL, lw=0)
    lim = [min(q.min(initial=0), r.min(initial=0)), max(q.max(initial=0), r.max(initial=0))]
    axes[0, 1].plot(lim, lim, color=style.ATTENTION)
    axes[0, 1].set_xlabel(say("drivers.chart.normal_quantile", language))
    axes[0, 1].set_ylabel(say("drivers.chart.student", language))
    axes[0, 1].set_title(say("drivers.chart.qq_title", language), fontsize=10)
    _ticks(axes[0, 1], language)
    t2 = _thin(tab.sort_values("fitted"))
    axes[1, 0].scatter(t2["fitted"], np.sqrt(np.abs(t2["student_resid"])), s=8, alpha=0.35, color=style.NEUTRAL, lw=0)
    axes[1, 0].set_xlabel(say("drivers.chart.fitted", language))
    axes[1, 0].set_ylabel(say("drivers.chart.sqrt_student", language))
    axes[1, 0].set_title(say("drivers.chart.scale_location_title", language), fontsize=10)
    _ticks(axes[1, 0], language)
    _draw_influence(tab, n_terms=len(list(predictors)) + 1, label=3, ax=axes[1, 1], title=None, language=language)
    fig.tight_layout()
    return fig


def plot_model_check(setup: DriverSetup, *, baseline: pd.DataFrame | None = None, language: str = "en"):
    """The model check a reader can see: residual diagnostics for NPS, calibration for retention.

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup`.
    baseline : DataFrame, optional
        :func:`baseline_comparison` (retention); computed when missing.
    language : str
        "en" or "fi".

    Returns
    -------
    matplotlib Figure or Axes
        NPS: the four panels of :func:`plot_diagnostics` (residuals, normal
        Q–Q, scale–location, influence) for the OLS fit.  Retention:
        :func:`plot_calibration` of the cross-validated predictions of the
        model and the NPS-only baseline.
    """
    from helpers.stats.validation import calibration_table

    if setup.kind == "nps":
        return plot_diagnostics(setup.data, outcome=setup.outcome, predictors=setup.predictors, language=language)
    cv = baseline if baseline is not None else baseline_comparison(setup)
    pred = cv.attrs.get("predictions")
    cal = calibration_table(pred) if pred is not None else pd.DataFrame()
    if cal.empty:
        return _message_axes(say("drivers.chart.calibration_none", language), figsize=(5, 2))
    return plot_calibration(cal, title=say("drivers.chart.calibration_title_cv", language), language=language)
