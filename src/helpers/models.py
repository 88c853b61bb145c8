"""Models: what drives client NPS, and what predicts renewal or churn.

Two tables feed everything here:

* :func:`respondent_table` — one row per client response: its NPS and its
  score on every dimension (for the NPS models and key-driver analysis);
* :func:`account_table` — one row per account (× wave if asked): client and
  staff means per dimension, their gaps, client NPS, renewal status and dates
  (for the retention models, congruence and the at-risk list).

The NPS models (:func:`nps_ols`, :func:`nps_ordinal`, :func:`nps_mixed`) and the
retention models (:func:`retention_logit`, :func:`retention_cox`,
:func:`retention_cv`, :func:`predict_risk`) all return tidy frames with one row
per estimate and the same core columns::

    model, term, coef, se, ci_low, ci_high, p_val, n, n_dropped, n_groups,
    n_events, estimator, warnings

``n`` is the number of rows the model used, ``n_dropped`` the rows left out for
a missing value, and ``warnings`` a plain-language sentence (or "") saying when
the estimates should not be trusted — the same text is in
``result.attrs["warnings"]`` as a list.  Logistic and Cox coefficients are on
the log-odds and log-hazard scale; ``np.exp`` of coef, ci_low and ci_high gives
odds or hazard ratios.
"""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from .diagnostics import (
    MIN_EVENTS_PER_VARIABLE,
    ModelWarning,
    _with_warnings,
    detect_separation,
    trust_checks,
)
from .instrument import LANGUAGES, Instrument, load_instrument
from .privacy import MIN_GROUP_SIZE, suppress_small_groups
from .scores import nps as nps_score
from .scores import normal_p_value, respondent_scores, t_p_value, t_value, z_value

__all__ = [
    "MODEL_COLUMNS",
    "answers_from_wide",
    "respondent_table",
    "account_table",
    "nps_ols",
    "nps_ordinal",
    "nps_mixed",
    "nps_models",
    "firth_logit",
    "ridge_logit",
    "retention_logit",
    "time_to_churn",
    "retention_cox",
    "cv_predictions",
    "cv_scores",
    "retention_cv",
    "calibration_table",
    "plot_calibration",
    "predict_risk",
    "term_label",
    "auc",
    "brier",
]

MODEL_COLUMNS = ["model", "term", "coef", "se", "ci_low", "ci_high", "p_val", "n", "n_dropped", "n_groups",
                 "n_events", "estimator", "warnings"]
KNOWN_OUTCOMES = ("renewed", "churned")


# ---------------------------------------------------------------------------
# Small shared pieces
# ---------------------------------------------------------------------------
def _dims(instrument: str | Instrument | None) -> list[str]:
    return load_instrument(instrument).dimension_ids


def _emit(messages: Sequence[str]) -> None:
    for m in messages:
        _warnings.warn(m, ModelWarning, stacklevel=3)


def _table(model: str, terms: Sequence[str], rows: Sequence[dict], messages: Sequence[str], **common
           ) -> pd.DataFrame:
    """A model result: one row per term of ``terms``, in that order, that warns.

    A term's estimates come from its row in ``rows`` (see :func:`_wald_rows`);
    a term without one (a predictor left out as constant, or every term when
    nothing could be fitted) keeps its place with NaN estimates.  ``common``
    (n, n_dropped, n_groups, n_events, estimator) goes on every row, and the
    warnings are stated and emitted at the model function's caller.
    """
    fitted = {r["term"]: r for r in rows}
    out = pd.DataFrame([{"model": model, "term": t, **common, **fitted.get(t, {})} for t in terms])
    return _with_warnings(out, MODEL_COLUMNS, messages, stacklevel=4)


def _prepare(data: pd.DataFrame, outcome: str, predictors: Sequence[str], keep: Sequence[str] = (),
             required: Sequence[str] = ()) -> tuple[pd.DataFrame, int, list[str], list[str]]:
    """Complete cases, the number dropped, predictors that vary, and warnings.

    ``required`` columns (a cluster, group or event column) must be in the
    data and complete, like the outcome and predictors, and rows without them
    are counted as dropped; ``keep`` columns are carried along when present.
    """
    needed = [outcome, *predictors, *required]
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        raise KeyError(f"Columns {missing} are not in the data (it has {list(data.columns)}).")
    cols = list(dict.fromkeys([*needed, *[k for k in keep if k in data.columns]]))
    sub = data[cols].copy()
    for c in [outcome, *predictors]:
        sub[c] = pd.to_numeric(sub[c], errors="coerce")
    complete = sub.dropna(subset=needed)
    n_dropped = len(sub) - len(complete)
    messages = []
    if n_dropped:
        what = ", ".join([outcome, *[c for c in required if sub[c].isna().any()]])
        messages.append(f"{n_dropped} of {len(sub)} rows were left out because {what} or a predictor was missing.")
    varying = [p for p in predictors if complete[p].nunique() > 1]
    const = [p for p in predictors if p not in varying]
    if const and len(complete):
        messages.append(f"{', '.join(const)} {'has' if len(const) == 1 else 'have'} the same value in every row, "
                        "so its effect cannot be estimated; it was left out.")
    return complete, n_dropped, varying, messages


