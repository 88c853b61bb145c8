"""Perception gaps: where the client's view of the partnership differs from the team's.

The client and the provider's own staff rate the same dimensions.  A *gap* is
the client mean minus the staff mean on one dimension:

* **blind spot** — the team rates itself higher than the client does (gap < 0);
* **hidden strength** — the client rates the team higher than the team does (gap > 0);
* **aligned strong / aligned weak** — the views agree within a margin; the
  level is read from the client mean.

Gaps are named in three steps that always agree with the interval drawn
beside them: a **clear** gap holds after the correction for the several tests
a report makes; a **possible** gap has an interval that excludes zero but does
not hold after the correction; otherwise there is **no clear gap** (aligned
only when the whole interval lies within the margin).

Each gap comes with a Welch interval, a Welch t-test, a Benjamini–Hochberg
adjustment, Hedges' g and an ``evidence`` column.  No gap is tested when either
side has fewer answers than its threshold or when every answer on one side is
the same (a zero variance would make any test overconfident).  Team results
from fewer than ``min_group_size`` answers, and client results from fewer than
``min_client_group_size``, are blanked (see :mod:`helpers.data.disclosure`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.data.privacy import MIN_GROUP_SIZE, suppress_small_groups
from helpers.words import LANGUAGES, section

from .scores import _sort_dimensions, t_p_value, t_value

BLIND_SPOT = "blind spot"
HIDDEN_STRENGTH = "hidden strength"
POSSIBLE_BLIND_SPOT = "possible blind spot"
POSSIBLE_HIDDEN_STRENGTH = "possible hidden strength"
ALIGNED_STRONG = "aligned strong"
ALIGNED_WEAK = "aligned weak"
NO_CLEAR_GAP = "no clear gap"
LABELS = (BLIND_SPOT, HIDDEN_STRENGTH, POSSIBLE_BLIND_SPOT, POSSIBLE_HIDDEN_STRENGTH, ALIGNED_STRONG, ALIGNED_WEAK,
          NO_CLEAR_GAP)
#: Labels that name a gap (clear or possible), by direction.
BLIND_SPOTS = (BLIND_SPOT, POSSIBLE_BLIND_SPOT)
HIDDEN_STRENGTHS = (HIDDEN_STRENGTH, POSSIBLE_HIDDEN_STRENGTH)

CLEAR = "clear"
POSSIBLE = "possible"
UNCLEAR = "unclear"
TOO_FEW = "too few answers"
NO_TEST = "no test"
SUPPRESSED = "suppressed"
EVIDENCE = (CLEAR, POSSIBLE, UNCLEAR, TOO_FEW, NO_TEST, SUPPRESSED)

#: A side whose scores vary less than this share of the scale range has "no variation": a test of its mean
#: against another would be overconfident (a sample sd of 0 from a handful of answers is not a population sd of 0).
NO_VARIATION_SHARE = 0.01

#: Display names of labels, evidence codes and sides, per language.
LABEL_TEXT = {lang: section("gaps.label", lang) for lang in LANGUAGES}
EVIDENCE_TEXT = {lang: section("gaps.evidence", lang) for lang in LANGUAGES}
SIDE_TEXT = {lang: section("gaps.side", lang) for lang in LANGUAGES}

GAP_COLUMNS = ["dimension", "n_client", "n_staff", "client_mean", "staff_mean", "client_sd", "staff_sd",
               "gap", "se", "df", "t", "ci_low", "ci_high", "p_val", "p_fdr", "effect_size",
               "label", "evidence", "suppressed"]
#: The columns computed from the team's answers, and from the client's: blank when that side is hidden.
STAFF_DERIVED = ["staff_mean", "staff_sd", "gap", "se", "df", "t", "ci_low", "ci_high", "p_val", "p_fdr",
                  "effect_size"]
CLIENT_DERIVED = ["client_mean", "client_sd", *[c for c in STAFF_DERIVED if not c.startswith("staff")]]


def no_variation(sd: float | np.ndarray | pd.Series, *, span: float) -> bool | np.ndarray | pd.Series:
    """Whether a sample's sd is zero or near zero: below :data:`NO_VARIATION_SHARE` of the scale's range."""
    return np.asarray(sd, dtype=float) < NO_VARIATION_SHARE * span if not isinstance(sd, pd.Series) \
        else sd.astype(float) < NO_VARIATION_SHARE * span


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray | pd.Series) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (the step-up false discovery rate procedure).

    Parameters
    ----------
    p_values : array-like of float
        Unadjusted p-values of one family of tests.  NaN entries are not tests:
        they are left out of the family and stay NaN.

    Returns
    -------
    ndarray
        Adjusted p-values in the input order; reject the hypotheses with
        adjusted p < q to control the false discovery rate at q.

    Notes
    -----
    With the m finite p-values sorted, p_(1) ≤ … ≤ p_(m),
    p̃_(i) = min_{j ≥ i} min(1, m · p_(j) / j)  (Benjamini & Hochberg 1995,
    "Controlling the false discovery rate", JRSS B 57(1), 289–300).  Rejecting
    p̃_(i) < q is the same as rejecting H_(1)…H_(k) for the largest k with
    p_(k) ≤ k·q/m.

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, np.nan]).round(3).tolist()
    [0.03, 0.04, 0.04, nan]
    """
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    m = int(ok.sum())
    if m == 0:
        return out
    if ((p[ok] < 0) | (p[ok] > 1)).any():
        raise ValueError("p-values must lie between 0 and 1.")
    pv = p[ok]
    order = np.argsort(pv, kind="mergesort")
    ranked = pv[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1].clip(max=1.0)
    res = np.empty(m)
    res[order] = adj
    out[ok] = res
    return out


