"""Portfolio: the management view across all accounts.

Which accounts score clearly above or below the rest of the portfolio on each
dimension, where the account team sees the partnership differently from the
client, how NPS is spread across accounts and how it moves from wave to wave,
which accounts without a known outcome look at risk of churning, and which
deserve to be celebrated.

Every function takes tidy frames (as from :mod:`helpers.store` and
:mod:`helpers.scores`) and returns tidy frames, one row per estimate, with ``n``
and an interval beside every number.  Every page of significance flags is
corrected for the number of tests it makes (Benjamini–Hochberg, see
:func:`helpers.gaps.benjamini_hochberg`).  Staff results from fewer than
``min_group_size`` answers are blanked before they leave this module, and left
out of every reference value they could be recovered from (see
:mod:`helpers.privacy`).

The later sections serve the drivers page (what drives NPS and retention across
the portfolio): :func:`driver_setup` assembles the data for the models of
:mod:`helpers.models`, :mod:`helpers.drivers` and :mod:`helpers.congruence`,
and the other functions run them for one outcome and side, collect their
warnings and put the results into labelled tables, figures and sentences.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .gaps import BLIND_SPOT, HIDDEN_STRENGTH, perception_gaps
from .gaps import benjamini_hochberg as fdr_bh
from .instrument import Instrument, load_instrument
from .models import term_label
from .privacy import MIN_GROUP_SIZE, suppress_small_groups
from .scores import classify_nps, normal_p_value, nps, summarise, t_p_value, t_value, z_value

__all__ = [
    "PortfolioWarning",
    "headline",
    "dimension_heatmap",
    "plot_heatmap",
    "gap_map",
    "plot_gap_map",
    "nps_vs_portfolio",
    "plot_nps_distribution",
    "nps_trend",
    "plot_nps_trend",
    "score_change",
    "MIN_OUTCOME_GROUP",
    "risk_signals",
    "accounts_at_risk",
    "baseline_verdict",
    "notes_markdown",
    "celebrate",
    "OUTCOMES",
    "SIDES",
    "term_label",
    "label_terms",
    "DriverSetup",
    "driver_setup",
    "driver_models",
    "driver_importance",
    "congruence_summary",
    "congruence_verdict",
    "baseline_comparison",
    "driver_ipa",
    "model_heading",
    "plot_model_check",
    "plot_congruence",
    "methods_table",
    "display_table",
]


class PortfolioWarning(UserWarning):
    """A portfolio result is shown but should be read with care (few accounts, no churners, …)."""


def _present(data: pd.DataFrame, cols: Sequence[str]) -> list[str]:
    return [c for c in cols if c in data.columns]


def _wave_order(data: pd.DataFrame, wave: str = "wave") -> list[str]:
    """Waves oldest first, as :func:`helpers.store.waves` orders them (by median answer time, else naturally)."""
    from .store import sort_waves

    labels = pd.unique(data[wave].dropna())
    dated = None
    if "submitted_at" in data.columns:
        dated = pd.to_datetime(data["submitted_at"], errors="coerce").groupby(data[wave]).median().to_dict()
    return sort_waves(labels, dated=dated)


def _require_waves(responses: pd.DataFrame, *waves: str | None) -> list[str]:
    """The waves of ``responses`` oldest first; a ValueError naming them when a given wave is not among them."""
    have = _wave_order(responses)
    unknown = [w for w in waves if w is not None and w not in have]
    if unknown:
        raise ValueError(f"Wave(s) {unknown} have no responses here; the waves present are {have or 'none'}.")
    return have


def _keep_side(data: pd.DataFrame, side: str | None) -> pd.DataFrame:
    """The rows of one side; every row when ``side`` is None or the data have no ``side`` column."""
    if side is not None and "side" in data.columns:
        return data[data["side"] == side]
    return data


def _welch(diff: pd.Series, n1: pd.Series, var1: pd.Series, n2: pd.Series, var2: pd.Series, *,
           tested: pd.Series, ci: float) -> pd.DataFrame:
    """Welch's t test and interval of differences of two independent means, from summary statistics.

    Parameters
    ----------
    diff : Series
        x̄₁ − x̄₂ per row.
    n1, var1, n2, var2 : Series
        Count and variance (s²) of each sample.
    tested : boolean Series
        Rows to test; the others get NaN.  Rows with fewer than two values on
        either side or a standard error of 0 are never tested.
    ci : float
        Confidence level of the interval.

    Returns
    -------
    DataFrame
        t, df, p_val, ci_low, ci_high — same index as ``diff``.

    Notes
    -----
    se = √(s₁²/n₁ + s₂²/n₂), t = diff/se, Welch–Satterthwaite
    df = se⁴/((s₁²/n₁)²/(n₁−1) + (s₂²/n₂)²/(n₂−1)), interval diff ± t_{(1+ci)/2, df}·se,
    p = 2·P(T_df > |t|) (Welch 1947; the same test as :func:`helpers.gaps.welch_test`).
    """
    v1, v2 = var1 / n1.where(n1 > 0), var2 / n2.where(n2 > 0)
    se = np.sqrt(v1 + v2)
    ok = tested & (n1 >= 2) & (n2 >= 2) & (se > 0)
    df = ((v1 + v2) ** 2 / (v1**2 / (n1 - 1).where(n1 > 1) + v2**2 / (n2 - 1).where(n2 > 1))).where(ok)
    t = diff / se.where(ok)
    half = t_value(ci, df) * se
    return pd.DataFrame({"t": t, "df": df, "p_val": t_p_value(t, df), "ci_low": diff - half,
                         "ci_high": diff + half}, index=diff.index)


def _flag(out: pd.DataFrame, *, alpha: float, diff: str | None = None) -> None:
    """Add the significance columns to ``out`` in place: one family of tests over every row.

    ``p_fdr`` is the Benjamini–Hochberg adjustment of ``p_val``, ``significant``
    is p_fdr ≤ alpha, and given the ``diff`` column, ``direction`` is "above" or
    "below" for significant rows and "" otherwise.
    """
    out["p_fdr"] = fdr_bh(out["p_val"])
    out["significant"] = (out["p_fdr"] <= alpha).fillna(False).astype(bool)
    if diff is not None:
        out["direction"] = np.where(out["significant"], np.where(out[diff] > 0, "above", "below"), "")


def _sort_dimensions(data: pd.DataFrame, by: Sequence[str], inst: Instrument) -> pd.DataFrame:
    """Rows sorted by ``by``, the ``dimension`` column in instrument order."""
    order = {d: i for i, d in enumerate(inst.dimension_ids)}
    return data.sort_values(list(by), key=lambda s: s.map(order) if s.name == "dimension" else s
                            ).reset_index(drop=True)


def _collect_warnings(fit):
    """Run ``fit()``; return its result and the model warnings it raised.

    The :class:`helpers.diagnostics.ModelWarning` sentences are collected as a
    list of str, not raised again.
    """
    import warnings

    from .diagnostics import ModelWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ModelWarning)
        res = fit()
    return res, [str(c.message) for c in caught if issubclass(c.category, ModelWarning)]


def _fit_with_warnings(fit) -> pd.DataFrame:
    """``fit()`` with its own ``attrs["warnings"]`` and the ModelWarnings it raised in ``attrs["warnings"]``."""
    res, caught = _collect_warnings(fit)
    res.attrs["warnings"] = list(dict.fromkeys([*res.attrs.get("warnings", []), *caught]))
    return res


# ---------------------------------------------------------------------------
# Headline
# ---------------------------------------------------------------------------
def headline(
    responses: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    wave: str,
    min_group_size: int = MIN_GROUP_SIZE,
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The portfolio in one table: accounts, respondents and client NPS in one wave.

    Parameters
    ----------
    responses : DataFrame
        One row per response (:func:`helpers.store.load_responses`): account_id,
        side, wave, nps.
    accounts : DataFrame
        The account master (:func:`helpers.store.load_accounts`) with ``status``.
    wave : str
        The wave to describe.
    min_group_size : int
        Anonymity threshold: counts the accounts whose team result can be shown.
    ci : float
        Confidence level of the NPS intervals.
    n_boot, seed : int
        Account-cluster bootstrap for the portfolio NPS (see :func:`nps_trend`;
        the interval equals that wave's in ``nps_trend`` with the same seed).

    Returns
    -------
    DataFrame
        measure, value, ci_low, ci_high, n, note — one row per headline number.

    Raises
    ------
    ValueError
        When ``wave`` has no responses (the message lists the waves present).

    Notes
    -----
    Portfolio NPS pools every client respondent of the wave (a large account
    weighs more).  The adjusted-Wald interval (Rocks 2016) treats respondents
    as independent; the account-cluster bootstrap interval also counts that
    respondents of one account answer alike and is the one to quote.

    Examples
    --------
    >>> r = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "side": "client", "wave": "2026Q3",
    ...                   "nps": [10, 9, 3, 8]})
    >>> acc = pd.DataFrame({"account_id": ["A", "B"], "status": ["active", "renewed"]})
    >>> headline(r, acc, wave="2026Q3", n_boot=0).set_index("measure").loc["client NPS (−100…100)", "value"]
    np.float64(25.0)
    """
    _require_waves(responses, wave)
    r = responses[responses["wave"] == wave]
    client, staff = r[r["side"] == "client"], r[r["side"] == "staff"]
    status = accounts["status"].fillna("unknown").value_counts()
    trend = nps_trend(client, ci=ci, n_boot=n_boot, seed=seed)
    rows = [
        {"measure": "accounts in the portfolio", "value": float(len(accounts)), "n": len(accounts),
         "note": ", ".join(f"{k} {v}" for k, v in status.items())},
        {"measure": "accounts with client answers", "value": float(client["account_id"].nunique()),
         "n": len(accounts), "note": f"wave {wave}"},
        {"measure": "accounts with team answers", "value": float(staff["account_id"].nunique()),
         "n": len(accounts), "note": f"wave {wave}"},
        {"measure": f"accounts with ≥ {min_group_size} team answers",
         "value": float((staff.groupby("account_id").size() >= min_group_size).sum()), "n": len(accounts),
         "note": "only these show a team view"},
        {"measure": "client respondents", "value": float(len(client)), "n": len(client), "note": f"wave {wave}"},
        {"measure": "team respondents", "value": float(len(staff)), "n": len(staff), "note": f"wave {wave}"},
    ]
    if len(trend):
        t = trend.iloc[-1]
        rows.append({"measure": "client NPS (−100…100)", "value": t["nps"], "ci_low": t["cluster_low"],
                     "ci_high": t["cluster_high"], "n": int(t["n"]),
                     "note": f"{int(t['n_accounts'])} accounts; {ci:.0%} account-cluster bootstrap interval "
                             f"(adjusted Wald {t['ci_low']:+.0f} to {t['ci_high']:+.0f})"})
    out = pd.DataFrame(rows, columns=["measure", "value", "ci_low", "ci_high", "n", "note"])
    return out