def _check_messages(data, outcome, predictors, kind, cluster=None, event=None) -> list[str]:
    checks = trust_checks(data, outcome=outcome, predictors=predictors, kind=kind, cluster=cluster, event=event)
    return checks.loc[~checks["passed"] & (checks["check"] != "constant"), "message"].tolist()


def _wald_rows(terms, coef, se, ci, *, df=None) -> list[dict]:
    """term, coef, se, ci_low, ci_high, p_val per term: t on ``df`` degrees of freedom, else normal."""
    crit = t_value(ci, df) if df else z_value(ci)
    rows = []
    for t, b, s in zip(terms, coef, se):
        stat = b / s if s > 0 else np.nan
        p = t_p_value(stat, df) if df else normal_p_value(stat)
        rows.append({"term": t, "coef": float(b), "se": float(s), "ci_low": float(b - crit * s),
                     "ci_high": float(b + crit * s), "p_val": float(p)})
    return rows


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------
def answers_from_wide(
    responses: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    keep: Sequence[str] = ("account_id", "side", "wave", "role", "team"),
) -> pd.DataFrame:
    """Long item answers from a wide frame with one column per item.

    Turns e.g. :attr:`helpers.sample.Simulation.responses` into the shape of
    :func:`helpers.store.load_answers`.

    Parameters
    ----------
    responses : DataFrame
        One row per response with ``response_id`` and one column per item id.
    instrument : path or Instrument, optional
        Which columns are items (default: the flamekit instrument).
    keep : sequence of str
        Response-level columns carried to every answer row when present.

    Returns
    -------
    DataFrame
        response_id, *keep, item, value — one row per response × item.

    Notes
    -----
    A plain ``melt``; NaN answers ("don't know") are kept as NaN.

    Examples
    --------
    >>> wide = pd.DataFrame({"response_id": ["r1"], "care_1": [4.0], "care_2": [5.0]})
    >>> answers_from_wide(wide, keep=())["value"].tolist()
    [4.0, 5.0]
    """
    items = [i for i in load_instrument(instrument).item_ids if i in responses.columns]
    keep = [c for c in keep if c in responses.columns]
    return responses.melt(id_vars=["response_id", *keep], value_vars=items, var_name="item", value_name="value")


def respondent_table(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    side: str | None = "client",
    instrument: str | Instrument | None = None,
    min_items: int | None = None,
) -> pd.DataFrame:
    """One row per response: NPS and the respondent's score on every dimension.

    The input to the NPS models and the key-driver analysis.

    Parameters
    ----------
    answers : DataFrame
        Long item answers (:func:`helpers.store.load_answers`).
    responses : DataFrame
        One row per response with ``response_id``, ``account_id``, ``side``,
        ``wave`` and ``nps`` (:func:`helpers.store.load_responses`).
    side : {"client", "staff"} or None
        Keep one side (default clients); None keeps both.
    instrument : path or Instrument, optional
        Dimensions and items (default: the flamekit instrument).
    min_items : int, optional
        Fewest answered items for a dimension score (default: the
        instrument's); fewer gives NaN, which the models count as dropped.

    Returns
    -------
    DataFrame
        response_id, account_id, side, wave, nps, then one column per
        dimension (e.g. excitement … care) with the item mean.

    Notes
    -----
    Dimension scores are item means (see :func:`helpers.scores.respondent_scores`).

    Examples
    --------
    >>> ans = pd.DataFrame({"response_id": ["r1"] * 2, "item": ["care_1", "care_2"], "value": [4.0, 5.0]})
    >>> resp = pd.DataFrame({"response_id": ["r1"], "account_id": ["A1"], "side": ["client"],
    ...                      "wave": ["2026Q1"], "nps": [9]})
    >>> respondent_table(ans, resp)[["nps", "care"]].to_dict("records")
    [{'nps': 9.0, 'care': 4.5}]
    """
    dims = _dims(instrument)
    scores = respondent_scores(answers[["response_id", "item", "value"]], instrument=instrument,
                               min_items=min_items, keep=())
    wide = scores.pivot_table(index="response_id", columns="dimension", values="score", aggfunc="first",
                              dropna=False)
    wide = wide.reindex(columns=dims).reset_index()
    wide.columns.name = None
    meta = responses[[c for c in ("response_id", "account_id", "side", "wave", "nps") if c in responses]].copy()
    out = meta.merge(wide, on="response_id", how="left")
    if side is not None and "side" in out:
        out = out[out["side"] == side]
    if "nps" in out:
        out["nps"] = pd.to_numeric(out["nps"], errors="coerce").astype(float)
    return out.reset_index(drop=True)


