"""Accounts at risk: signals, a churn model's ranking and the honest check against NPS alone.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.data.privacy import MIN_GROUP_SIZE
from helpers.report.formatting import count, number, points
from helpers.stats.diagnostics import fit_with_warnings
from helpers.words import say

__all__ = [
    "PortfolioWarning",
    "RULE",
    "current_nps",
    "ranking_decision",
    "MIN_OUTCOME_GROUP",
    "SIGNS",
    "rule",
    "warning_signs",
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
        :func:`helpers.data.disclosure.withheld`: a change is not given when either wave's client NPS is held
        back.  A team NPS held back says nothing about the client NPS (rows with ``side`` "staff" are not
        used); a frame without ``side`` counts every row, as before.

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
        if "side" in w:
            w = w[w["side"] == "client"]
        held = set(w["account_id"])
    shown = out["nps"].notna() & ~out["account_id"].isin(held)
    out["nps_change"] = out["account_id"].map(ch).astype(float).where(shown)
    return out


#: The kinds of warning sign, in the order an account's signs are listed (keys of ``portfolio.sign`` in the catalogue).
SIGNS = ("blind spot", "nps below", "dimension below", "nps fall")


def warning_signs(
    heatmap: pd.DataFrame,
    gaps: pd.DataFrame | None = None,
    account_nps: pd.DataFrame | None = None,
    *,
    changes: pd.DataFrame | None = None,
    previous: str | None = None,
    account: str = "account_id",
    language: str = "en",
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Every model-free warning sign, one row each: what is clearly below the portfolio, a clear blind spot, a fall.

    Parameters
    ----------
    heatmap : DataFrame
        :func:`dimension_heatmap` of one wave (client side): a dimension
        clearly below the rest of the portfolio is a sign.
    gaps : DataFrame, optional
        :func:`gap_map` of the same wave: a clear blind spot (team above
        client) is a sign.  Suppressed team groups never appear (they are not
        significant).
    account_nps : DataFrame, optional
        :func:`nps_vs_portfolio` of the same wave: NPS clearly below the rest.
    changes : DataFrame, optional
        Client NPS changes since ``previous`` that may be published
        (:func:`helpers.stats.comparisons.nps_change_tests`, only the rows
        whose two NPS are shown): a clear fall is a sign.  Not part of
        :func:`risk_signals` (the at-risk rule counts the fall in its own
        place); the page lists it among the reasons for attention.
    previous : str, optional
        The earlier wave, named in the text of a fall.
    language : str
        Language of the text ("en" or "fi").

    Returns
    -------
    DataFrame
        account_id, sign (one of :data:`SIGNS`), dimension (or None), value
        (the signed difference: from the rest of the portfolio in scale or
        NPS points, client − team, or the change since ``previous``), text
        (the sign in words with its numbers and n) — in the order of
        :data:`SIGNS` within an account.

    Notes
    -----
    Every sign is a test that passed its table's Benjamini–Hochberg
    correction (false discovery rate as chosen there), so the list inherits
    those corrections; it needs no outcome data and no model.
    """
    inst = load_instrument(instrument)
    labels = inst.labels(language)
    rows: list[tuple[str, str, str | None, float, str]] = []

    def num(x) -> str:
        return number(x, language, 1)

    if gaps is not None and len(gaps):
        for r in gaps[gaps["significant"] & (gaps["gap"] < 0)].itertuples():
            rows.append((getattr(r, account), "blind spot", r.dimension, r.gap, say(
                "portfolio.sign.blind spot", language, dim=labels.get(r.dimension, r.dimension),
                client=num(r.client_mean), team=num(r.staff_mean), n_client=count(r.n_client, language),
                n_team=count(r.n_staff, language))))
    if account_nps is not None and len(account_nps):
        for r in account_nps[account_nps["direction"] == "below"].itertuples():
            rows.append((getattr(r, account), "nps below", None, r.diff, say(
                "portfolio.sign.nps below", language, nps=points(r.nps, language), rest=points(r.rest_nps, language),
                n=count(r.n, language))))
    for r in heatmap[heatmap["direction"] == "below"].itertuples():
        rows.append((getattr(r, account), "dimension below", r.dimension, r.diff, say(
            "portfolio.sign.dimension below", language, dim=labels.get(r.dimension, r.dimension), mean=num(r.mean),
            rest=num(r.rest_mean), n=count(r.n, language))))
    if changes is not None and len(changes):
        fall = changes[changes["significant"].astype(bool) & (changes["change"] < 0)]
        for r in fall.itertuples():
            rows.append((getattr(r, account), "nps fall", None, r.change, say(
                "portfolio.sign.nps fall", language, x=points(-r.change, language).lstrip("+"),
                previous=previous or "", n_from=count(r.n_from, language), n_to=count(r.n_to, language))))
    out = pd.DataFrame(rows, columns=[account, "sign", "dimension", "value", "text"])
    order = {k: i for i, k in enumerate(SIGNS)}
    return out.assign(_k=out["sign"].map(order)).sort_values([account, "_k"], kind="mergesort").drop(
        columns="_k").reset_index(drop=True)


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
    heatmap, gaps, account_nps
        As :func:`warning_signs` (a fall in NPS is not counted here: the
        at-risk rule ranks by the fall in its own place).
    language : str
        Language of the text.

    Returns
    -------
    DataFrame
        account_id, n_signals, signals (text, "; "-separated, with n) — one
        row per account with at least one signal, by account.

    Notes
    -----
    See :func:`warning_signs`: each signal passed its table's
    Benjamini–Hochberg correction.
    """
    signs = warning_signs(heatmap, gaps, account_nps, account=account, language=language, instrument=instrument)
    if signs.empty:
        return pd.DataFrame(columns=[account, "n_signals", "signals"])
    g = signs.groupby(account, sort=True)["text"]
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
        Language of the dimension names in ``drivers``, of the summary and
        of this function's warnings, "en" or "fi".

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
        warnings (list of sentences: the model's own, in English, and this
        function's, in ``language``), caveats (this function's alone),
        n_known, n_events, n_active, estimator, summary (one sentence in
        ``language``).

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
    messages = [*_training_caveats(n_known=n_known, n_events=n_events, n_active=n_active, language=language),
                *_data_caveats(table, language=language)]
    for m in messages:
        _w.warn(m, PortfolioWarning, stacklevel=2)
    risk = fit_with_warnings(lambda: _churn_model(table, predictors=predictors, method=method, ci=ci, top=top,
                                                   language=language, instrument=instrument))
    out = _risk_list(table[is_active], risk, signals, current=current, today=today)
    estimator = str(risk["estimator"].iloc[0]) if len(risk) else "none"
    fitted = bool(out["p_churn"].notna().any()) or (n_active == 0 and estimator != "none")
    by_model = bool(rank_by_model and fitted)
    out = _ranked(out, by_model=by_model)
    counts = {"n_active": count(n_active, language), "n_known": count(n_known, language),
              "n_events": count(n_events, language), "estimator": estimator}
    summary = say("portfolio.risk.summary_fitted" if fitted else "portfolio.risk.summary_unfitted", language,
                  **counts)
    summary += " " + (say("portfolio.risk.by_model", language) if by_model else
                      say("portfolio.risk.by_rule", language, rule=rule(language)))
    out.attrs.update(warnings=list(dict.fromkeys([*messages, *risk.attrs["warnings"]])), n_known=n_known,
                     n_events=n_events, n_active=n_active, estimator=estimator, summary=summary,
                     ranking="model" if by_model else "rule", rule=rule(language), waves=table.attrs.get("waves"),
                     caveats=messages)
    return out


def rule(language: str = "en") -> str:
    """:data:`RULE` in the page's language."""
    return say("portfolio.rule", language)


