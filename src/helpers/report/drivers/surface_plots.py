"""The response surface of the drivers page's appendix: the outcome over the client's and the team's rating.

Takes a fitted surface of :mod:`helpers.stats.congruence` (and the account
table whose accounts are drawn on it), draws on ``ax`` and returns the
``Axes``.  Words from the catalogue (``drivers.chart.*``), ticks by locale,
colours from :mod:`helpers.report.style` (green where the outcome is good,
wine where it is bad).  The accounts furthest from agreement are named.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from helpers.data.instrument import Instrument, load_instrument
from helpers.report import formatting as fmt
from helpers.report import style
from helpers.stats.congruence import SURFACE_TERMS, surface_design
from helpers.stats.fitting import term_label
from helpers.words import say

__all__ = ["plot_response_surface", "plot_congruence", "LABELLED"]

#: How many accounts the congruence chart names: those furthest from agreement.
LABELLED = 5


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
    language: str = "en",
    zlim: tuple[float, float] | None = None,
    zlabel: str | None = None,
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
    language : str
        "en" or "fi": axis titles, colour-bar title and ticks.
    zlim : (float, float), optional
        The outcome range the colours span (e.g. the observed range); the
        prediction is clipped to it for colouring only, so a far corner where
        the quadratic surface runs off the scale does not wash out the region
        where the accounts are.
    zlabel : str, optional
        The colour bar's title (default: "Predicted probability of churn" or
        "Predicted outcome").

    Returns
    -------
    matplotlib Axes
        Filled contours of the predicted outcome (probability for the
        logistic family; green where the outcome is good — low churn, high
        NPS — wine where it is bad; with ``data``, only near the observed
        points: the rest of the square would be extrapolation), the line of agreement X = Y (solid) and
        of disagreement X = −Y through the centre (dashed), and the points
        (the last collection drawn).

    Notes
    -----
    Outside the cloud of observed points the surface is extrapolation, so
    with ``data`` it is coloured only within 15% of the scale of a point.

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
    from matplotlib.ticker import FuncFormatter

    from .plots import locale_ticks

    if scale is None:
        inst = load_instrument(instrument)
        scale = (inst.scale_min, inst.scale_max)
    centre = surface.attrs.get("centre", sum(scale) / 2)
    gx, gy, z = _surface_grid(surface, scale=scale, centre=centre)
    logistic = surface["model"].iloc[0].endswith("logistic")
    if ax is None:
        _, ax = plt.subplots(figsize=(5.8, 4.6))
    cmap = style.diverging_cmap()
    if zlim is not None and all(np.isfinite(zlim)) and zlim[1] > zlim[0]:
        z = np.clip(z, *zlim)  # colours for the outcome's observed range; the extrapolated corners take the ends
    if data is not None and x and y:
        z = _mask_far(z, gx, gy, data.dropna(subset=[x, y])[[x, y]].to_numpy(dtype=float),
                      reach=0.15 * (scale[1] - scale[0]))
    cs = ax.contourf(gx, gy, z, levels=12, cmap=cmap.reversed() if logistic else cmap)
    bar = ax.figure.colorbar(cs, ax=ax, label=zlabel or say("drivers.chart.surface_churn" if logistic
                                                            else "drivers.chart.surface_outcome", language))
    bar.ax.yaxis.set_major_formatter(FuncFormatter(
        lambda v, _: fmt.number(v, language, 2 if logistic else 1)))
    ax.plot(scale, scale, color=style.INK, lw=1.5)
    ax.plot(scale, [2 * centre - scale[0], 2 * centre - scale[1]], color=style.INK, lw=1.5, ls="--")
    if data is not None and x and y:
        pts = data.dropna(subset=[x, y])  # hidden team means (small teams) are not drawn
        ax.scatter(pts[x], pts[y], s=12, color=style.INK, alpha=0.5, lw=0)
    ax.set_xlim(scale)
    ax.set_ylim(scale)
    ax.set_xlabel(say("drivers.chart.surface_x", language))
    ax.set_ylabel(say("drivers.chart.surface_y", language))
    locale_ticks(ax, "x", language=language, digits=1)
    locale_ticks(ax, "y", language=language, digits=1)
    dim = surface["dimension"].iloc[0]
    ax.set_title(title or say("drivers.chart.surface_title_plain", language, dim=dim or ""), loc="left",
                 fontsize=10.5)
    return ax


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _mask_far(z: np.ndarray, gx: np.ndarray, gy: np.ndarray, points: np.ndarray, *, reach: float) -> np.ndarray:
    """``z`` masked where the nearest observed point is further than ``reach``: no colour where nothing was seen."""
    if not len(points):
        return z
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    nearest = np.full(len(grid), np.inf)
    for start in range(0, len(points), 500):  # bounded memory for large portfolios
        chunk = points[start:start + 500]
        d = np.sqrt(((grid[:, None, :] - chunk[None, :, :]) ** 2).sum(axis=2)).min(axis=1)
        nearest = np.minimum(nearest, d)
    return np.ma.masked_where((nearest > reach).reshape(z.shape), z)


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


def plot_congruence(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    outcome: str = "churned",
    dimension: str | None = None,
    language: str = "en",
    min_client_group_size: int = 5,
    label: int = LABELLED,
    instrument: str | Instrument | None = None,
    ax=None,
):
    """Response surface of one dimension (default: the clearest a4) with the accounts drawn on it.

    Parameters
    ----------
    table : DataFrame
        :func:`helpers.stats.model_data.account_table` (with ``name``).
    summary : DataFrame
        :func:`congruence_summary` (to pick the dimension).
    outcome : str
        ``churned`` or ``client_nps_mean``.
    dimension : str, optional
        Dimension to draw; default the one with the smallest a4 p-value.
    language : str
        "en" or "fi".
    min_client_group_size : int
        An account is drawn only with at least this many client answers (its
        point would show its client mean).
    label : int
        Name this many accounts: those whose client and team ratings are
        furthest apart (the accounts the question is about); every other
        account is a point without a name, so the chart stays readable with
        hundreds of accounts.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        :func:`plot_response_surface` with one point per account whose team
        and client means could be shown (small teams are blanked in
        ``table``; accounts with fewer client answers than the client
        threshold are not drawn, though the surface is fitted on all), and
        the names of the ``label`` accounts furthest from agreement (texts
        with gid ``"account"``).
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
    what = term_label(outcome, language=language, instrument=inst)
    drawn = data[data["n_client"] >= min_client_group_size] if "n_client" in data else data
    observed = pd.to_numeric(data[outcome], errors="coerce").dropna() if outcome in data else pd.Series(dtype=float)
    zlim = (float(observed.min()), float(observed.max())) if outcome != "churned" and len(observed) > 1 else None
    zlabel = None if outcome == "churned" else _capital(what)
    ax = plot_response_surface(surface, data=drawn, x=x, y=y, ax=ax, instrument=inst, language=language, zlim=zlim,
                               zlabel=zlabel,
                               title=say("drivers.chart.surface_title", language, dim=inst.label(dimension, language),
                                         what=what, n=fmt.count(surface["n"].iloc[0], language)))
    ax.set_xlabel(term_label(x, language=language, instrument=inst))
    ax.set_ylabel(term_label(y, language=language, instrument=inst))
    _name_furthest(ax, drawn.dropna(subset=[x, y]), x=x, y=y, label=label)
    return ax


