"""What predicts renewal or churn: logistic (with a Firth fallback), Cox, and risk for open renewals.

Takes an account table (:func:`helpers.stats.model_data.account_table`) and hands
on one row per term, or per account for :func:`predict_risk`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special

from helpers.data.instrument import LANGUAGES, Instrument, load_instrument

from .diagnostics import MIN_EVENTS_PER_VARIABLE, detect_separation
from .fitting import (_check_messages, _known, _prepare, _quiet_fit, _retention_predictors, _table, _unsaid,
                      _wald_rows, term_label)
from .model_data import KNOWN_OUTCOMES
from .scores import z_value

__all__ = [
    "firth_logit",
    "ridge_logit",
    "retention_logit",
    "time_to_churn",
    "retention_cox",
    "predict_risk",
]


# ---------------------------------------------------------------------------
# Binary outcomes: ML, Firth, ridge
# ---------------------------------------------------------------------------
def _loglik(x, y, beta, offset=0.0):
    """The logistic log-likelihood at ``beta``."""
    eta = x @ beta + offset
    return float(np.sum(y * eta - np.logaddexp(0, eta)))


def _information(x: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fitted probabilities π, the weights π(1 − π) and the Fisher information X'WX at ``beta``."""
    mu = special.expit(x @ beta)
    w = mu * (1 - mu)
    return mu, w, x.T @ (w[:, None] * x)