#: The transparent ranking used unless the churn model has shown, out of sample, that it ranks better than NPS.
RULE = rule("en")


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


def ranking_decision(cv: pd.DataFrame | None, *, language: str = "en") -> tuple[bool, str]:
    """Should the at-risk list be ranked by the churn model?  Yes only when it is credibly better than NPS alone.

    Credibly better: the model's cross-validated AUC minus the NPS-only
    baseline's, on the same out-of-fold predictions, has a 95% interval
    entirely above 0 (DeLong's paired comparison, which
    :func:`helpers.stats.validation.retention_cv` puts in
    ``attrs["auc_difference"]``, or a row model == "difference",
    metric == "auc"; without either, the model's AUC interval must lie above
    the baseline's whole interval).  Returns the
    decision and one sentence saying it, in ``language``.
    """
    unchecked = False, say("portfolio.risk.unchecked", language)
    if cv is None or cv.empty or cv.attrs.get("not_applicable"):
        return unchecked
    m = cv.set_index(["model", "metric"])
    paired = cv.attrs.get("auc_difference") or {}

    def signed(x) -> str:
        return number(x, language, 2, sign=True)

    if pd.notna(paired.get("ci_low", np.nan)):
        better = bool(paired["ci_low"] > 0)
        how = say("portfolio.risk.how_delong", language, d=signed(paired["difference"]), lo=signed(paired["ci_low"]),
                  hi=signed(paired["ci_high"]))
    elif ("difference", "auc") in m.index:
        d = m.loc[("difference", "auc")]
        better = bool(d["ci_low"] > 0)
        how = say("portfolio.risk.how_difference", language, d=signed(d["estimate"]), lo=signed(d["ci_low"]),
                  hi=signed(d["ci_high"]))
    elif ("model", "auc") in m.index and ("baseline", "auc") in m.index:
        a, b = m.loc[("model", "auc")], m.loc[("baseline", "auc")]
        better = bool(a["ci_low"] > b["ci_high"])
        how = say("portfolio.risk.how_intervals", language, **{k: number(v, language, 2) for k, v in (
            ("a", a["estimate"]), ("a_lo", a["ci_low"]), ("a_hi", a["ci_high"]), ("b", b["estimate"]),
            ("b_lo", b["ci_low"]), ("b_hi", b["ci_high"]))})
    else:
        return unchecked
    if better:
        return True, say("portfolio.risk.model_ranks", language, how=how)
    return False, say("portfolio.risk.rule_ranks", language, how=how, rule=rule(language))


