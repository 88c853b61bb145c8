"""Is the churn model any good: cross-validated AUC and Brier score beside NPS alone, calibration.

Takes an account table and hands on one row per model × metric with its
interval over repeated folds, and a calibration table.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from helpers.data.instrument import Instrument

from .diagnostics import _emit
from .fitting import _as_list, _known, _prepare, _retention_predictors
from .retention import _fit_binary
from .scores import normal_p_value, z_value

__all__ = [
    "concordance_index",
    "delong_test",
    "cv_auc_difference",
    "cv_predictions",
    "cv_scores",
    "retention_cv",
    "calibration_table",
    "auc",
    "brier",
]


# ---------------------------------------------------------------------------
# Prediction quality
# ---------------------------------------------------------------------------
def auc(y: Sequence[float], p: Sequence[float]) -> float:
    """Area under the ROC curve: the chance a random churner scores above a random renewer.

    Parameters
    ----------
    y : array-like of 0/1
        Outcomes.
    p : array-like of float
        Predicted probabilities (or any score).

    Returns
    -------
    float
        AUC in [0, 1] (ties count ½); NaN without both outcomes.

    Notes
    -----
    AUC = (R₁ − n₁(n₁+1)/2) / (n₁·n₀), R₁ the rank sum of the events (the
    Mann–Whitney form; Hanley & McNeil 1982, Radiology 143:29).

    Examples
    --------
    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    n1, n0 = y.sum(), len(y) - y.sum()
    if n1 == 0 or n0 == 0:
        return float("nan")
    r = stats.rankdata(p)
    return float((r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def delong_test(y: Sequence[float], p1: Sequence[float], p2: Sequence[float], *, ci: float = 0.95) -> dict:
    """Do two scores rank the same accounts equally well?  DeLong's paired test of two AUCs.

    Parameters
    ----------
    y : array-like of 0/1
        Outcomes (1 = churned).
    p1, p2 : array-like of float
        Two predictions (or any scores) for the same accounts, higher = more
        likely to churn: e.g. the churn model and NPS alone.
    ci : float
        Confidence level of the interval for the difference.

    Returns
    -------
    dict
        auc_1, auc_2, difference (auc_1 − auc_2), se, ci_low, ci_high, z,
        p_val (two-sided), n, n_events.  NaN throughout without both outcomes.

    Notes
    -----
    DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44:837, by the fast
    algorithm of Sun & Xu (2014), IEEE Signal Process Lett 21:1389.  For
    model k the structural components are V10_i = (T_i − T^X_i)/n for each of
    the m churned accounts and V01_j = 1 − (T_j − T^Y_j)/m for each of the n
    others, T the midrank among all accounts and T^X, T^Y the midrank among
    the churned or the other accounts (so a tie counts ½).  AUC_k = mean V10,
    and with S10, S01 the covariance matrices of the components across the
    two models, Var(AUC_1 − AUC_2) = (S10₁₁ + S10₂₂ − 2S10₁₂)/m +
    (S01₁₁ + S01₂₂ − 2S01₁₂)/n; z = difference/SE, interval difference ±
    z_{(1+ci)/2}·SE.  The same test as pROC's ``roc.test(method = "delong")``
    (checked on its aSAH example).

    Examples
    --------
    >>> out = delong_test([0, 0, 1, 1, 0, 1], [0.1, 0.4, 0.8, 0.6, 0.3, 0.9], [0.2, 0.5, 0.4, 0.6, 0.1, 0.3])
    >>> round(out["auc_1"], 3), round(out["auc_2"], 3), round(out["difference"], 3)
    (1.0, 0.778, 0.222)
    """
    y = np.asarray(y, dtype=float)
    events, n = int(y.sum()), len(y)
    out = {"auc_1": np.nan, "auc_2": np.nan, "difference": np.nan, "se": np.nan, "ci_low": np.nan, "ci_high": np.nan,
           "z": np.nan, "p_val": np.nan, "n": n, "n_events": events}
    if events == 0 or events == n:
        return out
    aucs, v10, v01 = _delong_components(y, np.vstack([np.asarray(p1, dtype=float), np.asarray(p2, dtype=float)]))
    contrast = np.array([1.0, -1.0])
    var = contrast @ np.cov(v10) @ contrast / v10.shape[1] + contrast @ np.cov(v01) @ contrast / v01.shape[1]
    diff, se = float(aucs[0] - aucs[1]), float(np.sqrt(max(var, 0.0)))
    half = z_value(ci) * se
    z = diff / se if se > 0 else np.nan
    out.update(auc_1=float(aucs[0]), auc_2=float(aucs[1]), difference=diff, se=se, ci_low=diff - half,
               ci_high=diff + half, z=z, p_val=float(normal_p_value(z)) if se > 0 else np.nan)
    return out


def _delong_components(y: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """AUC of each row of ``scores`` and the structural components V10 (churned) and V01 (others), by midranks."""
    pos, neg = scores[:, y == 1], scores[:, y != 1]
    m, n = pos.shape[1], neg.shape[1]
    rank_all = np.apply_along_axis(stats.rankdata, 1, np.hstack([pos, neg]))
    rank_pos = np.apply_along_axis(stats.rankdata, 1, pos)
    rank_neg = np.apply_along_axis(stats.rankdata, 1, neg)
    v10 = (rank_all[:, :m] - rank_pos) / n
    v01 = 1.0 - (rank_all[:, m:] - rank_neg) / m
    return v10.mean(axis=1), v10, v01


def cv_auc_difference(predictions: pd.DataFrame, *, model: str = "model", baseline: str = "baseline",
                      ci: float = 0.95) -> pd.DataFrame:
    """Is the churn model better at ranking than NPS alone, out of sample?  AUC(model) − AUC(baseline).

    Parameters
    ----------
    predictions : DataFrame or dict
        From :func:`cv_predictions` (or ``retention_cv(...).attrs["predictions"]``):
        account_id, repeat, model, predicted, churned.
    model, baseline : str
        The two values of the ``model`` column to compare.
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        One row: comparison ("model − baseline"), auc_model, auc_baseline,
        difference, se, ci_low, ci_high, p_val, n, n_events, repeats, and
        model_better (True only when ci_low > 0: rank accounts by the model
        only then).  Empty without predictions.

    Notes
    -----
    In each repeat of the cross-validation every account has one
    out-of-fold prediction from each model, so the two AUCs are paired and
    :func:`delong_test` compares them.  The difference is averaged over the
    repeats (so it is the difference of :func:`cv_scores`' AUC estimates)
    and so is its DeLong variance; the interval is difference ±
    z_{(1+ci)/2}·SE.  The variance treats each repeat's predictions as given,
    not the refitting in the folds, so the interval is a little narrow
    rather than too wide; the spread over repeats is in ``repeat_low`` and
    ``repeat_high`` of :func:`cv_scores`.

    Examples
    --------
    >>> pr = pd.DataFrame({"account_id": [1, 2, 3, 4] * 2, "repeat": 0, "model": ["model"] * 4 + ["baseline"] * 4,
    ...                    "predicted": [0.1, 0.8, 0.3, 0.6, 0.5, 0.4, 0.2, 0.3], "churned": [0, 1, 0, 1] * 2})
    >>> float(cv_auc_difference(pr)["difference"].iloc[0])
    0.5
    """
    cols = ["comparison", "auc_model", "auc_baseline", "difference", "se", "ci_low", "ci_high", "p_val", "n",
            "n_events", "repeats", "model_better"]
    predictions = pd.DataFrame(predictions)
    if predictions.empty or not {model, baseline} <= set(predictions["model"]):
        return pd.DataFrame(columns=cols)
    per = []
    for _, grp in predictions.groupby("repeat", sort=True):
        pair = grp.pivot_table(index="account_id", columns="model", values="predicted", aggfunc="first")
        churned = grp.groupby("account_id")["churned"].first().reindex(pair.index)
        per.append(delong_test(churned, pair[model], pair[baseline], ci=ci))
    per = pd.DataFrame(per)
    diff, se = float(per["difference"].mean()), float(np.sqrt(per["se"].pow(2).mean()))
    half = z_value(ci) * se
    p = float(normal_p_value(diff / se)) if se > 0 else np.nan
    row = {"comparison": f"{model} − {baseline}", "auc_model": float(per["auc_1"].mean()),
           "auc_baseline": float(per["auc_2"].mean()), "difference": diff, "se": se, "ci_low": diff - half,
           "ci_high": diff + half, "p_val": p, "n": int(per["n"].iloc[0]), "n_events": int(per["n_events"].iloc[0]),
           "repeats": len(per), "model_better": bool(diff - half > 0)}
    return pd.DataFrame([row], columns=cols)


def concordance_index(time: Sequence[float], event: Sequence[float], risk: Sequence[float]) -> dict:
    """Harrell's C: the chance that of two accounts, the one that churned first had the higher predicted risk.

    Parameters
    ----------
    time : array-like
        Follow-up time of each account.
    event : array-like of 0/1
        1 if the account churned at ``time``, 0 if it was censored then.
    risk : array-like
        Predicted risk (e.g. the Cox model's linear predictor x'β̂): higher
        means expected to churn sooner.

    Returns
    -------
    dict
        c (NaN without a comparable pair), se (infinitesimal-jackknife
        standard error), n_pairs (comparable pairs), concordant, discordant,
        tied_risk.

    Notes
    -----
    A pair is comparable when the account with the shorter time churned
    (i: event at t_i, j: t_j > t_i, or t_j = t_i and censored — a censoring at
    the moment of a churn counts as later, as in R's ``survival`` and
    lifelines); pairs that churned at the same time are not comparable.
    C = (concordant + ½·tied)/comparable (Harrell et al. 1982, JAMA 247:2543;
    Harrell, Lee & Mark 1996, Stat Med 15:361).  For a 0/1 outcome without
    censoring it is the AUC.  The standard error is the infinitesimal
    jackknife: with U_k = ∂C/∂w_k the derivative of C with respect to a
    case weight on account k, SE² = Σ_k U_k² (Therneau & Atkinson, the
    ``survival`` package's concordance vignette).  The pair count takes
    O(n·events) time and memory O(n): fine for thousands of accounts.

    Examples
    --------
    >>> out = concordance_index([1, 2, 3, 4], [1, 1, 0, 1], [0.9, 0.5, 0.7, 0.1])
    >>> out["c"], out["n_pairs"], out["concordant"]
    (0.8, 5, 4.0)
    """
    t = np.asarray(time, dtype=float)
    e = np.asarray(event, dtype=float) > 0
    r = np.asarray(risk, dtype=float)
    n = len(t)
    num_row, den_row, num_col, den_col = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    concordant = discordant = tied = 0.0
    for i in np.flatnonzero(e):
        comparable = (t > t[i]) | ((t == t[i]) & ~e)
        higher, same = comparable & (r < r[i]), comparable & (r == r[i])
        score = higher + 0.5 * same
        num_row[i], den_row[i] = score.sum(), comparable.sum()
        num_col += score
        den_col += comparable
        concordant, tied = concordant + higher.sum(), tied + same.sum()
        discordant += (comparable & (r > r[i])).sum()
    pairs = den_row.sum()
    if pairs == 0:
        return {"c": float("nan"), "se": float("nan"), "n_pairs": 0, "concordant": 0.0, "discordant": 0.0,
                "tied_risk": 0.0}
    c = num_row.sum() / pairs
    influence = ((num_row + num_col) - c * (den_row + den_col)) / pairs
    return {"c": float(c), "se": float(np.sqrt(np.sum(influence**2))), "n_pairs": int(pairs),
            "concordant": float(concordant), "discordant": float(discordant), "tied_risk": float(tied)}


def brier(y: Sequence[float], p: Sequence[float]) -> float:
    """Brier score: mean squared difference between predicted probability and outcome.

    Parameters
    ----------
    y : array-like of 0/1
        Outcomes.
    p : array-like of float
        Predicted probabilities.

    Returns
    -------
    float
        Mean of (p − y)²; 0 is perfect, and predicting the base rate π for
        everyone gives π(1 − π).

    Notes
    -----
    Brier (1950), Monthly Weather Review 78:1.

    Examples
    --------
    >>> round(brier([0, 1], [0.2, 0.6]), 6)
    0.1
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    return float(np.mean((p - y) ** 2))


def _stratified_folds(y: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    """A fold number per row, dealt out within each outcome class so every fold has the same churn rate."""
    fold = np.empty(len(y), dtype=int)
    offset = 0
    for cls in (0.0, 1.0):
        idx = np.flatnonzero(y == cls)
        idx = rng.permutation(idx)
        fold[idx] = (np.arange(len(idx)) + offset) % folds
        offset += len(idx)
    return fold


def cv_predictions(
    table: pd.DataFrame,
    *,
    predictors: Sequence[str] | None = None,
    baseline: Sequence[str] = ("client_nps",),
    outcome: str = "churned",
    folds: int = 5,
    repeats: int = 20,
    seed: int = 0,
    method: str = "auto",
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Out-of-fold churn predictions from repeated stratified k-fold cross-validation.

    Parameters
    ----------
    table : DataFrame
        One row per account (:func:`account_table`); only accounts with a
        known outcome and every predictor (of both models) are used, so the
        two models are compared on the same accounts.
    predictors : sequence of str, optional
        The model's predictors (default as :func:`retention_logit`).
    baseline : sequence of str
        The baseline model's predictors (default: client NPS alone).
    outcome : str
        0/1 churn column.
    folds, repeats : int
        k and the number of repetitions with fresh random splits.  k is
        lowered to the size of the smaller outcome group if that is smaller.
    seed : int
        Random seed for the splits.
    method : str
        Estimation method per fold (see :func:`retention_logit`).
    instrument : path or Instrument, optional
        For the default predictors.

    Returns
    -------
    DataFrame
        account_id, repeat, fold, model ("model" or "baseline"), predicted
        (churn probability from a fit that never saw the account), churned.
        ``attrs``: n, n_events, n_dropped, folds, repeats, warnings.

    Notes
    -----
    Stratified k-fold keeps the churn rate equal across folds (Kohavi 1995);
    repeating with new splits averages out the luck of one split.  Every
    fold refits from scratch, including the Firth fallback.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> tab = pd.DataFrame({"account_id": range(40), "x": rng.normal(size=40), "client_nps": rng.normal(size=40)})
    >>> tab["churned"] = (tab["x"] + rng.normal(size=40) > 0.5).astype(float)
    >>> cv_predictions(tab, predictors=["x"], repeats=2)["model"].unique().tolist()
    ['model', 'baseline']
    """
    predictors = _retention_predictors(predictors, instrument)
    baseline = _as_list(baseline)
    known, messages = _known(table, outcome)
    needed = list(dict.fromkeys([*predictors, *baseline]))
    sub, n_dropped, _, msg2 = _prepare(known, outcome, needed, keep=["account_id"])
    messages += [m for m in msg2 if "same value" not in m]
    y = sub[outcome].to_numpy(dtype=float)
    n, events = len(y), int(y.sum())
    minority = int(min(events, n - events))
    cols = ["account_id", "repeat", "fold", "model", "predicted", "churned"]
    if minority < 2:
        messages.append(f"Cross-validation needs at least 2 churned and 2 renewed accounts; there are {events} "
                        f"churned and {n - events} renewed.")
        _emit(messages, stacklevel=2)
        out = pd.DataFrame(columns=cols)
        out.attrs.update(n=n, n_events=events, n_dropped=n_dropped, folds=0, repeats=0, warnings=messages)
        return out
    k = min(folds, minority)
    if k < folds:
        messages.append(f"Only {minority} accounts in the smaller outcome group, so {k}-fold instead of "
                        f"{folds}-fold cross-validation was used.")
    rng = np.random.default_rng(seed)
    ids = sub["account_id"].to_numpy() if "account_id" in sub else np.arange(n)
    frames = []
    firth_in_folds = False
    for r in range(repeats):
        fold = _stratified_folds(y, k, rng)
        for name, cols_m in (("model", predictors), ("baseline", baseline)):
            pred, firth = _out_of_fold(sub[cols_m].to_numpy(dtype=float), y, fold, k, names=cols_m, method=method)
            firth_in_folds |= firth
            frames.append(pd.DataFrame({"account_id": ids, "repeat": r, "fold": fold, "model": name,
                                        "predicted": pred, "churned": y}))
    if firth_in_folds:
        messages.append("In some cross-validation folds the fit needed Firth's penalised likelihood (few events or "
                        "separation).")
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(n=n, n_events=events, n_dropped=n_dropped, folds=k, repeats=repeats,
                     warnings=list(dict.fromkeys(messages)))
    _emit(out.attrs["warnings"], stacklevel=2)
    return out


def _out_of_fold(x: np.ndarray, y: np.ndarray, fold: np.ndarray, k: int, *, names: Sequence[str], method: str
                 ) -> tuple[np.ndarray, bool]:
    """Each row's churn probability from a fit on the other folds, and whether a fold needed Firth's fit.

    Predictors constant within a training fold are left out of that fold's fit.
    """
    pred = np.full(len(y), np.nan)
    firth = False
    for f in range(k):
        test, train = fold == f, fold != f
        vary = x[train].std(axis=0) > 0
        fit = _fit_binary(np.column_stack([np.ones(train.sum()), x[train][:, vary]]), y[train],
                          ["Intercept", *np.asarray(names)[vary]], method=method)
        firth |= any("Firth" in m or "separation" in m for m in fit["messages"])
        pred[test] = special.expit(np.column_stack([np.ones(test.sum()), x[test][:, vary]]) @ fit["coef"])
    return pred, firth


def cv_scores(predictions: pd.DataFrame, *, ci: float = 0.95) -> pd.DataFrame:
    """AUC and Brier score of each model from cross-validated predictions.

    Parameters
    ----------
    predictions : DataFrame
        From :func:`cv_predictions`.
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        model, metric ("auc", "brier"), estimate (mean over repeats), se,
        ci_low, ci_high (sampling uncertainty), repeat_low, repeat_high (the
        spread over repeats, 2.5th–97.5th percentile), n, n_events, folds,
        repeats.

    Notes
    -----
    Each repeat's AUC and Brier score are computed on its pooled out-of-fold
    predictions, then averaged over repeats.  The AUC's standard error is
    Hanley & McNeil's (1982): Q₁ = A/(2−A), Q₂ = 2A²/(1+A),
    SE² = [A(1−A) + (n₁−1)(Q₁−A²) + (n₀−1)(Q₂−A²)]/(n₁n₀); the Brier score's is
    SD((p−y)²)/√n.  The interval is estimate ± z·SE, clipped to [0, 1].  The
    spread over repeats shows only how much the split matters, not sampling
    uncertainty.  A model worth using beats the NPS-only baseline by more
    than these intervals.

    Examples
    --------
    >>> pr = pd.DataFrame({"repeat": 0, "model": "model", "predicted": [0.1, 0.8, 0.3, 0.6], "churned": [0, 1, 0, 1]})
    >>> float(cv_scores(pr).set_index("metric").loc["auc", "estimate"])
    1.0
    """
    cols = ["model", "metric", "estimate", "se", "ci_low", "ci_high", "repeat_low", "repeat_high", "n", "n_events",
            "folds", "repeats"]
    if predictions.empty:
        return pd.DataFrame(columns=cols)
    z = z_value(ci)
    rows = []
    for model, grp in predictions.groupby("model", sort=False):
        per = grp.groupby("repeat").apply(
            lambda g: pd.Series({"auc": auc(g["churned"], g["predicted"]),
                                 "brier": brier(g["churned"], g["predicted"]),
                                 "brier_sd": float(np.std((g["predicted"] - g["churned"]) ** 2, ddof=1)),
                                 "n": len(g), "n1": g["churned"].sum()}), include_groups=False)
        n, n1 = int(per["n"].iloc[0]), int(per["n1"].iloc[0])
        n0 = n - n1
        a = float(per["auc"].mean())
        q1, q2 = a / (2 - a), 2 * a**2 / (1 + a)
        se_auc = np.sqrt(max(a * (1 - a) + (n1 - 1) * (q1 - a**2) + (n0 - 1) * (q2 - a**2), 0) / (n1 * n0))
        b = float(per["brier"].mean())
        se_b = float(per["brier_sd"].mean() / np.sqrt(n))
        for metric, est, se in (("auc", a, se_auc), ("brier", b, se_b)):
            rows.append({"model": model, "metric": metric, "estimate": est, "se": se,
                         "ci_low": max(est - z * se, 0.0), "ci_high": min(est + z * se, 1.0),
                         "repeat_low": float(per[metric].quantile(0.025)),
                         "repeat_high": float(per[metric].quantile(0.975)), "n": n, "n_events": n1,
                         "folds": predictions.attrs.get("folds", np.nan), "repeats": len(per)})
    return pd.DataFrame(rows, columns=cols)


def retention_cv(
    table: pd.DataFrame,
    *,
    predictors: Sequence[str] | None = None,
    baseline: Sequence[str] = ("client_nps",),
    outcome: str = "churned",
    folds: int = 5,
    repeats: int = 20,
    seed: int = 0,
    method: str = "auto",
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Cross-validated AUC and Brier score of the retention model beside an NPS-only baseline.

    Answers "do the dimension scores predict churn better than NPS alone?".

    Parameters
    ----------
    table, predictors, baseline, outcome, folds, repeats, seed, method, instrument
        As :func:`cv_predictions`.
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        As :func:`cv_scores`; ``attrs["predictions"]`` holds the out-of-fold
        predictions (as a dict of columns) for :func:`calibration_table`,
        ``attrs["auc_difference"]`` the paired comparison AUC(model) −
        AUC(NPS alone) on them as a dict (the row of
        :func:`cv_auc_difference`: difference, se, ci_low, ci_high, p_val,
        model_better; empty when nothing could be cross-validated), and
        ``attrs["warnings"]`` the warnings.

    Notes
    -----
    See :func:`cv_predictions`, :func:`cv_scores` and
    :func:`cv_auc_difference`.  Rank accounts by the model only when
    ``attrs["auc_difference"]["ci_low"] > 0`` (``model_better``): the two
    AUCs' own intervals overlap long before the paired difference is
    unclear, because both models are scored on the same accounts.
    Hand-written rather than scikit-learn's, to keep the kit's dependencies
    small and to refit the Firth fallback inside every fold.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> tab = pd.DataFrame({"account_id": range(60), "x": rng.normal(size=60), "client_nps": rng.normal(size=60)})
    >>> tab["churned"] = (2 * tab["x"] + rng.normal(size=60) > 1).astype(float)
    >>> res = retention_cv(tab, predictors=["x"], repeats=3)
    >>> bool(res.set_index(["model", "metric"]).loc[("model", "auc"), "estimate"] > 0.7)
    True
    """
    pred = cv_predictions(table, predictors=predictors, baseline=baseline, outcome=outcome, folds=folds,
                          repeats=repeats, seed=seed, method=method, instrument=instrument)
    out = cv_scores(pred, ci=ci)
    out.attrs["predictions"] = pred.to_dict("list")  # a dict, so results can still be concatenated
    difference = cv_auc_difference(pred, ci=ci)
    out.attrs["auc_difference"] = difference.iloc[0].to_dict() if len(difference) else {}
    out.attrs["warnings"] = pred.attrs.get("warnings", [])
    return out


def calibration_table(predictions: pd.DataFrame, *, bins: int = 5, ci: float = 0.95) -> pd.DataFrame:
    """Observed churn rate against mean predicted probability, in bins of prediction.

    Parameters
    ----------
    predictions : DataFrame or dict
        From :func:`cv_predictions`, or ``retention_cv(...).attrs["predictions"]``
        (any table with account_id, model, predicted, churned).
    bins : int
        Number of bins (quantiles of the prediction; fewer if ties force it).
    ci : float
        Confidence level of the Wilson interval for the observed rate.

    Returns
    -------
    DataFrame
        model, bin (1 = lowest risk), n (accounts), mean_predicted, observed,
        ci_low, ci_high.

    Notes
    -----
    Each account's predictions are first averaged over the repeats, so each
    account counts once.  A well-calibrated model has observed ≈ predicted
    in every bin (Steyerberg 2019, *Clinical Prediction Models*, ch. 15).
    Wilson interval: (p̂ + z²/2n ± z√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n),
    which always lies in [0, 1] and contains p̂; the limits are clipped to
    that range so floating-point rounding at p̂ = 0 or 1 cannot leave it.

    Examples
    --------
    >>> pr = pd.DataFrame({"account_id": range(6), "model": "m", "predicted": [.1, .2, .3, .6, .7, .9],
    ...                    "churned": [0, 0, 1, 0, 1, 1]})
    >>> calibration_table(pr, bins=2)["observed"].round(2).tolist()
    [0.33, 0.67]
    """
    cols = ["model", "bin", "n", "mean_predicted", "observed", "ci_low", "ci_high"]
    predictions = pd.DataFrame(predictions)
    if predictions.empty:
        return pd.DataFrame(columns=cols)
    z = z_value(ci)
    per = predictions.groupby(["model", "account_id"], sort=False).agg(
        predicted=("predicted", "mean"), churned=("churned", "first")).reset_index()
    rows = []
    for model, grp in per.groupby("model", sort=False):
        b = pd.qcut(grp["predicted"].rank(method="first"), q=min(bins, len(grp)), labels=False) + 1
        for k, g in grp.groupby(b):
            n = len(g)
            p = g["churned"].mean()
            lo, hi = _wilson(p, n, z)
            rows.append({"model": model, "bin": int(k), "n": n, "mean_predicted": g["predicted"].mean(),
                         "observed": p, "ci_low": lo, "ci_high": hi})
    return pd.DataFrame(rows, columns=cols)


def _wilson(p: float, n: int, z: float) -> tuple[float, float]:
    """Wilson interval of a proportion, within [0, 1] and around p̂ even where rounding would push it off."""
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    # At p̂ = 0 or 1 the exact limit is p̂ itself, but centre − half can come out as ±5e-17.
    return float(np.clip(centre - half, 0.0, p)), float(np.clip(centre + half, p, 1.0))