def welch_test(x: Sequence[float], y: Sequence[float], *, ci: float = 0.95) -> dict[str, float]:
    """Welch's unequal-variance comparison of two means, with Hedges' g.

    Parameters
    ----------
    x, y : array-like of float
        The two samples (NaN dropped), e.g. client and staff dimension scores.
    ci : float
        Confidence level of the interval for mean(x) − mean(y).

    Returns
    -------
    dict
        n_x, n_y, mean_x, mean_y, sd_x, sd_y, diff, se, df, t, ci_low, ci_high,
        p_val, effect_size.  Test statistics are NaN when either side has fewer
        than two values or both have no variation.

    Notes
    -----
    se = √(s_x²/n_x + s_y²/n_y); t = (x̄ − ȳ)/se;
    Welch–Satterthwaite df = se⁴ / [(s_x²/n_x)²/(n_x−1) + (s_y²/n_y)²/(n_y−1)];
    CI = (x̄ − ȳ) ± t_{(1+ci)/2, df} · se; p = 2·P(T_df > |t|)  (Welch 1947,
    Biometrika 34, 28–35).

    Hedges' g = J · (x̄ − ȳ)/s_p with the pooled sd
    s_p = √[((n_x−1)s_x² + (n_y−1)s_y²)/(n_x+n_y−2)] and the small-sample
    correction J = 1 − 3/(4(n_x+n_y) − 9)  (Hedges & Olkin 1985, *Statistical
    Methods for Meta-Analysis*, ch. 5).

    Examples
    --------
    >>> r = welch_test([4, 5, 4, 5], [3, 4, 3])
    >>> round(r["diff"], 3), round(r["df"], 2)
    (1.167, 4.45)
    """
    a = np.asarray(x, dtype=float)
    b = np.asarray(y, dtype=float)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    n1, n2 = len(a), len(b)
    m1 = float(a.mean()) if n1 else np.nan
    m2 = float(b.mean()) if n2 else np.nan
    s1 = float(a.std(ddof=1)) if n1 >= 2 else np.nan
    s2 = float(b.std(ddof=1)) if n2 >= 2 else np.nan
    out = {"n_x": n1, "n_y": n2, "mean_x": m1, "mean_y": m2, "sd_x": s1, "sd_y": s2, "diff": m1 - m2,
           "se": np.nan, "df": np.nan, "t": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p_val": np.nan,
           "effect_size": np.nan}
    if n1 < 2 or n2 < 2:
        return out
    sp = np.sqrt(((n1 - 1) * s1**2 + (n2 - 1) * s2**2) / (n1 + n2 - 2))
    if sp > 0:
        out["effect_size"] = float((1 - 3 / (4 * (n1 + n2) - 9)) * (m1 - m2) / sp)
    if s1**2 / n1 + s2**2 / n2 == 0:
        return out
    out.update({k: float(v) for k, v in _welch_from_stats(m1 - m2, n1, s1**2, n2, s2**2, ci=ci).items()})
    return out


