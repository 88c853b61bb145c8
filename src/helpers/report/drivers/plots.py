"""Charts of the drivers page: key drivers, importance–performance, model checks, the response surface.

Each takes a frame of :mod:`helpers.stats` (key drivers, calibration,
influence, response-surface fits) or the page's
:class:`helpers.report.drivers.setup.DriverSetup`, draws on ``ax`` and
returns the ``Axes`` (a ``Figure`` for multi-panel charts).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from helpers.data.instrument import Instrument, load_instrument
from helpers.report.portfolio.plots import _message_axes
from helpers.stats.congruence import SURFACE_TERMS, surface_design
from helpers.stats.diagnostics import influence_table
from helpers.stats.fitting import term_label

from .sections import baseline_comparison
from .setup import DriverSetup

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
]


def plot_calibration(calibration: pd.DataFrame, *, ax=None, title: str | None = None):
    """Calibration plot: observed churn rate against predicted probability, one line per model.

    Parameters
    ----------
    calibration : DataFrame
        From :func:`calibration_table`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib Axes
        The diagonal (perfect calibration) plus one line with error bars per
        model.

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
        _, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="#868e96", ls="--", lw=1, label="perfect calibration")
    colors = {"model": "#d9480f", "baseline": "#1864ab"}
    for model, grp in calibration.groupby("model", sort=False):
        yerr = np.vstack([grp["observed"] - grp["ci_low"], grp["ci_high"] - grp["observed"]]).astype(float)
        yerr = np.clip(np.nan_to_num(yerr, nan=0.0), 0.0, None)
        ax.errorbar(grp["mean_predicted"], grp["observed"], yerr=yerr, marker="o", capsize=3,
                    color=colors.get(model), label=f"{model} (n = {int(grp['n'].sum())})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Predicted churn probability")
    ax.set_ylabel("Observed churn rate")
    ax.set_title(title or "Calibration (cross-validated)")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def _outcome_label(data: pd.DataFrame, outcome: str | None = None) -> str | None:
    """The outcome's name in an (English) axis title: ``outcome`` if given, else the data's ``outcome`` column."""
    if outcome is not None:
        return outcome
    if "outcome" in data and data["outcome"].notna().any():
        return term_label(str(data["outcome"].dropna().iloc[0]))
    return None


def _intervals(ax, centre, low, high, *, vertical: bool = False, **style) -> None:
    """Interval lines drawn from their limits, so a limit on the wrong side of the estimate is drawn as it is."""
    low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
    centre = np.asarray(centre, dtype=float)
    ok = np.isfinite(low) & np.isfinite(high) & np.isfinite(centre)
    if ok.any():
        (ax.vlines if vertical else ax.hlines)(centre[ok], low[ok], high[ok], **style)