def _training_caveats(*, n_known: int, n_events: int, n_active: int, language: str = "en") -> list[str]:
    """Why the churn model cannot be trained or says little, and whether any account is still open."""
    messages = []
    n = {"n_known": count(n_known, language), "n_events": count(n_events, language),
         "n_renewed": count(n_known - n_events, language)}
    if n_known == 0:
        messages.append(say("portfolio.risk.no_known", language))
    elif n_events == 0:
        messages.append(say("portfolio.risk.no_churned", language, **n))
    elif n_events == n_known:
        messages.append(say("portfolio.risk.all_churned", language, **n))
    elif min(n_events, n_known - n_events) < MIN_OUTCOME_GROUP:
        messages.append(say("portfolio.risk.few_outcomes", language, **n))
    if n_active == 0:
        messages.append(say("portfolio.risk.no_active", language))
    return messages


def _data_caveats(table: pd.DataFrame, *, language: str = "en") -> list[str]:
    """What the account table left out (``table.attrs``): hidden team views, answers after a renewal."""
    messages = []
    hidden = int(table.attrs.get("n_staff_suppressed", 0) or 0)
    if hidden:
        messages.append(say("portfolio.risk.team_hidden", language, n=count(hidden, language),
                            k=table.attrs.get("min_group_size", MIN_GROUP_SIZE)))
    after, empty = (int(table.attrs.get(k, 0) or 0) for k in ("n_after_renewal", "n_no_answers_before_renewal"))
    if after:
        messages.append(say("portfolio.risk.after_renewal", language, n=count(after, language))
                        + (say("portfolio.risk.no_earlier", language, n=count(empty, language)) if empty else "."))
    return messages


def _churn_model(table: pd.DataFrame, **options) -> pd.DataFrame:
    """:func:`helpers.stats.retention.predict_risk`, or a row of NaN per account saying why it could not be fitted."""
    from helpers.stats.retention import predict_risk

    try:
        return predict_risk(table, **options)
    except (ValueError, KeyError, np.linalg.LinAlgError) as exc:
        none = table[["account_id"]].assign(p_churn=np.nan, ci_low=np.nan, ci_high=np.nan, drivers="",
                                            estimator="none")
        none.attrs["warnings"] = [say("portfolio.risk.not_fitted", options.get("language", "en"), why=exc)]
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


def baseline_verdict(cv: pd.DataFrame, *, language: str = "en") -> str:
    """One sentence: does the churn model rank and predict better than NPS alone, out of sample?

    Parameters
    ----------
    cv : DataFrame
        :func:`helpers.stats.validation.retention_cv` (model, metric, estimate,
        ci_low, ci_high, n, n_events).
    language : str
        Language of the sentence, "en" or "fi".

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
        return say("portfolio.risk.verdict_not_applicable", language)
    if cv is None or cv.empty:
        return say("portfolio.risk.verdict_none", language)
    m = cv.set_index(["model", "metric"])
    try:
        a, b = m.loc[("model", "auc")], m.loc[("baseline", "auc")]
        bm, bb = m.loc[("model", "brier")], m.loc[("baseline", "brier")]
    except KeyError:
        return say("portfolio.risk.verdict_none", language)
    better = a["ci_low"] > b["estimate"] and bm["estimate"] < bb["estimate"]

    def two(x) -> str:
        return number(x, language, 2)

    return say("portfolio.risk.verdict", language, n=count(a["n"], language), events=count(a["n_events"], language),
               a=two(a["estimate"]), a_lo=two(a["ci_low"]), a_hi=two(a["ci_high"]), b=two(b["estimate"]),
               b_lo=two(b["ci_low"]), b_hi=two(b["ci_high"]), bm=number(bm["estimate"], language, 3),
               bb=number(bb["estimate"], language, 3)) + " " + say(
        "portfolio.risk.better" if better else "portfolio.risk.not_better", language)