def firth_logit(x: np.ndarray, y: np.ndarray, *, max_iter: int = 200, tol: float = 1e-8, max_step: float = 5.0
                ) -> dict:
    """Firth's penalised-likelihood logistic regression (bias-reduced; finite under separation).

    Parameters
    ----------
    x : array (n, p)
        Design matrix including the intercept column.
    y : array (n,)
        0/1 outcome.
    max_iter, tol, max_step
        Newton iterations, convergence tolerance on the step, and the largest
        step allowed in any coefficient (as ``logistf``'s ``maxstep``).

    Returns
    -------
    dict
        coef, cov (inverse Fisher information at the estimate), se, loglik
        (unpenalised), pen_loglik, converged, iterations.

    Notes
    -----
    Maximises l*(β) = l(β) + ½ log|I(β)| with I(β) = X'WX, W = diag(π(1−π))
    (Firth 1993, Biometrika 80:27).  The modified score is
    U*(β) = X'(y − π + h∘(½ − π)), h the diagonal of W½X(X'WX)⁻¹X'W½; Newton
    steps β ← β + I⁻¹U* with step-halving on l* (Heinze & Schemper 2002,
    Stat Med 21:2409).  Standard errors are Wald, √diag I(β̂)⁻¹, as printed by
    ``brglm2``; ``logistf`` reports profile-penalised-likelihood intervals
    instead, which are wider and asymmetric under separation.

    Examples
    --------
    >>> x = np.column_stack([np.ones(6), [0, 0, 0, 1, 1, 1]])
    >>> fit = firth_logit(x, np.array([0, 0, 1, 1, 1, 1]))
    >>> round(float(fit["coef"][1]), 4)  # = log((3.5/0.5) / (1.5/2.5)): the 2×2 table with ½ added to each cell
    2.4567
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    n, p = x.shape
    beta = np.zeros(p)

    def pen(b):
        """The penalised log-likelihood l(β) + ½ log|I(β)|."""
        sign, logdet = np.linalg.slogdet(_information(x, b)[2])
        return _loglik(x, y, b) + 0.5 * logdet if sign > 0 else -np.inf

    current = pen(beta)
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        mu, w, info = _information(x, beta)
        cov = np.linalg.pinv(info)
        h = w * np.einsum("ij,jk,ik->i", x, cov, x)
        score = x.T @ (y - mu + h * (0.5 - mu))
        step = cov @ score
        biggest = np.abs(step).max()
        if biggest > max_step:
            step *= max_step / biggest
        for _ in range(40):
            cand = beta + step
            val = pen(cand)
            if val >= current - 1e-10:
                break
            step /= 2
        beta, current = cand, val
        if np.abs(step).max() < tol:
            converged = True
            break
    cov = np.linalg.pinv(_information(x, beta)[2])
    return {"coef": beta, "cov": cov, "se": np.sqrt(np.diag(cov)), "loglik": _loglik(x, y, beta),
            "pen_loglik": current, "converged": converged, "iterations": it}


def ridge_logit(x: np.ndarray, y: np.ndarray, *, prior_sd: float = 1.0, max_iter: int = 100, tol: float = 1e-9
                ) -> dict:
    """Logistic regression with a normal (ridge) prior on the standardised slopes.

    Parameters
    ----------
    x : array (n, p)
        Design matrix whose first column is the intercept (not penalised).
    y : array (n,)
        0/1 outcome.
    prior_sd : float
        Prior standard deviation of each slope per standard deviation of its
        predictor (log-odds); smaller shrinks harder.

    Returns
    -------
    dict
        coef, cov (inverse of the penalised information, a Laplace
        approximation to the posterior covariance), se, loglik, converged.

    Notes
    -----
    Maximises l(β) − ½ Σ_{j≥1} (β_j·s_j)²/τ², s_j the SD of predictor j and
    τ = ``prior_sd`` (le Cessie & van Houwelingen 1992; Gelman et al. 2008 for
    the weakly informative view).  Always finite, but shrinks even when the
    data are ample, so use it as a stabiliser, not a default.

    Examples
    --------
    >>> x = np.column_stack([np.ones(6), [1, 2, 3, 4, 5, 6]])
    >>> bool(abs(ridge_logit(x, np.array([0, 0, 0, 1, 1, 1]))["coef"][1]) < 5)
    True
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    p = x.shape[1]
    sd = x.std(axis=0)
    sd[0] = 0.0
    prec = np.diag((sd / prior_sd) ** 2)
    beta = np.zeros(p)
    converged = False
    for _ in range(max_iter):
        mu, _, info = _information(x, beta)
        hess = info + prec
        step = np.linalg.solve(hess, x.T @ (y - mu) - prec @ beta)
        beta = beta + step
        if np.abs(step).max() < tol:
            converged = True
            break
    cov = np.linalg.inv(_information(x, beta)[2] + prec)
    return {"coef": beta, "cov": cov, "se": np.sqrt(np.diag(cov)), "loglik": _loglik(x, y, beta),
            "converged": converged}


def _ml_logit(x, y, max_iter: int = 100) -> dict:
    """Plain maximum likelihood by Newton–Raphson with step-halving; never raises."""
    beta = np.zeros(x.shape[1])
    converged = False
    current = _loglik(x, y, beta)
    for _ in range(max_iter):
        mu, _, info = _information(x, beta)
        step = np.linalg.pinv(info) @ (x.T @ (y - mu))
        for _ in range(30):
            cand = beta + step
            val = _loglik(x, y, cand)
            if val >= current - 1e-12:
                break
            step /= 2
        beta, current = cand, val
        if np.abs(step).max() < 1e-10:
            converged = True
            break
    cov = np.linalg.pinv(_information(x, beta)[2])
    finite = np.all(np.isfinite(beta)) and np.abs(beta).max() < 30
    return {"coef": beta, "cov": cov, "se": np.sqrt(np.clip(np.diag(cov), 0, None)), "loglik": current,
            "converged": bool(converged and finite)}