def plot_importance_performance(
    table: pd.DataFrame,
    *,
    outcome: str | None = None,
    ax=None,
    title: str | None = None,
):
    """Quadrant chart of :func:`importance_performance`: importance (x) against performance (y).

    Parameters
    ----------
    table : DataFrame
        From :func:`importance_performance`.
    outcome : str, optional
        The outcome's name on the x axis, e.g. "NPS".  Default: the
        ``outcome`` column of ``table`` (as :func:`key_drivers` records it),
        named by :func:`helpers.stats.fitting.term_label` (the axis text is
        English; the point labels are ``table["label"]``, in the language
        :func:`importance_performance` was asked for).  Without either the
        axis names no outcome.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib Axes
        One labelled point per dimension with its importance and performance
        intervals as lines, and the cross-hairs (dashed).

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
    >>> len(ax.texts), ax.get_xlabel()
    (1, 'Importance (share of explained churn variance)')
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    colors = {"concentrate here": "#c92a2a", "keep up the good work": "#2b8a3e", "low priority": "#868e96",
              "possible overkill": "#1864ab", "no data": "#ced4da"}
    for _, r in table.iterrows():
        color = colors.get(r["quadrant"], "#495057")
        _intervals(ax, [r["performance"]], [r.get("importance_ci_low", np.nan)], [r.get("importance_ci_high", np.nan)],
                   color=color, lw=1.5)
        _intervals(ax, [r["importance"]], [r.get("performance_ci_low", np.nan)],
                   [r.get("performance_ci_high", np.nan)], vertical=True, color=color, lw=1.5)
        ax.plot([r["importance"]], [r["performance"]], "o", ms=8, color=color)
        ax.annotate(str(r["label"]), (r["importance"], r["performance"]), xytext=(6, 6), textcoords="offset points",
                    fontsize=9)
    ax.axvline(table["importance_cut"].iloc[0], color="#868e96", ls="--", lw=1)
    cut = table["performance_cut"]
    if cut.nunique() == 1:
        ax.axhline(cut.iloc[0], color="#868e96", ls="--", lw=1)
    else:
        ax.scatter(table["importance"], cut, marker="_", s=200, color="#868e96", label="portfolio mean")
        ax.legend(loc="lower right", fontsize=8)
    what = _outcome_label(table, outcome)
    ax.set_xlabel(f"Importance (share of explained {what + ' ' if what else ''}variance)")
    scope = table["scope"].iloc[0] if "scope" in table and len(table) else "portfolio"
    ax.set_ylabel("Performance (mean of account means)" if scope == "portfolio" else "Performance (mean score)")
    ax.set_title(title or f"Importance vs performance — {scope}")
    return ax


def plot_drivers(
    importance: pd.DataFrame,
    *,
    language: str = "en",
    instrument: str | Instrument | None = None,
    ax=None,
    title: str | None = None,
):
    """Horizontal bars of driver importance (share of R²) with bootstrap intervals, most important on top.

    Parameters
    ----------
    importance : DataFrame
        From :func:`key_drivers` (term, share, share_ci_low, share_ci_high,
        r2, n, method; outcome if present).
    language : str
        Term labels, "en" or "fi" (:func:`helpers.stats.fitting.term_label`); the
        axis text stays English.
    instrument : path or Instrument, optional
        Dimension labels.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title (default: method, R² and n).

    Returns
    -------
    matplotlib Axes
        One bar per driver and one interval line per driver with an
        interval; most important on top.

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
        _, ax = plt.subplots(figsize=(6.5, 0.45 * len(tab) + 1.5))
    y = np.arange(len(tab))
    ax.barh(y, tab["share"] * 100, color="#d9480f", alpha=0.85)
    if {"share_ci_low", "share_ci_high"} <= set(tab.columns):
        _intervals(ax, y, tab["share_ci_low"] * 100, tab["share_ci_high"] * 100, color="black", lw=1.5)
    ax.set_yticks(y, [term_label(t, language=language, instrument=instrument) for t in tab["term"]])
    what = _outcome_label(tab)
    ax.set_xlabel(f"Share of explained {what + ' ' if what else ''}variance (%), with bootstrap interval")
    if title is None and len(tab):
        method = str(tab["method"].iloc[0]).replace("_", " ")
        title = f"Key drivers ({method}; R² = {tab['r2'].iloc[0]:.2f}, n = {int(tab['n'].iloc[0])})"
    ax.set_title(title or "Key drivers: nothing to show")
    return ax


def plot_response_surface(
    surface: pd.DataFrame,
    *,
    scale: tuple[float, float] | None = None,
    data: pd.DataFrame | None = None,
    x: str | None = None,
    y: str | None = None,
    ax=None,
    title: str | None = None,
    instrument: str | Instrument | None = None,
):
    """Contour map of a fitted response surface with the lines of agreement and disagreement.

    Parameters
    ----------
    surface : DataFrame
        One surface from :func:`response_surface` (or one dimension of
        :func:`congruence`).
    scale : (float, float), optional
        Rating range to draw (default: the instrument scale).
    data : DataFrame, optional
        With ``x`` and ``y``: the observed ratings are drawn as points, so the
        reader sees where the surface is supported by data.
    x, y : str, optional
        Rating columns of ``data``.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.
    instrument : path or Instrument, optional
        Scale range.

    Returns
    -------
    matplotlib Axes
        Filled contours of the predicted outcome (probability for the
        logistic family), the line of agreement X = Y (solid) and of
        disagreement X = −Y through the centre (dashed).

    Notes
    -----
    Outside the cloud of observed points the surface is extrapolation.

    Examples
    --------
    >>> from helpers.stats.congruence import response_surface
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.uniform(1, 5, 100), "y": rng.uniform(1, 5, 100)})
    >>> d["z"] = 8 - 0.5 * (d["x"] - d["y"]) ** 2 + rng.normal(0, 0.3, 100)
    >>> ax = plot_response_surface(response_surface(d, x="x", y="y", outcome="z"))
    >>> len(ax.lines)
    2
    """
    import matplotlib.pyplot as plt

    if scale is None:
        inst = load_instrument(instrument)
        scale = (inst.scale_min, inst.scale_max)
    centre = surface.attrs.get("centre", sum(scale) / 2)
    gx, gy, z = _surface_grid(surface, scale=scale, centre=centre)
    logistic = surface["model"].iloc[0].endswith("logistic")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    cs = ax.contourf(gx, gy, z, levels=12, cmap="RdYlGn_r" if logistic else "RdYlGn")
    ax.figure.colorbar(cs, ax=ax, label="P(churn)" if logistic else "Predicted outcome")
    ax.plot(scale, scale, color="k", lw=1.5)
    ax.plot(scale, [2 * centre - scale[0], 2 * centre - scale[1]], color="k", lw=1.5, ls="--")
    if data is not None and x and y:
        pts = data.dropna(subset=[x, y])  # hidden team means (small teams) are not drawn
        ax.scatter(pts[x], pts[y], s=10, color="k", alpha=0.4)
    ax.set_xlim(scale)
    ax.set_ylim(scale)
    ax.set_xlabel("Client rating (X)")
    ax.set_ylabel("Team rating (Y)")
    dim = surface["dimension"].iloc[0]
    ax.set_title(title or f"Response surface{f' — {dim}' if dim else ''}")
    return ax