# ---------------------------------------------------------------------------
# Heatmap: each account against the rest of the portfolio
# ---------------------------------------------------------------------------
def dimension_heatmap(
    scores: pd.DataFrame,
    *,
    account: str = "account_id",
    value: str = "score",
    side: str | None = "client",
    within: Sequence[str] = ("wave", "side"),
    alpha: float = 0.05,
    ci: float = 0.95,
    min_n: int = 2,
    min_group_size: int = MIN_GROUP_SIZE,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Account × dimension means, each tested against the rest of the portfolio.

    Parameters
    ----------
    scores : DataFrame
        Respondent dimension scores (:func:`helpers.scores.respondent_scores`):
        account_id, dimension, score (+ wave, side).
    account : str
        The account column.
    value : str
        The score column.
    side : str or None
        Keep only this side ("client" by default); None keeps all.  Staff cells
        from fewer than ``min_group_size`` respondents are blanked.
    within : sequence of str
        Columns inside which accounts are compared (columns not in ``scores`` are
        ignored), so several waves give one heatmap per wave.
    alpha : float
        False discovery rate for the ``significant`` flag.
    ci : float
        Confidence level of the account mean and of the difference.
    min_n : int
        Smallest number of respondents for a cell to be tested (default 2: a
        t test needs a variance).  Untested cells keep their mean and n.
    min_group_size : int
        Anonymity threshold for staff cells.  A staff cell below it is blanked
        *and* left out of every other cell's "rest of the portfolio", so the
        shown cells cannot be differenced back into the hidden one.
    instrument : path or Instrument, optional
        Dimension order.

    Returns
    -------
    DataFrame
        *within, account_id, dimension, n, mean, sd, ci_low, ci_high, rest_n,
        rest_mean, diff, diff_low, diff_high, t, df, p_val, p_fdr, effect_size,
        significant, direction ("above"/"below"/"").  One row per cell.

    Notes
    -----
    Each cell compares the account's respondents (n₁, x̄₁, s₁) with every other
    account's respondents in the same wave (n₂, x̄₂, s₂) — the portfolio mean
    *excluding* the account, so a large account is not compared with itself.
    Welch's t: t = (x̄₁ − x̄₂)/√(s₁²/n₁ + s₂²/n₂) with Welch–Satterthwaite df
    (Welch 1947).  The interval of the difference is (x̄₁ − x̄₂) ± t_{(1+ci)/2, df}·SE.
    The effect size is Cohen's d with the pooled SD,
    d = (x̄₁ − x̄₂)/√(((n₁−1)s₁² + (n₂−1)s₂²)/(n₁+n₂−2)).
    The p-values of all tested cells in the returned table form one family and
    are adjusted by Benjamini–Hochberg (:func:`helpers.gaps.benjamini_hochberg`); ``significant`` means
    p_fdr ≤ alpha.  The rest of the portfolio is a respondent-weighted mean
    whose respondents cluster within accounts, so its standard error is
    slightly understated; with ~50 other accounts this is negligible next to
    the account's own standard error.

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": ["A"] * 3 + ["B"] * 3, "dimension": "care",
    ...                   "score": [5, 5, 4, 2, 3, 2]})
    >>> dimension_heatmap(s, side=None)[["account_id", "mean", "rest_mean", "diff"]].round(2).values.tolist()
    [['A', 4.67, 2.33, 2.33], ['B', 2.33, 4.67, -2.33]]
    """
    inst = load_instrument(instrument)
    data = _keep_side(scores, side)
    within = _present(data, within)
    data = data.dropna(subset=[value])
    cell = summarise(data, value=value, by=[*within, account, "dimension"], ci=ci)
    ref = data
    if side == "staff":
        # Small staff groups stay out of every other cell's reference too: otherwise the
        # shown cells and one "rest" mean would give the hidden group's mean back.
        size = data.groupby([*within, account, "dimension"], observed=True)[value].transform("count")
        ref = data[size >= min_group_size]
    # sums for "the rest": total minus the account
    g = ref.groupby([*within, "dimension"], observed=True)[value]
    tot = g.agg(tot_n="count", tot_sum="sum", tot_ss=lambda s: float((s**2).sum())).reset_index()
    acc = data.assign(_sq=data[value] ** 2).groupby([*within, account, "dimension"], observed=True).agg(
        _sum=(value, "sum"), _ss=("_sq", "sum")).reset_index()
    cell = cell.merge(acc, on=[*within, account, "dimension"]).merge(tot, on=[*within, "dimension"], how="left")
    in_ref = (cell["n"] >= min_group_size) if side == "staff" else pd.Series(True, index=cell.index)
    own = cell[["n", "_sum", "_ss"]].where(in_ref, 0)
    rn = cell["tot_n"].fillna(0) - own["n"]
    rsum = cell["tot_sum"].fillna(0) - own["_sum"]
    rss = cell["tot_ss"].fillna(0) - own["_ss"]
    cell["rest_n"] = rn
    cell["rest_mean"] = rsum / rn.where(rn > 0)
    rvar = ((rss - rn * cell["rest_mean"] ** 2) / (rn - 1).where(rn > 1)).clip(lower=0)
    cell["diff"] = cell["mean"] - cell["rest_mean"]
    tested = (cell["n"] >= min_n) & in_ref  # hidden cells are not in the family
    w = _welch(cell["diff"], cell["n"], cell["sd"] ** 2, rn, rvar, tested=tested, ci=ci)
    cell["t"], cell["df"], cell["p_val"] = w["t"], w["df"], w["p_val"]
    cell["diff_low"], cell["diff_high"] = w["ci_low"], w["ci_high"]
    pooled = np.sqrt(((cell["n"] - 1) * cell["sd"] ** 2 + (rn - 1) * rvar) / (cell["n"] + rn - 2).where(
        cell["n"] + rn > 2))
    cell["effect_size"] = (cell["diff"] / pooled.where(pooled > 0)).where(w["p_val"].notna())
    _flag(cell, alpha=alpha, diff="diff")
    cols = [*within, account, "dimension", "n", "mean", "sd", "ci_low", "ci_high", "rest_n", "rest_mean",
            "diff", "diff_low", "diff_high", "t", "df", "p_val", "p_fdr", "effect_size", "significant", "direction"]
    out = cell[cols]
    if side == "staff":
        out = _suppress(out, keep=(*within, account, "dimension", "n"), min_group_size=min_group_size)
    return _sort_dimensions(out, [*within, account, "dimension"], inst)


def _suppress(data: pd.DataFrame, *, keep: Sequence[str], min_group_size: int) -> pd.DataFrame:
    """Blank every result of a group below ``min_group_size``; flags are cleared, not blanked."""
    flags = [c for c in ("significant", "direction") if c in data]
    out = suppress_small_groups(data, min_group_size=min_group_size,
                                columns=[c for c in data.columns if c not in (*keep, *flags)])
    if "significant" in out:
        out.loc[out["suppressed"], "significant"] = False
    if "direction" in out:
        out.loc[out["suppressed"], "direction"] = ""
    return out


def _labels(inst: Instrument, language: str, dims: Sequence[str]) -> list[str]:
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
    from matplotlib.patches import Rectangle

    inst = load_instrument(instrument)
    dims = [d for d in inst.dimension_ids if d in set(table["dimension"])]
    dims += [d for d in pd.unique(table["dimension"]) if d not in dims]
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
    for i in range(vals.shape[0]):
        for j in range(vals.shape[1]):
            t = txt.iat[i, j]
            if pd.isna(t):
                continue
            is_sig = sig is not None and sig.iat[i, j] == 1
            label = f"{t:{fmt}}" if isinstance(t, (float, int, np.floating, np.integer)) else str(t)
            counts = [g.iat[i, j] for g in nn]
            if counts and all(pd.notna(c) for c in counts):
                label += " (n=" + "/".join(str(int(c)) for c in counts) + ")"
            shade = abs(vals[i, j]) / lim if np.isfinite(vals[i, j]) else 0
            ax.text(j, i, label, ha="center", va="center", fontsize=7,
                    fontweight="bold" if is_sig else "normal", color="white" if shade > 0.6 else "black")
            if is_sig:
                ax.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.8))
    ax.set_xticks(range(len(dims)), _labels(inst, language, dims))
    ax.set_yticks(range(len(col)), [str(r) for r in col.index])
    ax.tick_params(axis="x", top=True, bottom=False, labeltop=True, labelbottom=False)
    ax.set_xlabel("")
    ax.set_ylabel("")
    if title:
        ax.set_title(title)
    ax.figure.colorbar(im, ax=ax, label=colorbar_label, shrink=0.6)
    return ax


# ---------------------------------------------------------------------------
# Gap map: client vs the account team
# ---------------------------------------------------------------------------
def gap_map(
    scores: pd.DataFrame,
    *,
    by: Sequence[str] = ("account_id", "wave"),
    min_group_size: int = MIN_GROUP_SIZE,
    fdr: float = 0.05,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Client − team gap for every account × dimension, as one portfolio-wide family of tests.

    Parameters
    ----------
    scores : DataFrame
        Respondent scores of both sides (:func:`helpers.scores.respondent_scores`):
        account_id, side, dimension, score (+ wave).
    by : sequence of str
        What makes one row of the map (columns not in ``scores`` are ignored).
    min_group_size : int
        Team results from fewer answers are blanked (``suppressed``); so are
        gaps with too few client answers to label.
    fdr : float
        False discovery rate over the whole map.
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        The columns of :func:`helpers.gaps.perception_gaps` (n_client, n_staff,
        client_mean, staff_mean, gap, ci_low, ci_high, p_val, p_fdr,
        effect_size, label, evidence, suppressed) plus ``significant`` (a clear
        blind spot or hidden strength).

    Notes
    -----
    gap = x̄_client − x̄_staff (negative: the team rates itself higher than
    the client does — a blind spot).  Welch's t per cell; Benjamini–Hochberg
    over *every* cell of the map (``family="all"``), because the map is one
    screen of many tests, unlike an account report that corrects within its
    own five dimensions.  A blanked team cell is neither shown nor tested.

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": "A", "dimension": "care", "side": ["client"] * 5 + ["staff"] * 3,
    ...                   "score": [3, 3.5, 3, 2.5, 3, 4.5, 5, 4.5]})
    >>> gap_map(s)[["n_staff", "gap", "suppressed"]].values.tolist()
    [[3, nan, True]]
    """
    by = _present(scores, by)
    out = perception_gaps(scores, by=by, min_group_size=min_group_size, ci=ci, fdr=fdr, family="all",
                          instrument=instrument)
    out["significant"] = out["label"].isin([BLIND_SPOT, HIDDEN_STRENGTH]) & ~out["suppressed"]
    return out


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


