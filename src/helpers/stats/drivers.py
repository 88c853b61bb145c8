"""Key drivers: each dimension's share of what the model explains.

Takes a tidy frame of outcome and predictors and hands on one row per
predictor: Johnson's relative weights and general dominance with account
bootstrap intervals and rank stability, and importance–performance.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument

from .diagnostics import _emit, _with_warnings
from .fitting import _check_messages, _complete_respondents, term_label
from .scores import summarise

__all__ = [
    "DRIVER_COLUMNS",
    "relative_weights",
    "dominance",
    "key_drivers",
    "conditional_dominance",
    "complete_dominance",
    "rank_stability",
    "importance_performance",
]


DRIVER_COLUMNS = ["method", "outcome", "term", "estimate", "ci_low", "ci_high", "share", "share_ci_low", "share_ci_high",
                  "rank", "rank_share", "top_share", "r2", "n", "n_dropped", "n_clusters", "n_boot", "warnings"]

#: Most predictors for exact dominance analysis, which fits all 2^p subset models.
MAX_DOMINANCE_PREDICTORS = 12

QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}


# ---------------------------------------------------------------------------
# Core computations on correlation matrices (batched over bootstrap samples)
# ---------------------------------------------------------------------------
def _corr_from_cov(cov: np.ndarray) -> np.ndarray:
    """Correlation matrices from a batch of covariance matrices."""
    sd = np.sqrt(np.clip(np.einsum("...ii->...i", cov), 1e-300, None))
    return cov / (sd[..., :, None] * sd[..., None, :])


def _rw_from_corr(corr: np.ndarray) -> np.ndarray:
    """Johnson's raw relative weights for a batch of (p+1)×(p+1) correlation matrices (y first)."""
    rxx = corr[..., 1:, 1:]
    rxy = corr[..., 1:, 0]
    evals, evecs = np.linalg.eigh(rxx)
    evals = np.clip(evals, 0, None)
    lam = np.einsum("...ik,...k,...jk->...ij", evecs, np.sqrt(evals), evecs)  # R_xx^½
    beta = np.linalg.solve(lam, rxy[..., None])[..., 0]
    return np.einsum("...jk,...k->...j", lam**2, beta**2)


def _subset_r2(corr: np.ndarray) -> np.ndarray:
    """R² of every subset of predictors: array (..., 2^p) indexed by bit mask (0 = empty)."""
    p = corr.shape[-1] - 1
    if p > MAX_DOMINANCE_PREDICTORS:
        raise ValueError(f"Exact dominance analysis over {p} predictors needs 2^{p} models; use at most "
                         f"{MAX_DOMINANCE_PREDICTORS} predictors, or relative_weights instead.")
    out = np.zeros(corr.shape[:-2] + (2**p,))
    for mask in range(1, 2**p):
        idx = [j + 1 for j in range(p) if mask >> j & 1]
        rss = corr[..., idx, :][..., :, idx]
        rs = corr[..., idx, 0]
        sol = np.linalg.solve(rss, rs[..., None])[..., 0]
        out[..., mask] = np.einsum("...i,...i->...", rs, sol)
    return out


def _conditional(r2: np.ndarray, p: int) -> np.ndarray:
    """Conditional dominance from the subset R² table: mean increment of predictor j in models with k others.

    Array (..., p, p) indexed [..., j, k].
    """
    out = np.zeros(r2.shape[:-1] + (p, p))
    for j in range(p):
        others = [i for i in range(p) if i != j]
        for k in range(p):
            masks = np.array([sum(1 << i for i in sub) for sub in combinations(others, k)])
            out[..., j, k] = (r2[..., masks | (1 << j)] - r2[..., masks]).mean(axis=-1)
    return out


def _general_dominance(r2: np.ndarray, p: int) -> np.ndarray:
    """General dominance weights (Shapley values of R²): the conditional dominance averaged over k."""
    return _conditional(r2, p).mean(axis=-1)