def account_table(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    waves: str | Sequence[str] | None = None,
    by_wave: bool = False,
    before_renewal: bool = True,
    min_group_size: int = MIN_GROUP_SIZE,
    instrument: str | Instrument | None = None,
    min_items: int | None = None,
) -> pd.DataFrame:
    """One row per account (or account × wave): client and staff means, gaps, NPS and outcome.

    The input to the retention models, congruence analysis and the at-risk list.

    Parameters
    ----------
    answers : DataFrame
        Long item answers (:func:`helpers.store.load_answers`), both sides.
    responses : DataFrame
        Responses (:func:`helpers.store.load_responses`): response_id,
        account_id, side, wave, nps.
    accounts : DataFrame
        Accounts (:func:`helpers.store.load_accounts`): account_id, status,
        contract_start, renewal_date (name, segment, annual_value if present).
    waves : str, list of str or None
        Which waves to use: None all waves, a wave id or list of ids, or
        ``"latest"`` for each account's latest wave with client answers
        (after the renewal rule below, so the latest wave *before* renewal).
    by_wave : bool
        One row per account × wave instead of pooling the chosen waves.
    before_renewal : bool
        For accounts with a known outcome (renewed or churned), use only the
        responses submitted before the renewal date (default), so that the
        scores can predict the decision rather than react to it.  Set False
        only for questions that are not about the outcome (e.g. how the team
        rates an account next to its client's NPS at the same time).  See
        Notes.
    min_group_size : int
        Staff means from fewer staff responses are blanked (NaN) to protect
        anonymity (:func:`helpers.privacy.suppress_small_groups`), and so
        are the gaps computed from them (default 5).
    instrument : path or Instrument, optional
        Dimensions and items.
    min_items : int, optional
        Fewest answered items for a respondent's dimension score.

    Returns
    -------
    DataFrame
        account_id, [wave], name, segment, annual_value, status,
        contract_start, renewal_date, outcome_known (status is renewed or
        churned), churned (1 churned, 0 renewed, NaN otherwise), n_client,
        n_staff, staff_suppressed, client_nps (−100…100), client_nps_mean
        (0–10), n_nps, then client_<dimension>, staff_<dimension> and
        gap_<dimension> (client − staff) for every dimension.
        ``attrs["n_staff_suppressed"]`` counts the rows whose staff means were
        blanked; accounts with no answers at all keep a row with NaN scores.
        ``attrs`` also report the renewal rule: ``before_renewal`` (bool),
        ``n_after_renewal`` (responses left out because they were given on or
        after the account's renewal date), ``n_accounts_after_renewal``
        (accounts that lost responses so), ``n_no_answers_before_renewal``
        (accounts with a known outcome left with no response at all) and
        ``n_timing_unknown`` (responses of accounts with a known outcome whose
        timing could not be checked and were kept).

    Notes
    -----
    Means are means of respondent dimension scores (each respondent weighs
    the same).  Gap_d = client mean_d − staff mean_d, so a negative gap is a
    blind spot (the team rates itself higher than the client does).  Pooling
    waves gives more precise account means; the planted retention effects in
    :mod:`helpers.sample` act on the latest wave, and waves drift little.

    **Timing rule** (``before_renewal=True``).  A predictor must be measured
    before the outcome it predicts: an answer given after a churn decision
    may be a reaction to it.  So for an account whose status is renewed or
    churned, a response counts only if it was submitted strictly before the
    account's renewal date (``submitted_at < renewal_date``, both sides,
    every wave).  A response without ``submitted_at`` takes the median
    ``submitted_at`` of its wave (over all responses of that wave).  Active
    accounts (and any status other than renewed or churned) keep every
    response passed in, i.e. all waves up to the wave analysed.  Responses
    whose timing cannot be checked (no renewal date, or no submission time
    in the whole wave) are kept, counted in ``n_timing_unknown`` and named in
    a warning.  An account with a known outcome and no earlier response keeps
    its row with NaN scores, which the models count as dropped.

    Examples
    --------
    >>> from helpers.sample import simulate
    >>> sim = simulate(seed=1, n_accounts=8)
    >>> tab = account_table(answers_from_wide(sim.responses), sim.responses, sim.accounts)
    >>> len(tab), "gap_care" in tab
    (8, True)
    """
    dims = _dims(instrument)
    resp = responses.copy()
    resp["nps"] = pd.to_numeric(resp["nps"], errors="coerce")
    latest = isinstance(waves, str) and waves == "latest"
    if waves is not None and not latest:
        wl = _as_list(waves)
        unknown = sorted(set(wl) - set(resp["wave"].unique()))
        if unknown:
            raise ValueError(f"Waves {unknown} are not in the responses (they have "
                             f"{sorted(resp['wave'].unique())}).")
        resp = resp[resp["wave"].isin(wl)]
    timing = {"before_renewal": bool(before_renewal), "n_after_renewal": 0, "n_accounts_after_renewal": 0,
              "n_no_answers_before_renewal": 0, "n_timing_unknown": 0}
    messages: list[str] = []
    if before_renewal:
        resp, timing, messages = _before_renewal(resp, accounts)
    if latest:
        client = resp[resp["side"] == "client"]
        last = client.groupby("account_id")["wave"].max()
        resp = resp[resp["wave"] == resp["account_id"].map(last)]
    keys = ["account_id", "wave"] if by_wave else ["account_id"]
    ans = answers[answers["response_id"].isin(resp["response_id"])]
    sc = respondent_scores(ans[["response_id", "item", "value"]], instrument=instrument, min_items=min_items,
                           keep=())
    sc = sc.merge(resp[["response_id", "account_id", "side", "wave"]], on="response_id", how="inner")
    means = sc.groupby([*keys, "side", "dimension"], observed=True)["score"].mean().unstack(["side", "dimension"])
    counts = resp.groupby([*keys, "side"])["response_id"].nunique().unstack("side")
    out = pd.DataFrame(index=counts.index)
    out["n_client"] = counts.get("client", pd.Series(0, index=counts.index)).fillna(0).astype(int)
    out["n_staff"] = counts.get("staff", pd.Series(0, index=counts.index)).fillna(0).astype(int)
    client = resp[resp["side"] == "client"]
    if len(client):
        npsd = nps_score(client, score="nps", by=keys).set_index(keys)
        out["client_nps"] = npsd["nps"]
        out["client_nps_mean"] = client.groupby(keys)["nps"].mean()
        out["n_nps"] = npsd["n"]
    else:
        out["client_nps"], out["client_nps_mean"], out["n_nps"] = np.nan, np.nan, 0
    out["n_nps"] = out["n_nps"].fillna(0).astype(int)
    for side in ("client", "staff"):
        for d in dims:
            col = (side, d)
            out[f"{side}_{d}"] = means[col].reindex(out.index) if col in means.columns else np.nan
    out = suppress_small_groups(out, n="n_staff", min_group_size=min_group_size,
                                columns=[f"staff_{d}" for d in dims])
    out["staff_suppressed"] = out.pop("suppressed") & (out["n_staff"] > 0)
    for d in dims:
        out[f"gap_{d}"] = out[f"client_{d}"] - out[f"staff_{d}"]
    out = out.reset_index()
    acc_cols = [c for c in ("account_id", "name", "segment", "annual_value", "status", "contract_start",
                            "renewal_date") if c in accounts.columns]
    acc = accounts[acc_cols].copy()
    if by_wave:
        out = acc.merge(out, on="account_id", how="right")
    else:
        out = acc.merge(out, on="account_id", how="outer")
        out["n_client"] = out["n_client"].fillna(0).astype(int)
        out["n_staff"] = out["n_staff"].fillna(0).astype(int)
        out["n_nps"] = out["n_nps"].fillna(0).astype(int)
        out["staff_suppressed"] = out["staff_suppressed"].astype("boolean").fillna(False).astype(bool)
    status = out["status"] if "status" in out else pd.Series(pd.NA, index=out.index)
    out["outcome_known"] = status.isin(KNOWN_OUTCOMES).astype(bool)
    out["churned"] = np.where(status == "churned", 1.0, np.where(status == "renewed", 0.0, np.nan))
    for c in ("contract_start", "renewal_date"):
        if c in out:
            out[c] = pd.to_datetime(out[c], errors="coerce")
    lead = ["account_id", *(["wave"] if by_wave else []),
            *[c for c in ("name", "segment", "annual_value", "status", "contract_start", "renewal_date") if c in out],
            "outcome_known", "churned", "n_client", "n_staff", "staff_suppressed", "client_nps", "client_nps_mean",
            "n_nps"]
    score_cols = [f"{s}_{d}" for s in ("client", "staff", "gap") for d in dims]
    out = out[lead + score_cols].sort_values(keys, ignore_index=True)
    out.attrs["n_staff_suppressed"] = int(out["staff_suppressed"].sum())
    out.attrs["min_group_size"] = int(min_group_size)
    out.attrs.update(timing)
    if out.attrs["n_staff_suppressed"]:
        messages.append(f"Staff means of {out.attrs['n_staff_suppressed']} account row(s) were hidden because fewer "
                        f"than {min_group_size} staff answered; their gaps are missing too.")
    _emit(messages)
    return out