def _fit_binary(x: np.ndarray, y: np.ndarray, names: Sequence[str], method: str = "auto",
                prior_sd: float = 1.0) -> dict:
    """Fit ML, Firth or ridge logistic regression; ``auto`` picks Firth when ML is unsafe."""
    if method not in ("auto", "ml", "firth", "ridge"):
        raise ValueError(f"method must be 'auto', 'ml', 'firth' or 'ridge', not {method!r}.")
    sep = detect_separation(x, y, names=names)
    use, messages = _choose_estimator(method, sep, x, y)
    if use == "ml":
        fit = _ml_logit(x, y)
        if not fit["converged"]:
            if method == "auto":
                use = "firth"
                messages.append("Maximum likelihood did not converge, so Firth's penalised likelihood was used.")
            else:
                messages.append("Maximum likelihood did not converge; the estimates are not reliable.")
    if use == "firth":
        fit = firth_logit(x, y)
        if not fit["converged"]:
            messages.append("The Firth fit did not converge; the estimates are not reliable.")
    elif use == "ridge":
        fit = ridge_logit(x, y, prior_sd=prior_sd)
        messages.append(f"A ridge prior (SD {prior_sd:g} log-odds per SD of each predictor) shrinks the "
                        "coefficients towards zero.")
    fit["estimator"] = {"ml": "logistic ML", "firth": "logistic Firth", "ridge": "logistic ridge"}[use]
    fit["messages"] = messages
    fit["separated"] = sep["separated"]
    return fit


def _choose_estimator(method: str, sep: dict, x: np.ndarray, y: np.ndarray) -> tuple[str, list[str]]:
    """The estimator to try first ("ml", "firth" or "ridge") and why, given the separation check ``sep``."""
    n_events = float(min(y.sum(), len(y) - y.sum()))
    n_pred = x.shape[1] - 1
    if method == "auto":
        if sep["separated"]:
            return "firth", [f"The outcome is perfectly predicted by {', '.join(sep['terms']) or 'the predictors'} "
                             "(separation): ordinary maximum likelihood has no finite estimate, so Firth's "
                             "penalised likelihood was used; its estimates are shrunk towards zero."]
        if n_events / max(n_pred, 1) < MIN_EVENTS_PER_VARIABLE:
            return "firth", [f"Only {n_events:g} accounts in the smaller outcome group for {n_pred} predictor(s) "
                             f"(fewer than {MIN_EVENTS_PER_VARIABLE} per predictor): Firth's penalised likelihood "
                             "was used to reduce small-sample bias; treat the coefficients as rough indications."]
        return "ml", []
    if method == "ml" and sep["separated"]:
        return "ml", [f"The outcome is perfectly predicted by {', '.join(sep['terms']) or 'the predictors'} "
                      "(separation): maximum-likelihood estimates are infinite and meaningless here; use "
                      "method='firth'."]
    return method, []


