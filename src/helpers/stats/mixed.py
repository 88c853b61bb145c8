"""Linear mixed models of NPS: a random intercept per account, optionally a random slope.

Takes the outcome, a design matrix with its intercept column and the account
of each row, and hands on fixed effects, their covariance and the variance
components that :func:`helpers.stats.nps_models.nps_mixed` turns into one row
per term.  The random intercept is fitted from per-account sums (one scalar
search, well under a second on 100,000 answers); the random slope by
statsmodels' ``MixedLM``.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd
from scipy import optimize

from .diagnostics import collect_warnings

__all__ = [
    "fit_random_intercept",
    "fit_random_slope",
]

#: log(τ²/σ²) is searched over this range; beyond its lower end the account variance counts as zero.
_LOG_RATIO_RANGE = (-16.0, 12.0)


def _group_sums(y: np.ndarray, x: np.ndarray, groups) -> dict:
    """Sufficient statistics of the random-intercept model: per-group n_j, X_j'1, 1'y_j, and X'X, X'y, y'y."""
    index, uniques = pd.factorize(pd.Series(groups), sort=False)
    n_groups = len(uniques)
    n_j = np.bincount(index, minlength=n_groups).astype(float)
    s_j = np.column_stack([np.bincount(index, weights=x[:, j], minlength=n_groups) for j in range(x.shape[1])])
    t_j = np.bincount(index, weights=y, minlength=n_groups)
    return {"n_j": n_j, "s_j": s_j, "t_j": t_j, "xtx": x.T @ x, "xty": x.T @ y, "yty": float(y @ y),
            "n": len(y), "p": x.shape[1]}


def _profile(ratio: float, st: dict, reml: bool) -> tuple[float, np.ndarray, float, np.ndarray]:
    """−2 × the profiled (RE)ML log-likelihood (up to a constant) at γ = τ²/σ², with β̂(γ), σ̂²(γ) and X'V⁻¹X.

    With V = σ²(I + γZZ'), V⁻¹ per account is (I − c_j 11')/σ², c_j = γ/(1 + n_jγ), so
    X'V⁻¹X·σ² = X'X − Σ_j c_j s_j s_j' and the like, and log|I + γZZ'| = Σ_j log(1 + n_jγ).
    """
    c = ratio / (1.0 + st["n_j"] * ratio)
    a = st["xtx"] - (st["s_j"] * c[:, None]).T @ st["s_j"]
    b = st["xty"] - st["s_j"].T @ (c * st["t_j"])
    beta = np.linalg.solve(a, b)
    resid = st["yty"] - float(c @ (st["t_j"] ** 2)) - float(b @ beta)
    logdet_v = float(np.log1p(st["n_j"] * ratio).sum())
    n, p = st["n"], st["p"]
    if reml:
        sigma2 = resid / (n - p)
        sign, logdet_a = np.linalg.slogdet(a)
        return (n - p) * np.log(sigma2) + logdet_v + logdet_a, beta, sigma2, a
    sigma2 = resid / n
    return n * np.log(sigma2) + logdet_v, beta, sigma2, a


def fit_random_intercept(y: np.ndarray, x: np.ndarray, groups, *, reml: bool = True) -> dict:
    """Random-intercept linear mixed model by profiled (restricted) maximum likelihood.

    Parameters
    ----------
    y : array (n,)
        Outcome.
    x : array (n, p)
        Fixed-effects design, including the intercept column.
    groups : array-like (n,)
        Group (account) of each row.
    reml : bool
        Restricted maximum likelihood (default) or ML.

    Returns
    -------
    dict
        beta; cov (of β̂, from the inverse observed information of (β, γ) as
        statsmodels' ``MixedLM`` reports it); cov_conditional (σ̂²(X'V⁻¹X)⁻¹
        with V = I + γ̂ZZ', treating γ̂ as known, as lme4's ``vcov`` does);
        tau2 (between-group variance, 0 on the boundary), sigma2 (residual
        variance), converged (False when the search ran into its upper end),
        boundary (True when the between-group variance is estimated at
        zero), objective.

    Notes
    -----
    y_ij = x_ij'β + u_j + ε_ij, u_j ~ N(0, τ²), ε_ij ~ N(0, σ²) (Laird & Ware
    1982).  For a given γ = τ²/σ² the estimates β̂(γ) and σ̂²(γ) are in closed
    form, so the (RE)ML criterion is a function of γ alone (the profiled
    likelihood of Bates et al. 2015, J Stat Softw 67(1), §3.4).  Everything it
    needs is a per-group sum, so each evaluation costs O(G·p²) whatever the
    number of rows.  log γ is searched on a grid over [−16, 12], then refined
    by Brent's method; γ = 0 (no account variance) is compared directly.  The
    two fixed-effect covariances agree as the number of accounts grows; on
    the boundary both are the conditional one.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> g = np.repeat(np.arange(30), 10)
    >>> x = np.column_stack([np.ones(300), rng.normal(size=300)])
    >>> y = x @ [1.0, 2.0] + rng.normal(0, 1, 30)[g] + rng.normal(0, 1, 300)
    >>> fit = fit_random_intercept(y, x, g)
    >>> bool(abs(fit["beta"][1] - 2) < 0.2), bool(0.3 < fit["tau2"] < 3)
    (True, True)
    """
    st = _group_sums(np.asarray(y, dtype=float), np.asarray(x, dtype=float), groups)
    criterion = lambda log_ratio: _profile(float(np.exp(log_ratio)), st, reml)[0]  # noqa: E731
    grid = np.arange(_LOG_RATIO_RANGE[0], _LOG_RATIO_RANGE[1] + 0.25, 0.5)
    values = np.array([criterion(v) for v in grid])
    best = int(np.argmin(values))
    lo, hi = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    res = optimize.minimize_scalar(criterion, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10})
    at_zero = _profile(0.0, st, reml)[0]
    boundary = bool(best == 0 or at_zero <= res.fun)
    ratio = 0.0 if boundary else float(np.exp(res.x))
    objective, beta, sigma2, a = _profile(ratio, st, reml)
    conditional = sigma2 * np.linalg.inv(a)
    return {"beta": beta, "cov": conditional if boundary else _joint_covariance(ratio, beta, sigma2, a, st, reml),
            "cov_conditional": conditional, "tau2": ratio * sigma2, "sigma2": sigma2,
            "converged": bool(res.success) and best < len(grid) - 1, "boundary": boundary, "objective": objective}


