"""What goes with a higher NPS: OLS with cluster-robust errors, ordinal logit, mixed model.

Takes a respondent table (:func:`helpers.stats.model_data.respondent_table`) and
hands on one row per term (:mod:`helpers.stats.fitting` layout).  This is the
front: the ordinal and mixed models' fitting lives in :mod:`helpers.stats.ordinal`
and :mod:`helpers.stats.mixed`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument

from .fitting import _check_messages, _clusters, _complete_respondents, _table, _wald_rows
from .mixed import fit_random_intercept, fit_random_slope
from .ordinal import _rows, _shown, cluster_covariance, fit_ordinal, ordinal_codes

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
    levels: Sequence | None = None,
    weights: str | None = None,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Ordinal (proportional-odds) logistic regression of NPS on dimension scores.

    Treats 0–10 as ordered categories rather than a number, so the ceiling at
    10 and the unequal steps between answers do not bias the slopes.

    Parameters
    ----------
    data : DataFrame
        One row per respondent (:func:`respondent_table`), or one row per
        answer pattern with a ``weights`` column counting its respondents.
    outcome : str
        Ordered outcome: numbers (0–10 NPS; their order is numeric), an
        ordered categorical (the order of its categories), or text with its
        order given in ``levels``.  Text without ``levels`` raises a
        ValueError naming the column: its order is unknown.
    predictors : sequence of str, optional
        Predictor columns (default: every instrument dimension in ``data``).
    cluster : str or None
        Cluster column for cluster-robust (sandwich) standard errors (rows
        without it are left out); None for model-based errors.
    distr : {"logit", "probit"}
        Link.
    levels : sequence, optional
        The outcome's answers from lowest to highest (required for text;
        answers not among them raise a ValueError).  Levels that no complete
        response uses are left out, with a warning.
    weights : str, optional
        Column of case (frequency) weights: a row of weight 3 counts as three
        respondents, so grouped data need not be expanded.  Rows without a
        weight are left out; negative weights raise a ValueError.
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
        scale).  With ``weights``, ``n`` is the total weight (respondents)
        and ``n_dropped`` counts rows.  ``attrs``: ``loglik``, ``levels``
        (the answer levels used, lowest first), ``n_rows``, ``iterations``.

    Notes
    -----
    logit P(Y ≤ k | x) = θ_k − x'β (McCullagh 1980), fitted by Newton's method
    on the analytic score and Hessian (:func:`helpers.stats.ordinal.fit_ordinal`);
    a positive β moves answers up the scale, and exp(β) is the common odds
    ratio of answering above any cut-off.  Model-based errors invert the
    observed information; cluster-robust ones are the CR1 sandwich with
    statsmodels' factor G/(G−1)·(N−1)/(N−K) (:func:`helpers.stats.ordinal.cluster_covariance`).
    Matches R's ``MASS::polr`` (same sign convention; checked on its
    ``housing`` example with ``weights = Freq``) and statsmodels'
    ``OrderedModel``.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide, respondent_table
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> bool(nps_ordinal(data).set_index("term").loc["care", "coef"] > 0)
    True
    >>> sat = pd.DataFrame({"sat": ["low", "high", "mid", "high", "low", "mid"], "x": [1, 4, 2, 3, 2, 3],
    ...                     "n": [5, 3, 4, 6, 2, 5]})
    >>> res = nps_ordinal(sat, outcome="sat", predictors=["x"], levels=["low", "mid", "high"], weights="n",
    ...                   cluster=None)
    >>> res["term"].tolist(), int(res["n"].iloc[0])
    (['x', 'threshold low|mid', 'threshold mid|high'], 25)
    """
    if distr not in ("logit", "probit"):
        raise ValueError(f"distr must be 'logit' or 'probit', not {distr!r}.")
    work, declared = _ordinal_frame(data, outcome, levels, weights)
    sub, predictors, varying, n_dropped, messages = _complete_respondents(
        work, outcome, predictors, cluster, instrument, required=[weights] if weights else ())
    codes = sub[outcome].to_numpy(dtype=float)
    used = np.unique(codes)
    labels = [_fmt(v if declared is None else declared[int(v)]) for v in used]
    messages += _unused_levels(declared, used, outcome, len(sub))
    w = sub[weights].to_numpy(dtype=float) if weights else None
    n = _count(w.sum()) if weights else len(sub)
    if len(sub) < len(varying) + 3 or len(used) < 2:
        messages.append(f"Only {n} complete responses with {len(used)} distinct answers: too few for an "
                        "ordinal model.")
        return _table("ordinal", predictors, [], messages, n=n, n_dropped=n_dropped, estimator="none")
    messages += _check_messages(sub, outcome, varying, "ordinal", cluster=cluster)
    g, n_groups = _clusters(sub, cluster)
    robust = g is not None and n_groups >= 2
    fit = fit_ordinal(np.searchsorted(used, codes), sub[varying].to_numpy(dtype=float), n_levels=len(used),
                      weights=w, distr=distr)
    if fit["certain"]:
        messages.append(f"The ordinal model did not converge: {fit['certain']} answer(s) are predicted with certainty, "
                        "so a predictor separates the answers and some estimates are infinite; its estimates and "
                        "intervals are not reliable.")
    elif not fit["converged"]:
        messages.append(f"The ordinal model did not converge (after {fit['iterations']} Newton steps the largest "
                        f"score is still {fit['max_score']:.2g}); its estimates may be unreliable.")
    cov = cluster_covariance(fit, g, weights=w) if robust else fit["cov"]
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    cuts = [f"threshold {labels[i]}|{labels[i + 1]}" for i in range(len(used) - 1)]
    k = len(varying)
    rows = _wald_rows(varying, fit["beta"], se[:k], ci) + _wald_rows(cuts, fit["cuts"], se[k:], ci)
    out = _table("ordinal", predictors + cuts, rows, messages, n=n, n_dropped=n_dropped, n_groups=n_groups,
                 estimator=f"ordinal {distr}, cluster-robust" if robust else f"ordinal {distr}")
    out.attrs.update(loglik=fit["loglik"], levels=labels, n_rows=len(sub), iterations=fit["iterations"])
    return out