# ---------------------------------------------------------------------------
# Data preparation and the cluster bootstrap
# ---------------------------------------------------------------------------
def _cluster_stats(z: np.ndarray, groups: np.ndarray):
    """Per cluster: row count, column sums and sums of cross-products of the centred data ``z``."""
    order = np.argsort(groups, kind="stable")
    z, groups = z[order], groups[order]
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    counts = np.diff(np.r_[starts, len(groups)]).astype(float)
    sums = np.add.reduceat(z, starts, axis=0)
    q = z.shape[1]
    outer = np.add.reduceat((z[:, :, None] * z[:, None, :]).reshape(len(z), q * q), starts, axis=0)
    return counts, sums, outer


def _boot_corr(counts, sums, outer, weights: np.ndarray) -> np.ndarray:
    """Correlation matrix for each row of cluster ``weights``, from the per-cluster sums."""
    q = sums.shape[1]
    n = weights @ counts
    s = weights @ sums
    ss = (weights @ outer).reshape(-1, q, q)
    cov = (ss - s[:, :, None] * s[:, None, :] / n[:, None, None]) / (n[:, None, None] - 1)
    return _corr_from_cov(cov)


def _importance(data, outcome, predictors, cluster, n_boot, seed, ci, method, instrument):
    """Relative weights or general dominance with cluster-bootstrap intervals: the work of :func:`key_drivers`."""
    sub, predictors, use, n_dropped, messages = _complete_respondents(data, outcome, predictors, cluster, instrument)
    n = len(sub)
    groups = pd.factorize(sub[cluster])[0] if cluster else np.arange(n)
    n_clusters = int(groups.max() + 1) if n else 0
    base = {"method": method, "outcome": outcome, "n": n, "n_dropped": n_dropped, "n_clusters": n_clusters,
            "n_boot": 0}
    flat = sub[outcome].nunique() <= 1 if n else True
    if flat and n:
        messages.append(f"{outcome} has the same value for every respondent: nothing to explain.")
    if n < len(use) + 3 or not use or flat:
        messages.append(f"Only {n} complete responses: too few for a driver analysis.")
        return _result(predictors, {}, base, messages)
    messages += _check_messages(sub, outcome, use, "linear", cluster=cluster, only=["n", "clusters"])
    z = sub[[outcome, *use]].to_numpy(dtype=float)
    z = z - z.mean(axis=0)
    counts, sums, outer = _cluster_stats(z, groups)
    point_corr = _boot_corr(counts, sums, outer, np.ones((1, n_clusters)))[0]
    fn = _rw_from_corr if method == "relative_weights" else (lambda c: _general_dominance(_subset_r2(c), len(use)))
    point = fn(point_corr[None])[0]
    boot = None
    if n_boot and n_clusters >= 2:
        boot = _cluster_bootstrap(fn, counts, sums, outer, n_boot=n_boot, seed=seed, n_terms=len(use))
        base["n_boot"] = len(boot)
        if n_clusters < 10:
            messages.append(f"Only {n_clusters} accounts to resample: the bootstrap intervals are rough.")
    elif n_boot:
        messages.append("All responses come from one account, so accounts cannot be resampled: no intervals.")
    return _result(predictors, dict(zip(use, point)), base, messages, boot, ci=ci)