# ---------------------------------------------------------------------------
# NPS across accounts and over waves
# ---------------------------------------------------------------------------
def _adj(promoters, detractors, n):
    """Adjusted-Wald NPS estimate and its variance (Rocks 2016), on the −1…1 scale."""
    na = np.asarray(n, dtype=float) + 3
    pp = (np.asarray(promoters, dtype=float) + 0.75) / na
    pd_ = (np.asarray(detractors, dtype=float) + 0.75) / na
    return pp - pd_, (pp + pd_ - (pp - pd_) ** 2) / na


def _nps_difference(a, b, *, ci: float):
    """Interval and two-sided p-value of NPS_a − NPS_b for independent samples, each (promoters, detractors, n).

    Notes
    -----
    With the adjusted-Wald estimates and variances of :func:`_adj` (Rocks 2016),
    (ÑPS_a − ÑPS_b) ± z·√(Var̃_a + Var̃_b) on the −200…200 scale, and
    p = 2Φ(−|ÑPS_a − ÑPS_b|/√(Var̃_a + Var̃_b)).
    """
    ea, va = _adj(*a)
    eb, vb = _adj(*b)
    centre, se = 100 * (ea - eb), 100 * np.sqrt(va + vb)
    z = z_value(ci)
    return np.clip(centre - z * se, -200, 200), np.clip(centre + z * se, -200, 200), normal_p_value(centre / se)