def _before_renewal(resp: pd.DataFrame, accounts: pd.DataFrame) -> tuple[pd.DataFrame, dict, list[str]]:
    """Drop responses of decided accounts given on or after the renewal date (see :func:`account_table`)."""
    acc = accounts.drop_duplicates("account_id").set_index("account_id")
    status = resp["account_id"].map(acc["status"]) if "status" in acc else pd.Series(pd.NA, index=resp.index)
    known = status.isin(KNOWN_OUTCOMES).to_numpy()
    renewal = pd.to_datetime(resp["account_id"].map(acc["renewal_date"]), errors="coerce") \
        if "renewal_date" in acc else pd.Series(pd.NaT, index=resp.index, dtype="datetime64[ns]")
    if "submitted_at" in resp:
        when = pd.to_datetime(resp["submitted_at"], errors="coerce")
        if getattr(when.dt, "tz", None) is not None:
            when = when.dt.tz_localize(None)
        when = when.fillna(when.groupby(resp["wave"]).transform("median"))
    else:
        when = pd.Series(pd.NaT, index=resp.index, dtype="datetime64[ns]")
    unknown = known & (when.isna() | renewal.isna()).to_numpy()
    after = known & ~unknown & (when >= renewal).to_numpy()
    kept = resp[~after]
    decided = set(resp.loc[known, "account_id"])
    n_after, n_acc = int(after.sum()), int(resp.loc[after, "account_id"].nunique())
    n_empty = len(decided - set(kept["account_id"]))
    timing = {"before_renewal": True, "n_after_renewal": n_after, "n_accounts_after_renewal": n_acc,
              "n_no_answers_before_renewal": n_empty, "n_timing_unknown": int(unknown.sum())}
    messages = []
    if n_after:
        messages.append(f"{n_after} response(s) of {n_acc} account(s) with a known outcome were given on or after "
                        "the renewal date and were left out, so that the scores come before the decision they are "
                        "used to predict" + (f"; {n_empty} of these accounts have no earlier answers and no scores."
                                             if n_empty else "."))
    if unknown.any():
        n_unknown_acc = resp.loc[unknown, "account_id"].nunique()
        messages.append(f"{int(unknown.sum())} response(s) of {n_unknown_acc} account(s) with a known outcome have no "
                        "submission time or no renewal date, so whether they came before the renewal decision "
                        "cannot be checked; they were kept.")
    return kept, timing, messages


