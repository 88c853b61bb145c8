"""Does client–team agreement itself predict the outcome: response-surface analysis.

Takes an account table and hands on one row per surface coefficient
(a1–a4) per dimension and outcome (Edwards & Parry 1993).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument

from .diagnostics import collect_warnings, _emit, _with_warnings
from .fitting import _check_messages, _term_frame, _unsaid, _wald_rows
from .retention import _fit_binary

__all__ = [
    "SURFACE_COLUMNS",
    "response_surface",
    "congruence",
]


SURFACE_COLUMNS = ["model", "dimension", "term", "meaning", "coef", "se", "ci_low", "ci_high", "p_val", "n",
                   "n_dropped", "n_events", "estimator", "warnings"]

_MEANING = {
    "b0": "intercept (both ratings at the centre)",
    "b1": "X (client rating), linear",
    "b2": "Y (team rating), linear",
    "b3": "X², client rating squared",
    "b4": "X·Y interaction",
    "b5": "Y², team rating squared",
    "a1": "slope along the line of agreement (X = Y)",
    "a2": "curvature along the line of agreement (X = Y)",
    "a3": "slope along the line of disagreement (X = −Y)",
    "a4": "curvature along the line of disagreement (X = −Y)",
}
SURFACE_TERMS = ["b0", "b1", "b2", "b3", "b4", "b5", "a1", "a2", "a3", "a4"]
# a = C b over (b1..b5)
_A = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 1], [1, -1, 0, 0, 0], [0, 0, 1, -1, 1]], dtype=float)


def surface_design(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The surface's design matrix: 1, X, Y, X², X·Y, Y² (X, Y already centred)."""
    return np.column_stack([np.ones(len(x)), x, y, x**2, x * y, y**2])


def _surface(model: str, rows: list[dict], messages: list[str], **common) -> pd.DataFrame:
    """The ten terms of a surface with their estimates from ``rows`` (NaN without one) and ``common``; warns."""
    out = _term_frame(SURFACE_TERMS, rows, model=model, dimension="", **common)
    out["meaning"] = out["term"].map(_MEANING)
    return _with_warnings(out, SURFACE_COLUMNS, messages, stacklevel=4)