def _welch_from_stats(diff, n1, var1, n2, var2, *, ci: float) -> dict:
    """Welch's se, df, t, ci_low, ci_high and p_val of a difference of two means, from counts and variances.

    Works on numbers and on arrays or Series alike; the caller leaves out
    (or masks with NaN) samples with fewer than two values or no variation.

    Notes
    -----
    se = √(s₁²/n₁ + s₂²/n₂), t = diff/se, Welch–Satterthwaite
    df = (s₁²/n₁ + s₂²/n₂)²/((s₁²/n₁)²/(n₁−1) + (s₂²/n₂)²/(n₂−1)), interval
    diff ± t_{(1+ci)/2, df}·se, p = 2·P(T_df > |t|) (Welch 1947).
    """
    v1, v2 = var1 / n1, var2 / n2
    se = np.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
    t = diff / se
    half = t_value(ci, df) * se
    return {"se": se, "df": df, "t": t, "ci_low": diff - half, "ci_high": diff + half, "p_val": t_p_value(t, df)}


def perception_gaps(
    scores: pd.DataFrame,
    *,
    by: Sequence[str] = ("account_id", "wave"),
    min_group_size: int = MIN_GROUP_SIZE,
    min_client_group_size: int | None = None,
    ci: float = 0.95,
    fdr: float = 0.05,
    family: str | Sequence[str] = "group",
    strong_at: float | None = None,
    margin: float | None = None,
    score: str = "score",
    withheld: pd.DataFrame | None = None,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Client vs team view per group and dimension: gap, uncertainty, label and evidence.

    Parameters
    ----------
    scores : DataFrame
        Respondent dimension scores with ``side`` ('client'/'staff'),
        ``dimension``, ``score`` and the ``by`` columns, as from
        :func:`helpers.stats.scores.respondent_scores`.
    by : sequence of str
        What makes one report (default account × wave).  May be empty.
    min_group_size : int
        Team results from fewer answers are blanked (``suppressed``).
    min_client_group_size : int, optional
        Client results from fewer answers are blanked too (default: the same
        as ``min_group_size``).
    ci : float
        Confidence level of the Welch interval.
    fdr : float
        False discovery rate q for the Benjamini–Hochberg adjustment.
    family : "group", "all" or sequence of str
        Which tests are adjusted together: ``"group"`` (default) = the
        dimensions of one ``by`` group, i.e. the tests one report makes;
        ``"all"`` = every test in the frame (a portfolio screen); or the
        columns that define a family.
    strong_at : float, optional
        Client mean at or above which an aligned dimension is "strong".
        Default: three quarters up the scale (4.0 on a 1–5 scale).
    margin : float, optional
        Equivalence margin: an aligned label has ``clear`` evidence when the
        whole CI lies within ±margin.  Default: one eighth of the scale range
        (0.5 points on a 1–5 scale).
    score : str
        The score column.
    withheld : DataFrame, optional
        Results that may not be published for another reason (e.g. differencing
        across waves, :func:`helpers.data.disclosure.withheld`): rows with the
        ``by`` columns they have, ``dimension`` and ``side``.  The side's
        columns and the gap are blanked (``suppressed``) before the correction,
        so a hidden gap is not part of any family.
    instrument : path or Instrument, optional
        Gives the scale and the dimension order (default: flamekit).

    Returns
    -------
    DataFrame
        One row per group × dimension: *by, dimension, n_client, n_staff,
        client_mean, staff_mean, client_sd, staff_sd, gap (client − staff), se,
        df, t, ci_low, ci_high (Welch), p_val (Welch t), p_fdr (BH within the
        family), effect_size (Hedges' g, client − staff), label, evidence,
        suppressed.  The hidden side's columns, and every gap column, are NaN
        when ``suppressed``.

    Notes
    -----
    **Statistics.**  gap = x̄_client − x̄_staff; Welch's se, df, t, CI and p
    (Welch 1947); Hedges' g with J = 1 − 3/(4N − 9) (Hedges & Olkin 1985); see
    :func:`welch_test`.  p_fdr is the Benjamini–Hochberg adjustment (Benjamini
    & Hochberg 1995) within each ``family``; suppressed rows and rows without a
    test are not part of any family.

    **Rule for labels** (evaluated in this order):

    ==========================  =====================  ==========================================
    condition                   label                  evidence
    ==========================  =====================  ==========================================
    a side below its threshold  NA                     ``suppressed`` (its results blanked)
    fewer than 2 answers on a   NA                     ``too few answers``
    side
    one side's answers all the  NA                     ``no test`` (sd below 1% of the scale
    same                                               range: a test would be overconfident)
    p_fdr < fdr and CI          blind spot (gap < 0)   ``clear``
    excludes 0                  hidden strength (> 0)
    CI excludes 0, p_fdr ≥ fdr  possible blind spot /  ``possible`` — the interval excludes 0,
                                possible hidden        the gap does not hold after the
                                strength               correction
    CI inside ±margin           aligned strong / weak  ``clear`` — the views agree within margin
    otherwise                   no clear gap           ``unclear`` — no gap shown, alignment not
                                                       shown either
    ==========================  =====================  ==========================================

    So a label never contradicts the interval drawn beside it: a named gap's
    interval excludes zero, an "aligned" one lies within the margin.

    "strong" means client_mean ≥ ``strong_at``; "weak" means below it.  A
    missing gap is not evidence of agreement, hence the equivalence check
    (a two one-sided tests reading of the CI; Schuirmann 1987).

    Examples
    --------
    >>> sc = pd.DataFrame({"side": ["client"] * 5 + ["staff"] * 5, "dimension": "care",
    ...                    "score": [3, 3.3, 2.7, 3, 3.3, 4.3, 4.7, 4, 4.3, 4.7]})
    >>> g = perception_gaps(sc, by=())
    >>> g[["dimension", "gap", "label", "evidence"]].round(2).to_dict("records")
    [{'dimension': 'care', 'gap': -1.34, 'label': 'blind spot', 'evidence': 'clear'}]
    """
    inst = load_instrument(instrument)
    by = [by] if isinstance(by, str) else list(by)
    _check_gap_input(scores, by=by, score=score, ci=ci, fdr=fdr)
    span = inst.scale_max - inst.scale_min
    strong_at = inst.scale_min + 0.75 * span if strong_at is None else float(strong_at)
    margin = span / 8 if margin is None else float(margin)
    k_client = min_group_size if min_client_group_size is None else min_client_group_size
    out = _welch_gaps(scores.dropna(subset=[score]), by=by, score=score, ci=ci)
    untested = _without_variation(out, span=span)
    out = suppress_small_groups(out, n="n_staff", min_group_size=min_group_size, columns=STAFF_DERIVED)
    out = suppress_small_groups(out, n="n_client", min_group_size=k_client, columns=CLIENT_DERIVED)
    out = _hide_withheld(out, withheld, by=by)
    out["p_fdr"] = _fdr_within(out, _family_columns(family, by=by, have=out.columns))
    out["label"], out["evidence"] = _label_and_evidence(out, strong_at=strong_at, margin=margin, fdr=fdr,
                                                        untested=untested)
    out = _sort_dimensions(out, [*by, "dimension"], inst)
    return out[[*by, *GAP_COLUMNS]].reset_index(drop=True)


def _check_gap_input(scores: pd.DataFrame, *, by: list[str], score: str, ci: float, fdr: float) -> None:
    """Raise a ValueError naming what is wrong with the scores or the levels given to :func:`perception_gaps`."""
    need = {"side", "dimension", score, *by}
    missing = sorted(need - set(scores.columns))
    if missing:
        raise ValueError(f"perception_gaps needs the columns {missing}; the scores have {list(scores.columns)}.")
    sides = set(scores["side"].dropna().unique()) - {"client", "staff"}
    if sides:
        raise ValueError(f"Column 'side' must be 'client' or 'staff'; found {sorted(sides)}.")
    if not 0 < ci < 1 or not 0 < fdr < 1:
        raise ValueError(f"ci and fdr must lie between 0 and 1 (got ci={ci}, fdr={fdr}).")


#: The columns of :func:`welch_test` by their names in a gap table (client = x, staff = y).
_GAP_NAMES = {"n_x": "n_client", "n_y": "n_staff", "mean_x": "client_mean", "mean_y": "staff_mean",
              "sd_x": "client_sd", "sd_y": "staff_sd", "diff": "gap"}


def _welch_gaps(data: pd.DataFrame, *, by: list[str], score: str, ci: float) -> pd.DataFrame:
    """Client − staff Welch comparison per group and dimension: the gap columns up to ``effect_size``."""
    groups = data.groupby([*by, "dimension"], observed=True, dropna=False, sort=False) if by else \
        data.groupby(["dimension"], observed=True, sort=False)
    rows = []
    for key, grp in groups:
        key = key if isinstance(key, tuple) else (key,)
        r = welch_test(grp.loc[grp["side"] == "client", score], grp.loc[grp["side"] == "staff", score], ci=ci)
        rows.append({**dict(zip([*by, "dimension"], key)), **{_GAP_NAMES.get(k, k): v for k, v in r.items()}})
    out = pd.DataFrame(rows, columns=[*by, *[c for c in GAP_COLUMNS if c not in ("p_fdr", "label", "evidence",
                                                                              "suppressed")]])
    out["n_client"] = out["n_client"].astype("int64")
    out["n_staff"] = out["n_staff"].astype("int64")
    return out


def _family_columns(family: str | Sequence[str], *, by: list[str], have: Sequence[str]) -> list[str]:
    """The columns that make one family of tests: the report's groups, none (all tests), or those named."""
    if family == "group":
        return by
    if family == "all":
        return []
    if isinstance(family, str):
        raise ValueError(f"family must be 'group', 'all' or a list of columns, not {family!r}.")
    bad = sorted(set(family) - set(have))
    if bad:
        raise ValueError(f"family columns {bad} are not in the result (have {list(have)}).")
    return list(family)


def _fdr_within(out: pd.DataFrame, family: list[str]) -> pd.Series:
    """Benjamini–Hochberg adjusted ``p_val`` within each family of tests (one family when ``family`` is empty)."""
    p_fdr = pd.Series(np.nan, index=out.index)
    if family:
        for _, fam in out.groupby(family, observed=True, dropna=False):
            p_fdr.loc[fam.index] = benjamini_hochberg(fam["p_val"])
    elif len(out):
        p_fdr[:] = benjamini_hochberg(out["p_val"])
    return p_fdr


def _hide_withheld(out: pd.DataFrame, withheld: pd.DataFrame | None, *, by: list[str]) -> pd.DataFrame:
    """Blank the side and the gap of every row whose result of that side is in ``withheld``."""
    if withheld is None or withheld.empty:
        return out
    out = out.copy()
    keys = [c for c in (*by, "dimension") if c in withheld.columns]
    for side, columns in (("client", CLIENT_DERIVED), ("staff", STAFF_DERIVED)):
        held = withheld[withheld["side"] == side] if "side" in withheld else withheld
        marks = held[keys].drop_duplicates().assign(_held=True)
        rows = out[keys].merge(marks, on=keys, how="left")["_held"].fillna(False).to_numpy(dtype=bool)
        out.loc[rows, columns] = np.nan
        out.loc[rows, "suppressed"] = True
    return out


def _without_variation(out: pd.DataFrame, *, span: float) -> pd.Series:
    """Blank the test columns of gaps where one side's answers are (nearly) all the same; the rows blanked."""
    flat = pd.Series(False, index=out.index)
    for side in ("client", "staff"):
        flat |= (out[f"n_{side}"] >= 2) & no_variation(out[f"{side}_sd"].fillna(np.inf), span=span)
    out.loc[flat, ["se", "df", "t", "ci_low", "ci_high", "p_val"]] = np.nan
    return flat


def _label_and_evidence(out: pd.DataFrame, *, strong_at: float, margin: float, fdr: float, untested: pd.Series
                        ) -> tuple[pd.Series, pd.Series]:
    """Label and evidence of each gap, by the rule in the docstring of :func:`perception_gaps`."""
    level = pd.Series(np.where(out["client_mean"] >= strong_at, ALIGNED_STRONG, ALIGNED_WEAK), index=out.index)
    excludes0 = (out["ci_low"] > 0) | (out["ci_high"] < 0)
    clear_gap = (out["p_fdr"] < fdr) & excludes0
    possible = excludes0 & ~clear_gap
    within = (out["ci_low"] >= -margin) & (out["ci_high"] <= margin)
    below, above = out["gap"] < 0, out["gap"] > 0
    label = pd.Series(NO_CLEAR_GAP, index=out.index, dtype=object)
    evidence = pd.Series(UNCLEAR, index=out.index, dtype=object)
    label[within], evidence[within] = level[within], CLEAR
    label[possible & below], label[possible & above] = POSSIBLE_BLIND_SPOT, POSSIBLE_HIDDEN_STRENGTH
    evidence[possible] = POSSIBLE
    label[clear_gap & below], label[clear_gap & above] = BLIND_SPOT, HIDDEN_STRENGTH
    evidence[clear_gap] = CLEAR
    no_clients = out["n_client"] == 0  # nothing to hide: no client answered
    for rows, why in ((out["p_val"].isna(), TOO_FEW), (untested, NO_TEST),
                      (out["suppressed"] & ~no_clients, SUPPRESSED)):
        label[rows], evidence[rows] = None, why
    return label, evidence