# ---------------------------------------------------------------------------
# NPS models
# ---------------------------------------------------------------------------
def _as_list(columns: str | Sequence[str]) -> list[str]:
    """One column name or several, as a list."""
    return [columns] if isinstance(columns, str) else list(columns)


def _default_predictors(data: pd.DataFrame, predictors, instrument) -> list[str]:
    if predictors is not None:
        return _as_list(predictors)
    return [d for d in _dims(instrument) if d in data.columns]


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
    >>> from helpers.sample import simulate
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> bool(nps_ols(data).set_index("term").loc["care", "coef"] > 0)
    True
    """
    import statsmodels.api as sm

    predictors = _default_predictors(data, predictors, instrument)
    sub, n_dropped, varying, messages = _prepare(data, outcome, predictors, required=[cluster] if cluster else [])
    terms = ["Intercept", *predictors]
    n = len(sub)
    if n < len(varying) + 2:
        messages.append(f"Only {n} complete responses: too few to fit the model.")
        return _table("ols", terms, [], messages, n=n, n_dropped=n_dropped, estimator="none")
    messages += _check_messages(sub, outcome, varying, "linear", cluster=cluster)
    x = sm.add_constant(sub[varying].to_numpy(dtype=float), has_constant="add")
    y = sub[outcome].to_numpy(dtype=float)
    g = pd.factorize(sub[cluster])[0] if cluster else None
    n_groups = int(g.max() + 1) if g is not None else np.nan
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
    >>> from helpers.sample import simulate
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> bool(nps_ordinal(data).set_index("term").loc["care", "coef"] > 0)
    True
    """
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    predictors = _default_predictors(data, predictors, instrument)
    sub, n_dropped, varying, messages = _prepare(data, outcome, predictors, required=[cluster] if cluster else [])
    n = len(sub)
    levels = np.sort(sub[outcome].unique())
    if n < len(varying) + 3 or len(levels) < 2:
        messages.append(f"Only {n} complete responses with {len(levels)} distinct answers: too few for an "
                        "ordinal model.")
        return _table("ordinal", predictors, [], messages, n=n, n_dropped=n_dropped, estimator="none")
    messages += _check_messages(sub, outcome, varying, "ordinal", cluster=cluster)
    y = pd.Series(pd.Categorical(sub[outcome], categories=levels, ordered=True))
    x = sub[varying].to_numpy(dtype=float)
    mod = OrderedModel(y, x, distr=distr)
    g = pd.factorize(sub[cluster])[0] if cluster else None
    n_groups = int(g.max() + 1) if g is not None else np.nan
    fit_kw = {"method": "bfgs", "disp": False, "maxiter": 2000}
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        if g is not None and n_groups >= 2:
            fit = mod.fit(cov_type="cluster", cov_kwds={"groups": g}, **fit_kw)
            estimator = f"ordinal {distr}, cluster-robust"
        else:
            fit = mod.fit(**fit_kw)
            estimator = f"ordinal {distr}"
    if any("converge" in str(w.message).lower() for w in caught) or not fit.mle_retvals.get("converged", True):
        messages.append("The ordinal model did not converge; its estimates may be unreliable.")
    params, cov = np.asarray(fit.params), np.asarray(fit.cov_params())
    k = len(varying)
    rows = _wald_rows(varying, params[:k], np.sqrt(np.diag(cov)[:k]), ci)
    a = params[k:]
    cuts = a[0] + np.concatenate([[0.0], np.cumsum(np.exp(a[1:]))])
    jac = np.zeros((len(a), len(a)))
    jac[:, 0] = 1.0
    for i in range(1, len(a)):
        jac[i, 1:i + 1] = np.exp(a[1:i + 1])
    cut_se = np.sqrt(np.diag(jac @ cov[k:, k:] @ jac.T))
    labels = [f"threshold {_fmt(levels[i])}|{_fmt(levels[i + 1])}" for i in range(len(levels) - 1)]
    rows += _wald_rows(labels, cuts, cut_se, ci)
    out = _table("ordinal", predictors + labels, rows, messages, n=n, n_dropped=n_dropped, n_groups=n_groups,
                 estimator=estimator)
    out.attrs["loglik"] = float(fit.llf)
    return out