def _ordinal_frame(data: pd.DataFrame, outcome: str, levels, weights: str | None) -> tuple[pd.DataFrame, list | None]:
    """``data`` with the outcome as order codes (:func:`ordinal_codes`) and the weights as numbers; the levels.

    Raises a ValueError naming the rows whose weight is negative, infinite or
    not a number.
    """
    if outcome not in data.columns:
        return data, None  # the complete-case step names the missing column
    codes, declared = ordinal_codes(data[outcome], levels=levels, column=outcome)
    work = data.assign(**{outcome: codes})
    if weights and weights in data.columns:
        w = pd.to_numeric(data[weights], errors="coerce")
        bad = data[weights].notna() & ~(np.isfinite(w) & (w >= 0))
        if bad.any():
            raise ValueError(f"Column '{weights}' must hold case weights (numbers ≥ 0), but has "
                             f"{_shown(data.loc[bad, weights])} ({_rows(data.index[bad])}).")
        work[weights] = w
    return work, declared


def _unused_levels(declared: list | None, used: np.ndarray, outcome: str, n: int) -> list[str]:
    """A warning naming the declared answer levels that no complete response uses (they get no cut-point)."""
    if declared is None or not n or len(used) == len(declared):
        return []
    empty = [_fmt(v) for i, v in enumerate(declared) if i not in set(used.astype(int))]
    return [f"No complete response of {outcome} is {', '.join(empty)}: that level is left out of the ordinal model "
            "(an empty level has no cut-point)."]


def _count(total: float) -> int | float:
    """A total weight as a whole number when it is one."""
    return int(total) if float(total).is_integer() else float(total)