def _joint_covariance(ratio: float, beta: np.ndarray, sigma2: float, a: np.ndarray, st: dict, reml: bool
                      ) -> np.ndarray:
    """Covariance of β̂ from the inverse observed information of (β, γ), σ² profiled out (statsmodels' convention).

    With P = X'V⁻¹X/σ² (the information for β alone), the cross term
    q = −∂²ℓ/∂β∂γ = Σ_j s_j e_j /((1 + n_jγ)²σ²), e_j the account's residual
    sum, and r = −∂²ℓ/∂γ² = −ℓ_p''(γ) + q'P⁻¹q (ℓ_p the β-profiled
    criterion, differentiated numerically), the β block of the inverse is
    (P − qq'/r)⁻¹: a little wider than σ²(X'V⁻¹X)⁻¹, which treats γ̂ as known.
    """
    info = a / sigma2
    resid = st["t_j"] - st["s_j"] @ beta
    q = (st["s_j"] * (resid / (1.0 + st["n_j"] * ratio) ** 2)[:, None]).sum(axis=0) / sigma2
    h = 1e-4 * ratio
    crit = [_profile(ratio + d * h, st, reml)[0] for d in (-1, 0, 1)]
    curvature = -0.5 * (crit[0] - 2 * crit[1] + crit[2]) / h**2  # ℓ_p'' = −½ × the criterion's second derivative
    r = -curvature + q @ np.linalg.solve(info, q)
    if not np.isfinite(r) or r <= 0:
        return sigma2 * np.linalg.inv(a)
    return np.linalg.inv(info - np.outer(q, q) / r)


def fit_random_slope(y: np.ndarray, x: np.ndarray, groups, z: np.ndarray, *, reml: bool = True) -> dict:
    """Linear mixed model with a correlated random intercept and slope per group, by statsmodels' ``MixedLM``.

    Parameters
    ----------
    y, x, groups, reml
        As :func:`fit_random_intercept`.
    z : array (n,)
        The predictor whose slope varies between groups (also a column of ``x``).

    Returns
    -------
    dict
        beta, cov (of β̂), re_cov (2 × 2 covariance of the intercept and slope
        deviations), sigma2, converged, trouble (the optimiser's warnings).

    Notes
    -----
    y_ij = x_ij'β + u_0j + u_1j·z_ij + ε_ij with (u_0j, u_1j) ~ N(0, Σ)
    (Laird & Ware 1982); the same model as lme4's ``lmer(y ~ x + (z | g))``.
    L-BFGS first, then BFGS and Powell.  statsmodels can call a fit
    converged that stopped short of the maximum (on 94,000 simulated answers
    an L-BFGS run from other start values did, 45 log-likelihood units below
    it), so a fit counts as converged only when the largest score at the
    estimate is also below 10⁻³ per observation; of the converged fits the
    one with the highest (restricted) likelihood is kept.
    """
    import statsmodels.api as sm

    model = sm.MixedLM(np.asarray(y, dtype=float), np.asarray(x, dtype=float), groups=pd.factorize(
        pd.Series(groups))[0], exog_re=np.column_stack([np.ones(len(z)), np.asarray(z, dtype=float)]))
    best, best_trouble, best_ok = None, [], False
    for method in ("lbfgs", "bfgs", "powell"):
        fit, trouble = collect_warnings(partial(model.fit, reml=reml, method=method), category=Warning)
        ok = bool(fit.converged) and not any("converge" in m.lower() for m in trouble) and _at_maximum(model, fit)
        if best is None or (ok, fit.llf) > (best_ok, best.llf):
            best, best_trouble, best_ok = fit, trouble, ok
        if ok:
            break
    p = x.shape[1]
    return {"beta": np.asarray(best.fe_params), "cov": np.asarray(best.cov_params())[:p, :p],
            "re_cov": np.asarray(best.cov_re), "sigma2": float(best.scale), "converged": best_ok,
            "trouble": best_trouble}


def _at_maximum(model, fit) -> bool:
    """Whether the largest score of the (restricted) log-likelihood at the fit is below 10⁻³ per observation."""
    score, _ = collect_warnings(partial(model.score, fit.params_object, profile_fe=False), category=Warning)
    return bool(np.all(np.isfinite(score)) and np.abs(score).max() <= 1e-3 * model.n_totobs)