def _name_furthest(ax, points: pd.DataFrame, *, x: str, y: str, label: int) -> None:
    """Name the ``label`` accounts whose two ratings are furthest apart, in the corners away from the cloud.

    Accounts the team rates higher than the client are named in the top-left
    corner, the others in the bottom-right, one under the other, each with a
    thin line to its point, so names never sit on each other or on the data.
    """
    if not label or points.empty or "name" not in points:
        return
    far = points.assign(apart=(points[x] - points[y]).abs()).nlargest(label, "apart")
    (lo, hi), step = ax.get_xlim(), 0.075 * (ax.get_xlim()[1] - ax.get_xlim()[0])
    team_higher = far[far[y] > far[x]].sort_values(y, ascending=False)
    client_higher = far[far[y] <= far[x]].sort_values(y)
    spots = [(r, (lo + step / 2, hi - step * (i + 1)), "left") for i, (_, r) in enumerate(team_higher.iterrows())]
    spots += [(r, (hi - step / 2, lo + step * (i + 1)), "right") for i, (_, r) in enumerate(client_higher.iterrows())]
    for r, at, ha in spots:
        ax.annotate(str(r["name"]), (r[x], r[y]), xytext=at, textcoords="data", ha=ha, va="center", fontsize=8,
                    color=style.INK, gid="account",
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85},
                    arrowprops={"arrowstyle": "-", "color": style.INK, "lw": 0.6, "shrinkA": 0, "shrinkB": 2})
