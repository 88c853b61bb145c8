"""Accounts at risk: signals, a churn model's ranking and the honest check against NPS alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.data.privacy import MIN_GROUP_SIZE
from helpers.stats.diagnostics import fit_with_warnings

__all__ = [
    "PortfolioWarning",
    "RULE",
    "current_nps",
    "ranking_decision",
    "MIN_OUTCOME_GROUP",
    "risk_signals",
    "accounts_at_risk",
    "baseline_verdict",
]


class PortfolioWarning(UserWarning):
    """A portfolio result is shown but should be read with care (few accounts, no churners, …)."""


# ---------------------------------------------------------------------------
# Accounts at risk
# ---------------------------------------------------------------------------
#: Fewest accounts in the smaller outcome group (churned or renewed) before a
#: churn model says more than a guess; below it the list carries a warning.
MIN_OUTCOME_GROUP = 5


def current_nps(account_nps: pd.DataFrame, responses: pd.DataFrame, *, wave: str, previous: str | None,
                withheld: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each account's client NPS of the wave and its change since ``previous``, as far as both may be published.

    Parameters
    ----------
    account_nps : DataFrame
        :func:`helpers.stats.comparisons.nps_vs_portfolio` of the wave (hidden NPS already blank).
    responses : DataFrame
        Responses of both waves (account_id, side, wave, nps).
    wave, previous : str
    withheld : DataFrame, optional
        :func:`helpers.data.disclosure.withheld`: a change is not given when either wave's NPS is held back.

    Returns
    -------
    DataFrame
        account_id, nps, nps_change (NaN where not published or no earlier wave).
    """
    from helpers.stats.comparisons import nps_change_tests

    out = account_nps[["account_id", "nps"]].copy()
    out["nps_change"] = np.nan
    if previous is None:
        return out
    ch = nps_change_tests(responses, wave_from=previous, wave_to=wave, account="account_id", score="nps",
                          side="client", ci=0.95, alpha=0.05).set_index("account_id")["change"]
    held = set()
    if withheld is not None and len(withheld):
        w = withheld[(withheld["dimension"] == "nps") & withheld["wave"].isin([previous, wave])]
        held = set(w["account_id"])
    shown = out["nps"].notna() & ~out["account_id"].isin(held)
    out["nps_change"] = out["account_id"].map(ch).astype(float).where(shown)
    return out