def nps_vs_portfolio(
    responses: pd.DataFrame,
    *,
    account: str = "account_id",
    score: str = "nps",
    side: str | None = "client",
    within: Sequence[str] = ("wave",),
    alpha: float = 0.05,
    ci: float = 0.95,
    min_group_size: int = MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """NPS of each account, and whether it differs from the rest of the portfolio.

    Parameters
    ----------
    responses : DataFrame
        One row per response with ``account``, ``score`` (0–10) and the
        ``within`` columns (e.g. wave).
    side : str or None
        Keep only this side (default "client").  Staff NPS of a group smaller
        than ``min_group_size`` is blanked and left out of the other accounts'
        "rest of the portfolio".
    within : sequence of str
        Columns inside which accounts are compared (absent columns are ignored).
    alpha : float
        False discovery rate for ``significant``.
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        *within, account_id, n, promoters, passives, detractors, nps, ci_low,
        ci_high (adjusted Wald), rest_n, rest_nps, diff, diff_low, diff_high,
        p_val, p_fdr, significant, direction.

    Notes
    -----
    The account and the rest of the portfolio (every other account's
    respondents) are independent samples.  Each gets the adjusted-Wald
    estimate and variance of Rocks (2016, The American Statistician 70(4)):
    p̃ = (count + ¾)/(n + 3), ÑPS = p̃_P − p̃_D,
    Var̃ = (p̃_P + p̃_D − (p̃_P − p̃_D)²)/(n + 3).  The difference's interval is
    (ÑPS₁ − ÑPS₂) ± z·√(Var̃₁ + Var̃₂) and z = (ÑPS₁ − ÑPS₂)/√(Var̃₁ + Var̃₂),
    two-sided p = 2Φ(−|z|), adjusted across all accounts by Benjamini–Hochberg.
    Centring on the adjusted estimates (as the account's own interval from
    :func:`helpers.scores.nps` does) keeps an account of three unanimous
    respondents from looking decisive; ``diff`` itself is the raw difference.

    Examples
    --------
    >>> r = pd.DataFrame({"account_id": ["A"] * 10 + ["B"] * 10, "nps": [10] * 10 + [0, 10] * 5})
    >>> nps_vs_portfolio(r)[["account_id", "nps", "rest_nps", "diff"]].values.tolist()
    [['A', 100.0, 0.0, 100.0], ['B', 0.0, 100.0, -100.0]]
    """
    data = _keep_side(responses, side)
    within = _present(data, within)
    per = nps(data, score=score, by=[*within, account], ci=ci)
    # Small staff groups stay out of the reference (see dimension_heatmap).
    in_ref = per["n"] >= min_group_size if side == "staff" else pd.Series(True, index=per.index)
    counts = per[["n", "promoters", "detractors"]].where(in_ref, 0)
    if within:
        tot = counts.groupby([per[c] for c in within], observed=True).transform("sum")
    else:
        tot = counts.sum().to_frame().T.loc[[0] * len(per)].set_axis(per.index)
    rn = tot["n"] - counts["n"]
    rp = tot["promoters"] - counts["promoters"]
    rd = tot["detractors"] - counts["detractors"]
    per["rest_n"] = rn
    per["rest_nps"] = 100 * (rp - rd) / rn.where(rn > 0)
    per["diff"] = per["nps"] - per["rest_nps"]
    low, high, p = _nps_difference((per["promoters"], per["detractors"], per["n"]), (rp, rd, rn), ci=ci)
    tested = (per["n"] > 0) & (rn > 0) & in_ref  # hidden groups are not in the family
    per["diff_low"] = np.where(tested, low, np.nan)
    per["diff_high"] = np.where(tested, high, np.nan)
    per["p_val"] = np.where(tested, p, np.nan)
    _flag(per, alpha=alpha, diff="diff")
    cols = [*within, account, "n", "promoters", "passives", "detractors", "nps", "ci_low", "ci_high", "rest_n",
            "rest_nps", "diff", "diff_low", "diff_high", "p_val", "p_fdr", "significant", "direction"]
    out = per[cols]
    if side == "staff":
        out = _suppress(out, keep=(*within, account, "n"), min_group_size=min_group_size)
    return out.reset_index(drop=True)


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


def nps_trend(
    responses: pd.DataFrame,
    *,
    wave: str = "wave",
    account: str = "account_id",
    score: str = "nps",
    side: str | None = "client",
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Portfolio NPS per wave with the adjusted-Wald and an account-cluster bootstrap interval.

    Parameters
    ----------
    responses : DataFrame
        One row per response: ``wave``, ``account``, ``score`` (+ side).
    side : str or None
        Keep only this side (default "client").
    ci : float
        Confidence level.
    n_boot : int
        Bootstrap resamples of accounts (0 skips the bootstrap).
    seed : int
        Random seed of the bootstrap.  A wave's resamples depend only on the
        seed and the wave's label, so its interval is the same whichever other
        waves are in ``responses`` (the headline of one wave and the trend
        over several agree).

    Returns
    -------
    DataFrame
        One row per wave, oldest first (by median answer time when
        ``submitted_at`` is present, else by label as
        :func:`helpers.store.sort_waves` does):
        wave, n, n_accounts, promoters, passives, detractors, nps, ci_low,
        ci_high (adjusted Wald, from :func:`helpers.scores.nps`), cluster_low,
        cluster_high (account bootstrap), change (from the previous wave),
        change_low, change_high.

    Notes
    -----
    NPS = 100·(n_P − n_D)/n over all respondents of the wave.  Respondents of
    one account answer alike, so the adjusted-Wald interval (Rocks 2016),
    which treats them as independent, is too narrow for a portfolio figure.
    The cluster bootstrap resamples whole accounts with replacement B times
    and takes the percentile interval of 100·(ΣP* − ΣD*)/Σn* (Davison &
    Hinkley 1997, §3.8; Field & Welsh 2007 on the cluster bootstrap).  The
    change interval is the percentile interval of the difference between two
    independent bootstraps of consecutive waves (different respondents; the
    same accounts, so it is conservative when accounts are stable).

    Examples
    --------
    >>> r = pd.DataFrame({"wave": ["2026Q2"] * 4 + ["2026Q3"] * 4, "account_id": ["A", "A", "B", "B"] * 2,
    ...                   "nps": [10, 9, 3, 8, 10, 10, 9, 8]})
    >>> nps_trend(r, n_boot=0)[["wave", "n", "n_accounts", "nps", "change"]].values.tolist()
    [['2026Q2', 4, 2, 25.0, nan], ['2026Q3', 4, 2, 75.0, 50.0]]
    """
    data = _keep_side(responses, side)
    data = data[data[score].notna()]
    out = nps(data, score=score, by=[wave], ci=ci)
    out.insert(2, "n_accounts", data.groupby(wave)[account].nunique().reindex(out[wave]).to_numpy())
    lo_q, hi_q = 100 * (0.5 - ci / 2), 100 * (0.5 + ci / 2)
    boots: dict = {}
    for w, grp in data.groupby(wave, sort=True):
        cat = classify_nps(grp[score])
        per = pd.DataFrame({"a": grp[account].to_numpy(), "p": (cat == "promoter").to_numpy(),
                            "d": (cat == "detractor").to_numpy()}).groupby("a").agg(
            n=("p", "size"), p=("p", "sum"), d=("d", "sum"))
        if n_boot and len(per) >= 2:
            rng = np.random.default_rng([seed, zlib.crc32(str(w).encode())])
            idx = rng.integers(0, len(per), (n_boot, len(per)))
            n_ = per["n"].to_numpy()[idx].sum(1)
            boots[w] = 100 * (per["p"].to_numpy()[idx].sum(1) - per["d"].to_numpy()[idx].sum(1)) / n_
    out["cluster_low"] = [np.percentile(boots[w], lo_q) if w in boots else np.nan for w in out[wave]]
    out["cluster_high"] = [np.percentile(boots[w], hi_q) if w in boots else np.nan for w in out[wave]]
    order = {w: i for i, w in enumerate(_wave_order(data, wave))}
    out = out.sort_values(wave, key=lambda s: s.map(order)).reset_index(drop=True)
    out["change"] = out["nps"].diff()
    ch_lo, ch_hi = [np.nan], [np.nan]
    for a, b in zip(out[wave].iloc[:-1], out[wave].iloc[1:]):
        if a in boots and b in boots:
            d = boots[b] - boots[a]
            ch_lo.append(np.percentile(d, lo_q))
            ch_hi.append(np.percentile(d, hi_q))
        else:
            ch_lo.append(np.nan)
            ch_hi.append(np.nan)
    out["change_low"], out["change_high"] = ch_lo[: len(out)], ch_hi[: len(out)]
    return out


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


# ---------------------------------------------------------------------------
# Change between waves and the celebrate list
# ---------------------------------------------------------------------------
def score_change(
    scores: pd.DataFrame,
    *,
    wave_from: str,
    wave_to: str,
    account: str = "account_id",
    value: str = "score",
    side: str | None = "client",
    alpha: float = 0.05,
    ci: float = 0.95,
    min_n: int = 2,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Change of each account's dimension means from one wave to another (Welch t, BH).

    Parameters
    ----------
    scores : DataFrame
        Respondent scores of (at least) the two waves: account_id, wave,
        dimension, score (+ side).
    wave_from, wave_to : str
        The waves compared.
    side : str or None
        Keep only this side (default "client").
    alpha : float
        False discovery rate for ``significant``.
    min_n : int
        Both waves need at least this many respondents for a test.

    Returns
    -------
    DataFrame
        account_id, dimension, n_from, n_to, mean_from, mean_to, change,
        ci_low, ci_high, t, df, p_val, p_fdr, significant.

    Notes
    -----
    Different people answer in different waves, so the waves are independent
    samples: Welch's t with Welch–Satterthwaite df, interval
    Δ ± t_{(1+ci)/2, df}·√(s₁²/n₁ + s₂²/n₂).  All account × dimension tests
    form one family (Benjamini & Hochberg 1995).

    Examples
    --------
    >>> s = pd.DataFrame({"account_id": "A", "dimension": "care", "wave": ["2026Q2"] * 3 + ["2026Q3"] * 3,
    ...                   "score": [3, 3.5, 3, 4.5, 5, 4.5]})
    >>> round(float(score_change(s, wave_from="2026Q2", wave_to="2026Q3", side=None)["change"].iloc[0]), 2)
    1.5
    """
    inst = load_instrument(instrument)
    data = _keep_side(scores, side)
    s = summarise(data[data["wave"].isin([wave_from, wave_to])], value=value, by=[account, "dimension", "wave"])
    a = s[s["wave"] == wave_from].drop(columns="wave").set_index([account, "dimension"])
    b = s[s["wave"] == wave_to].drop(columns="wave").set_index([account, "dimension"])
    m = a[["n", "mean", "sd"]].add_suffix("_from").join(b[["n", "mean", "sd"]].add_suffix("_to"), how="inner")
    m["change"] = m["mean_to"] - m["mean_from"]
    tested = (m["n_from"] >= min_n) & (m["n_to"] >= min_n)
    w = _welch(m["change"], m["n_to"], m["sd_to"] ** 2, m["n_from"], m["sd_from"] ** 2, tested=tested, ci=ci)
    for c in ("t", "df", "ci_low", "ci_high", "p_val"):
        m[c] = w[c]
    _flag(m, alpha=alpha)
    out = m.reset_index()[[account, "dimension", "n_from", "n_to", "mean_from", "mean_to", "change", "ci_low",
                           "ci_high", "t", "df", "p_val", "p_fdr", "significant"]]
    return _sort_dimensions(out, [account, "dimension"], inst)


def _nps_change_tests(responses: pd.DataFrame, *, wave_from: str, wave_to: str, account: str, score: str,
                      side: str | None, ci: float, alpha: float) -> pd.DataFrame:
    """NPS change of each account from ``wave_from`` to ``wave_to``, tested as in :func:`nps_vs_portfolio`."""
    data = _keep_side(responses, side)
    data = data[data["wave"].isin([wave_from, wave_to])]
    per = nps(data, score=score, by=[account, "wave"], ci=ci)
    a = per[per["wave"] == wave_from].set_index(account)
    b = per[per["wave"] == wave_to].set_index(account)
    m = a[["n", "promoters", "detractors", "nps"]].add_suffix("_from").join(
        b[["n", "promoters", "detractors", "nps"]].add_suffix("_to"), how="inner")
    m["change"] = m["nps_to"] - m["nps_from"]
    m["ci_low"], m["ci_high"], m["p_val"] = _nps_difference(
        (m["promoters_to"], m["detractors_to"], m["n_to"]),
        (m["promoters_from"], m["detractors_from"], m["n_from"]), ci=ci)
    _flag(m, alpha=alpha)
    return m.reset_index()


def celebrate(
    scores: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    wave: str,
    previous: str | None = None,
    account: str = "account_id",
    accounts: pd.DataFrame | None = None,
    alpha: float = 0.05,
    ci: float = 0.95,
    min_n: int = 5,
    language: str = "en",
    by_account: bool = False,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Accounts to celebrate: clear improvement or clearly top scores, with the evidence.

    Four kinds of evidence, each one family of tests with a Benjamini–Hochberg
    correction at false discovery rate ``alpha``, client side only:

    * ``NPS up`` — account NPS rose from ``previous`` to ``wave``;
    * ``score up`` — a dimension mean rose (:func:`score_change`);
    * ``NPS above portfolio`` — account NPS above the rest of the portfolio
      (:func:`nps_vs_portfolio`);
    * ``score above portfolio`` — a dimension mean above the rest of the
      portfolio (:func:`dimension_heatmap`).

    Parameters
    ----------
    scores : DataFrame
        Client respondent scores of ``wave`` and ``previous`` (account_id,
        wave, dimension, score, side).
    responses : DataFrame
        Responses with NPS of the same waves.
    wave : str
        The wave to celebrate.
    previous : str, optional
        The wave compared with; default the wave before ``wave`` in the data
        (ordered as :func:`helpers.store.waves` orders them).
        No earlier wave → only the "above portfolio" evidence.
    accounts : DataFrame, optional
        Account master; adds ``name``.
    alpha : float
        False discovery rate.
    min_n : int
        Fewest client respondents (in each wave compared) for a piece of
        evidence to count; small samples can pass a test by luck of the
        t distribution's tails with very uneven variances.
    language : str
        Dimension labels in the evidence text.
    by_account : bool
        One row per account instead of one per piece of evidence.

    Returns
    -------
    DataFrame
        account_id, (name,) evidence, dimension, estimate, ci_low, ci_high,
        n, p_fdr, detail — one row per piece of evidence, accounts with the most
        evidence first.  Empty (same columns) when nothing passes.  With
        ``by_account``: account_id, (name,) n_evidence, improved (bool),
        evidence (the kinds), detail (every detail, "; "-separated).

    Raises
    ------
    ValueError
        When ``wave`` or ``previous`` has no responses (the message lists the
        waves present).

    Notes
    -----
    NPS tests use the adjusted-Wald estimate and variance of an NPS difference
    (Rocks 2016; see :func:`nps_vs_portfolio`); score tests use Welch's t.  A score "above the portfolio" is
    relative: in a strong portfolio, an average account is not celebrated.
    """
    inst = load_instrument(instrument)
    labels = inst.labels(language)
    waves = _require_waves(responses, wave, previous)
    if previous is None:
        earlier = waves[:waves.index(wave)]
        previous = earlier[-1] if earlier else None
    rows: list[dict] = []
    # NPS up
    if previous is not None:
        ch = _nps_change_tests(responses, wave_from=previous, wave_to=wave, account=account, score="nps",
                               side="client", ci=ci, alpha=alpha)
        ch = ch[ch["significant"] & (ch["change"] > 0) & (ch["n_from"] >= min_n) & (ch["n_to"] >= min_n)]
        for r in ch.itertuples():
            rows.append({account: getattr(r, account), "evidence": "NPS up", "dimension": None,
                         "estimate": r.change, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": int(r.n_to),
                         "p_fdr": r.p_fdr,
                         "detail": f"NPS {r.nps_from:+.0f} → {r.nps_to:+.0f} ({previous} → {wave}); change "
                                   f"{r.change:+.0f} [{r.ci_low:+.0f}, {r.ci_high:+.0f}], n {int(r.n_from)} → {int(r.n_to)}"})
        sc = score_change(scores, wave_from=previous, wave_to=wave, account=account, side="client", alpha=alpha,
                          ci=ci, instrument=inst)
        sc = sc[sc["significant"] & (sc["change"] > 0) & (sc["n_from"] >= min_n) & (sc["n_to"] >= min_n)]
        for r in sc.itertuples():
            rows.append({account: getattr(r, account), "evidence": "score up", "dimension": r.dimension,
                         "estimate": r.change, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": int(r.n_to),
                         "p_fdr": r.p_fdr,
                         "detail": f"{labels.get(r.dimension, r.dimension)} {r.mean_from:.2f} → {r.mean_to:.2f} "
                               f"({previous} → {wave}); "
                                   f"change {r.change:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}], "
                                   f"n {int(r.n_from)} → {int(r.n_to)}"})
    top = nps_vs_portfolio(responses[responses["wave"] == wave], account=account, side="client", alpha=alpha, ci=ci)
    top = top[top["significant"] & (top["diff"] > 0) & (top["n"] >= min_n)]
    for r in top.itertuples():
        rows.append({account: getattr(r, account), "evidence": "NPS above portfolio", "dimension": None,
                     "estimate": r.diff, "ci_low": r.diff_low, "ci_high": r.diff_high, "n": int(r.n),
                     "p_fdr": r.p_fdr,
                     "detail": f"NPS {r.nps:+.0f} vs {r.rest_nps:+.0f} for the rest; difference {r.diff:+.0f} "
                               f"[{r.diff_low:+.0f}, {r.diff_high:+.0f}], n = {int(r.n)}"})
    w_scores = scores[scores["wave"] == wave] if "wave" in scores else scores
    heat = dimension_heatmap(w_scores, account=account, side="client", alpha=alpha, ci=ci, instrument=inst)
    heat = heat[heat["significant"] & (heat["diff"] > 0) & (heat["n"] >= min_n)]
    for r in heat.itertuples():
        rows.append({account: getattr(r, account), "evidence": "score above portfolio", "dimension": r.dimension,
                     "estimate": r.diff, "ci_low": r.diff_low, "ci_high": r.diff_high, "n": int(r.n),
                     "p_fdr": r.p_fdr,
                     "detail": f"{labels.get(r.dimension, r.dimension)} {r.mean:.2f} vs {r.rest_mean:.2f} for the "
                               f"rest; difference {r.diff:+.2f} [{r.diff_low:+.2f}, {r.diff_high:+.2f}], n = {int(r.n)}"})
    cols = [account, "evidence", "dimension", "estimate", "ci_low", "ci_high", "n", "p_fdr", "detail"]
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        kinds = {"NPS up": 0, "score up": 1, "NPS above portfolio": 2, "score above portfolio": 3}
        count = out.groupby(account)[account].transform("size")
        out = out.assign(_c=-count, _k=out["evidence"].map(kinds)).sort_values(["_c", account, "_k"]).drop(
            columns=["_c", "_k"]).reset_index(drop=True)
    if by_account:
        g = out.groupby(account, sort=False)
        out = pd.DataFrame({
            account: list(g.groups),
            "n_evidence": g.size().to_numpy(),
            "improved": g["evidence"].agg(lambda s: bool(s.isin(["NPS up", "score up"]).any())).to_numpy(),
            "evidence": g["evidence"].agg(lambda s: ", ".join(dict.fromkeys(s))).to_numpy(),
            "detail": g["detail"].agg("; ".join).to_numpy(),
        }, columns=[account, "n_evidence", "improved", "evidence", "detail"])
    if accounts is not None and "name" in accounts:
        out.insert(1, "name", out[account].map(accounts.set_index(account)["name"]))
    return out


# ---------------------------------------------------------------------------
# Accounts at risk
# ---------------------------------------------------------------------------
#: Fewest accounts in the smaller outcome group (churned or renewed) before a
#: churn model says more than a guess; below it the list carries a warning.
MIN_OUTCOME_GROUP = 5


def risk_signals(
    heatmap: pd.DataFrame,
    gaps: pd.DataFrame | None = None,
    account_nps: pd.DataFrame | None = None,
    *,
    account: str = "account_id",
    language: str = "en",
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Model-free warning signs per account: what is clearly below the portfolio or a clear blind spot.

    Parameters
    ----------
    heatmap : DataFrame
        :func:`dimension_heatmap` of one wave (client side).
    gaps : DataFrame, optional
        :func:`gap_map` of the same wave; clear blind spots count.
        Suppressed team groups never appear (they are not significant).
    account_nps : DataFrame, optional
        :func:`nps_vs_portfolio` of the same wave; NPS clearly below the rest
        counts.
    language : str
        Dimension labels in the text.

    Returns
    -------
    DataFrame
        account_id, n_signals, signals (text, "; "-separated, with n) — one
        row per account with at least one signal.

    Notes
    -----
    Every signal is a test that passed its table's Benjamini–Hochberg
    correction (false discovery rate as chosen there), so the list inherits
    those corrections; it needs no outcome data and no model.
    """
    inst = load_instrument(instrument)
    labels = inst.labels(language)
    rows: list[tuple[str, str]] = []
    low = heatmap[(heatmap["direction"] == "below")]
    for r in low.itertuples():
        rows.append((getattr(r, account), f"{labels.get(r.dimension, r.dimension)} {r.mean:.1f} vs {r.rest_mean:.1f} "
                                         f"for the rest (n={int(r.n)})"))
    if gaps is not None and len(gaps):
        blind = gaps[gaps["significant"] & (gaps["gap"] < 0)]
        for r in blind.itertuples():
            rows.append((getattr(r, account), f"blind spot on {labels.get(r.dimension, r.dimension)}: client "
                                             f"{r.client_mean:.1f} vs team {r.staff_mean:.1f} "
                                             f"(n={int(r.n_client)}/{int(r.n_staff)})"))
    if account_nps is not None and len(account_nps):
        bad = account_nps[account_nps["direction"] == "below"]
        for r in bad.itertuples():
            rows.append((getattr(r, account), f"NPS {r.nps:+.0f} vs {r.rest_nps:+.0f} for the rest (n={int(r.n)})"))
    out = pd.DataFrame(rows, columns=[account, "signal"])
    if out.empty:
        return pd.DataFrame(columns=[account, "n_signals", "signals"])
    g = out.groupby(account, sort=True)["signal"]
    return pd.DataFrame({account: list(g.groups), "n_signals": g.size().to_numpy(),
                         "signals": g.agg("; ".join).to_numpy()})


def accounts_at_risk(
    table: pd.DataFrame,
    *,
    signals: pd.DataFrame | None = None,
    predictors: Sequence[str] | None = None,
    method: str = "auto",
    ci: float = 0.95,
    top: int = 2,
    active: str = "active",
    language: str = "en",
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Accounts whose renewal is still open, ranked by predicted churn probability, with the reasons.

    A churn model is trained on the accounts whose outcome is known (renewed
    or churned) and applied to the accounts still ``active`` — only those can
    be "at risk".

    Parameters
    ----------
    table : DataFrame
        One row per account from :func:`helpers.models.account_table` (client
        and team means, gaps, client NPS, status, outcome_known, churned;
        team means of small groups already blanked there).
    signals : DataFrame, optional
        :func:`risk_signals`, merged in as model-free reasons.
    predictors : sequence of str, optional
        Model predictors (default: those of
        :func:`helpers.models.retention_logit` — client scores and gaps).
    method, ci, top
        As :func:`helpers.models.predict_risk` (``top`` = how many
        risk-raising dimensions to name).
    active : str
        The status of accounts without an outcome yet.
    language : str
        Language of the dimension names in ``drivers``, "en" or "fi".

    Returns
    -------
    DataFrame
        account_id, name, renewal_date, n_client, n_staff, p_churn, ci_low,
        ci_high, risk_rank (1 = highest among the active accounts), drivers
        (model: dimensions pushing the risk up), n_signals, signals (tests:
        see :func:`risk_signals`), annual_value, value_at_risk (p_churn ×
        annual value), value_low, value_high.  Only active accounts, highest
        risk first; probabilities are NaN when no model can be trained.
        ``attrs``: warnings (list of sentences: the model's own and this
        function's), n_known, n_events, n_active, estimator, summary (one
        sentence).

    Warns
    -----
    PortfolioWarning
        When the model cannot be trained or says little: no account with a
        known outcome, no churned (or no renewed) account, fewer than
        ``MIN_OUTCOME_GROUP`` accounts in the smaller outcome group, or no
        active account; also when ``table.attrs`` report hidden team views or
        answers left out by the renewal-date rule of
        :func:`helpers.models.account_table`.  The model's own warnings (few
        events per predictor, separation, collinearity) are collected in
        ``attrs["warnings"]`` rather than raised again.

    Notes
    -----
    p̂ = expit(x'β̂) with a Wald interval on the logit scale,
    expit(x'β̂ ± z·√(x'V̂x)); β̂ by maximum likelihood, or Firth's penalised
    likelihood with few events or separation (Firth 1993; Heinze & Schemper
    2002).  Value at risk = p̂ × annual value, with the probability's interval.
    Events per variable below 10 make any logistic model unstable (Peduzzi et
    al. 1996): with a typical B2B portfolio of a few dozen decided renewals,
    read the list as a prompt for conversations, and check the model against
    an NPS-only baseline out of sample (:func:`helpers.models.retention_cv`)
    before trusting its ranking.
    """
    import warnings as _w

    from .models import predict_risk

    messages: list[str] = []
    known = table["outcome_known"].astype(bool) if "outcome_known" in table else table["status"].isin(
        ["renewed", "churned"])
    n_known = int(known.sum())
    y = pd.to_numeric(table.loc[known, "churned"], errors="coerce") if "churned" in table else pd.Series(
        dtype=float)
    n_events = int((y == 1).sum())
    is_active = table["status"] == active
    n_active = int(is_active.sum())
    if n_known == 0:
        messages.append("No account has a known outcome (renewed or churned) yet, so there is nothing to train a "
                        "churn model on: the active accounts are listed without probabilities.")
    elif n_events == 0:
        messages.append(f"None of the {n_known} accounts with a known outcome churned, so nothing can be learnt about "
                        "what predicts churn: the active accounts are listed without probabilities.")
    elif n_events == n_known:
        messages.append(f"All {n_known} accounts with a known outcome churned, so nothing can be learnt about what "
                        "predicts renewal: the active accounts are listed without probabilities.")
    elif min(n_events, n_known - n_events) < MIN_OUTCOME_GROUP:
        messages.append(f"Only {n_events} churned and {n_known - n_events} renewed accounts: with so few in one "
                        "group any churn probability is a guess; read the list as a prompt for conversations.")
    if n_active == 0:
        messages.append("No account is active (every outcome is known): no account is at risk of an open renewal.")
    hidden = int(table.attrs.get("n_staff_suppressed", 0) or 0)
    if hidden:
        messages.append(f"The team view of {hidden} account(s) is hidden (fewer than "
                        f"{table.attrs.get('min_group_size', MIN_GROUP_SIZE)} team answers), so a model that uses "
                        "client − team gaps cannot score them or learn from them.")
    after, empty = (int(table.attrs.get(k, 0) or 0) for k in ("n_after_renewal", "n_no_answers_before_renewal"))
    if after:
        messages.append(f"{after} answer(s) given on or after a decided account's renewal date are left out, so the "
                        "model learns only from what was said before each decision"
                        + (f"; {empty} decided account(s) have no earlier answers and are not used." if empty else "."))
    for m in messages:
        _w.warn(m, PortfolioWarning, stacklevel=2)

    def fit() -> pd.DataFrame:
        try:
            return predict_risk(table, predictors=predictors, method=method, ci=ci, top=top, language=language,
                                instrument=instrument)
        except (ValueError, np.linalg.LinAlgError) as exc:
            none = table[["account_id"]].assign(p_churn=np.nan, ci_low=np.nan, ci_high=np.nan, drivers="",
                                                estimator="none")
            none.attrs["warnings"] = [f"The churn model could not be fitted ({exc}); no probabilities are shown."]
            return none

    risk = _fit_with_warnings(fit)
    model_msgs = risk.attrs["warnings"]
    keep = [c for c in ("account_id", "name", "renewal_date", "n_client", "n_staff", "annual_value") if c in table]
    out = table.loc[is_active, keep].merge(
        risk[["account_id", "p_churn", "ci_low", "ci_high", "drivers"]], on="account_id", how="left")
    out["drivers"] = out["drivers"].fillna("")
    if signals is not None and len(signals):
        out = out.merge(signals[["account_id", "n_signals", "signals"]], on="account_id", how="left")
    else:
        out["n_signals"], out["signals"] = 0, ""
    out["n_signals"] = out["n_signals"].fillna(0).astype(int)
    out["signals"] = out["signals"].fillna("")
    value = pd.to_numeric(out["annual_value"], errors="coerce") if "annual_value" in out else np.nan
    out["value_at_risk"] = out["p_churn"] * value
    out["value_low"] = out["ci_low"] * value
    out["value_high"] = out["ci_high"] * value
    out["risk_rank"] = out["p_churn"].rank(ascending=False, method="min")
    out = out.sort_values(["p_churn", "n_signals"], ascending=[False, False], na_position="last", ignore_index=True)
    lead = [c for c in ("account_id", "name", "renewal_date", "n_client", "n_staff") if c in out]
    cols = [*lead, "p_churn", "ci_low", "ci_high", "risk_rank", "drivers", "n_signals", "signals",
            *(["annual_value"] if "annual_value" in out else []), "value_at_risk", "value_low", "value_high"]
    out = out[cols]
    estimator = str(risk["estimator"].iloc[0]) if len(risk) else "none"
    fitted = bool(out["p_churn"].notna().any()) or (n_active == 0 and estimator != "none")
    summary = (f"{n_active} active account(s); churn model ({estimator}) trained on {n_known} accounts with a known "
               f"outcome, {n_events} of them churned." if fitted else
               f"{n_active} active account(s); no churn model could be trained ({n_known} accounts with a known "
               f"outcome, {n_events} churned) — see the notes below.")
    out.attrs.update(warnings=list(dict.fromkeys([*messages, *model_msgs])), n_known=n_known, n_events=n_events,
                     n_active=n_active, estimator=estimator, summary=summary)
    return out


def baseline_verdict(cv: pd.DataFrame) -> str:
    """One sentence: does the churn model rank and predict better than NPS alone, out of sample?

    Parameters
    ----------
    cv : DataFrame
        :func:`helpers.models.retention_cv` (model, metric, estimate,
        ci_low, ci_high, n, n_events).

    Returns
    -------
    str
        The cross-validated AUC and Brier score of the model and of the
        NPS-only baseline with their intervals, and a verdict: "better" only
        when the model's AUC interval lies above the baseline's estimate and
        its Brier score is lower; otherwise "no clear evidence that it is
        better".

    Notes
    -----
    AUC = P(a churned account gets a higher predicted risk than a renewed one)
    (Hanley & McNeil 1982); 0.5 is a coin toss.  Brier score = mean (p̂ − y)²,
    lower is better (Brier 1950).  Both from repeated stratified k-fold
    cross-validation, so every prediction comes from a fit that did not see the
    account.
    """
    if cv is not None and cv.attrs.get("not_applicable"):
        return ("The comparison with an NPS-only baseline applies to the retention models (outcome = retention); "
                "for NPS the model tables above report R² and the clustered intervals instead.")
    if cv is None or cv.empty:
        return "The churn model could not be cross-validated (too few churned or renewed accounts)."
    m = cv.set_index(["model", "metric"])
    try:
        a, b = m.loc[("model", "auc")], m.loc[("baseline", "auc")]
        bm, bb = m.loc[("model", "brier")], m.loc[("baseline", "brier")]
    except KeyError:
        return "The churn model could not be cross-validated (too few churned or renewed accounts)."
    better = a["ci_low"] > b["estimate"] and bm["estimate"] < bb["estimate"]
    verdict = ("The model predicts churn better than NPS alone." if better else
               "There is no clear evidence that the model predicts churn better than NPS alone.")
    return (f"Out of sample ({int(a['n'])} accounts, {int(a['n_events'])} churned): AUC {a['estimate']:.2f} "
            f"[{a['ci_low']:.2f}, {a['ci_high']:.2f}] for the model vs {b['estimate']:.2f} "
            f"[{b['ci_low']:.2f}, {b['ci_high']:.2f}] for NPS alone (0.5 = coin toss); Brier score "
            f"{bm['estimate']:.3f} vs {bb['estimate']:.3f} (lower is better). {verdict}")


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
# What drives the outcome, across the portfolio (the drivers page)
# ---------------------------------------------------------------------------
OUTCOMES = ("nps", "retention")
SIDES = ("client", "staff", "both")
def label_terms(data: pd.DataFrame, *, column: str = "term", language: str = "en",
                instrument: str | Instrument | None = None) -> pd.DataFrame:
    """Copy of ``data`` with ``column`` (and ``label`` if present) shown as :func:`term_label` names."""
    out = data.copy()
    out.attrs = {}
    out[column] = out[column].map(lambda t: term_label(t, language=language, instrument=instrument))
    if "label" in out and column == "term":
        out["label"] = out["term"]
    return out


@dataclass(frozen=True)
class DriverSetup:
    """What the drivers page explains, with what, at which level (see :func:`driver_setup`)."""

    data: pd.DataFrame
    outcome: str
    predictors: list[str]
    level: str
    kind: str
    side: str
    cluster: str | None
    table: pd.DataFrame
    description: str
    notes: list[str] = field(default_factory=list)


def driver_setup(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    outcome: str = "nps",
    side: str = "client",
    min_group_size: int = MIN_GROUP_SIZE,
    instrument: str | Instrument | None = None,
) -> DriverSetup:
    """Assemble the data, outcome and predictors of a driver analysis.

    Parameters
    ----------
    answers, responses, accounts : DataFrame
        From :mod:`helpers.store` for the waves to analyse (both sides).
    outcome : {"nps", "retention"}
        ``nps``: respondents' 0–10 NPS answers (one row per response).
        ``retention``: churned (1) vs renewed (0), one row per account with a
        known outcome.
    side : {"client", "staff", "both"}
        Whose dimension ratings explain the outcome:

        ========  =======================================  ===========================================
        side      outcome = nps                            outcome = retention
        ========  =======================================  ===========================================
        client    client NPS on the client's own scores    churn on the account's client means
        staff     the team's NPS ("recommend working with  churn on the account's team means
                  this client") on the team's own scores
        both      client NPS on the client's own scores    churn on client means and the
                  and the account team's means             client − team gaps
        ========  =======================================  ===========================================
    min_group_size : int
        Team means from fewer team answers (pooled over the waves) are
        blanked by :func:`helpers.models.account_table`; rows that need them
        are left out and counted.
    instrument : path or Instrument, optional

    Returns
    -------
    DriverSetup
        ``data`` (the rows a model uses, incomplete rows included — models
        count what they drop), ``outcome`` (column), ``predictors``,
        ``level`` ("respondent"/"account"), ``kind`` (the outcome parameter),
        ``side``, ``cluster`` (``account_id`` for respondent-level data),
        ``table`` (the full account table, active accounts included, for
        the retention models, congruence and the baseline comparison),
        ``description`` (one sentence) and ``notes``.

    Raises
    ------
    ValueError
        For an unknown ``outcome`` or ``side``.

    Notes
    -----
    Account means pool every wave given (each respondent weighs the same),
    which makes team means estimable for more accounts; see
    :func:`helpers.models.account_table`.  ``table`` follows its timing
    rule: for accounts with a known outcome only the answers submitted
    before the renewal date count (an answer given after a churn decision
    may be a reaction to it); active accounts keep every wave.  The team
    means beside client NPS answers (``outcome="nps"``, ``side="both"``)
    pool every wave, as NPS is answered at the same time as the scores.
    """
    import warnings as _w

    from . import models
    from .diagnostics import ModelWarning

    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    inst = load_instrument(instrument)
    dims = inst.dimension_ids
    table, notes = _collect_warnings(lambda: models.account_table(answers, responses, accounts,
                                                                  min_group_size=min_group_size, instrument=inst))
    n_waves = responses["wave"].nunique()
    if outcome == "nps":
        who = "staff" if side == "staff" else "client"
        data = models.respondent_table(answers, responses, side=who, instrument=inst)
        predictors = list(dims)
        if side == "both":
            # NPS is answered at the same time as the scores, not after a renewal decision: the team means
            # beside every client answer pool all team answers (the renewal rule is for retention).
            with _w.catch_warnings():
                _w.simplefilter("ignore", ModelWarning)  # the same notes were collected above
                concurrent = models.account_table(answers, responses, accounts, before_renewal=False,
                                                  min_group_size=min_group_size, instrument=inst)
            staff = concurrent[["account_id", *[f"staff_{d}" for d in dims]]]
            data = data.merge(staff, on="account_id", how="left")
            predictors += [f"staff_{d}" for d in dims]
            n_missing = int(data[[f"staff_{d}" for d in dims]].isna().any(axis=1).sum())
            if n_missing:
                notes.append(f"{n_missing} client answers come from accounts with fewer than {min_group_size} team "
                             "answers; the team view there is hidden and those answers are left out of the models.")
        description = {
            "client": f"Client NPS (0–10) of {len(data)} client answers on the respondent's own five dimension "
                      f"scores, {data['account_id'].nunique()} accounts, {n_waves} wave(s).",
            "staff": f"The team's NPS (0–10, 'would you recommend working with this client?') of {len(data)} team "
                     f"answers on the team member's own dimension scores, {data['account_id'].nunique()} accounts, "
                     f"{n_waves} wave(s). This is the team's view, not the client's.",
            "both": f"Client NPS (0–10) of {len(data)} client answers on the respondent's own dimension scores and "
                    f"the account team's mean scores (pooled over {n_waves} wave(s)): does the team's view add "
                    "anything to what the client says?",
        }[side]
        return DriverSetup(data=data, outcome="nps", predictors=predictors, level="respondent", kind="nps",
                           side=side, cluster="account_id", table=table, description=description, notes=notes)
    predictors = {"client": [f"client_{d}" for d in dims], "staff": [f"staff_{d}" for d in dims],
                  "both": [f"client_{d}" for d in dims] + [f"gap_{d}" for d in dims]}[side]
    known = table[table["outcome_known"].astype(bool)].reset_index(drop=True)
    n_events = int(known["churned"].sum())
    answered = known[(known["n_client"] + known["n_staff"]) > 0]
    description = (f"Churn (1) vs renewal (0) of the {len(known)} accounts with a known outcome ({n_events} churned, "
                   f"{len(known) - n_events} renewed) on the account's "
                   + {"client": "client means per dimension",
                      "staff": "team means per dimension",
                      "both": "client means and client − team gaps per dimension"}[side]
                   + f", pooled over {n_waves} wave(s) but only from answers given before the account's renewal "
                   f"date ({table.attrs.get('n_after_renewal', 0)} later answers left out; {len(answered)} of the "
                   f"{len(known)} accounts have earlier answers, {int(answered['churned'].sum())} of them churned). "
                   f"{int((~table['outcome_known']).sum())} active accounts are not used for fitting.")
    if side in ("staff", "both"):
        hidden = int(known[[p for p in predictors if not p.startswith("client_")]].isna().any(axis=1).sum())
        if hidden:
            notes.append(f"{hidden} account(s) with fewer than {min_group_size} team answers have no team view and "
                         "are left out of the models.")
    return DriverSetup(data=known, outcome="churned", predictors=predictors, level="account", kind="retention",
                       side=side, cluster=None, table=table, description=description, notes=notes)


def driver_models(setup: DriverSetup, *, ci: float = 0.95) -> dict[str, pd.DataFrame]:
    """Fit the models for a :class:`DriverSetup`: one tidy table per model.

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup`.
    ci : float
        Confidence level.

    Returns
    -------
    dict of str → DataFrame
        ``nps``: "OLS, clustered by account" (:func:`helpers.models.nps_ols`),
        "ordinal logit" (:func:`helpers.models.nps_ordinal`) and "mixed model"
        (:func:`helpers.models.nps_mixed`).  ``retention``: "logistic"
        (:func:`helpers.models.retention_logit`, trained on known outcomes)
        and "Cox" (:func:`helpers.models.retention_cox`, active accounts as
        censored).  Each table has the models' columns (term, coef, se,
        ci_low, ci_high, p_val, n, n_dropped, n_groups, n_events, estimator,
        warnings) and ``attrs["warnings"]``; the models' warnings are
        collected there, not raised.

    Notes
    -----
    See the model functions for formulas.  OLS and mixed-model coefficients
    are NPS points per scale point; ordinal, logistic and Cox coefficients are
    log-odds or log-hazard ratios (exp gives the ratio).
    """
    from . import models

    if setup.kind == "nps":
        fits = {"OLS, clustered by account": lambda: models.nps_ols(
                    setup.data, predictors=setup.predictors, cluster=setup.cluster, ci=ci),
                "ordinal logit": lambda: models.nps_ordinal(
                    setup.data, predictors=setup.predictors, cluster=setup.cluster, ci=ci),
                "mixed model, random account intercept": lambda: models.nps_mixed(
                    setup.data, predictors=setup.predictors, group=setup.cluster, ci=ci)}
    else:
        fits = {"logistic": lambda: models.retention_logit(setup.table, predictors=setup.predictors, ci=ci),
                "Cox": lambda: models.retention_cox(setup.table, predictors=setup.predictors, ci=ci)}
    return {name: _fit_with_warnings(fit) for name, fit in fits.items()}


def driver_importance(setup: DriverSetup, *, method: str = "dominance", n_boot: int = 200, seed: int = 0,
                      ci: float = 0.95) -> pd.DataFrame:
    """Key-driver importance for a :class:`DriverSetup` (dominance or relative weights, bootstrap CIs).

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup`.
    method : {"dominance", "relative_weights"}
        See :func:`helpers.drivers.key_drivers`.
    n_boot, seed, ci
        Bootstrap: respondent-level data resample whole accounts; account-level
        data resample accounts.

    Returns
    -------
    DataFrame
        As :func:`helpers.drivers.relative_weights` (term, estimate, share
        with intervals, rank, rank_share, top_share, r2, n, …);
        ``attrs["bootstrap"]`` for :func:`helpers.drivers.rank_stability` and
        ``attrs["warnings"]``.

    Notes
    -----
    For retention the outcome is 0/1 and the R² being split is that of a
    linear probability model — a ranking device, not a churn model (the
    logistic model is in :func:`driver_models`); Azen & Traxel (2009) give a
    logistic variant.
    """
    from . import drivers

    return _fit_with_warnings(lambda: drivers.key_drivers(
        setup.data, method=method, outcome=setup.outcome, predictors=setup.predictors, cluster=setup.cluster,
        n_boot=n_boot, seed=seed, ci=ci))


def congruence_summary(
    table: pd.DataFrame,
    *,
    outcomes: Sequence[str] = ("churned",),
    fdr: float = 0.05,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Does client–team agreement predict the outcome?  Response-surface terms per dimension, BH-corrected.

    Parameters
    ----------
    table : DataFrame
        :func:`helpers.models.account_table` (client_<d>, staff_<d>, outcome
        columns; team means of small groups already blanked).
    outcomes : sequence of str
        ``churned`` (renewal; accounts with a known outcome only) and/or
        ``client_nps_mean``.
    fdr : float
        False discovery rate for ``significant``.
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        outcome, dimension, term (a1…a4), meaning, coef, ci_low, ci_high,
        p_val, p_fdr, significant, n, n_events, estimator, warnings —
        ``attrs["warnings"]`` lists the fits' warnings with their dimension.

    Notes
    -----
    Per dimension, Z = b0 + b1·X + b2·Y + b3·X² + b4·XY + b5·Y² with X the
    client mean and Y the team mean (Edwards & Parry 1993), a1 = b1+b2,
    a2 = b3+b4+b5, a3 = b1−b2, a4 = b3−b4+b5 (Shanock et al. 2010); see
    :func:`helpers.congruence.congruence`.  Agreement matters when a4
    is clearly non-zero (for churn, a4 > 0: disagreement either way raises
    churn).  The four a-terms × dimensions of one outcome are one family for
    the Benjamini–Hochberg correction.
    """
    import warnings as _w

    from .congruence import congruence
    from .diagnostics import ModelWarning

    parts, messages = [], []
    for outcome in outcomes:
        with _w.catch_warnings():
            _w.simplefilter("ignore", ModelWarning)  # the same sentences are in attrs["warnings"]
            res = congruence(table, outcome=outcome, ci=ci, instrument=instrument)
        messages += [f"{term_label(outcome)}, {m}" for m in res.attrs.get("warnings", [])]
        res = res[res["term"].isin(["a1", "a2", "a3", "a4"])].copy()
        res.attrs = {}
        if len(res):
            res.insert(0, "outcome", outcome)
            res["p_fdr"] = fdr_bh(res["p_val"])
            parts.append(res)
    cols = ["outcome", "dimension", "term", "meaning", "coef", "ci_low", "ci_high", "p_val", "p_fdr", "significant",
            "n", "n_events", "estimator", "warnings"]
    if not parts:
        out = pd.DataFrame(columns=cols)
    else:
        out = pd.concat(parts, ignore_index=True)
        out["significant"] = (out["p_fdr"] <= fdr).fillna(False).astype(bool)
        out = out[cols]
    out.attrs["warnings"] = list(dict.fromkeys(messages))
    return out


def congruence_verdict(summary: pd.DataFrame, *, language: str = "en",
                       instrument: str | Instrument | None = None) -> list[str]:
    """Plain sentences from :func:`congruence_summary`: where disagreement itself goes with the outcome.

    Returns
    -------
    list of str
        One sentence per outcome: the dimensions with a clear a4 (curvature
        along the line of disagreement) after the correction, or that none has.
    """
    inst = load_instrument(instrument)
    out = []
    for outcome, grp in summary.groupby("outcome", sort=False):
        a4 = grp[grp["term"] == "a4"]
        n = int(a4["n"].max()) if len(a4) and a4["n"].notna().any() else 0
        clear = a4[a4["significant"]]
        what = term_label(outcome, language=language, instrument=inst)
        what = what[:1].upper() + what[1:]
        if clear.empty:
            out.append(f"{what} ({n} accounts): for no dimension does client–team disagreement by itself "
                       "clearly go with the outcome (a4, corrected for the tests made); absence of evidence with this "
                       "many accounts is not evidence that agreement does not matter.")
        else:
            parts = [f"{inst.label(r.dimension, language)} (a4 = {r.coef:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}])"
                     for r in clear.itertuples()]
            out.append(f"{what} ({n} accounts): client–team disagreement goes with the outcome on "
                       + ", ".join(parts) + ".")
    return out


def baseline_comparison(setup: DriverSetup, *, repeats: int = 20, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Cross-validated AUC and Brier score of the retention model beside the NPS-only baseline.

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup` with ``kind == "retention"``; for ``nps``
        an empty frame is returned (the baseline applies to retention).
    repeats, seed, ci
        See :func:`helpers.models.retention_cv`.

    Returns
    -------
    DataFrame
        As :func:`helpers.models.retention_cv`; ``attrs["predictions"]``
        (for :func:`helpers.models.calibration_table`) and
        ``attrs["warnings"]``.
    """
    from . import models

    if setup.kind != "retention":
        out = pd.DataFrame(columns=["model", "metric", "estimate", "ci_low", "ci_high", "n", "n_events"])
        out.attrs.update(warnings=[], not_applicable=True)
        return out
    return _fit_with_warnings(lambda: models.retention_cv(setup.table, predictors=setup.predictors,
                                                          repeats=repeats, seed=seed, ci=ci))


def driver_ipa(setup: DriverSetup, importance: pd.DataFrame, *, language: str = "en",
               instrument: str | Instrument | None = None) -> pd.DataFrame:
    """Importance–performance table for a driver analysis, with display labels.

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup`.
    importance : DataFrame
        From :func:`driver_importance`.
    language : str
        Labels of the terms.

    Returns
    -------
    DataFrame
        As :func:`helpers.drivers.importance_performance` (term, label,
        importance with interval, performance with interval, n, cuts,
        quadrant); performance is the mean of account means over every
        account of the waves analysed (active accounts included for
        retention, decided accounts with their answers before renewal),
        ``label`` from :func:`term_label`.

    Notes
    -----
    Martilla & James (1977); cross-hairs at the average importance 1/p and
    the mean performance (Bacon 2003).  Gap terms have their own scale
    (negative = blind spot), so with ``side="both"`` for retention read
    their "performance" as the average gap.
    """
    from . import drivers

    scores = setup.table if setup.level == "account" else setup.data
    imp = importance.copy()
    imp.attrs = {}
    return drivers.importance_performance(imp, scores, account_column="account_id", language=language,
                                          instrument=instrument)


def model_heading(name: str, fit: pd.DataFrame):
    """A model table's heading as Markdown: name, estimator, n, clusters, events and R² where known."""
    import html

    from IPython.display import Markdown

    first = fit.iloc[0] if len(fit) else pd.Series(dtype=object)
    bits = [str(first.get("estimator", ""))]
    for key, label in (("n", "n"), ("n_groups", "accounts"), ("n_events", "churned")):
        v = first.get(key)
        if v is not None and pd.notna(v):
            bits.append(f"{label} = {int(v)}")
    r2 = fit.attrs.get("r2")
    if r2 is not None and np.isfinite(r2):
        bits.append(f"R² = {r2:.2f}")
    return Markdown(f"**{html.escape(name, quote=False)}** — " + html.escape(", ".join(b for b in bits if b),
                                                                                 quote=False))


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
        NPS: the four panels of :func:`helpers.diagnostics.plot_diagnostics`
        (residuals, normal Q–Q, scale–location, influence) for the OLS fit.
        Retention: :func:`helpers.models.plot_calibration` of the
        cross-validated predictions of the model and the NPS-only baseline.
    """
    from . import diagnostics, models

    if setup.kind == "nps":
        return diagnostics.plot_diagnostics(setup.data, outcome=setup.outcome, predictors=setup.predictors)
    cv = baseline if baseline is not None else baseline_comparison(setup)
    pred = cv.attrs.get("predictions")
    cal = models.calibration_table(pred) if pred is not None else pd.DataFrame()
    if cal.empty:
        return _message_axes("Too few churned or renewed accounts to check calibration.", figsize=(5, 2))
    return models.plot_calibration(cal, title="Calibration, cross-validated (model vs NPS only)")


def plot_congruence(
    table: pd.DataFrame,
    summary: pd.DataFrame,
    *,
    outcome: str = "churned",
    dimension: str | None = None,
    language: str = "en",
    instrument: str | Instrument | None = None,
    ax=None,
):
    """Response surface of one dimension (default: the clearest a4) with the accounts drawn on it.

    Parameters
    ----------
    table : DataFrame
        :func:`helpers.models.account_table`.
    summary : DataFrame
        :func:`congruence_summary` (to pick the dimension).
    outcome : str
        ``churned`` or ``client_nps_mean``.
    dimension : str, optional
        Dimension to draw; default the one with the smallest a4 p-value.
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        :func:`helpers.congruence.plot_response_surface` with one point per
        account whose team mean could be shown (small teams are blanked in
        ``table`` and are not drawn).
    """
    import warnings as _w

    from .congruence import plot_response_surface, response_surface
    from .diagnostics import ModelWarning

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
    ax = plot_response_surface(surface, data=data, x=x, y=y, ax=ax, instrument=inst,
                               title=f"{inst.label(dimension, language)}: {what} by client and team rating "
                                     f"(n = {int(surface['n'].iloc[0])} accounts)")
    ax.set_xlabel(term_label(x, language=language, instrument=inst))
    ax.set_ylabel(term_label(y, language=language, instrument=inst))
    return ax


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
        The store the report read (default :func:`helpers.store.default_store`).
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

    from . import __version__
    from .store import data_hash

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