def _cluster_bootstrap(fn, counts, sums, outer, *, n_boot: int, seed: int, n_terms: int) -> np.ndarray:
    """``fn`` of the correlation matrix in ``n_boot`` resamples of whole clusters; failed resamples left out.

    Each resample draws cluster weights from a multinomial and rebuilds the
    correlation matrix from the per-cluster sums (:func:`_cluster_stats`).
    """
    n_clusters = len(counts)
    rng = np.random.default_rng(seed)
    w = rng.multinomial(n_clusters, np.full(n_clusters, 1 / n_clusters), size=n_boot).astype(float)
    with np.errstate(all="ignore"):
        corr_b = _boot_corr(counts, sums, outer, w)
        ok = np.isfinite(corr_b).all(axis=(1, 2))
        boot = np.full((n_boot, n_terms), np.nan)
        if ok.any():
            try:
                boot[ok] = fn(corr_b[ok])
            except np.linalg.LinAlgError:
                for i in np.flatnonzero(ok):
                    try:
                        boot[i] = fn(corr_b[i][None])[0]
                    except np.linalg.LinAlgError:
                        pass
    return boot[np.isfinite(boot).all(axis=1)]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank 1 = largest, along the last axis (ties broken by order)."""
    return np.argsort(np.argsort(-values, axis=-1, kind="stable"), axis=-1, kind="stable") + 1


def _result(predictors, est, base, messages, boot=None, ci=0.95) -> pd.DataFrame:
    """The importance table: point estimates ``est`` (term → weight) and the bootstrap weights ``boot``.

    ``boot`` has one column per term of ``est``, in the order of ``predictors``.
    """
    r2 = float(sum(est.values())) if est else np.nan
    rows = []
    use = [t for t in predictors if t in est]
    point = np.array([est[t] for t in use])
    point_rank = dict(zip(use, _ranks(point[None])[0])) if len(use) else {}
    boot_frame = None
    if boot is not None and len(boot):
        b_r2 = boot.sum(axis=1, keepdims=True)
        b_share = boot / b_r2
        b_rank = _ranks(boot)
        lo, hi = (1 - ci) / 2, (1 + ci) / 2
        boot_frame = pd.DataFrame(boot, columns=use)
    for t in predictors:
        row = {**base, "term": t, "estimate": est.get(t, np.nan), "r2": r2}
        row["share"] = est[t] / r2 if t in est and r2 > 0 else np.nan
        row["rank"] = point_rank.get(t, np.nan)
        if boot_frame is not None and t in est:
            j = use.index(t)
            row["ci_low"], row["ci_high"] = np.quantile(boot[:, j], [lo, hi])
            row["share_ci_low"], row["share_ci_high"] = np.quantile(b_share[:, j], [lo, hi])
            row["rank_share"] = float(np.mean(b_rank[:, j] == point_rank[t]))
            row["top_share"] = float(np.mean(b_rank[:, j] == 1))
        rows.append(row)
    out = _with_warnings(pd.DataFrame(rows), DRIVER_COLUMNS, messages, stacklevel=5)
    # a dict of lists rather than a frame: pandas compares attrs when results are concatenated
    out.attrs["bootstrap"] = boot_frame.to_dict("list") if boot_frame is not None else None
    return out


# ---------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------
def relative_weights(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    predictors: Sequence[str] | None = None,
    cluster: str | None = "account_id",
    n_boot: int = 200,
    seed: int = 0,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Johnson's relative weights: each dimension's share of the explained NPS variance.

    Parameters
    ----------
    data : DataFrame
        One row per respondent (:func:`helpers.stats.model_data.respondent_table`).
    outcome : str
        Outcome column (NPS).
    predictors : sequence of str, optional
        Driver columns (default: every instrument dimension in ``data``).
    cluster : str or None
        Resampling unit of the bootstrap (default ``account_id``); rows
        without it are left out (counted in n_dropped).  None resamples
        respondents.
    n_boot : int
        Bootstrap resamples (0 for none).
    seed : int
        Random seed of the bootstrap.
    ci : float
        Confidence level of the percentile intervals.
    instrument : path or Instrument, optional
        For the default predictors.

    Returns
    -------
    DataFrame
        method ("relative_weights"), outcome (the outcome column, e.g.
        "nps"), term, estimate (raw weight, in R² units), ci_low, ci_high, share (estimate / R²), share_ci_low,
        share_ci_high, rank (1 = most important), rank_share (share of
        bootstrap samples giving the same rank), top_share (share ranking it
        first), r2, n, n_dropped, n_clusters, n_boot, warnings.
        ``attrs["bootstrap"]`` holds the resampled weights (dict term → list)
        for :func:`rank_stability`.

    Notes
    -----
    With R_xx = VΛV' the predictor correlation matrix, Λ* = VΛ^½V' (the
    predictors' loadings on their closest orthogonal counterparts Z), β =
    Λ*⁻¹ r_xy the weights of y on Z, the raw relative weight of predictor j is
    ε_j = Σ_k λ*_jk² β_k²; Σ_j ε_j = R² (Johnson 2000, Multivariate Behav Res
    35:1; Tonidandel & LeBreton 2011).  The bootstrap resamples whole accounts
    (clusters) with replacement and recomputes the correlation matrix from
    per-account sums, so 200 resamples of 100,000 responses take about a
    second.  Percentile intervals.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide, respondent_table
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> relative_weights(data, n_boot=50).sort_values("rank")["term"].iloc[0]
    'care'
    """
    return _importance(data, outcome, predictors, cluster, n_boot, seed, ci, "relative_weights", instrument)


