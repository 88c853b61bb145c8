"""What goes with a higher NPS: OLS with cluster-robust errors, ordinal logit, mixed model.

Takes a respondent table (:func:`helpers.stats.model_data.respondent_table`) and
hands on one row per term (:mod:`helpers.stats.fitting` layout).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument

from .fitting import _check_messages, _clusters, _complete_respondents, _quiet_fit, _table, _wald_rows

__all__ = [
    "nps_ols",
    "nps_ordinal",
    "nps_mixed",
    "nps_models",
]


def nps_ols(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    predictors: Sequence[str] | None = None,
    cluster: str | None = "account_id",
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Linear regression of respondent NPS on dimension scores, SEs clustered by account.

    Answers "one point more on care goes with how many NPS points more, the
    other dimensions held equal?".

    Parameters
    ----------
    data : DataFrame
        One row per respondent (:func:`respondent_table`).
    outcome : str
        The 0–10 NPS column.
    predictors : sequence of str, optional
        Predictor columns (default: every instrument dimension in ``data``).
    cluster : str or None
        Cluster column for cluster-robust standard errors (default
        ``account_id``); rows without it are left out (and counted in
        n_dropped).  None gives heteroskedasticity-robust HC1 errors.
    ci : float
        Confidence level.
    instrument : path or Instrument, optional
        For the default predictors.

    Returns
    -------
    DataFrame
        model ("ols"), term ("Intercept" and one per predictor), coef, se,
        ci_low, ci_high, p_val, n, n_dropped, n_groups (clusters), n_events
        (NaN), estimator, warnings; ``attrs["r2"]``.

    Notes
    -----
    NPS_i = β0 + Σ_d β_d·score_id + ε_i, fitted by OLS.  Respondents of one
    account are not independent, so the covariance is the CR1 sandwich
    V = (X'X)⁻¹ (Σ_g X_g'e_g e_g'X_g) (X'X)⁻¹ · G/(G−1) · (N−1)/(N−K) with t
    intervals on G − 1 degrees of freedom (Cameron & Miller 2015, "A
    practitioner's guide to cluster-robust inference", J Hum Resour 50:317).
    NPS is a rounded, bounded 0–10 answer; near the ceiling the linear slope
    understates the latent effect a little — :func:`nps_ordinal` respects the
    scale.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide, respondent_table
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> bool(nps_ols(data).set_index("term").loc["care", "coef"] > 0)
    True
    """
    import statsmodels.api as sm

    sub, predictors, varying, n_dropped, messages = _complete_respondents(data, outcome, predictors, cluster,
                                                                          instrument)
    terms = ["Intercept", *predictors]
    n = len(sub)
    if n < len(varying) + 2:
        messages.append(f"Only {n} complete responses: too few to fit the model.")
        return _table("ols", terms, [], messages, n=n, n_dropped=n_dropped, estimator="none")
    messages += _check_messages(sub, outcome, varying, "linear", cluster=cluster)
    x = sm.add_constant(sub[varying].to_numpy(dtype=float), has_constant="add")
    y = sub[outcome].to_numpy(dtype=float)
    g, n_groups = _clusters(sub, cluster)
    if g is not None and n_groups >= 2:
        fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": g}, use_t=True)
        df, estimator = n_groups - 1, "ols, CR1 cluster-robust"
    else:
        if g is not None:
            messages.append("All respondents come from one account, so standard errors cannot allow for "
                            "clustering; heteroskedasticity-robust errors are shown instead.")
        fit = sm.OLS(y, x).fit(cov_type="HC1", use_t=True)
        df, estimator = n - x.shape[1], "ols, HC1 robust"
    rows = _wald_rows(["Intercept", *varying], fit.params, fit.bse, ci, df=df)
    out = _table("ols", terms, rows, messages, n=n, n_dropped=n_dropped, n_groups=n_groups, estimator=estimator)
    out.attrs["r2"] = float(fit.rsquared)
    return out