def retention_logit(
    table: pd.DataFrame,
    *,
    predictors: Sequence[str] | None = None,
    outcome: str = "churned",
    method: str = "auto",
    prior_sd: float = 1.0,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Logistic regression of churn (vs renewal) on account-level scores and gaps.

    Answers "which scores and perception gaps go with losing the account?".

    Parameters
    ----------
    table : DataFrame
        One row per account (:func:`account_table`).  Rows with
        ``outcome_known`` False (active accounts) are left out.
    predictors : sequence of str, optional
        Columns of ``table`` (default: ``client_<d>`` and ``gap_<d>`` for
        every dimension, i.e. client scores, and staff scores through the
        gaps).
    outcome : str
        0/1 churn column.
    method : {"auto", "ml", "firth", "ridge"}
        ``auto`` uses maximum likelihood unless the data are separated or
        there are fewer than 10 events per predictor, when it switches to
        Firth's penalised likelihood and says so in ``warnings``.
    prior_sd : float
        Prior SD for ``method="ridge"`` (see :func:`ridge_logit`).
    ci : float
        Confidence level (Wald).
    instrument : path or Instrument, optional
        For the default predictors.

    Returns
    -------
    DataFrame
        MODEL_COLUMNS with model "logistic", one row per term (Intercept
        first) on the log-odds-of-churn scale; ``n_events`` the number of
        churned accounts; ``estimator`` "logistic ML", "logistic Firth" or
        "logistic ridge".  ``attrs`` holds ``cov`` (coefficient covariance as
        a dict; ``pd.DataFrame(res.attrs["cov"])``), ``loglik`` and
        ``warnings``.

    Notes
    -----
    logit P(churn) = β0 + x'β.  Events per variable below 10 make ML biased
    away from zero and unstable (Peduzzi et al. 1996); separation makes it
    infinite (Albert & Anderson 1984).  Firth's correction (Firth 1993;
    Heinze & Schemper 2002) removes the O(1/n) bias and stays finite.  With
    few accounts every estimate here is a hint, not a finding.

    Examples
    --------
    >>> tab = pd.DataFrame({"churned": [0, 0, 1, 1, 0, 1, 0, 0], "x": [3, 4, 1, 2, 5, 3, 4, 2],
    ...                     "outcome_known": True})
    >>> retention_logit(tab, predictors=["x"])["estimator"].iloc[0]
    'logistic Firth'
    """
    predictors = _retention_predictors(predictors, instrument)
    known, messages = _known(table, outcome)
    sub, n_dropped, varying, msg2 = _prepare(known, outcome, predictors)
    messages += msg2
    terms = ["Intercept", *predictors]
    n = len(sub)
    y = sub[outcome].to_numpy(dtype=float)
    events = int(y.sum()) if n else 0
    problem = ""
    if n == 0 or events in (0, n):
        what = "no account has a known outcome" if n == 0 else (
            "no account churned" if events == 0 else "every account churned")
        problem = f"Retention cannot be modelled: {what} among the {n} usable accounts."
    elif n < len(varying) + 2:
        problem = f"Only {n} accounts for {len(varying)} predictors: a model cannot be fitted."
    if problem:
        return _table("logistic", terms, [], [*messages, problem], n=n, n_dropped=n_dropped, n_events=events,
                      estimator="none")
    x = np.column_stack([np.ones(n), sub[varying].to_numpy(dtype=float)])
    fit = _fit_binary(x, y, ["Intercept", *varying], method=method, prior_sd=prior_sd)
    messages = fit["messages"] + messages + _unsaid(_check_messages(sub, outcome, varying, "logistic"),
                                                     fit["messages"])
    rows = _wald_rows(["Intercept", *varying], fit["coef"], fit["se"], ci)
    out = _table("logistic", terms, rows, messages, n=n, n_dropped=n_dropped, n_events=events,
                 estimator=fit["estimator"])
    # plain dicts, not frames, in attrs: pandas compares attrs when concatenating results
    out.attrs["cov"] = pd.DataFrame(fit["cov"], index=["Intercept", *varying],
                                    columns=["Intercept", *varying]).to_dict()
    out.attrs["loglik"] = fit["loglik"]
    return out


# ---------------------------------------------------------------------------
# Time to churn
# ---------------------------------------------------------------------------
def time_to_churn(
    table: pd.DataFrame,
    *,
    cutoff: str | pd.Timestamp | None = None,
    start: str = "contract_start",
    end: str = "renewal_date",
    status: str = "status",
) -> pd.DataFrame:
    """Follow-up time and churn indicator per account, for survival models.

    Parameters
    ----------
    table : DataFrame
        One row per account with contract start, renewal date and status.
    cutoff : date, optional
        The date outcomes are known up to; accounts still customers then are
        censored there.  Default: the latest renewal date among accounts with
        a known outcome.
    start, end, status : str
        Column names.

    Returns
    -------
    DataFrame
        The input rows plus ``time_days``, ``time_years`` and ``event``
        (1 churned, 0 censored); rows with missing dates or a non-positive
        time are dropped (count in ``attrs["n_dropped"]``).

    Notes
    -----
    A churned account's time is renewal_date − contract_start (it left at
    renewal).  Renewed and active accounts are censored at the cutoff: they
    were still customers then.  A churn after the cutoff counts as censored.

    Examples
    --------
    >>> t = pd.DataFrame({"contract_start": ["2020-01-01", "2021-01-01"], "renewal_date": ["2022-01-01", "2027-01-01"],
    ...                   "status": ["churned", "active"]})
    >>> time_to_churn(t, cutoff="2026-01-01")["event"].tolist()
    [1, 0]
    """
    out = table.copy()
    s = pd.to_datetime(out[start], errors="coerce")
    e = pd.to_datetime(out[end], errors="coerce")
    st = out[status]
    if cutoff is None:
        decided = e[st.isin(KNOWN_OUTCOMES)]
        cutoff = decided.max() if decided.notna().any() else e.max()
    cutoff = pd.Timestamp(cutoff)
    churn = (st == "churned") & (e <= cutoff)
    stop = pd.Series(np.where(churn, e, cutoff), index=out.index)
    stop = pd.to_datetime(stop)
    out["event"] = churn.astype(int)
    out["time_days"] = (stop - s).dt.days.astype(float)
    out["time_years"] = out["time_days"] / 365.25
    ok = out["time_days"].notna() & (out["time_days"] > 0) & st.notna()
    dropped = int((~ok).sum())
    out = out[ok].copy()
    out.attrs["n_dropped"] = dropped
    out.attrs["cutoff"] = cutoff
    return out


def retention_cox(
    table: pd.DataFrame,
    *,
    predictors: Sequence[str] | None = None,
    time: str | None = None,
    event: str | None = None,
    cutoff: str | pd.Timestamp | None = None,
    ties: str = "efron",
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Cox proportional-hazards model of time to churn on account-level scores.

    Answers "which scores go with churning sooner?", using active accounts
    too (as censored), unlike the logistic model.

    Parameters
    ----------
    table : DataFrame
        One row per account (:func:`account_table`).
    predictors : sequence of str, optional
        Default as :func:`retention_logit`.
    time, event : str, optional
        Existing time and 0/1 event columns.  If not given they are derived
        by :func:`time_to_churn` (years from contract start).
    cutoff : date, optional
        Passed to :func:`time_to_churn`.
    ties : {"efron", "breslow"}
        Handling of tied churn times (Efron is R's default).
    ci : float
        Confidence level (Wald).
    instrument : path or Instrument, optional
        For the default predictors.

    Returns
    -------
    DataFrame
        MODEL_COLUMNS with model "cox", one row per predictor on the log
        hazard-ratio scale; ``n_events`` the churns.  ``attrs``: ``loglik``
        (partial), ``concordance`` (Harrell's C of the linear predictor x'β̂:
        the share of comparable pairs of accounts in which the one that
        churned first had the higher risk; 0.5 is a coin toss),
        ``concordance_se`` and ``concordance_pairs``
        (:func:`helpers.stats.validation.concordance_index`).

    Notes
    -----
    h(t | x) = h₀(t)·exp(x'β), fitted by maximising Cox's partial likelihood
    (Cox 1972) with statsmodels' ``PHReg``.  The concordance is computed on
    the accounts the model was fitted on, so it is optimistic; it matches
    lifelines' and R's ``survival`` (checked on the Rossi recidivism data).  In B2B contracts churn can only
    happen at renewal, so "time" is mostly the contract length; read the
    hazard ratios as "churns at an earlier renewal".  Fewer than 10 events per
    predictor make the estimates unstable (Peduzzi et al. 1995).

    Examples
    --------
    >>> d = pd.DataFrame({"t": [5, 6, 7, 8, 9, 10, 11, 12.], "e": [1, 1, 0, 1, 0, 1, 0, 0],
    ...                   "x": [3, 1, 4, 1, 5, 2, 6, 5.]})
    >>> retention_cox(d, predictors=["x"], time="t", event="e")["model"].iloc[0]
    'cox'
    """
    from statsmodels.duration.hazard_regression import PHReg

    predictors = _retention_predictors(predictors, instrument)
    messages: list[str] = []
    if time is None or event is None:
        tt = time_to_churn(table, cutoff=cutoff)
        if tt.attrs["n_dropped"]:
            messages.append(f"{tt.attrs['n_dropped']} account(s) without usable contract dates were left out.")
        time, event = "time_years", "event"
    else:
        tt = table
    sub, n_dropped, varying, msg2 = _prepare(tt, time, predictors, required=[event])
    n_dropped += tt.attrs.get("n_dropped", 0) if tt is not table else 0
    messages += msg2
    n = len(sub)
    events = int(sub[event].sum()) if n else 0
    if events == 0 or n < len(varying) + 2:
        messages.append(f"Time to churn cannot be modelled: {events} churn(s) among {n} usable accounts.")
        return _table("cox", predictors, [], messages, n=n, n_dropped=n_dropped, n_events=events, estimator="none")
    messages += _check_messages(sub, time, varying, "cox", event=event)
    mod = PHReg(sub[time].to_numpy(dtype=float), sub[varying].to_numpy(dtype=float),
                status=sub[event].to_numpy(dtype=float), ties=ties)
    fit, trouble = _quiet_fit(mod.fit)
    coef, se = np.asarray(fit.params), np.asarray(fit.bse)
    if trouble or np.abs(coef).max() > 20:
        messages.append("The Cox model did not converge properly (possibly because a predictor separates "
                        "churners from the rest); the estimates are not reliable.")
    out = _table("cox", predictors, _wald_rows(varying, coef, se, ci), messages, n=n, n_dropped=n_dropped,
                 n_events=events, estimator=f"Cox PH, {ties} ties")
    out.attrs["loglik"] = float(fit.llf)
    from .validation import concordance_index  # validation builds on this module

    harrell = concordance_index(sub[time], sub[event], sub[varying].to_numpy(dtype=float) @ coef)
    out.attrs.update(concordance=harrell["c"], concordance_se=harrell["se"], concordance_pairs=harrell["n_pairs"])
    return out