def _fmt(v) -> str:
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
    >>> from helpers.sample import simulate
    >>> sim = simulate(seed=3, n_accounts=30)
    >>> data = respondent_table(answers_from_wide(sim.responses), sim.responses)
    >>> bool(nps_mixed(data).set_index("term").loc["care", "coef"] > 0)
    True
    """
    import statsmodels.api as sm

    predictors = _default_predictors(data, predictors, instrument)
    sub, n_dropped, varying, messages = _prepare(data, outcome, predictors, required=[group])
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
    x = sm.add_constant(sub[varying].to_numpy(dtype=float), has_constant="add")
    y = sub[outcome].to_numpy(dtype=float)
    g = pd.factorize(sub[group])[0]
    model = sm.MixedLM(y, x, groups=g)
    for method in ("bfgs", "powell"):
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            fit = model.fit(reml=reml, method=method)
        bad = [w for w in caught if "converge" in str(w.message).lower()]
        if fit.converged and not bad:
            break
    boundary = float(np.asarray(fit.cov_re).ravel()[0]) <= 1e-8
    if bad or not fit.converged:
        messages.append("The mixed model had trouble converging; compare with the OLS result.")
    elif boundary:
        messages.append("The estimated between-account variance is zero: accounts do not differ in NPS beyond "
                        "what the dimension scores explain, and the model reduces to OLS.")
    k = x.shape[1]
    estimator = "mixed, REML" if reml else "mixed, ML"
    rows = _wald_rows(["Intercept", *varying], np.asarray(fit.fe_params), np.asarray(fit.bse_fe), ci)
    tau2 = float(np.asarray(fit.cov_re).ravel()[0])
    sigma2 = float(fit.scale)
    rows += [{"term": f"sd({group})", "coef": np.sqrt(max(tau2, 0.0))},
             {"term": "sd(residual)", "coef": np.sqrt(sigma2)}]
    out = _table("mixed", terms, rows, messages, n=n, n_dropped=n_dropped, n_groups=n_groups, estimator=estimator)
    out.attrs["icc"] = tau2 / (tau2 + sigma2) if tau2 + sigma2 > 0 else np.nan
    out.attrs["n_fixed"] = k
    return out


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
    >>> from helpers.sample import simulate
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


# ---------------------------------------------------------------------------
# Binary outcomes: ML, Firth, ridge
# ---------------------------------------------------------------------------
def _loglik(x, y, beta, offset=0.0):
    eta = x @ beta + offset
    return float(np.sum(y * eta - np.logaddexp(0, eta)))


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
        mu = special.expit(x @ b)
        w = mu * (1 - mu)
        sign, logdet = np.linalg.slogdet(x.T @ (w[:, None] * x))
        return _loglik(x, y, b) + 0.5 * logdet if sign > 0 else -np.inf

    current = pen(beta)
    converged, it = False, 0
    for it in range(1, max_iter + 1):
        mu = special.expit(x @ beta)
        w = mu * (1 - mu)
        info = x.T @ (w[:, None] * x)
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
    mu = special.expit(x @ beta)
    w = mu * (1 - mu)
    cov = np.linalg.pinv(x.T @ (w[:, None] * x))
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
        mu = special.expit(x @ beta)
        w = mu * (1 - mu)
        hess = x.T @ (w[:, None] * x) + prec
        step = np.linalg.solve(hess, x.T @ (y - mu) - prec @ beta)
        beta = beta + step
        if np.abs(step).max() < tol:
            converged = True
            break
    mu = special.expit(x @ beta)
    cov = np.linalg.inv(x.T @ ((mu * (1 - mu))[:, None] * x) + prec)
    return {"coef": beta, "cov": cov, "se": np.sqrt(np.diag(cov)), "loglik": _loglik(x, y, beta),
            "converged": converged}


def _ml_logit(x, y, max_iter: int = 100) -> dict:
    """Plain maximum likelihood by Newton–Raphson with step-halving; never raises."""
    beta = np.zeros(x.shape[1])
    converged = False
    current = _loglik(x, y, beta)
    for _ in range(max_iter):
        mu = special.expit(x @ beta)
        w = mu * (1 - mu)
        step = np.linalg.pinv(x.T @ (w[:, None] * x)) @ (x.T @ (y - mu))
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
    mu = special.expit(x @ beta)
    cov = np.linalg.pinv(x.T @ ((mu * (1 - mu))[:, None] * x))
    finite = np.all(np.isfinite(beta)) and np.abs(beta).max() < 30
    return {"coef": beta, "cov": cov, "se": np.sqrt(np.clip(np.diag(cov), 0, None)), "loglik": current,
            "converged": bool(converged and finite)}


def _fit_binary(x: np.ndarray, y: np.ndarray, names: Sequence[str], method: str = "auto",
                prior_sd: float = 1.0, quiet: bool = False) -> dict:
    """Fit ML, Firth or ridge logistic regression; ``auto`` picks Firth when ML is unsafe."""
    if method not in ("auto", "ml", "firth", "ridge"):
        raise ValueError(f"method must be 'auto', 'ml', 'firth' or 'ridge', not {method!r}.")
    messages: list[str] = []
    n_events = float(min(y.sum(), len(y) - y.sum()))
    n_pred = x.shape[1] - 1
    sep = detect_separation(x, y, names=names)
    use = method
    if method == "auto":
        if sep["separated"]:
            use = "firth"
            messages.append(f"The outcome is perfectly predicted by {', '.join(sep['terms']) or 'the predictors'} "
                            "(separation): ordinary maximum likelihood has no finite estimate, so Firth's "
                            "penalised likelihood was used; its estimates are shrunk towards zero.")
        elif n_events / max(n_pred, 1) < MIN_EVENTS_PER_VARIABLE:
            use = "firth"
            messages.append(f"Only {n_events:g} accounts in the smaller outcome group for {n_pred} predictor(s) "
                            f"(fewer than {MIN_EVENTS_PER_VARIABLE} per predictor): Firth's penalised likelihood "
                            "was used to reduce small-sample bias; treat the coefficients as rough indications.")
        else:
            use = "ml"
    elif method == "ml" and sep["separated"]:
        messages.append(f"The outcome is perfectly predicted by {', '.join(sep['terms']) or 'the predictors'} "
                        "(separation): maximum-likelihood estimates are infinite and meaningless here; use "
                        "method='firth'.")
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


def _retention_predictors(predictors, instrument) -> list[str]:
    if predictors is not None:
        return _as_list(predictors)
    dims = _dims(instrument)
    return [f"client_{d}" for d in dims] + [f"gap_{d}" for d in dims]


def _known(table: pd.DataFrame, outcome: str) -> tuple[pd.DataFrame, list[str]]:
    messages = []
    if "outcome_known" in table:
        known = table[table["outcome_known"].astype(bool)]
        if len(known) < len(table):
            messages.append(f"{len(table) - len(known)} account(s) without a known outcome (still active) were "
                            "left out of the fit.")
    else:
        known = table
    return known.dropna(subset=[outcome]), messages


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
    said = " ".join(fit["messages"])
    checks = _check_messages(sub, outcome, varying, "logistic")
    messages = fit["messages"] + messages + [
        m for m in checks
        if not ("separation" in m and "separation" in said) and not ("per predictor" in m and "per predictor" in said)]
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
        hazard-ratio scale; ``n_events`` the churns.

    Notes
    -----
    h(t | x) = h₀(t)·exp(x'β), fitted by maximising Cox's partial likelihood
    (Cox 1972) with statsmodels' ``PHReg``.  In B2B contracts churn can only
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
    with _warnings.catch_warnings(record=True) as caught:
        _warnings.simplefilter("always")
        fit = mod.fit()
    coef, se = np.asarray(fit.params), np.asarray(fit.bse)
    if any("converge" in str(w.message).lower() for w in caught) or np.abs(coef).max() > 20:
        messages.append("The Cox model did not converge properly (possibly because a predictor separates "
                        "churners from the rest); the estimates are not reliable.")
    out = _table("cox", predictors, _wald_rows(varying, coef, se, ci), messages, n=n, n_dropped=n_dropped,
                 n_events=events, estimator=f"Cox PH, {ties} ties")
    out.attrs["loglik"] = float(fit.llf)
    return out


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
        _emit(messages)
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
            pred = np.full(n, np.nan)
            xall = sub[cols_m].to_numpy(dtype=float)
            for f in range(k):
                test, train = fold == f, fold != f
                xt = xall[train]
                vary = xt.std(axis=0) > 0
                xd = np.column_stack([np.ones(train.sum()), xt[:, vary]])
                fit = _fit_binary(xd, y[train], ["Intercept", *np.asarray(cols_m)[vary]], method=method)
                firth_in_folds |= any("Firth" in m or "separation" in m for m in fit["messages"])
                xtest = np.column_stack([np.ones(test.sum()), xall[test][:, vary]])
                pred[test] = special.expit(xtest @ fit["coef"])
            frames.append(pd.DataFrame({"account_id": ids, "repeat": r, "fold": fold, "model": name,
                                        "predicted": pred, "churned": y}))
    if firth_in_folds:
        messages.append("In some cross-validation folds the fit needed Firth's penalised likelihood (few events or "
                        "separation).")
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(n=n, n_events=events, n_dropped=n_dropped, folds=k, repeats=repeats,
                     warnings=list(dict.fromkeys(messages)))
    _emit(out.attrs["warnings"])
    return out


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
        predictions (as a dict of columns) for :func:`calibration_table`, and
        ``attrs["warnings"]`` the warnings.

    Notes
    -----
    See :func:`cv_predictions` and :func:`cv_scores`.  Hand-written rather
    than scikit-learn's, to keep the kit's dependencies small and to refit the
    Firth fallback inside every fold.

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


def plot_calibration(calibration: pd.DataFrame, *, ax=None, title: str | None = None):
    """Calibration plot: observed churn rate against predicted probability, one line per model.

    Parameters
    ----------
    calibration : DataFrame
        From :func:`calibration_table`.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if None.
    title : str, optional
        Axes title.

    Returns
    -------
    matplotlib Axes
        The diagonal (perfect calibration) plus one line with error bars per
        model.

    Notes
    -----
    Points above the diagonal: more churn than predicted (risk understated).
    Error bars run from ci_low to ci_high; limits on the wrong side of the
    observed rate (rounding, or a table from elsewhere) are drawn as zero
    length rather than rejected.

    Examples
    --------
    >>> cal = pd.DataFrame({"model": "m", "bin": [1, 2], "n": [3, 3], "mean_predicted": [.2, .7],
    ...                     "observed": [.33, .67], "ci_low": [.06, .21], "ci_high": [.79, .94]})
    >>> len(plot_calibration(cal).lines) >= 2
    True
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="#868e96", ls="--", lw=1, label="perfect calibration")
    colors = {"model": "#d9480f", "baseline": "#1864ab"}
    for model, grp in calibration.groupby("model", sort=False):
        yerr = np.vstack([grp["observed"] - grp["ci_low"], grp["ci_high"] - grp["observed"]]).astype(float)
        yerr = np.clip(np.nan_to_num(yerr, nan=0.0), 0.0, None)
        ax.errorbar(grp["mean_predicted"], grp["observed"], yerr=yerr, marker="o", capsize=3,
                    color=colors.get(model), label=f"{model} (n = {int(grp['n'].sum())})")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("Predicted churn probability")
    ax.set_ylabel("Observed churn rate")
    ax.set_title(title or "Calibration (cross-validated)")
    ax.legend(loc="upper left", fontsize=8)
    return ax