def _fmt(v) -> str:
    """An answer level as text: whole numbers without a decimal point."""
    return str(int(v)) if isinstance(v, (int, float, np.integer, np.floating)) and float(v).is_integer() else str(v)


def nps_mixed(
    data: pd.DataFrame,
    *,
    outcome: str = "nps",
    predictors: Sequence[str] | None = None,
    group: str = "account_id",
    random_slope: str | None = None,
    reml: bool = True,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Linear mixed model of NPS on dimension scores with a random intercept (and optionally slope) per account.

    Separates the account's general warmth (its random intercept) from what
    each dimension adds for a respondent; with ``random_slope`` it also asks
    whether that dimension matters more in some accounts than in others.

    Parameters
    ----------
    data : DataFrame
        One row per respondent (:func:`respondent_table`).
    outcome : str
        NPS column.
    predictors : sequence of str, optional
        Predictor columns (default: every instrument dimension in ``data``).
    group : str
        Grouping column for the random effects (default ``account_id``);
        rows without it are left out.
    random_slope : str, optional
        A predictor whose slope varies between accounts (e.g. ``"care"``),
        correlated with the random intercept.  Default: none.
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
        one row per predictor), then ``sd(account_id)``, with a random slope
        ``sd(care | account_id)`` and ``cor(Intercept, care | account_id)``,
        and ``sd(residual)`` (standard deviations and the correlation; se
        and CI left NaN).  ``attrs["icc"]`` is the share of residual variance
        between accounts (with a random slope: at the mean of the slope's
        predictor); ``attrs["n_fixed"]`` the number of fixed effects.

    Notes
    -----
    NPS_ij = β0 + Σ_d β_d·score_ijd + u_j + ε_ij, u_j ~ N(0, τ²), ε ~ N(0, σ²)
    (Laird & Ware 1982); ICC = τ²/(τ²+σ²).  The random intercept is fitted by
    the profiled (RE)ML criterion on per-account sums
    (:func:`helpers.stats.mixed.fit_random_intercept`); with a random slope,
    + u_1j·score_ijs with (u_j, u_1j) ~ N(0, Σ), by statsmodels' ``MixedLM``
    (:func:`helpers.stats.mixed.fit_random_slope`).  The fixed-effect SEs are
    model-based.  Match lme4's ``lmer(y ~ x + (1 | g))`` and
    ``lmer(y ~ x + (x | g))`` (checked on ``sleepstudy``).

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide, respondent_table
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> bool(nps_mixed(data).set_index("term").loc["care", "coef"] > 0)
    True
    >>> nps_mixed(data, random_slope="care")["term"].tolist()[-3:]
    ['sd(care | account_id)', 'cor(Intercept, care | account_id)', 'sd(residual)']
    """
    sub, predictors, varying, n_dropped, messages = _complete_respondents(data, outcome, predictors, group,
                                                                          instrument)
    if random_slope is not None and random_slope not in predictors:
        raise ValueError(f"random_slope must be one of the predictors {predictors}, not {random_slope!r}.")
    slope_terms = [f"sd({random_slope} | {group})", f"cor(Intercept, {random_slope} | {group})"] if random_slope else []
    terms = ["Intercept", *predictors, f"sd({group})", *slope_terms, "sd(residual)"]
    n, n_groups = len(sub), sub[group].nunique()
    if n < len(varying) + 3 or n_groups < 2:
        messages.append(f"Only {n} complete responses in {n_groups} account(s): a random intercept per account "
                        "cannot be estimated.")
        return _table("mixed", terms, [], messages, n=n, n_dropped=n_dropped, estimator="none")
    messages += _check_messages(sub, outcome, varying, "linear")
    if n_groups < 10:
        messages.append(f"Only {n_groups} accounts: the between-account variance is poorly estimated.")
    if random_slope is not None and random_slope not in varying:
        messages.append(f"{random_slope} has one value throughout, so its slope cannot vary between accounts: only "
                        "a random intercept was fitted.")
        random_slope = None
    x = np.column_stack([np.ones(n), sub[varying].to_numpy(dtype=float)])
    y = sub[outcome].to_numpy(dtype=float)
    if random_slope is None:
        rows, icc, said = _random_intercept_rows(y, x, sub[group].to_numpy(), group, reml=reml)
        estimator = "mixed, REML" if reml else "mixed, ML"
    else:
        rows, icc, said = _random_slope_rows(y, x, sub, group, random_slope, reml=reml)
        estimator = f"mixed, random {random_slope} slope, " + ("REML" if reml else "ML")
    fixed = _wald_rows(["Intercept", *varying], rows.pop("beta"), rows.pop("se"), ci)
    out = _table("mixed", terms, fixed + rows.pop("components"), messages + said, n=n, n_dropped=n_dropped,
                 n_groups=n_groups, estimator=estimator)
    out.attrs["icc"] = icc
    out.attrs["n_fixed"] = len(varying) + 1
    return out


def _random_intercept_rows(y: np.ndarray, x: np.ndarray, groups: np.ndarray, group: str, *, reml: bool
                           ) -> tuple[dict, float, list[str]]:
    """Fixed effects, SEs and the two SD rows of the random-intercept model; its ICC; what to warn about."""
    fit = fit_random_intercept(y, x, groups, reml=reml)
    tau2, sigma2 = fit["tau2"], fit["sigma2"]
    said = []
    if not fit["converged"]:
        said.append("The mixed model had trouble converging; compare with the OLS result.")
    elif fit["boundary"] or tau2 <= 1e-8:
        said.append("The estimated between-account variance is zero: accounts do not differ in NPS beyond "
                    "what the dimension scores explain, and the model reduces to OLS.")
    components = [{"term": f"sd({group})", "coef": np.sqrt(max(tau2, 0.0))},
                  {"term": "sd(residual)", "coef": np.sqrt(sigma2)}]
    icc = tau2 / (tau2 + sigma2) if tau2 + sigma2 > 0 else np.nan
    return {"beta": fit["beta"], "se": np.sqrt(np.diag(fit["cov"])), "components": components}, icc, said


def _random_slope_rows(y: np.ndarray, x: np.ndarray, sub: pd.DataFrame, group: str, slope: str, *, reml: bool
                       ) -> tuple[dict, float, list[str]]:
    """Fixed effects, SEs and the variance-component rows of the random-slope model; its ICC; warnings."""
    fit = fit_random_slope(y, x, sub[group].to_numpy(), sub[slope].to_numpy(dtype=float), reml=reml)
    re, sigma2 = fit["re_cov"], fit["sigma2"]
    sd0, sd1 = np.sqrt(max(re[0, 0], 0.0)), np.sqrt(max(re[1, 1], 0.0))
    cor = re[0, 1] / (sd0 * sd1) if sd0 > 0 and sd1 > 0 else np.nan
    said = []
    if not fit["converged"]:
        said.append("The mixed model had trouble converging; compare with the OLS result.")
    if re[1, 1] <= 1e-8 or not np.isfinite(cor) or abs(cor) > 0.999:
        said.append(f"The random slope of {slope} is estimated with no variance, or perfectly correlated with the "
                    f"random intercept: the data do not show {slope} mattering more in some accounts than in "
                    "others; read the random-intercept model instead.")
    components = [{"term": f"sd({group})", "coef": sd0}, {"term": f"sd({slope} | {group})", "coef": sd1},
                  {"term": f"cor(Intercept, {slope} | {group})", "coef": cor},
                  {"term": "sd(residual)", "coef": np.sqrt(sigma2)}]
    mean = float(sub[slope].mean())
    between = re[0, 0] + 2 * mean * re[0, 1] + mean**2 * re[1, 1]
    icc = between / (between + sigma2) if between + sigma2 > 0 else np.nan
    return {"beta": fit["beta"], "se": np.sqrt(np.diag(fit["cov"])), "components": components}, icc, said


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