def predict_risk(
    table: pd.DataFrame,
    *,
    predictors: Sequence[str] | None = None,
    outcome: str = "churned",
    method: str = "auto",
    ci: float = 0.95,
    top: int = 2,
    language: str = "en",
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Each account's predicted churn probability, its interval and what drives it.

    Fits :func:`retention_logit` on the accounts with a known outcome and
    predicts for every account (active ones included) — the "accounts at
    risk" list.

    Parameters
    ----------
    table : DataFrame
        One row per account (:func:`account_table`).
    predictors, outcome, method, instrument
        As :func:`retention_logit`.
    ci : float
        Confidence level of the probability interval.
    top : int
        How many risk-raising drivers to name per account.
    language : str
        Language of the driver names, "en" or "fi" (:func:`term_label`).

    Returns
    -------
    DataFrame
        account_id, name (if present), status, outcome_known, p_churn, ci_low,
        ci_high, risk_rank (1 = highest), drivers (plain text, e.g.
        "Care (gap, client − team)", or "Välittäminen (ero, asiakas − tiimi)"
        in Finnish), then contrib_<predictor> for each
        predictor (its push on the log-odds of churn relative to an average
        account), estimator, warnings.  Sorted by p_churn, highest first;
        accounts missing a predictor get NaN.

    Notes
    -----
    p = expit(x'β̂); the interval is expit(x'β̂ ± z·√(x'V̂x)) (delta method on
    the logit scale, so it stays within 0–1).  contrib_j = β̂_j·(x_j − x̄_j)
    with x̄ the mean over the fitted accounts; the drivers are the predictors
    with the largest positive contributions.  With few churners these are
    hints for a conversation, not forecasts.

    Examples
    --------
    >>> tab = pd.DataFrame({"account_id": list("abcdefgh"), "churned": [0, 0, 1, 1, 0, 1, 0, np.nan],
    ...                     "outcome_known": [True] * 7 + [False], "status": ["renewed"] * 7 + ["active"],
    ...                     "x": [3, 4, 1, 2, 5, 3, 4, 1]})
    >>> predict_risk(tab, predictors=["x"])["account_id"].iloc[0] in ("c", "h")
    True
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}.")
    inst = load_instrument(instrument)
    predictors = _retention_predictors(predictors, instrument)
    fit_tab = retention_logit(table, predictors=predictors, outcome=outcome, method=method, ci=ci,
                              instrument=instrument)
    coef = fit_tab.set_index("term")["coef"]
    used = [t for t in coef.index if t != "Intercept" and pd.notna(coef[t])]
    base_cols = [c for c in ("account_id", "name", "status", "outcome_known") if c in table]
    out = table[base_cols].copy()
    if coef.isna().all() or "cov" not in fit_tab.attrs:
        return _without_risk(out, fit_tab)
    cov = pd.DataFrame(fit_tab.attrs["cov"]).loc[["Intercept", *used], ["Intercept", *used]].to_numpy()
    b = coef[["Intercept", *used]].to_numpy(dtype=float)
    x = table[used].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    out["p_churn"], out["ci_low"], out["ci_high"] = _churn_probability(x, b, cov, ci)
    known, _ = _known(table, outcome)
    contrib = (x - known[used].apply(pd.to_numeric, errors="coerce").mean().to_numpy()) * b[1:]
    for j, t in enumerate(used):
        out[f"contrib_{t}"] = contrib[:, j]
    out["drivers"] = _driver_text(contrib, used, top=top, language=language, instrument=inst)
    out["risk_rank"] = out["p_churn"].rank(ascending=False, method="min")
    out["estimator"] = fit_tab["estimator"].iloc[0]
    out["warnings"] = fit_tab["warnings"].iloc[0]
    lead = [*base_cols, "p_churn", "ci_low", "ci_high", "risk_rank", "drivers"]
    out = out[lead + [f"contrib_{t}" for t in used] + ["estimator", "warnings"]]
    out = out.sort_values("p_churn", ascending=False, na_position="last", ignore_index=True)
    out.attrs["warnings"] = fit_tab.attrs.get("warnings", [])
    return out


def _without_risk(out: pd.DataFrame, fit_tab: pd.DataFrame) -> pd.DataFrame:
    """The accounts with empty risk columns, when the model could not be fitted (its warnings say why)."""
    out["p_churn"] = out["ci_low"] = out["ci_high"] = np.nan
    out["risk_rank"] = np.nan
    out["drivers"] = ""
    out["estimator"] = fit_tab["estimator"].iloc[0]
    out["warnings"] = fit_tab["warnings"].iloc[0]
    out.attrs["warnings"] = fit_tab.attrs.get("warnings", [])
    return out


def _churn_probability(x: np.ndarray, b: np.ndarray, cov: np.ndarray, ci: float
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted churn probability and its interval, by the delta method on the logit scale."""
    xd = np.column_stack([np.ones(len(x)), x])
    eta = xd @ b
    se = np.sqrt(np.einsum("ij,jk,ik->i", xd, cov, xd))
    z = z_value(ci)
    return special.expit(eta), special.expit(eta - z * se), special.expit(eta + z * se)


def _driver_text(contrib: np.ndarray, terms: list[str], *, top: int, language: str, instrument: Instrument
                 ) -> list[str]:
    """Per account, the ``top`` terms that raise its risk most (contribution above 0.05), named in ``language``."""
    texts = []
    for row in contrib:
        if np.isnan(row).any():
            texts.append("")
            continue
        order = np.argsort(-row)
        texts.append(", ".join(term_label(terms[j], language=language, instrument=instrument)
                               for j in order[:top] if row[j] > 0.05))
    return texts