def risk_signals(
    heatmap: pd.DataFrame,
    gaps: pd.DataFrame | None = None,
    account_nps: pd.DataFrame | None = None,
    *,
    account: str = "account_id",
    language: str = "en",
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Model-free warning signs per account: what is clearly below the portfolio or a clear blind spot.

    Parameters
    ----------
    heatmap : DataFrame
        :func:`dimension_heatmap` of one wave (client side).
    gaps : DataFrame, optional
        :func:`gap_map` of the same wave; clear blind spots count.
        Suppressed team groups never appear (they are not significant).
    account_nps : DataFrame, optional
        :func:`nps_vs_portfolio` of the same wave; NPS clearly below the rest
        counts.
    language : str
        Dimension labels in the text.

    Returns
    -------
    DataFrame
        account_id, n_signals, signals (text, "; "-separated, with n) — one
        row per account with at least one signal.

    Notes
    -----
    Every signal is a test that passed its table's Benjamini–Hochberg
    correction (false discovery rate as chosen there), so the list inherits
    those corrections; it needs no outcome data and no model.
    """
    inst = load_instrument(instrument)
    labels = inst.labels(language)
    rows: list[tuple[str, str]] = []
    low = heatmap[(heatmap["direction"] == "below")]
    for r in low.itertuples():
        rows.append((getattr(r, account), f"{labels.get(r.dimension, r.dimension)} {r.mean:.1f} vs {r.rest_mean:.1f} "
                                         f"for the rest (n={int(r.n)})"))
    if gaps is not None and len(gaps):
        blind = gaps[gaps["significant"] & (gaps["gap"] < 0)]
        for r in blind.itertuples():
            rows.append((getattr(r, account), f"blind spot on {labels.get(r.dimension, r.dimension)}: client "
                                             f"{r.client_mean:.1f} vs team {r.staff_mean:.1f} "
                                             f"(n={int(r.n_client)}/{int(r.n_staff)})"))
    if account_nps is not None and len(account_nps):
        bad = account_nps[account_nps["direction"] == "below"]
        for r in bad.itertuples():
            rows.append((getattr(r, account), f"NPS {r.nps:+.0f} vs {r.rest_nps:+.0f} for the rest (n={int(r.n)})"))
    out = pd.DataFrame(rows, columns=[account, "signal"])
    if out.empty:
        return pd.DataFrame(columns=[account, "n_signals", "signals"])
    g = out.groupby(account, sort=True)["signal"]
    return pd.DataFrame({account: list(g.groups), "n_signals": g.size().to_numpy(),
                         "signals": g.agg("; ".join).to_numpy()})


def accounts_at_risk(
    table: pd.DataFrame,
    *,
    signals: pd.DataFrame | None = None,
    predictors: Sequence[str] | None = None,
    method: str = "auto",
    ci: float = 0.95,
    top: int = 2,
    active: str = "active",
    current: pd.DataFrame | None = None,
    rank_by_model: bool = False,
    today: str | pd.Timestamp | None = None,
    language: str = "en",
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Accounts whose renewal is still open, with the reasons, in the order that deserves attention.

    A churn model is trained on the accounts whose outcome is known (renewed
    or churned) and applied to the accounts still ``active`` — only those can
    be "at risk".  The list is ranked by the model's churn probability only
    when ``rank_by_model`` (the caller has checked, out of sample, that the
    model ranks churners better than NPS alone: :func:`ranking_decision`);
    otherwise by a stated, transparent rule (:data:`RULE`): the number of
    warning signals, then the client NPS of the wave (lowest first), then its
    change since the previous wave (largest fall first), then how soon the
    renewal is, then the contract value (largest first).

    Parameters
    ----------
    table : DataFrame
        One row per account from :func:`helpers.stats.model_data.account_table` (client
        and team means, gaps, client NPS, status, outcome_known, churned;
        team means of small groups already blanked there).
    signals : DataFrame, optional
        :func:`risk_signals`, merged in as model-free reasons.
    predictors : sequence of str, optional
        Model predictors (default: those of
        :func:`helpers.stats.retention.retention_logit` — client scores and gaps).
    method, ci, top
        As :func:`helpers.stats.retention.predict_risk` (``top`` = how many
        risk-raising dimensions to name).
    active : str
        The status of accounts without an outcome yet.
    current : DataFrame, optional
        The wave's client NPS per account and its change (account_id, nps,
        nps_change; NaN where not published), for the rule and for the page.
    rank_by_model : bool
        Rank by the model's probability (True) or by the rule (False, default).
    today : date, optional
        For "how soon the renewal is" (default: now).
    language : str
        Language of the dimension names in ``drivers``, "en" or "fi".

    Returns
    -------
    DataFrame
        account_id, name, renewal_date, days_to_renewal, n_client (every
        answer of the waves the model pooled, ``attrs["waves"]``), n_staff
        (likewise), nps, nps_change (the wave's, when ``current`` is given),
        p_churn, ci_low, ci_high, risk_rank (1 = first on the list), drivers
        (model: dimensions pushing the risk up), n_signals, signals (tests:
        see :func:`risk_signals`), annual_value, value_at_risk (p_churn ×
        annual value), value_low, value_high.  Only active accounts, in the
        list's order; probabilities are NaN when no model can be trained.
        ``attrs``: ranking ("model" or "rule"), rule (the rule in words),
        warnings (list of sentences: the model's own and this function's),
        n_known, n_events, n_active, estimator, summary (one sentence).

    Warns
    -----
    PortfolioWarning
        When the model cannot be trained or says little: no account with a
        known outcome, no churned (or no renewed) account, fewer than
        ``MIN_OUTCOME_GROUP`` accounts in the smaller outcome group, or no
        active account; also when ``table.attrs`` report hidden team views or
        answers left out by the renewal-date rule of
        :func:`helpers.stats.model_data.account_table`.  The model's own warnings (few
        events per predictor, separation, collinearity) are collected in
        ``attrs["warnings"]`` rather than raised again.

    Notes
    -----
    p̂ = expit(x'β̂) with a Wald interval on the logit scale,
    expit(x'β̂ ± z·√(x'V̂x)); β̂ by maximum likelihood, or Firth's penalised
    likelihood with few events or separation (Firth 1993; Heinze & Schemper
    2002).  Value at risk = p̂ × annual value, with the probability's interval.
    Events per variable below 10 make any logistic model unstable (Peduzzi et
    al. 1996): with a typical B2B portfolio of a few dozen decided renewals,
    read the list as a prompt for conversations, and check the model against
    an NPS-only baseline out of sample (:func:`helpers.stats.validation.retention_cv`)
    before trusting its ranking.
    """
    import warnings as _w

    known = table["outcome_known"].astype(bool) if "outcome_known" in table else table["status"].isin(
        ["renewed", "churned"])
    n_known = int(known.sum())
    y = pd.to_numeric(table.loc[known, "churned"], errors="coerce") if "churned" in table else pd.Series(
        dtype=float)
    n_events = int((y == 1).sum())
    is_active = table["status"] == active
    n_active = int(is_active.sum())
    messages = [*_training_caveats(n_known=n_known, n_events=n_events, n_active=n_active), *_data_caveats(table)]
    for m in messages:
        _w.warn(m, PortfolioWarning, stacklevel=2)
    risk = fit_with_warnings(lambda: _churn_model(table, predictors=predictors, method=method, ci=ci, top=top,
                                                   language=language, instrument=instrument))
    out = _risk_list(table[is_active], risk, signals, current=current, today=today)
    estimator = str(risk["estimator"].iloc[0]) if len(risk) else "none"
    fitted = bool(out["p_churn"].notna().any()) or (n_active == 0 and estimator != "none")
    by_model = bool(rank_by_model and fitted)
    out = _ranked(out, by_model=by_model)
    summary = (f"{n_active} active account(s); churn model ({estimator}) trained on {n_known} accounts with a known "
               f"outcome, {n_events} of them churned." if fitted else
               f"{n_active} active account(s); no churn model could be trained ({n_known} accounts with a known "
               f"outcome, {n_events} churned) — see the notes below.")
    summary += (" Ranked by the model's churn probability." if by_model else f" Ranked by a stated rule: {RULE}.")
    out.attrs.update(warnings=list(dict.fromkeys([*messages, *risk.attrs["warnings"]])), n_known=n_known,
                     n_events=n_events, n_active=n_active, estimator=estimator, summary=summary,
                     ranking="model" if by_model else "rule", rule=RULE, waves=table.attrs.get("waves"))
    return out


#: The transparent ranking used unless the churn model has shown, out of sample, that it ranks better than NPS.
RULE = ("most warning signals first, then the lowest client NPS of the wave, then the largest fall in NPS since the "
        "previous wave, then the soonest renewal, then the largest contract")


def _ranked(out: pd.DataFrame, *, by_model: bool) -> pd.DataFrame:
    """The list in its order (model probability, or :data:`RULE`), with ``risk_rank`` 1, 2, …"""
    if by_model:
        out = out.sort_values(["p_churn", "n_signals"], ascending=[False, False], na_position="last",
                              kind="mergesort")
    else:
        value = pd.to_numeric(out["annual_value"], errors="coerce") if "annual_value" in out else 0.0
        out = out.assign(_value=-value).sort_values(["n_signals", "nps", "nps_change", "days_to_renewal", "_value"],
                                                    ascending=[False, True, True, True, True], na_position="last",
                                                    kind="mergesort").drop(columns="_value")
    out = out.reset_index(drop=True)
    out["risk_rank"] = np.arange(1, len(out) + 1)
    return out


def ranking_decision(cv: pd.DataFrame | None) -> tuple[bool, str]:
    """Should the at-risk list be ranked by the churn model?  Yes only when it is credibly better than NPS alone.

    Credibly better: the model's cross-validated AUC minus the NPS-only
    baseline's, on the same out-of-fold predictions, has a 95% interval
    entirely above 0 (DeLong's paired comparison, which
    :func:`helpers.stats.validation.retention_cv` puts in
    ``attrs["auc_difference"]``, or a row model == "difference",
    metric == "auc"; without either, the model's AUC interval must lie above
    the baseline's whole interval).  Returns the
    decision and one sentence saying it.
    """
    if cv is None or cv.empty or cv.attrs.get("not_applicable"):
        return False, "The churn model could not be checked against NPS alone, so a stated rule ranks the list."
    m = cv.set_index(["model", "metric"])
    paired = cv.attrs.get("auc_difference") or {}
    if pd.notna(paired.get("ci_low", np.nan)):
        better = bool(paired["ci_low"] > 0)
        how = (f"its AUC is {paired['difference']:+.2f} [{paired['ci_low']:+.2f}, {paired['ci_high']:+.2f}] away "
               "from NPS alone's on the same accounts (DeLong's paired comparison)")
    elif ("difference", "auc") in m.index:
        d = m.loc[("difference", "auc")]
        better = bool(d["ci_low"] > 0)
        how = (f"its AUC is {d['estimate']:+.2f} [{d['ci_low']:+.2f}, {d['ci_high']:+.2f}] away from NPS alone's "
               "on the same accounts")
    elif ("model", "auc") in m.index and ("baseline", "auc") in m.index:
        a, b = m.loc[("model", "auc")], m.loc[("baseline", "auc")]
        better = bool(a["ci_low"] > b["ci_high"])
        how = (f"its AUC {a['estimate']:.2f} [{a['ci_low']:.2f}, {a['ci_high']:.2f}] against "
               f"{b['estimate']:.2f} [{b['ci_low']:.2f}, {b['ci_high']:.2f}] for NPS alone")
    else:
        return False, "The churn model could not be checked against NPS alone, so a stated rule ranks the list."
    if better:
        return True, f"The churn model ranks the list: out of sample {how}, credibly better than NPS alone."
    return False, (f"The churn model is not yet better than NPS alone ({how}), so it does not rank the list: "
                   f"a stated rule does ({RULE}).")


def _training_caveats(*, n_known: int, n_events: int, n_active: int) -> list[str]:
    """Why the churn model cannot be trained or says little, and whether any account is still open."""
    messages = []
    if n_known == 0:
        messages.append("No account has a known outcome (renewed or churned) yet, so there is nothing to train a "
                        "churn model on: the active accounts are listed without probabilities.")
    elif n_events == 0:
        messages.append(f"None of the {n_known} accounts with a known outcome churned, so nothing can be learnt about "
                        "what predicts churn: the active accounts are listed without probabilities.")
    elif n_events == n_known:
        messages.append(f"All {n_known} accounts with a known outcome churned, so nothing can be learnt about what "
                        "predicts renewal: the active accounts are listed without probabilities.")
    elif min(n_events, n_known - n_events) < MIN_OUTCOME_GROUP:
        messages.append(f"Only {n_events} churned and {n_known - n_events} renewed accounts: with so few in one "
                        "group any churn probability is a guess; read the list as a prompt for conversations.")
    if n_active == 0:
        messages.append("No account is active (every outcome is known): no account is at risk of an open renewal.")
    return messages


def _data_caveats(table: pd.DataFrame) -> list[str]:
    """What the account table left out (``table.attrs``): hidden team views, answers after a renewal."""
    messages = []
    hidden = int(table.attrs.get("n_staff_suppressed", 0) or 0)
    if hidden:
        messages.append(f"The team view of {hidden} account(s) is hidden (fewer than "
                        f"{table.attrs.get('min_group_size', MIN_GROUP_SIZE)} team answers), so a model that uses "
                        "client − team gaps cannot score them or learn from them.")
    after, empty = (int(table.attrs.get(k, 0) or 0) for k in ("n_after_renewal", "n_no_answers_before_renewal"))
    if after:
        messages.append(f"{after} answer(s) given on or after a decided account's renewal date are left out, so the "
                        "model learns only from what was said before each decision"
                        + (f"; {empty} decided account(s) have no earlier answers and are not used." if empty else "."))
    return messages


def _churn_model(table: pd.DataFrame, **options) -> pd.DataFrame:
    """:func:`helpers.stats.retention.predict_risk`, or a row of NaN per account saying why it could not be fitted."""
    from helpers.stats.retention import predict_risk

    try:
        return predict_risk(table, **options)
    except (ValueError, KeyError, np.linalg.LinAlgError) as exc:
        none = table[["account_id"]].assign(p_churn=np.nan, ci_low=np.nan, ci_high=np.nan, drivers="",
                                            estimator="none")
        none.attrs["warnings"] = [f"The churn model could not be fitted ({exc}); no probabilities are shown."]
        return none


def _risk_list(active: pd.DataFrame, risk: pd.DataFrame, signals: pd.DataFrame | None, *,
               current: pd.DataFrame | None = None, today: str | pd.Timestamp | None = None) -> pd.DataFrame:
    """The active accounts with their churn probability, NPS, reasons and value at risk (not yet ranked)."""
    keep = [c for c in ("account_id", "name", "renewal_date", "n_client", "n_staff", "annual_value") if c in active]
    out = active[keep].merge(risk[["account_id", "p_churn", "ci_low", "ci_high", "drivers"]], on="account_id",
                             how="left")
    out["drivers"] = out["drivers"].fillna("")
    if signals is not None and len(signals):
        out = out.merge(signals[["account_id", "n_signals", "signals"]], on="account_id", how="left")
    else:
        out["n_signals"], out["signals"] = 0, ""
    out["n_signals"] = out["n_signals"].fillna(0).astype(int)
    out["signals"] = out["signals"].fillna("")
    value = pd.to_numeric(out["annual_value"], errors="coerce") if "annual_value" in out else np.nan
    out["value_at_risk"] = out["p_churn"] * value
    out["value_low"] = out["ci_low"] * value
    out["value_high"] = out["ci_high"] * value
    now = pd.Timestamp.now().normalize() if today is None else pd.Timestamp(today)
    renewal = pd.to_datetime(out["renewal_date"], errors="coerce") if "renewal_date" in out else pd.NaT
    out["days_to_renewal"] = (renewal - now).dt.days if "renewal_date" in out else np.nan
    cur = current if current is not None else pd.DataFrame(columns=["account_id", "nps", "nps_change"])
    out = out.merge(cur.reindex(columns=["account_id", "nps", "nps_change"]), on="account_id", how="left")
    out["risk_rank"] = np.nan
    lead = [c for c in ("account_id", "name", "renewal_date", "days_to_renewal", "n_client", "n_staff") if c in out]
    cols = [*lead, "nps", "nps_change", "p_churn", "ci_low", "ci_high", "risk_rank", "drivers", "n_signals",
            "signals", *(["annual_value"] if "annual_value" in out else []), "value_at_risk", "value_low",
            "value_high"]
    return out[cols]


def baseline_verdict(cv: pd.DataFrame) -> str:
    """One sentence: does the churn model rank and predict better than NPS alone, out of sample?

    Parameters
    ----------
    cv : DataFrame
        :func:`helpers.stats.validation.retention_cv` (model, metric, estimate,
        ci_low, ci_high, n, n_events).

    Returns
    -------
    str
        The cross-validated AUC and Brier score of the model and of the
        NPS-only baseline with their intervals, and a verdict: "better" only
        when the model's AUC interval lies above the baseline's estimate and
        its Brier score is lower; otherwise "no clear evidence that it is
        better".

    Notes
    -----
    AUC = P(a churned account gets a higher predicted risk than a renewed one)
    (Hanley & McNeil 1982); 0.5 is a coin toss.  Brier score = mean (p̂ − y)²,
    lower is better (Brier 1950).  Both from repeated stratified k-fold
    cross-validation, so every prediction comes from a fit that did not see the
    account.
    """
    if cv is not None and cv.attrs.get("not_applicable"):
        return ("The comparison with an NPS-only baseline applies to the retention models (outcome = retention); "
                "for NPS the model tables above report R² and the clustered intervals instead.")
    if cv is None or cv.empty:
        return "The churn model could not be cross-validated (too few churned or renewed accounts)."
    m = cv.set_index(["model", "metric"])
    try:
        a, b = m.loc[("model", "auc")], m.loc[("baseline", "auc")]
        bm, bb = m.loc[("model", "brier")], m.loc[("baseline", "brier")]
    except KeyError:
        return "The churn model could not be cross-validated (too few churned or renewed accounts)."
    better = a["ci_low"] > b["estimate"] and bm["estimate"] < bb["estimate"]
    verdict = ("The model predicts churn better than NPS alone." if better else
               "There is no clear evidence that the model predicts churn better than NPS alone.")
    return (f"Out of sample ({int(a['n'])} accounts, {int(a['n_events'])} churned): AUC {a['estimate']:.2f} "
            f"[{a['ci_low']:.2f}, {a['ci_high']:.2f}] for the model vs {b['estimate']:.2f} "
            f"[{b['ci_low']:.2f}, {b['ci_high']:.2f}] for NPS alone (0.5 = coin toss); Brier score "
            f"{bm['estimate']:.3f} vs {bb['estimate']:.3f} (lower is better). {verdict}")