# ---------------------------------------------------------------------------
# Accounts at risk
# ---------------------------------------------------------------------------
_TERM_TEXT = {
    "en": {"client": "client", "staff": "team", "gap": "gap, client − team", "nps": "NPS",
           "client_nps": "client NPS", "client_nps_mean": "client NPS (0–10 mean)", "churned": "churn"},
    "fi": {"client": "asiakas", "staff": "tiimi", "gap": "ero, asiakas − tiimi", "nps": "NPS",
           "client_nps": "asiakkaiden NPS", "client_nps_mean": "asiakkaiden NPS (0–10 keskiarvo)",
           "churned": "asiakkuuden päättyminen"},
}


def term_label(term: str, *, language: str = "en", instrument: str | Instrument | None = None) -> str:
    """Display name of a model term or outcome, from the instrument: ``gap_care`` → "Care (gap, client − team)".

    Parameters
    ----------
    term : str
        A dimension id, ``client_<d>``, ``staff_<d>``, ``gap_<d>`` (the
        columns of :func:`account_table`), an outcome (``nps``,
        ``client_nps``, ``client_nps_mean``, ``churned``) or any other term
        (returned with spaces for underscores).
    language : str
        "en" or "fi": dimension labels from the instrument, the few words
        around them from this module.
    instrument : path or Instrument, optional
        Dimension labels (default: the flamekit instrument).

    Returns
    -------
    str

    Notes
    -----
    The one place terms get their names, used by the at-risk drivers text
    (:func:`predict_risk`), :mod:`helpers.drivers` and :mod:`helpers.portfolio`.

    Examples
    --------
    >>> term_label("staff_care", language="fi")
    'Välittäminen (tiimi)'
    >>> term_label("gap_impact")
    'Impact (gap, client − team)'
    """
    if not isinstance(term, str):
        return term
    inst = load_instrument(instrument)
    text = _TERM_TEXT.get(language, _TERM_TEXT["en"])
    if term in inst.dimension_ids:
        return inst.label(term, language)
    for prefix in ("client", "staff", "gap"):
        rest = term[len(prefix) + 1:]
        if term.startswith(prefix + "_") and rest in inst.dimension_ids:
            return f"{inst.label(rest, language)} ({text[prefix]})"
    if term in text and term not in ("client", "staff", "gap"):
        return text[term]
    return term.replace("_", " ")


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
        out["p_churn"] = out["ci_low"] = out["ci_high"] = np.nan
        out["risk_rank"] = np.nan
        out["drivers"] = ""
        out["estimator"] = fit_tab["estimator"].iloc[0]
        out["warnings"] = fit_tab["warnings"].iloc[0]
        out.attrs["warnings"] = fit_tab.attrs.get("warnings", [])
        return out
    cov = pd.DataFrame(fit_tab.attrs["cov"]).loc[["Intercept", *used], ["Intercept", *used]].to_numpy()
    b = coef[["Intercept", *used]].to_numpy(dtype=float)
    x = table[used].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    xd = np.column_stack([np.ones(len(x)), x])
    eta = xd @ b
    se = np.sqrt(np.einsum("ij,jk,ik->i", xd, cov, xd))
    z = z_value(ci)
    out["p_churn"] = special.expit(eta)
    out["ci_low"] = special.expit(eta - z * se)
    out["ci_high"] = special.expit(eta + z * se)
    known, _ = _known(table, outcome)
    centre = known[used].apply(pd.to_numeric, errors="coerce").mean().to_numpy()
    contrib = (x - centre) * b[1:]
    for j, t in enumerate(used):
        out[f"contrib_{t}"] = contrib[:, j]
    texts = []
    for row in contrib:
        if np.isnan(row).any():
            texts.append("")
            continue
        order = np.argsort(-row)
        names = [term_label(used[j], language=language, instrument=inst) for j in order[:top] if row[j] > 0.05]
        texts.append(", ".join(names))
    out["drivers"] = texts
    out["risk_rank"] = out["p_churn"].rank(ascending=False, method="min")
    out["estimator"] = fit_tab["estimator"].iloc[0]
    out["warnings"] = fit_tab["warnings"].iloc[0]
    lead = [*base_cols, "p_churn", "ci_low", "ci_high", "risk_rank", "drivers"]
    out = out[lead + [f"contrib_{t}" for t in used] + ["estimator", "warnings"]]
    out = out.sort_values("p_churn", ascending=False, na_position="last", ignore_index=True)
    out.attrs["warnings"] = fit_tab.attrs.get("warnings", [])
    return out
