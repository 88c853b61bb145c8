"""Each account against the rest of the portfolio: dimensions, client–team gaps, NPS, change.

Takes respondent scores and responses of one or more waves and hands on one
row per account × dimension (or account, or wave) with ``n``, the estimate,
its interval, ``p_val``, the Benjamini–Hochberg ``p_fdr`` across the page
and a direction.  Team results below the anonymity threshold are blanked
and kept out of every reference value.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.data.privacy import MIN_GROUP_SIZE, suppress_small_groups

from .gaps import BLIND_SPOT, HIDDEN_STRENGTH, _welch_from_stats, no_variation, perception_gaps
from .gaps import benjamini_hochberg as fdr_bh
from .scores import _adjusted_wald, _sort_dimensions, classify_nps, normal_p_value, nps, summarise, z_value

__all__ = [
    "dimension_heatmap",
    "gap_map",
    "nps_vs_portfolio",
    "nps_trend",
    "score_change",
]


def _present(data: pd.DataFrame, cols: Sequence[str]) -> list[str]:
    """The columns of ``cols`` that ``data`` has."""
    return [c for c in cols if c in data.columns]


def _wave_order(data: pd.DataFrame, wave: str = "wave") -> list[str]:
    """Waves oldest first, as :func:`helpers.data.store.waves` orders them (by median answer time, else naturally)."""
    from helpers.data.store import sort_waves

    labels = pd.unique(data[wave].dropna())
    dated = None
    if "submitted_at" in data.columns:
        dated = pd.to_datetime(data["submitted_at"], errors="coerce").groupby(data[wave]).median().to_dict()
    return sort_waves(labels, dated=dated)


def require_waves(responses: pd.DataFrame, *waves: str | None) -> list[str]:
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
    p = 2·P(T_df > |t|) (Welch 1947), by the function behind :func:`helpers.stats.gaps.welch_test`.
    """
    se = np.sqrt(var1 / n1.where(n1 > 0) + var2 / n2.where(n2 > 0))
    ok = tested & (n1 >= 2) & (n2 >= 2) & (se > 0)
    w = _welch_from_stats(diff.where(ok), n1.where(ok), var1.where(ok), n2.where(ok), var2.where(ok), ci=ci)
    return pd.DataFrame({c: w[c] for c in ("t", "df", "p_val", "ci_low", "ci_high")}, index=diff.index)


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
    withheld: pd.DataFrame | None = None,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Account × dimension means, each tested against the rest of the portfolio.

    Parameters
    ----------
    scores : DataFrame
        Respondent dimension scores (:func:`helpers.stats.scores.respondent_scores`):
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
        The fewest answers behind a shown cell of the side (its privacy
        threshold, or the reliable minimum when that is higher).  A cell below
        it is blanked *and* left out of every other cell's "rest of the
        portfolio", so the shown cells cannot be differenced back into the
        hidden one.
    withheld : DataFrame, optional
        Cells the reports may not publish for another reason (the account,
        dimension and, where present, ``within`` columns; e.g. the cells
        :func:`helpers.data.disclosure.publishable` holds back for differencing
        across waves): blanked and left out of the references like small ones.
    instrument : path or Instrument, optional
        Dimension order.

    Returns
    -------
    DataFrame
        *within, account_id, dimension, n, mean, sd, ci_low, ci_high (cut to
        the answer scale), rest_n, rest_mean, diff, diff_low, diff_high, t, df,
        p_val, p_fdr, effect_size (Hedges' g), significant, direction
        ("above"/"below"/""), untested ("" or why the cell was not tested:
        "no variation" when all its answers are the same), suppressed.  One
        row per cell.

    Notes
    -----
    Each cell compares the account's respondents (n₁, x̄₁, s₁) with every other
    account's respondents in the same wave (n₂, x̄₂, s₂) — the portfolio mean
    *excluding* the account, so a large account is not compared with itself.
    Welch's t: t = (x̄₁ − x̄₂)/√(s₁²/n₁ + s₂²/n₂) with Welch–Satterthwaite df
    (Welch 1947).  The interval of the difference is (x̄₁ − x̄₂) ± t_{(1+ci)/2, df}·SE.
    The effect size is Hedges' g, as in the gap tables: the pooled-SD
    difference d = (x̄₁ − x̄₂)/√(((n₁−1)s₁² + (n₂−1)s₂²)/(n₁+n₂−2)) times
    J = 1 − 3/(4(n₁+n₂) − 9) (Hedges & Olkin 1985).  A cell whose answers are
    (nearly) all the same is not tested: a sample variance of 0 from a handful
    of answers would make any test overconfident (a cell of four answers of 3
    against a varied portfolio gave p < 0.001).
    The p-values of all tested cells in the returned table form one family and
    are adjusted by Benjamini–Hochberg (:func:`helpers.stats.gaps.benjamini_hochberg`); ``significant`` means
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
    keys = [*within, account, "dimension"]
    cell = summarise(data, value=value, by=keys, ci=ci, scale=(inst.scale_min, inst.scale_max))
    hidden = _withheld_cells(cell, withheld, keys=keys)
    cell, in_ref = _with_rest_of_portfolio(cell, data, within=within, account=account, value=value,
                                           hidden_below=min_group_size, hidden=hidden)
    cell["diff"] = cell["mean"] - cell["rest_mean"]
    flat = (cell["n"] >= 2) & no_variation(cell["sd"], span=inst.scale_max - inst.scale_min)
    tested = (cell["n"] >= min_n) & in_ref & ~flat  # hidden and flat cells are not in the family
    w = _welch(cell["diff"], cell["n"], cell["sd"] ** 2, cell["rest_n"], cell["rest_var"], tested=tested, ci=ci)
    cell["t"], cell["df"], cell["p_val"] = w["t"], w["df"], w["p_val"]
    cell["diff_low"], cell["diff_high"] = w["ci_low"], w["ci_high"]
    cell["effect_size"] = _hedges_g(cell).where(w["p_val"].notna())
    cell["untested"] = np.where(flat & in_ref, "no variation", "")
    _flag(cell, alpha=alpha, diff="diff")
    cols = [*keys, "n", "mean", "sd", "ci_low", "ci_high", "rest_n", "rest_mean", "diff", "diff_low", "diff_high",
            "t", "df", "p_val", "p_fdr", "effect_size", "significant", "direction", "untested"]
    out = _suppress(cell[cols], keep=(*keys, "n"), min_group_size=min_group_size, also=~in_ref)
    return _sort_dimensions(out, keys, inst).reset_index(drop=True)


def _hedges_g(cell: pd.DataFrame) -> pd.Series:
    """Hedges' g of each cell against the rest of the portfolio: pooled-SD difference × J = 1 − 3/(4N − 9)."""
    n = cell["n"] + cell["rest_n"]
    pooled = np.sqrt(((cell["n"] - 1) * cell["sd"] ** 2 + (cell["rest_n"] - 1) * cell["rest_var"])
                     / (n - 2).where(n > 2))
    return (1 - 3 / (4 * n - 9)) * cell["diff"] / pooled.where(pooled > 0)


def _withheld_cells(cell: pd.DataFrame, withheld: pd.DataFrame | None, *, keys: list[str]) -> pd.Series:
    """True for the cells listed in ``withheld`` (matched on the key columns both frames have)."""
    if withheld is None or withheld.empty:
        return pd.Series(False, index=cell.index)
    on = [k for k in keys if k in withheld.columns]
    marks = withheld[on].drop_duplicates().assign(_withheld=True)
    return cell[on].merge(marks, on=on, how="left")["_withheld"].fillna(False).astype(bool).set_axis(cell.index)


def _with_rest_of_portfolio(cell: pd.DataFrame, data: pd.DataFrame, *, within: list[str], account: str, value: str,
                            hidden_below: int | None, hidden: pd.Series | None = None
                            ) -> tuple[pd.DataFrame, pd.Series]:
    """Each cell with ``rest_n``, ``rest_mean`` and ``rest_var`` of every other account in its wave and dimension.

    The rest is the total minus the cell's own sums.  Cells of fewer than
    ``hidden_below`` respondents (staff cells below the anonymity threshold)
    stay out of every reference, so the shown cells and one "rest" mean
    cannot give a hidden group's mean back; the second value says which cells
    are in the reference.
    """
    keys = [*within, account, "dimension"]
    out_of_ref = cell.loc[hidden, keys] if hidden is not None and hidden.any() else cell.iloc[:0][keys]
    ref = data
    if hidden_below is not None:
        ref = data[data.groupby(keys, observed=True)[value].transform("count") >= hidden_below]
    if len(out_of_ref):
        ref = ref.merge(out_of_ref.assign(_out=True), on=keys, how="left")
        ref = ref[ref["_out"].isna()].drop(columns="_out")
    tot = ref.groupby([*within, "dimension"], observed=True)[value].agg(
        tot_n="count", tot_sum="sum", tot_ss=lambda s: float((s**2).sum())).reset_index()
    acc = data.assign(_sq=data[value] ** 2).groupby(keys, observed=True).agg(
        _sum=(value, "sum"), _ss=("_sq", "sum")).reset_index()
    cell = cell.merge(acc, on=keys).merge(tot, on=[*within, "dimension"], how="left")
    in_ref = (cell["n"] >= hidden_below) if hidden_below is not None else pd.Series(True, index=cell.index)
    if hidden is not None:
        in_ref &= ~hidden.to_numpy()
    own = cell[["n", "_sum", "_ss"]].where(in_ref, 0)
    rn = cell["tot_n"].fillna(0) - own["n"]
    rss = cell["tot_ss"].fillna(0) - own["_ss"]
    cell["rest_n"] = rn
    cell["rest_mean"] = (cell["tot_sum"].fillna(0) - own["_sum"]) / rn.where(rn > 0)
    cell["rest_var"] = ((rss - rn * cell["rest_mean"] ** 2) / (rn - 1).where(rn > 1)).clip(lower=0)
    return cell, in_ref


def _suppress(data: pd.DataFrame, *, keep: Sequence[str], min_group_size: int,
              also: pd.Series | None = None) -> pd.DataFrame:
    """Blank every result of a group below ``min_group_size`` (and of the rows in ``also``); flags are cleared."""
    flags = [c for c in ("significant", "direction", "untested") if c in data]
    out = suppress_small_groups(data, min_group_size=min_group_size,
                                columns=[c for c in data.columns if c not in (*keep, *flags)])
    if also is not None and also.any():
        values = [c for c in out.columns if c not in (*keep, *flags, "suppressed")]
        rows = also.to_numpy()
        out.loc[rows, values] = np.nan
        out.loc[rows, "suppressed"] = True
    if "significant" in out:
        out.loc[out["suppressed"], "significant"] = False
    if "direction" in out:
        out.loc[out["suppressed"], "direction"] = ""
    if "untested" in out:
        out.loc[out["suppressed"], "untested"] = ""
    return out


# ---------------------------------------------------------------------------
# Gap map: client vs the account team
# ---------------------------------------------------------------------------
def gap_map(
    scores: pd.DataFrame,
    *,
    by: Sequence[str] = ("account_id", "wave"),
    min_group_size: int = MIN_GROUP_SIZE,
    min_client_group_size: int | None = None,
    withheld: pd.DataFrame | None = None,
    fdr: float = 0.05,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Client − team gap for every account × dimension, as one portfolio-wide family of tests.

    Parameters
    ----------
    scores : DataFrame
        Respondent scores of both sides (:func:`helpers.stats.scores.respondent_scores`):
        account_id, side, dimension, score (+ wave).
    by : sequence of str
        What makes one row of the map (columns not in ``scores`` are ignored).
    min_group_size, min_client_group_size : int
        Team (and client) results from fewer answers are blanked
        (``suppressed``), and so are their gaps.
    withheld : DataFrame, optional
        Account × dimension (× side) results the reports may not publish for
        another reason (differencing across waves): their gaps are blanked too.
    fdr : float
        False discovery rate over the whole map.
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        The columns of :func:`helpers.stats.gaps.perception_gaps` (n_client, n_staff,
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
    out = perception_gaps(scores, by=by, min_group_size=min_group_size, min_client_group_size=min_client_group_size,
                          ci=ci, fdr=fdr, family="all", withheld=withheld, instrument=instrument)
    out["significant"] = out["label"].isin([BLIND_SPOT, HIDDEN_STRENGTH]) & ~out["suppressed"]
    return out


# ---------------------------------------------------------------------------
# NPS across accounts and over waves
# ---------------------------------------------------------------------------
def _nps_difference(a, b, *, ci: float):
    """Interval and two-sided p-value of NPS_a − NPS_b for independent samples, each (promoters, detractors, n).

    Notes
    -----
    With the adjusted-Wald estimates and variances of :func:`helpers.stats.scores.nps` (Rocks 2016),
    (ÑPS_a − ÑPS_b) ± z·√(Var̃_a + Var̃_b) on the −200…200 scale, and
    p = 2Φ(−|ÑPS_a − ÑPS_b|/√(Var̃_a + Var̃_b)).
    """
    ea, va = _adjusted_wald(*a)
    eb, vb = _adjusted_wald(*b)
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
    withheld: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """NPS of each account, and whether it differs from the rest of the portfolio.

    Parameters
    ----------
    responses : DataFrame
        One row per response with ``account``, ``score`` (0–10) and the
        ``within`` columns (e.g. wave).
    side : str or None
        Keep only this side (default "client").
    min_group_size : int
        The fewest answers behind a shown NPS (the side's privacy threshold,
        or the reliable minimum when higher).  A smaller group's NPS is
        blanked and left out of the other accounts' "rest of the portfolio".
    withheld : DataFrame, optional
        Accounts (and, where present, ``within`` values) whose NPS the reports
        may not publish for another reason (differencing across waves):
        blanked and left out of the references like small groups.
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
    :func:`helpers.stats.scores.nps` does) keeps an account of three unanimous
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
    # Small or withheld groups stay out of the reference (see dimension_heatmap).
    hidden = _withheld_cells(per, withheld, keys=[*within, account])
    in_ref = (per["n"] >= min_group_size) & ~hidden
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
    out = _suppress(per[cols], keep=(*within, account, "n"), min_group_size=min_group_size, also=hidden)
    return out.reset_index(drop=True)


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
        :func:`helpers.data.store.sort_waves` does):
        wave, n, n_accounts, promoters, passives, detractors, nps, ci_low,
        ci_high (adjusted Wald, from :func:`helpers.stats.scores.nps`), cluster_low,
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
    boots = _account_bootstrap(data, wave=wave, account=account, score=score, n_boot=n_boot, seed=seed)
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


def _account_bootstrap(data: pd.DataFrame, *, wave: str, account: str, score: str, n_boot: int, seed: int
                       ) -> dict:
    """Each wave's NPS in ``n_boot`` resamples of its accounts (wave → array); waves of one account have none.

    A wave's generator is seeded by ``seed`` and the wave's label only, so its
    resamples do not depend on which other waves are in ``data``.
    """
    boots = {}
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
    return boots


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
    return _sort_dimensions(out, [account, "dimension"], inst).reset_index(drop=True)


def nps_change_tests(responses: pd.DataFrame, *, wave_from: str, wave_to: str, account: str, score: str,
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