def response_surface(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    outcome: str,
    family: str | None = None,
    centre: float | None = None,
    robust: bool = False,
    method: str = "auto",
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Polynomial regression of an outcome on two ratings, with response-surface tests.

    Parameters
    ----------
    data : DataFrame
        One row per unit (usually per account, :func:`helpers.stats.model_data.account_table`).
    x, y : str
        The two ratings: X the client's, Y the team's (e.g. ``client_care``
        and ``staff_care``).
    outcome : str
        Z: a numeric outcome (e.g. ``client_nps_mean``) or 0/1 (``churned``).
    family : {"linear", "logistic"}, optional
        Default: logistic when the outcome has only the values 0 and 1.
    centre : float, optional
        Both ratings are centred here before squaring (default: the scale
        midpoint, 3 on a 1–5 scale), so the line of agreement passes through
        the middle of the scale.
    robust : bool
        Linear family only: HC3 heteroskedasticity-robust SEs instead of the
        classical ones.
    method : str
        Logistic family only: "auto", "ml", "firth" or "ridge", as
        :func:`helpers.stats.retention.retention_logit` (auto falls back to Firth
        with few events or separation).
    ci : float
        Confidence level.
    instrument : path or Instrument, optional
        For the default centre.

    Returns
    -------
    DataFrame
        model ("response surface" or "response surface, logistic"),
        dimension (empty here; filled by :func:`congruence`), term (b0…b5,
        a1…a4), meaning, coef, se, ci_low, ci_high, p_val, n, n_dropped,
        n_events, estimator, warnings.  ``attrs["cov"]`` is the covariance of
        b0…b5 (a dict; ``pd.DataFrame(res.attrs["cov"])``).

    Notes
    -----
    Z = b0 + b1·X + b2·Y + b3·X² + b4·XY + b5·Y² (Edwards & Parry 1993, Acad
    Manage J 36:1577), with a1 = b1+b2, a2 = b3+b4+b5, a3 = b1−b2,
    a4 = b3−b4+b5 (Shanock, Baran, Gentry, Pattison & Heggestad 2010, J Bus
    Psychol 25:543).  Each a = c'b has SE √(c'Vc) from the coefficient
    covariance V; tests and intervals use t on n − 6 df (linear) or the
    normal (logistic).  Six parameters need many accounts: fewer than ~60
    (or 10 events per parameter for churn) give wide intervals, and the
    warnings say so.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> d = pd.DataFrame({"x": rng.uniform(1, 5, 200), "y": rng.uniform(1, 5, 200)})
    >>> d["z"] = 8 - 0.5 * (d["x"] - d["y"]) ** 2 + rng.normal(0, 0.3, 200)
    >>> rs = response_surface(d, x="x", y="y", outcome="z").set_index("term")
    >>> round(float(rs.loc["a4", "coef"]), 1)
    -2.0
    """
    if centre is None:
        inst = load_instrument(instrument)
        centre = (inst.scale_min + inst.scale_max) / 2
    complete, n_dropped, messages = _complete_ratings(data, x, y, outcome)
    n = len(complete)
    zv = complete[outcome].to_numpy(dtype=float)
    family = _surface_family(family, zv)
    model = "response surface" if family == "linear" else "response surface, logistic"
    common = {"n": n, "n_dropped": n_dropped, "n_events": int(zv.sum()) if family == "logistic" and n else np.nan}
    design = surface_design(complete[x].to_numpy(dtype=float) - centre, complete[y].to_numpy(dtype=float) - centre)
    problem = _why_not_estimable(design, family, common["n_events"])
    if problem:
        return _surface(model, [], [*messages, problem], **common, estimator="none")
    fit = _fit_logistic_surface(design, zv, method) if family == "logistic" else \
        _fit_linear_surface(design, zv, robust)
    rows = _surface_rows(fit["coef"], fit["cov"], ci, df=fit["df"])
    out = _surface(model, rows, messages + fit["messages"], **common, estimator=fit["estimator"])
    out.attrs["cov"] = pd.DataFrame(fit["cov"], index=SURFACE_TERMS[:6], columns=SURFACE_TERMS[:6]).to_dict()
    out.attrs["centre"] = centre
    out.attrs["family"] = family
    return out


def _complete_ratings(data: pd.DataFrame, x: str, y: str, outcome: str) -> tuple[pd.DataFrame, int, list[str]]:
    """The rows with both ratings and the outcome (as numbers), how many were dropped, and the warning saying so."""
    missing = [c for c in (x, y, outcome) if c not in data.columns]
    if missing:
        raise KeyError(f"Columns {missing} are not in the data.")
    sub = data[[x, y, outcome]].apply(pd.to_numeric, errors="coerce")
    complete = sub.dropna()
    n_dropped = len(sub) - len(complete)
    messages = [f"{n_dropped} of {len(sub)} rows were left out because {x}, {y} or {outcome} was missing."] \
        if n_dropped else []
    return complete, n_dropped, messages


def _surface_family(family: str | None, z: np.ndarray) -> str:
    """The family asked for, else logistic for a 0/1 outcome and linear otherwise."""
    if family is None:
        family = "logistic" if len(z) and set(np.unique(z)) <= {0.0, 1.0} else "linear"
    if family not in ("linear", "logistic"):
        raise ValueError(f"family must be 'linear' or 'logistic', not {family!r}.")
    return family


def _why_not_estimable(design: np.ndarray, family: str, events: float) -> str:
    """Why the six-term surface cannot be fitted to ``design``; empty when it can."""
    n = len(design)
    if n < 8 or np.linalg.matrix_rank(design) < 6:
        return f"Only {n} usable rows (or ratings without enough spread): the six-term surface cannot be estimated."
    if family == "logistic" and events in (0, n):
        return "Every unit has the same outcome, so nothing can be learnt about what predicts it."
    return ""


def _fit_logistic_surface(design: np.ndarray, z: np.ndarray, method: str) -> dict:
    """b0…b5 and their covariance for a 0/1 outcome, by the estimator ``method`` picks (as in ``retention_logit``)."""
    names = ["X", "Y", "X2", "XY", "Y2"]
    fit = _fit_binary(design, z, ["Intercept", *names], method=method)
    checks = _check_messages(pd.DataFrame(design[:, 1:], columns=names).assign(z=z), "z", names, "logistic",
                             only=["events_per_variable"])
    return {"coef": fit["coef"], "cov": fit["cov"], "estimator": fit["estimator"], "df": None,
            "messages": fit["messages"] + _unsaid(checks, fit["messages"])}


def _fit_linear_surface(design: np.ndarray, z: np.ndarray, robust: bool) -> dict:
    """b0…b5 and their covariance by OLS (HC3 if ``robust``), with t on n − 6 df."""
    import statsmodels.api as sm

    res = sm.OLS(z, design).fit(cov_type="HC3" if robust else "nonrobust")
    n = len(z)
    messages = [f"Only {n} units for a six-term surface: the curvature terms (a2, a4) are imprecise."] \
        if n < 60 else []
    return {"coef": np.asarray(res.params), "cov": np.asarray(res.cov_params()),
            "estimator": "OLS, HC3" if robust else "OLS", "df": n - 6, "messages": messages}


def _surface_rows(b: np.ndarray, cov: np.ndarray, ci: float, *, df: int | None) -> list[dict]:
    """Wald rows of b0…b5 and of a1…a4 = C·b, each a with SE √(c'Vc)."""
    a = _A @ b[1:]
    a_se = np.sqrt(np.einsum("ij,jk,ik->i", _A, cov[1:, 1:], _A))
    return _wald_rows(SURFACE_TERMS, np.concatenate([b, a]), np.concatenate([np.sqrt(np.diag(cov)), a_se]), ci, df=df)


def congruence(
    table: pd.DataFrame,
    *,
    dimensions: Sequence[str] | None = None,
    outcome: str = "client_nps_mean",
    family: str | None = None,
    centre: float | None = None,
    method: str = "auto",
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Response-surface analysis of client–team agreement for every dimension.

    Parameters
    ----------
    table : DataFrame
        One row per account (:func:`helpers.stats.model_data.account_table`) with
        ``client_<d>`` and ``staff_<d>`` columns.  For a churn outcome only
        accounts with ``outcome_known`` are used.
    dimensions : sequence of str, optional
        Default: every instrument dimension present.
    outcome : str
        ``client_nps_mean`` (default), ``client_nps`` or ``churned``.
    family, centre, method, ci, instrument
        As :func:`response_surface`.

    Returns
    -------
    DataFrame
        The rows of :func:`response_surface` for each dimension, with
        ``dimension`` filled.

    Notes
    -----
    X = client mean, Y = staff mean of the same dimension.  Staff means
    suppressed for anonymity are missing and those accounts are left out
    (counted in n_dropped).  Ten surfaces means ten chances of a false
    positive: read a4 together with its interval and across dimensions, and
    correct p-values for multiplicity (e.g.
    :func:`helpers.stats.gaps.benjamini_hochberg`) before naming a finding.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import account_table, answers_from_wide
    >>> sim = simulate(seed=2, n_accounts=80, waves=("2026Q3",))
    >>> tab = account_table(answers_from_wide(sim.responses), sim.responses, sim.accounts, min_group_size=1)
    >>> sorted(congruence(tab, dimensions=["care"])["term"].unique())[:2]
    ['a1', 'a2']
    """
    dims = load_instrument(instrument).dimension_ids if dimensions is None else list(dimensions)
    data = table
    if outcome == "churned" and "outcome_known" in table:
        data = table[table["outcome_known"].astype(bool)]
    parts = []
    present = [d for d in dims if f"client_{d}" in data and f"staff_{d}" in data]
    for d in present:
        res, caught = collect_warnings(partial(response_surface, data, x=f"client_{d}", y=f"staff_{d}",
                                                outcome=outcome, family=family, centre=centre, method=method, ci=ci,
                                                instrument=instrument), category=Warning)
        _emit([f"{d}: {m}" for m in caught], stacklevel=2)
        res["dimension"] = d
        parts.append(res)
    if not parts:
        return pd.DataFrame(columns=SURFACE_COLUMNS)
    for p in parts:
        p.attrs = {"warnings": p.attrs.get("warnings", [])}
    out = pd.concat(parts, ignore_index=True)
    out.attrs["warnings"] = [f"{p['dimension'].iloc[0]}: {m}" for p in parts for m in p.attrs.get("warnings", [])]
    return out