def nps_ordinal(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    predictors: Sequence[str] | None = None,
    cluster: str | None = "account_id",
    distr: str = "logit",
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Ordinal (proportional-odds) logistic regression of NPS on dimension scores.

    Treats 0–10 as ordered categories rather than a number, so the ceiling at
    10 and the unequal steps between answers do not bias the slopes.

    Parameters
    ----------
    data : DataFrame
        One row per respondent (:func:`respondent_table`).
    outcome : str
        Ordered outcome (0–10 NPS, or any ordered numeric/categorical column).
    predictors : sequence of str, optional
        Predictor columns (default: every instrument dimension in ``data``).
    cluster : str or None
        Cluster column for cluster-robust (sandwich) standard errors (rows
        without it are left out); None for model-based errors.
    distr : {"logit", "probit"}
        Link.
    ci : float
        Confidence level.
    instrument : path or Instrument, optional
        For the default predictors.

    Returns
    -------
    DataFrame
        As :func:`nps_ols` with model "ordinal": one row per predictor (log
        cumulative odds of a *higher* answer per point) and one row per
        threshold, term ``"threshold k|k+1"`` (cut-points on the latent
        scale, SE by the delta method).

    Notes
    -----
    logit P(Y ≤ k | x) = θ_k − x'β (McCullagh 1980), fitted by statsmodels'
    ``OrderedModel``; a positive β moves answers up the scale, and exp(β) is
    the common odds ratio of answering above any cut-off.  statsmodels
    parametrises θ_1 and log increments; cut-points are θ_k = a_1 +
    Σ_{j≤k} exp(a_j) and their covariance J V J' with the Jacobian J.
    Matches R's ``MASS::polr`` (same sign convention).

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide, respondent_table
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> bool(nps_ordinal(data).set_index("term").loc["care", "coef"] > 0)
    True
    """
    sub, predictors, varying, n_dropped, messages = _complete_respondents(data, outcome, predictors, cluster,
                                                                          instrument)
    n = len(sub)
    levels = np.sort(sub[outcome].unique())
    if n < len(varying) + 3 or len(levels) < 2:
        messages.append(f"Only {n} complete responses with {len(levels)} distinct answers: too few for an "
                        "ordinal model.")
        return _table("ordinal", predictors, [], messages, n=n, n_dropped=n_dropped, estimator="none")
    messages += _check_messages(sub, outcome, varying, "ordinal", cluster=cluster)
    g, n_groups = _clusters(sub, cluster)
    fit, estimator, converged = _fit_ordered(sub, outcome, varying, levels, distr=distr,
                                             groups=g if g is not None and n_groups >= 2 else None)
    if not converged:
        messages.append("The ordinal model did not converge; its estimates may be unreliable.")
    params, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
    k = len(varying)
    rows = _wald_rows(varying, params[:k], np.sqrt(np.diag(cov)[:k]), ci)
    labels = [f"threshold {_fmt(levels[i])}|{_fmt(levels[i + 1])}" for i in range(len(levels) - 1)]
    rows += _wald_rows(labels, *_cut_points(params[k:], cov[k:, k:]), ci)
    out = _table("ordinal", predictors + labels, rows, messages, n=n, n_dropped=n_dropped, n_groups=n_groups,
                 estimator=estimator)
    out.attrs["loglik"] = float(fit.llf)
    return out


def _fit_ordered(sub: pd.DataFrame, outcome: str, predictors: list[str], levels: np.ndarray, *, distr: str,
                 groups: np.ndarray | None):
    """The fitted ``OrderedModel`` (cluster-robust given ``groups``), its estimator name, and whether it converged."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    y = pd.Series(pd.Categorical(sub[outcome], categories=levels, ordered=True))
    mod = OrderedModel(y, sub[predictors].to_numpy(dtype=float), distr=distr)
    fit_kw = {"method": "bfgs", "disp": False, "maxiter": 2000}
    if groups is not None:
        fit, trouble = _quiet_fit(partial(mod.fit, cov_type="cluster", cov_kwds={"groups": groups}, **fit_kw))
        estimator = f"ordinal {distr}, cluster-robust"
    else:
        fit, trouble = _quiet_fit(partial(mod.fit, **fit_kw))
        estimator = f"ordinal {distr}"
    return fit, estimator, not trouble and fit.mle_retvals.get("converged", True)


def _cut_points(a: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cut-points θ_k = a_1 + Σ_{j≤k} exp(a_j) from statsmodels' increments, and their delta-method SEs."""
    cuts = a[0] + np.concatenate([[0.0], np.cumsum(np.exp(a[1:]))])
    jac = np.zeros((len(a), len(a)))
    jac[:, 0] = 1.0
    for i in range(1, len(a)):
        jac[i, 1:i + 1] = np.exp(a[1:i + 1])
    return cuts, np.sqrt(np.diag(jac @ cov @ jac.T))


def _fmt(v) -> str:
    """An answer level as text: whole numbers without a decimal point."""
    return str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer() else str(v)


def nps_mixed(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    predictors: Sequence[str] | None = None,
    group: str = "account_id",
    reml: bool = True,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Linear mixed model of NPS on dimension scores with a random intercept per account.

    Separates the account's general warmth (its random intercept) from what
    each dimension adds for a respondent.

    Parameters
    ----------
    data : DataFrame
        One row per respondent (:func:`respondent_table`).
    outcome : str
        NPS column.
    predictors : sequence of str, optional
        Predictor columns (default: every instrument dimension in ``data``).
    group : str
        Grouping column for the random intercept (default ``account_id``);
        rows without it are left out.
    reml : bool
        Restricted maximum likelihood (default) or ML.
    ci : float
        Confidence level (Wald, normal).
    instrument : path or Instrument, optional
        For the default predictors.

    Returns
    -------
    DataFrame
        As :func:`nps_ols` with model "mixed": fixed effects (Intercept and
        one row per predictor), then ``sd(account_id)`` and ``sd(residual)``
        (standard deviations; se and CI left NaN).  ``attrs["icc"]`` is the
        share of residual variance between accounts.

    Notes
    -----
    NPS_ij = β0 + Σ_d β_d·score_ijd + u_j + ε_ij, u_j ~ N(0, τ²), ε ~ N(0, σ²)
    (Laird & Ware 1982), fitted by statsmodels' ``MixedLM``; ICC = τ²/(τ²+σ²).
    The fixed-effect SEs are model-based.  Matches lme4's
    ``lmer(y ~ x + (1 | g))``.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide, respondent_table
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> bool(nps_mixed(data).set_index("term").loc["care", "coef"] > 0)
    True
    """
    sub, predictors, varying, n_dropped, messages = _complete_respondents(data, outcome, predictors, group,
                                                                          instrument)
    n = len(sub)
    terms = ["Intercept", *predictors, f"sd({group})", "sd(residual)"]
    n_groups = sub[group].nunique()
    if n < len(varying) + 3 or n_groups < 2:
        messages.append(f"Only {n} complete responses in {n_groups} account(s): a random intercept per account "
                        "cannot be estimated.")
        return _table("mixed", terms, [], messages, n=n, n_dropped=n_dropped, estimator="none")
    messages += _check_messages(sub, outcome, varying, "linear")
    if n_groups < 10:
        messages.append(f"Only {n_groups} accounts: the between-account variance is poorly estimated.")
    fit, converged = _fit_mixed(sub, outcome, varying, group, reml=reml)
    tau2 = float(np.asarray(fit.cov_re).ravel()[0])
    sigma2 = float(fit.scale)
    if not converged:
        messages.append("The mixed model had trouble converging; compare with the OLS result.")
    elif tau2 <= 1e-8:
        messages.append("The estimated between-account variance is zero: accounts do not differ in NPS beyond "
                        "what the dimension scores explain, and the model reduces to OLS.")
    rows = _wald_rows(["Intercept", *varying], np.asarray(fit.fe_params), np.asarray(fit.bse_fe), ci)
    rows += [{"term": f"sd({group})", "coef": np.sqrt(max(tau2, 0.0))},
             {"term": "sd(residual)", "coef": np.sqrt(sigma2)}]
    out = _table("mixed", terms, rows, messages, n=n, n_dropped=n_dropped, n_groups=n_groups,
                 estimator="mixed, REML" if reml else "mixed, ML")
    out.attrs["icc"] = tau2 / (tau2 + sigma2) if tau2 + sigma2 > 0 else np.nan
    out.attrs["n_fixed"] = len(varying) + 1
    return out


def _fit_mixed(sub: pd.DataFrame, outcome: str, predictors: list[str], group: str, *, reml: bool):
    """The fitted ``MixedLM`` with a random intercept per ``group`` (BFGS, else Powell), and whether it converged."""
    import statsmodels.api as sm

    x = sm.add_constant(sub[predictors].to_numpy(dtype=float), has_constant="add")
    model = sm.MixedLM(sub[outcome].to_numpy(dtype=float), x, groups=pd.factorize(sub[group])[0])
    for method in ("bfgs", "powell"):
        fit, trouble = _quiet_fit(partial(model.fit, reml=reml, method=method))
        if fit.converged and not trouble:
            break
    return fit, fit.converged and not trouble


def nps_models(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    predictors: Sequence[str] | None = None,
    cluster: str = "account_id",
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """The three NPS models side by side: OLS (clustered), ordinal logit and mixed model.

    Parameters
    ----------
    data, outcome, predictors, ci, instrument
        As :func:`nps_ols`.
    cluster : str
        Account column, used for clustering and as the random-intercept group.

    Returns
    -------
    DataFrame
        The rows of :func:`nps_ols`, :func:`nps_ordinal` and
        :func:`nps_mixed`, told apart by ``model``.

    Notes
    -----
    OLS and the mixed model are on the NPS-point scale, the ordinal model on
    the log-odds scale: compare signs, significance and ranking across
    models, not sizes.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide, respondent_table
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> sorted(nps_models(data)["model"].unique())
    ['mixed', 'ols', 'ordinal']
    """
    parts = [nps_ols(data, outcome=outcome, predictors=predictors, cluster=cluster, ci=ci, instrument=instrument),
             nps_ordinal(data, outcome=outcome, predictors=predictors, cluster=cluster, ci=ci, instrument=instrument),
             nps_mixed(data, outcome=outcome, predictors=predictors, group=cluster, ci=ci, instrument=instrument)]
    out = pd.concat(parts, ignore_index=True)
    out.attrs["warnings"] = [m for p in parts for m in p.attrs.get("warnings", [])]
    return out