def dominance(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    predictors: Sequence[str] | None = None,
    cluster: str | None = "account_id",
    n_boot: int = 200,
    seed: int = 0,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """General dominance (Shapley/LMG) weights: each dimension's average contribution to R².

    Parameters
    ----------
    data, outcome, predictors, cluster, n_boot, seed, ci, instrument
        As :func:`relative_weights`.

    Returns
    -------
    DataFrame
        As :func:`relative_weights`, with method "dominance".

    Raises
    ------
    ValueError
        With more than ``MAX_DOMINANCE_PREDICTORS`` (12) predictors that
        vary; so do :func:`conditional_dominance` and
        :func:`complete_dominance`.

    Notes
    -----
    For every subset S of the other predictors, the increment of predictor j
    is ΔR²(j | S) = R²(S ∪ {j}) − R²(S).  Its general dominance weight is the
    average over subset sizes k = 0 … p−1 of the mean increment over the
    C(p−1, k) subsets of size k (Budescu 1993, Psychol Bull 114:542; Azen &
    Budescu 2003, Psychol Methods 8:129).  This equals LMG (Lindeman, Merenda
    & Gold 1980) and the Shapley value of R² (Grömping 2007), and the weights
    sum to the full-model R².  All 2^p − 1 subset R² values come exactly from
    the correlation matrix, R²(S) = r_S'R_SS⁻¹r_S (p = 5 → 31 small solves).

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide, respondent_table
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> dominance(data, n_boot=50).sort_values("rank")["term"].iloc[0]
    'care'
    """
    return _importance(data, outcome, predictors, cluster, n_boot, seed, ci, "dominance", instrument)


def key_drivers(data: pd.DataFrame, *, method: str = "dominance", **kwargs) -> pd.DataFrame:
    """Key-driver importance by ``method`` = "dominance" (default) or "relative_weights".

    Parameters
    ----------
    data : DataFrame
        One row per respondent.
    method : {"dominance", "relative_weights"}
        Importance measure.
    **kwargs
        Passed to :func:`dominance` or :func:`relative_weights`.

    Returns
    -------
    DataFrame
        As :func:`relative_weights`.

    Notes
    -----
    The two measures agree closely in practice (Johnson 2000 reports
    differences of a few hundredths); dominance is exact, relative weights an
    approximation that scales to many predictors.

    Examples
    --------
    >>> d = pd.DataFrame({"nps": [1, 2, 3, 5, 4.], "a": [1, 2, 3, 4, 5.], "b": [2, 1, 2, 2, 1.]})
    >>> round(float(key_drivers(d, predictors=["a", "b"], cluster=None, n_boot=0)["estimate"].sum()), 3)
    0.884
    """
    if method == "dominance":
        return dominance(data, **kwargs)
    if method == "relative_weights":
        return relative_weights(data, **kwargs)
    raise ValueError(f"method must be 'dominance' or 'relative_weights', not {method!r}.")


def _subset_r2_of(data, outcome, predictors, instrument) -> tuple[list[str], np.ndarray]:
    """The predictors and the R² of every subset of them on the complete rows (see :func:`_subset_r2`)."""
    sub, predictors, _, _, messages = _complete_respondents(data, outcome, predictors, None, instrument)
    _emit(messages, stacklevel=3)
    corr = np.corrcoef(sub[[outcome, *predictors]].to_numpy(dtype=float), rowvar=False)
    return predictors, _subset_r2(corr)


def conditional_dominance(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    predictors: Sequence[str] | None = None,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Average R² increment of each predictor in models with k other predictors.

    Parameters
    ----------
    data, outcome, predictors, instrument
        As :func:`dominance`.

    Returns
    -------
    DataFrame
        term, k (number of other predictors in the model), increment.

    Notes
    -----
    Predictor j conditionally dominates l when its increment is larger at
    every k (Azen & Budescu 2003).  The mean over k is the general dominance
    weight.

    Examples
    --------
    >>> d = pd.DataFrame({"nps": [1, 2, 3, 5, 4.], "a": [1, 2, 3, 4, 5.], "b": [2, 1, 2, 2, 1.]})
    >>> conditional_dominance(d, predictors=["a", "b"])["k"].tolist()
    [0, 1, 0, 1]
    """
    predictors, r2 = _subset_r2_of(data, outcome, predictors, instrument)
    cond = _conditional(r2, len(predictors))
    return pd.DataFrame([{"term": t, "k": k, "increment": cond[j, k]} for j, t in enumerate(predictors)
                         for k in range(len(predictors))])


def complete_dominance(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    predictors: Sequence[str] | None = None,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Pairwise complete dominance: does j add more R² than l in every comparable model?

    Parameters
    ----------
    data, outcome, predictors, instrument
        As :func:`dominance`.

    Returns
    -------
    DataFrame
        term, other, dominates (True: j adds more than l to every subset
        without both; False: l always adds more; NaN: it depends).

    Notes
    -----
    Complete dominance (Budescu 1993) is the strictest of the three levels:
    complete ⇒ conditional ⇒ general.

    Examples
    --------
    >>> d = pd.DataFrame({"nps": [1, 2, 3, 5, 4.], "a": [1, 2, 3, 4, 5.], "b": [2, 1, 2, 2, 1.]})
    >>> complete_dominance(d, predictors=["a", "b"])["dominates"].tolist()
    [True, False]
    """
    predictors, r2 = _subset_r2_of(data, outcome, predictors, instrument)
    p = len(predictors)
    rows = []
    for j in range(p):
        for l in range(p):
            if j == l:
                continue
            others = [i for i in range(p) if i not in (j, l)]
            diffs = []
            for k in range(len(others) + 1):
                for sub_ in combinations(others, k):
                    m = sum(1 << i for i in sub_)
                    diffs.append(r2[m | 1 << j] - r2[m | 1 << l])
            diffs = np.array(diffs)
            dom = True if (diffs > 0).all() else False if (diffs < 0).all() else np.nan
            rows.append({"term": predictors[j], "other": predictors[l], "dominates": dom})
    return pd.DataFrame(rows)


def rank_stability(importance: pd.DataFrame) -> pd.DataFrame:
    """How often each driver holds each rank across the bootstrap samples.

    Parameters
    ----------
    importance : DataFrame
        As returned by :func:`relative_weights`, :func:`dominance` or
        :func:`key_drivers` (it reads ``attrs["bootstrap"]``; pass the frame
        as returned, before merging or filtering).

    Returns
    -------
    DataFrame
        term, rank (1 = most important), share (of bootstrap samples), n_boot;
        one row per term × rank, in rank order of the point estimates.

    Notes
    -----
    A driver ranked first in 95% of resamples is a safe headline; one that
    shares rank 2 and 3 about equally is not ahead of its neighbour.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide, respondent_table
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> rs = rank_stability(dominance(data, n_boot=50))
    >>> float(rs.groupby("term")["share"].sum().round(6).unique()[0])
    1.0
    """
    boot = importance.attrs.get("bootstrap")
    cols = ["term", "rank", "share", "n_boot"]
    boot = pd.DataFrame(boot) if boot is not None else None
    if boot is None or len(boot) == 0:
        raise ValueError("No bootstrap samples found: run the importance function with n_boot > 0 and pass its "
                         "result unchanged.")
    ranks = _ranks(boot.to_numpy())
    p = boot.shape[1]
    order = importance.dropna(subset=["rank"]).sort_values("rank")["term"].tolist()
    rows = []
    for t in order:
        j = list(boot.columns).index(t)
        for r in range(1, p + 1):
            rows.append({"term": t, "rank": r, "share": float(np.mean(ranks[:, j] == r)), "n_boot": len(boot)})
    return pd.DataFrame(rows, columns=cols)


def importance_performance(
    importance: pd.DataFrame,
    scores: pd.DataFrame,
    *,
    account: str | None = None,
    account_column: str = "account_id",
    ci: float = 0.95,
    language: str = "en",
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Importance–performance table: how much each dimension matters vs how well it is scored.

    Parameters
    ----------
    importance : DataFrame
        From :func:`key_drivers` (term, share, share_ci_low, share_ci_high).
    scores : DataFrame
        One row per client respondent with a column per dimension
        (:func:`helpers.stats.model_data.respondent_table`).
    account : str, optional
        Show one account's performance (against the portfolio); None for the
        whole portfolio.
    account_column : str
        Account id column of ``scores``.
    ci : float
        Confidence level of the performance interval.
    language : str
        Language of ``label``, "en" or "fi".
    instrument : path or Instrument, optional
        Dimension labels.

    Returns
    -------
    DataFrame
        scope ("portfolio" or the account id), outcome (from ``importance``
        when it has the column, else NaN), term, label
        (:func:`helpers.stats.fitting.term_label`), importance (share of explained
        variance), importance_ci_low, importance_ci_high, performance (mean
        score), performance_ci_low, performance_ci_high, n, importance_cut,
        performance_cut, quadrant.

    Notes
    -----
    Martilla & James (1977, J Marketing 41:77).  Importance is the driver's
    share of R²; the importance cut is the average share 1/p.  Portfolio
    performance is the mean of account means (every account weighs the
    same), cut at the mean over dimensions (the data-centred cross-hairs of
    Bacon 2003).  For one account the performance cut of each dimension is
    the portfolio mean of that dimension, so "concentrate here" reads as
    "important, and this account is below the portfolio on it".  Quadrants:
    concentrate here (important, low), keep up the good work (important,
    high), low priority (less important, low), possible overkill (less
    important, high).  Intervals: t interval of the mean over respondents
    (account) or over account means (portfolio), by
    :func:`helpers.stats.scores.summarise`.

    Examples
    --------
    >>> imp = pd.DataFrame({"term": ["care", "dare"], "share": [0.7, 0.3], "share_ci_low": [0.6, 0.2],
    ...                     "share_ci_high": [0.8, 0.4]})
    >>> sc = pd.DataFrame({"account_id": ["A", "A", "B"], "care": [3.0, 3.5, 4.0], "dare": [4.0, 4.5, 4.0]})
    >>> importance_performance(imp, sc)["quadrant"].tolist()
    ['concentrate here', 'possible overkill']
    """
    inst = load_instrument(instrument)
    terms = importance["term"].tolist()
    p = len(terms)
    acct_means = scores.groupby(account_column)[terms].mean()
    port = acct_means.mean()
    values = acct_means if account is None else scores.loc[scores[account_column] == account, terms]
    perf = summarise(values.melt(var_name="term", value_name="value"), value="value", by=["term"], ci=ci)
    perf = perf.set_index("term").reindex(terms)
    rows = []
    for _, imp in importance.iterrows():
        t = imp["term"]
        rows.append({"scope": "portfolio" if account is None else account, "outcome": imp.get("outcome", np.nan),
                     "term": t, "label": term_label(t, language=language, instrument=inst),
                     "importance": imp["share"], "importance_ci_low": imp.get("share_ci_low", np.nan),
                     "importance_ci_high": imp.get("share_ci_high", np.nan), "performance": perf.at[t, "mean"],
                     "performance_ci_low": perf.at[t, "ci_low"], "performance_ci_high": perf.at[t, "ci_high"],
                     "n": 0 if pd.isna(perf.at[t, "n"]) else int(perf.at[t, "n"])})
    out = pd.DataFrame(rows)
    out["importance_cut"] = 1 / p if p else np.nan
    out["performance_cut"] = float(port[terms].mean()) if account is None else port[terms].to_numpy()
    hi_imp = out["importance"] >= out["importance_cut"]
    hi_perf = out["performance"] >= out["performance_cut"]
    out["quadrant"] = [QUADRANTS[(bool(a), bool(b))] if pd.notna(pf) else "no data"
                       for a, b, pf in zip(hi_imp, hi_perf, out["performance"])]
    return out
