"""When not to trust a model: VIF, condition number, separation, events per predictor, influence.

Takes a tidy frame and the model's predictors and hands on one row per check
(with a plain-language message) or per observation (influence).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize

__all__ = [
    "ModelWarning",
    "VIF_LIMIT",
    "CONDITION_LIMIT",
    "MIN_EVENTS_PER_VARIABLE",
    "MIN_OBS_PER_TERM",
    "vif",
    "condition_number",
    "detect_separation",
    "trust_checks",
    "trust_warnings",
    "influence_table",
]


#: A predictor whose VIF exceeds this shares most of its variance with the others.
VIF_LIMIT = 5.0
#: Scaled condition number above which Belsley, Kuh & Welsch (1980) speak of strong collinearity.
CONDITION_LIMIT = 30.0
#: Events per variable below which logistic and Cox estimates are unstable (Peduzzi et al. 1996).
MIN_EVENTS_PER_VARIABLE = 10
#: Observations per estimated term below which a linear model overfits (Harrell 2015, ch. 4).
MIN_OBS_PER_TERM = 10
#: Fewest clusters for which cluster-robust standard errors are dependable (Cameron & Miller 2015).
MIN_CLUSTERS = 30


class ModelWarning(UserWarning):
    """A model was fitted, but its result should be read with care (the message says why)."""


# ---------------------------------------------------------------------------
# Model warnings: stated on the result, emitted, collected
# ---------------------------------------------------------------------------
def _emit(messages: Sequence[str], *, stacklevel: int) -> None:
    """Emit each message as a :class:`ModelWarning`, ``stacklevel`` as for :func:`warnings.warn` at the caller."""
    for m in messages:
        warnings.warn(m, ModelWarning, stacklevel=stacklevel + 1)


def _with_warnings(out: pd.DataFrame, columns: Sequence[str], messages: Sequence[str], *,
                   stacklevel: int) -> pd.DataFrame:
    """A model result in ``columns`` (NaN where absent) that states and emits its warnings.

    Empty and repeated messages are dropped; the rest are joined in the
    ``warnings`` column, listed in ``attrs["warnings"]`` and each emitted as
    a :class:`ModelWarning` (``stacklevel`` as for :func:`warnings.warn`,
    counted from here).  Used by :mod:`helpers.stats.nps_models`,
    :mod:`helpers.stats.retention`, :mod:`helpers.stats.drivers` and :mod:`helpers.stats.congruence`.
    """
    msgs = list(dict.fromkeys(m for m in messages if m))
    out = out.reindex(columns=list(columns))
    out["warnings"] = " ".join(msgs)
    out.attrs["warnings"] = msgs
    _emit(msgs, stacklevel=stacklevel)
    return out


def collect_warnings(fit, category: type[Warning] = ModelWarning):
    """Run ``fit()``; return its result and the messages of the warnings of ``category`` it raised.

    They are collected as a list of str, not raised again: by default the
    :class:`ModelWarning` sentences, with ``category=Warning`` every warning
    (e.g. a library's convergence warnings).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", category)
        res = fit()
    return res, [str(c.message) for c in caught if issubclass(c.category, category)]


def fit_with_warnings(fit) -> pd.DataFrame:
    """``fit()``'s result, with the ModelWarnings it raised added to its own ``attrs["warnings"]``."""
    res, caught = collect_warnings(fit)
    res.attrs["warnings"] = list(dict.fromkeys([*res.attrs.get("warnings", []), *caught]))
    return res


def _design(data: pd.DataFrame, predictors: Sequence[str]) -> tuple[np.ndarray, int]:
    """The predictors of the complete rows as a float matrix, and how many rows were incomplete."""
    sub = data[list(predictors)].apply(pd.to_numeric, errors="coerce")
    keep = sub.notna().all(axis=1)
    return sub.loc[keep].to_numpy(dtype=float), int((~keep).sum())


# ---------------------------------------------------------------------------
# Collinearity
# ---------------------------------------------------------------------------
def vif(data: pd.DataFrame, *, predictors: Sequence[str], limit: float = VIF_LIMIT) -> pd.DataFrame:
    """Variance inflation factor of each predictor: how much collinearity inflates its variance.

    Parameters
    ----------
    data : DataFrame
        One row per observation.
    predictors : sequence of str
        Numeric predictor columns.  Rows with a missing predictor are left out.
    limit : float
        VIF above which ``flag`` is True (default 5).

    Returns
    -------
    DataFrame
        term, vif, tolerance (1/VIF), r2 (of the predictor on the others), n,
        n_dropped, flag.  A constant predictor or an exact linear dependency
        gives ``vif = inf``.

    Notes
    -----
    VIF_j = 1 / (1 − R²_j), where R²_j is from regressing predictor j on the
    other predictors; equivalently the j-th diagonal element of the inverse
    correlation matrix (Marquardt 1970; Fox & Monette 1992).  Values above 5
    (some texts use 10) mean the coefficient's standard error is more than
    √5 ≈ 2.2 times what it would be with uncorrelated predictors.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4, 5.], "b": [2, 1, 4, 3, 6.], "c": [5, 3, 4, 1, 2.]})
    >>> vif(d, predictors=["a", "b", "c"])["vif"].round(2).tolist()
    [103.13, 41.63, 37.5]
    """
    x, dropped = _design(data, predictors)
    n, p = x.shape
    out = pd.DataFrame({"term": list(predictors)})
    if n < 3 or p == 0:
        out["vif"] = np.nan
    elif p == 1:
        out["vif"] = 1.0 if np.std(x) > 0 else np.inf
    else:
        sd = x.std(axis=0, ddof=1)
        vals = np.full(p, np.inf)
        ok = sd > 0
        if ok.sum() >= 2:
            corr = np.corrcoef(x[:, ok], rowvar=False)
            try:
                inv = np.linalg.inv(corr)
                d = np.diag(inv)
                d = np.where((d <= 0) | ~np.isfinite(d) | (np.linalg.cond(corr) > 1e12), np.inf, d)
                vals[ok] = d
            except np.linalg.LinAlgError:
                pass
        elif ok.sum() == 1:
            vals[ok] = 1.0
        out["vif"] = vals
    out["tolerance"] = 1 / out["vif"]
    out["r2"] = 1 - out["tolerance"]
    out["n"] = n
    out["n_dropped"] = dropped
    out["flag"] = out["vif"] > limit
    return out


def condition_number(data: pd.DataFrame, *, predictors: Sequence[str], intercept: bool = True) -> float:
    """Scaled condition number of the design matrix (Belsley, Kuh & Welsch).

    Parameters
    ----------
    data : DataFrame
        One row per observation.
    predictors : sequence of str
        Numeric predictor columns; incomplete rows are left out.
    intercept : bool
        Include a column of ones (as the model does).

    Returns
    -------
    float
        κ = s_max / s_min, the ratio of the largest to the smallest singular
        value of X after scaling every column to unit length.  ``inf`` for a
        rank-deficient design, NaN with no rows.

    Notes
    -----
    Belsley, Kuh & Welsch (1980), *Regression Diagnostics*, ch. 3: columns are
    scaled to unit length but not centred, so collinearity with the intercept
    counts.  κ around 10 is weak, 30 moderate to strong, 100 severe.  Unlike
    statsmodels' ``condition_number`` this is invariant to the units of the
    predictors.

    Examples
    --------
    >>> d = pd.DataFrame({"a": [1, 2, 3, 4.], "b": [1, 0, 1, 0.]})
    >>> round(condition_number(d, predictors=["a", "b"]), 2)
    6.74
    """
    x, _ = _design(data, predictors)
    if x.shape[0] == 0:
        return float("nan")
    if intercept:
        x = np.column_stack([np.ones(len(x)), x])
    norms = np.linalg.norm(x, axis=0)
    if np.any(norms == 0):
        return float("inf")
    s = np.linalg.svd(x / norms, compute_uv=False)
    if s[-1] <= s[0] * 1e-14:
        return float("inf")
    return float(s[0] / s[-1])


# ---------------------------------------------------------------------------
# Separation
# ---------------------------------------------------------------------------
def detect_separation(x: np.ndarray, y: np.ndarray, *, names: Sequence[str] | None = None) -> dict:
    """Does some combination of the predictors perfectly separate the 0s from the 1s?

    Parameters
    ----------
    x : array (n, p)
        Design matrix *including* the intercept column if the model has one.
    y : array (n,)
        0/1 outcome.
    names : sequence of str, optional
        Column names, to say which predictors are involved.

    Returns
    -------
    dict
        ``separated`` (bool), ``terms`` (names of the columns with a nonzero
        separating direction), ``direction`` (the direction found).

    Notes
    -----
    Konis (2007, DPhil thesis, *Linear programming algorithms for detecting
    separated data in binary logistic regression models*): with s_i = 2y_i − 1,
    the data are (quasi-)completely separated exactly when the linear programme
    max Σ s_i x_i'b  subject to  s_i x_i'b ≥ 0 for all i,  −1 ≤ b_j ≤ 1
    has a positive optimum.  The maximum-likelihood estimate then does not
    exist (Albert & Anderson 1984): some coefficients run off to ±∞.

    Examples
    --------
    >>> x = np.column_stack([np.ones(6), [1, 2, 3, 4, 5, 6]])
    >>> detect_separation(x, np.array([0, 0, 0, 1, 1, 1]))["separated"]
    True
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    names = list(names) if names is not None else [f"x{j}" for j in range(x.shape[1])]
    if len(y) == 0 or y.min() == y.max():
        return {"separated": True, "terms": [], "direction": np.zeros(x.shape[1])}
    s = 2 * y - 1
    a = s[:, None] * x
    scale = np.abs(a).max(axis=0)
    scale[scale == 0] = 1
    a = a / scale
    res = optimize.linprog(-a.sum(axis=0), A_ub=-a, b_ub=np.zeros(len(y)), bounds=[(-1, 1)] * x.shape[1],
                           method="highs")
    if res.status != 0:
        return {"separated": False, "terms": [], "direction": np.zeros(x.shape[1])}
    sep = -res.fun > 1e-7 * len(y)
    direction = res.x / scale
    terms = [nm for nm, b in zip(names, res.x) if abs(b) > 1e-6 and nm.lower() not in ("const", "intercept")]
    return {"separated": bool(sep), "terms": terms if sep else [], "direction": direction}


# ---------------------------------------------------------------------------
# Checks in words
# ---------------------------------------------------------------------------
def trust_checks(
    data: pd.DataFrame,
    *,
    outcome: str,
    predictors: Sequence[str],
    kind: str = "linear",
    cluster: str | None = None,
    event: str | None = None,
    vif_limit: float = VIF_LIMIT,
    condition_limit: float = CONDITION_LIMIT,
    min_epv: float = MIN_EVENTS_PER_VARIABLE,
    min_obs_per_term: float = MIN_OBS_PER_TERM,
    min_clusters: int = MIN_CLUSTERS,
) -> pd.DataFrame:
    """Run every trust check on one model's data and say which fail.

    Parameters
    ----------
    data : DataFrame
        The data the model is fitted to (incomplete rows are left out here as
        they are in the model).
    outcome : str
        Outcome column (0/1 for ``kind="logistic"``; for ``kind="cox"`` the
        event indicator is ``event`` and ``outcome`` is the time).
    predictors : sequence of str
        Predictor columns.
    kind : {"linear", "logistic", "cox", "ordinal"}
        Model family: decides whether events per variable and separation apply.
    cluster : str, optional
        Cluster column (e.g. ``account_id``) for cluster-robust standard errors.
    event : str, optional
        Event column for ``kind="cox"``.
    vif_limit, condition_limit, min_epv, min_obs_per_term, min_clusters : float
        Thresholds (defaults: 5, 30, 10, 10, 30).

    Returns
    -------
    DataFrame
        check, value, threshold, passed, message — one row per check:
        ``n`` (observations per term), ``constant`` (predictors with no
        variation), ``vif``, ``condition_number``, and as they apply
        ``events_per_variable``, ``separation``, ``clusters``.

    Notes
    -----
    Thresholds and their sources: events per variable ≥ 10 (Peduzzi et al.
    1996, J Clin Epidemiol 49:1373); observations per term ≥ 10 (Harrell 2015,
    *Regression Modeling Strategies*, §4.4); VIF ≤ 5 (e.g. James et al. 2013,
    §3.3.3); scaled condition number ≤ 30 (Belsley, Kuh & Welsch 1980);
    separation by the linear programme of Konis (2007); ≥ 30 clusters for
    cluster-robust standard errors (Cameron & Miller 2015, J Hum Resour 50:317).

    Examples
    --------
    >>> d = pd.DataFrame({"y": [0, 0, 1, 1], "x": [1, 2, 3, 4]})
    >>> checks = trust_checks(d, outcome="y", predictors=["x"], kind="logistic").set_index("check")
    >>> bool(checks.loc["separation", "passed"])
    False
    """
    predictors = list(predictors)
    cols = [outcome, *predictors] + ([event] if event else []) + ([cluster] if cluster and cluster in data else [])
    sub = data[cols].dropna(subset=[outcome, *predictors] + ([event] if event else []))
    n = len(sub)
    x = sub[predictors].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float) if predictors else np.empty((n, 0))
    sd = x.std(axis=0) if n else np.zeros(len(predictors))
    const = [p for p, s in zip(predictors, sd) if not s > 0]
    varying = [p for p in predictors if p not in const]
    rows = [_check("constant", float(len(const)), 0.0, not const, _constant_message(const))]
    if kind in ("linear", "ordinal"):
        rows.append(_observations_check(n, len(varying) + 1, min_obs_per_term))
    if kind in ("logistic", "cox"):
        y = sub[event if kind == "cox" else outcome].to_numpy(dtype=float)
        rows.append(_events_check(y, kind, len(varying), min_epv))
        if kind == "logistic" and n:
            rows.append(_separation_check(x[:, [predictors.index(v) for v in varying]], y, varying))
    if len(varying) >= 2 and n > len(varying) + 1:
        rows += _collinearity_checks(sub, varying, vif_limit, condition_limit)
    if cluster and cluster in sub:
        rows.append(_clusters_check(sub[cluster].nunique(), min_clusters))
    return pd.DataFrame(rows, columns=["check", "value", "threshold", "passed", "message"])


def _check(check: str, value: float, threshold: float, passed: bool, message: str) -> dict:
    """One row of :func:`trust_checks`; the message is kept only when the check failed."""
    return {"check": check, "value": value, "threshold": threshold, "passed": passed,
            "message": "" if passed else message}


def _constant_message(const: Sequence[str]) -> str:
    """The sentence for predictors left out of a model because they do not vary."""
    return (f"{', '.join(const)} {'has' if len(const) == 1 else 'have'} the same value in every row, "
            "so its effect cannot be estimated; it was left out.")


def _observations_check(n: int, n_terms: int, min_obs_per_term: float) -> dict:
    """Enough observations per estimated term (linear and ordinal models)."""
    ok = n / n_terms >= min_obs_per_term
    return _check("n", float(n), float(min_obs_per_term * n_terms), bool(ok),
                  f"Only {n} observations for {n_terms} estimated terms (fewer than {min_obs_per_term:g} per term): "
                  "the model will overfit and its estimates are unstable.")


def _events_check(y: np.ndarray, kind: str, n_predictors: int, min_epv: float) -> dict:
    """Enough events per predictor: churns for Cox, the smaller outcome group for a logistic model."""
    events = float(y.sum()) if kind == "cox" else float(min(y.sum(), (1 - y).sum()))
    epv = events / max(n_predictors, 1)
    what = "churn events" if kind == "cox" else "accounts in the smaller outcome group"
    return _check("events_per_variable", epv, float(min_epv), bool(epv >= min_epv),
                  f"Only {events:g} {what} for {n_predictors} predictor(s) ({epv:.1f} per predictor; at least "
                  f"{min_epv:g} are needed for stable estimates): treat the coefficients as rough indications.")


def _separation_check(x: np.ndarray, y: np.ndarray, names: Sequence[str]) -> dict:
    """Whether the predictors ``x`` (columns ``names``, no intercept) perfectly predict the 0/1 outcome ``y``."""
    if len(np.unique(y)) < 2:
        return _check("separation", 1.0, 0.0, False,
                      "Every account has the same outcome, so nothing can be learnt about what predicts it.")
    sep = detect_separation(np.column_stack([np.ones(len(y)), x]), y, names=["const", *names])
    return _check("separation", float(sep["separated"]), 0.0, not sep["separated"],
                  f"The outcome is perfectly predicted by {', '.join(sep['terms']) or 'the predictors'} "
                  "(separation): ordinary maximum likelihood gives infinite coefficients, so a penalised (Firth) fit "
                  "is used and its estimates are shrunk towards zero.")


def _collinearity_checks(sub: pd.DataFrame, varying: list[str], vif_limit: float, condition_limit: float
                         ) -> list[dict]:
    """The VIF and condition-number rows for predictors that vary."""
    v = vif(sub, predictors=varying, limit=vif_limit)
    worst = v.loc[v["vif"].idxmax()]
    high = v.loc[v["flag"], "term"].tolist()
    kappa = condition_number(sub, predictors=varying)
    return [
        _check("vif", float(worst["vif"]), vif_limit, not high,
               f"{', '.join(high)} overlap strongly with the other predictors (VIF {worst['vif']:.1f} > "
               f"{vif_limit:g}): their separate effects are hard to tell apart and their coefficients can swing "
               "from sample to sample."),
        _check("condition_number", kappa, condition_limit, bool(kappa <= condition_limit),
               f"The predictors are nearly linearly dependent (condition number {kappa:.0f} > {condition_limit:g}): "
               "small changes in the data can change the estimates a lot."),
    ]


def _clusters_check(n_clusters: int, min_clusters: int) -> dict:
    """Enough accounts for cluster-robust standard errors."""
    return _check("clusters", float(n_clusters), float(min_clusters), bool(n_clusters >= min_clusters),
                  f"Only {n_clusters} accounts: standard errors that allow for respondents of one account being "
                  f"alike need about {min_clusters} or more, so the intervals may be too narrow.")


def trust_warnings(
    data: pd.DataFrame,
    *,
    outcome: str,
    predictors: Sequence[str],
    kind: str = "linear",
    cluster: str | None = None,
    event: str | None = None,
    **thresholds,
) -> list[str]:
    """Plain-language warnings for a model that should not be trusted as it stands.

    Parameters
    ----------
    data, outcome, predictors, kind, cluster, event
        As :func:`trust_checks`.
    **thresholds
        ``vif_limit``, ``condition_limit``, ``min_epv``, ``min_obs_per_term``,
        ``min_clusters``.

    Returns
    -------
    list of str
        One sentence per failed check; empty when nothing is wrong.

    Notes
    -----
    See :func:`trust_checks` for the checks, thresholds and references.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [0, 0, 1, 1, 0, 1], "x": [1, 2, 3, 4, 5, 6]})
    >>> trust_warnings(d, outcome="y", predictors=["x"], kind="logistic")[0][:12]
    'Only 3 accou'
    """
    checks = trust_checks(data, outcome=outcome, predictors=predictors, kind=kind, cluster=cluster, event=event,
                          **thresholds)
    return checks.loc[~checks["passed"], "message"].tolist()


# ---------------------------------------------------------------------------
# Residuals and influence (linear models)
# ---------------------------------------------------------------------------
def influence_table(
    data: pd.DataFrame,
    *,
    outcome: str,
    predictors: Sequence[str],
    id: str | None = None,
) -> pd.DataFrame:
    """Leverage, studentised residual and Cook's distance of every row of an OLS fit.

    Parameters
    ----------
    data : DataFrame
        One row per observation.
    outcome : str
        Outcome column.
    predictors : sequence of str
        Predictor columns (an intercept is added).
    id : str, optional
        Column naming each row (e.g. ``account_id``); default the index.

    Returns
    -------
    DataFrame
        id, fitted, residual, leverage, student_resid (externally studentised),
        cooks_d, flag (Cook's D > 4/n or |student_resid| > 3), sorted by
        cooks_d descending.

    Notes
    -----
    h_i = diag(X(X'X)⁻¹X'); r_i = e_i / (s_(i)·√(1 − h_i)) with the leave-one-out
    residual standard deviation s_(i); Cook's D_i = e_i² h_i / (p·s²·(1 − h_i)²)
    (Cook 1977; Belsley, Kuh & Welsch 1980).  4/n is the customary cut-off.

    Examples
    --------
    >>> d = pd.DataFrame({"y": [1, 2, 3, 4, 20.], "x": [1, 2, 3, 4, 5.]})
    >>> int(influence_table(d, outcome="y", predictors=["x"])["id"].iloc[0])
    4
    """
    predictors = list(predictors)
    sub = data.dropna(subset=[outcome, *predictors])
    y = sub[outcome].to_numpy(dtype=float)
    x = np.column_stack([np.ones(len(sub)), sub[predictors].to_numpy(dtype=float)])
    n, p = x.shape
    q, r = np.linalg.qr(x)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    fitted = x @ beta
    e = y - fitted
    h = (q**2).sum(axis=1)
    df = n - p
    s2 = (e @ e) / df if df > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        s2_i = ((e @ e) - e**2 / (1 - h)) / (df - 1) if df > 1 else np.full(n, np.nan)
        stud = e / np.sqrt(s2_i * (1 - h))
        cooks = e**2 * h / (p * s2 * (1 - h) ** 2)
    ids = sub[id].to_numpy() if id else sub.index.to_numpy()
    out = pd.DataFrame({"id": ids, "fitted": fitted, "residual": e, "leverage": h, "student_resid": stud,
                        "cooks_d": cooks})
    out["flag"] = (out["cooks_d"] > 4 / n) | (out["student_resid"].abs() > 3)
    return out.sort_values("cooks_d", ascending=False, ignore_index=True)