def _surface_grid(surface: pd.DataFrame, *, scale: tuple[float, float],
                  centre: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fitted surface on a 60 × 60 grid over ``scale``: X, Y and the prediction (a probability if logistic)."""
    b = surface.set_index("term").loc[SURFACE_TERMS[:6], "coef"].to_numpy(dtype=float)
    grid = np.linspace(scale[0], scale[1], 60)
    gx, gy = np.meshgrid(grid, grid)
    z = surface_design((gx - centre).ravel(), (gy - centre).ravel()) @ b
    if surface["model"].iloc[0].endswith("logistic"):
        z = special.expit(z)
    return gx, gy, z.reshape(gx.shape)


def _axes(ax):
    """``ax``, or a new 5 × 4 inch Axes."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def plot_residuals(data: pd.DataFrame, *, outcome: str, predictors: Sequence[str], ax=None, title: str | None = None):
    """Residuals against fitted values of an OLS fit, with a smooth trend line.

    Parameters
    ----------
    data, outcome, predictors
        As :func:`influence_table`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib Axes
        One scatter (the residuals), a horizontal zero line and a LOWESS line.

    Notes
    -----
    A curved LOWESS line suggests a missing non-linearity; a funnel shape
    suggests non-constant variance (Fox 2016, *Applied Regression Analysis*,
    ch. 12).  With NPS on 0–10 the rounding shows as diagonal stripes, which
    is expected.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1, 3, 2, 5, 4.], "x": [1, 2, 3, 4, 5.]})
    >>> ax = plot_residuals(d, outcome="y", predictors=["x"])
    """
    tab = influence_table(data, outcome=outcome, predictors=predictors)
    return _draw_residuals(tab, outcome=outcome, ax=_axes(ax), title=title)


def _draw_residuals(tab: pd.DataFrame, *, outcome: str, ax, title: str | None):
    """:func:`plot_residuals` from an :func:`influence_table`."""
    from statsmodels.nonparametric.smoothers_lowess import lowess

    tab = tab.sort_values("fitted")
    ax.scatter(tab["fitted"], tab["residual"], s=12, alpha=0.5, color="#495057")
    ax.axhline(0, color="#868e96", lw=1, ls="--")
    if len(tab) >= 5:
        sm = lowess(tab["residual"], tab["fitted"], frac=0.6, return_sorted=True)
        ax.plot(sm[:, 0], sm[:, 1], color="#d9480f", lw=2)
    ax.set_xlabel("Fitted value")
    ax.set_ylabel("Residual")
    ax.set_title(title or f"Residuals of {outcome} (n = {len(tab)})")
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
    return _draw_influence(tab, n_terms=len(list(predictors)) + 1, label=label, ax=_axes(ax), title=title)


def _draw_influence(tab: pd.DataFrame, *, n_terms: int, label: int, ax, title: str | None):
    """:func:`plot_influence` from an :func:`influence_table` of a model with ``n_terms`` coefficients."""
    n, p = len(tab), n_terms
    size = 20 + 600 * (tab["cooks_d"] / max(tab["cooks_d"].max(), 1e-12))
    ax.scatter(tab["leverage"], tab["student_resid"], s=size, alpha=0.4, color="#1864ab", edgecolor="k", lw=0.5)
    for lev in (2 * p / n, 3 * p / n):
        ax.axvline(lev, color="#868e96", lw=1, ls=":")
    for r in (-2, 2):
        ax.axhline(r, color="#868e96", lw=1, ls="--")
    for _, row in tab.head(label).iterrows():
        ax.annotate(str(row["id"]), (row["leverage"], row["student_resid"]), fontsize=8,
                    xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("Leverage (hat value)")
    ax.set_ylabel("Studentised residual")
    ax.set_title(title or "Influence (circle area ∝ Cook's distance)")
    return ax


def plot_diagnostics(data: pd.DataFrame, *, outcome: str, predictors: Sequence[str], id: str | None = None):
    """Four-panel diagnostic figure for an OLS fit: residuals, normal Q–Q, scale–location, influence.

    Parameters
    ----------
    data, outcome, predictors, id
        As :func:`influence_table`.

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
    _draw_residuals(tab, outcome=outcome, ax=axes[0, 0], title=None)
    r = np.sort(tab["student_resid"].dropna().to_numpy())
    q = stats.norm.ppf((np.arange(1, len(r) + 1) - 0.5) / max(len(r), 1))
    axes[0, 1].scatter(q, r, s=12, alpha=0.5, color="#495057")
    lim = [min(q.min(initial=0), r.min(initial=0)), max(q.max(initial=0), r.max(initial=0))]
    axes[0, 1].plot(lim, lim, color="#d9480f")
    axes[0, 1].set_xlabel("Normal quantile")
    axes[0, 1].set_ylabel("Studentised residual")
    axes[0, 1].set_title("Normal Q–Q")
    t2 = tab.sort_values("fitted")
    axes[1, 0].scatter(t2["fitted"], np.sqrt(np.abs(t2["student_resid"])), s=12, alpha=0.5, color="#495057")
    axes[1, 0].set_xlabel("Fitted value")
    axes[1, 0].set_ylabel("√|studentised residual|")
    axes[1, 0].set_title("Scale–location")
    _draw_influence(tab, n_terms=len(list(predictors)) + 1, label=3, ax=axes[1, 1], title=None)
    fig.tight_layout()
    return fig


def plot_model_check(setup: DriverSetup, *, baseline: pd.DataFrame | None = None):
    """The model check a reader can see: residual diagnostics for NPS, calibration for retention.

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup`.
    baseline : DataFrame, optional
        :func:`baseline_comparison` (retention); computed when missing.

    Returns
    -------
    matplotlib Figure or Axes
        NPS: the four panels of :func:`helpers.report.drivers.plots.plot_diagnostics`
        (residuals, normal Q–Q, scale–location, influence) for the OLS fit.
        Retention: :func:`helpers.report.drivers.plots.plot_calibration` of the
        cross-validated predictions of the model and the NPS-only baseline.
    """
    from helpers.stats.validation import calibration_table

    if setup.kind == "nps":
        return plot_diagnostics(setup.data, outcome=setup.outcome, predictors=setup.predictors)
    cv = baseline if baseline is not None else baseline_comparison(setup)
    pred = cv.attrs.get("predictions")
    cal = calibration_table(pred) if pred is not None else pd.DataFrame()
    if cal.empty:
        return _message_axes("Too few churned or renewed accounts to check calibration.", figsize=(5, 2))
    return plot_calibration(cal, title="Calibration, cross-validated (model vs NPS only)")


def plot_congruence(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    outcome: str = "churned",
    dimension: str | None = None,
    language: str = "en",
    min_client_group_size: int = 5,
    instrument: str | Instrument | None = None,
    ax=None,
):
    """Response surface of one dimension (default: the clearest a4) with the accounts drawn on it.

    Parameters
    ----------
    table : DataFrame
        :func:`helpers.stats.model_data.account_table`.
    summary : DataFrame
        :func:`congruence_summary` (to pick the dimension).
    outcome : str
        ``churned`` or ``client_nps_mean``.
    dimension : str, optional
        Dimension to draw; default the one with the smallest a4 p-value.
    min_client_group_size : int
        An account is drawn only with at least this many client answers (its
        point would show its client mean).
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        :func:`helpers.report.drivers.plots.plot_response_surface` with one point per
        account whose team and client means could be shown (small teams are
        blanked in ``table``; accounts with fewer client answers than the
        client threshold are not drawn, though the surface is fitted on all).
    """
    import warnings as _w

    from helpers.stats.congruence import response_surface
    from helpers.stats.diagnostics import ModelWarning

    inst = load_instrument(instrument)
    if dimension is None:
        a4 = summary[(summary["outcome"] == outcome) & (summary["term"] == "a4")].dropna(subset=["p_val"])
        dimension = a4.sort_values("p_val")["dimension"].iloc[0] if len(a4) else inst.dimension_ids[0]
    data = table[table["outcome_known"].astype(bool)] if outcome == "churned" else table
    x, y = f"client_{dimension}", f"staff_{dimension}"
    with _w.catch_warnings():
        _w.simplefilter("ignore", ModelWarning)
        surface = response_surface(data, x=x, y=y, outcome=outcome, instrument=inst)
    what = "churn" if outcome == "churned" else term_label(outcome, language=language, instrument=inst)
    drawn = data[data["n_client"] >= min_client_group_size] if "n_client" in data else data
    ax = plot_response_surface(surface, data=drawn, x=x, y=y, ax=ax, instrument=inst,
                               title=f"{inst.label(dimension, language)}: {what} by client and team rating "
                                     f"(n = {int(surface['n'].iloc[0])} accounts)")
    ax.set_xlabel(term_label(x, language=language, instrument=inst))
    ax.set_ylabel(term_label(y, language=language, instrument=inst))
    return ax
