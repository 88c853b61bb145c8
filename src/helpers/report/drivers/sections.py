"""The drivers page's sections: models, key drivers, importance–performance, agreement, baseline.

Each takes the :class:`helpers.report.drivers.setup.DriverSetup` and runs one
family of :mod:`helpers.stats`, collecting its warnings for the page.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.stats.diagnostics import fit_with_warnings
from helpers.stats.fitting import term_label
from helpers.stats.gaps import benjamini_hochberg as fdr_bh

from .setup import DriverSetup

__all__ = [
    "label_terms",
    "driver_models",
    "driver_importance",
    "other_side_importance",
    "congruence_summary",
    "congruence_verdict",
    "baseline_comparison",
    "driver_ipa",
    "model_heading",
]


def label_terms(data: pd.DataFrame, *, column: str = "term", language: str = "en",
                instrument: str | Instrument | None = None) -> pd.DataFrame:
    """Copy of ``data`` with ``column`` (and ``label`` if present) shown as :func:`term_label` names."""
    out = data.copy()
    out.attrs = {}
    out[column] = out[column].map(lambda t: term_label(t, language=language, instrument=instrument))
    if "label" in out and column == "term":
        out["label"] = out["term"]
    return out


def driver_models(setup: DriverSetup, *, ci: float = 0.95) -> dict[str, pd.DataFrame]:
    """Fit the models for a :class:`DriverSetup`: one tidy table per model.

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup`.
    ci : float
        Confidence level.

    Returns
    -------
    dict of str → DataFrame
        ``nps``: "OLS, clustered by account" (:func:`helpers.stats.nps_models.nps_ols`),
        "ordinal logit" (:func:`helpers.stats.nps_models.nps_ordinal`) and "mixed model"
        (:func:`helpers.stats.nps_models.nps_mixed`).  ``retention``: "logistic"
        (:func:`helpers.stats.retention.retention_logit`, trained on known outcomes)
        and "Cox" (:func:`helpers.stats.retention.retention_cox`, active accounts as
        censored).  Each table has the models' columns (term, coef, se,
        ci_low, ci_high, p_val, n, n_dropped, n_groups, n_events, estimator,
        warnings) and ``attrs["warnings"]``; the models' warnings are
        collected there, not raised.

    Notes
    -----
    See the model functions for formulas.  OLS and mixed-model coefficients
    are NPS points per scale point; ordinal, logistic and Cox coefficients are
    log-odds or log-hazard ratios (exp gives the ratio).
    """
    from helpers.stats import nps_models, retention

    if setup.kind == "nps":
        fits = {"OLS, clustered by account": lambda: nps_models.nps_ols(
                    setup.data, predictors=setup.predictors, cluster=setup.cluster, ci=ci),
                "ordinal logit": lambda: nps_models.nps_ordinal(
                    setup.data, predictors=setup.predictors, cluster=setup.cluster, ci=ci),
                "mixed model, random account intercept": lambda: nps_models.nps_mixed(
                    setup.data, predictors=setup.predictors, group=setup.cluster, ci=ci)}
    else:
        fits = {"logistic": lambda: retention.retention_logit(setup.table, predictors=setup.predictors, ci=ci),
                "Cox": lambda: retention.retention_cox(setup.table, predictors=setup.predictors, ci=ci)}
    return {name: fit_with_warnings(fit) for name, fit in fits.items()}


def driver_importance(setup: DriverSetup, *, method: str = "dominance", n_boot: int = 200, seed: int = 0,
                      ci: float = 0.95) -> pd.DataFrame:
    """Key-driver importance for a :class:`DriverSetup` (dominance or relative weights, bootstrap CIs).

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup`.
    method : {"dominance", "relative_weights"}
        See :func:`helpers.stats.drivers.key_drivers`.
    n_boot, seed, ci
        Bootstrap: respondent-level data resample whole accounts; account-level
        data resample accounts.

    Returns
    -------
    DataFrame
        As :func:`helpers.stats.drivers.relative_weights` (term, estimate, share
        with intervals, rank, rank_share, top_share, r2, n, …);
        ``attrs["bootstrap"]`` for :func:`helpers.stats.drivers.rank_stability` and
        ``attrs["warnings"]``.

    Notes
    -----
    For retention the outcome is 0/1 and the R² being split is that of a
    linear probability model — a ranking device, not a churn model (the
    logistic model is in :func:`driver_models`); Azen & Traxel (2009) give a
    logistic variant.
    """
    from helpers.stats import drivers

    return fit_with_warnings(lambda: drivers.key_drivers(
        setup.data, method=method, outcome=setup.outcome, predictors=setup.predictors, cluster=setup.cluster,
        n_boot=n_boot, seed=seed, ci=ci))


def other_side_importance(answers: pd.DataFrame, responses: pd.DataFrame, accounts: pd.DataFrame, *,
                          setup: DriverSetup, min_group_size: int, n_boot: int = 200, seed: int = 0,
                          instrument: str | Instrument | None = None) -> pd.DataFrame:
    """The key drivers of the other side's NPS, to set beside the page's: do clients and the team agree on what matters?

    For a page on client NPS (``side="client"``) the team's own NPS
    ("would you recommend working with this client?") on the team's own
    ratings; for a page on the team's NPS, client NPS on the clients'
    ratings.  The same models and bootstrap as :func:`driver_importance`;
    nothing new is estimated, the page only reads two of its results side
    by side.

    Parameters
    ----------
    answers, responses, accounts : DataFrame
        As for :func:`helpers.report.drivers.driver_setup`.
    setup : DriverSetup
        The page's setup (which side it explains).
    min_group_size : int
        As for :func:`driver_setup`.

    Returns
    -------
    DataFrame
        :func:`driver_importance` (dominance) of the other side, with
        ``attrs["side"]``; empty when the page is not about one side's NPS
        (retention, or both sides in one model).
    """
    from .setup import driver_setup

    if setup.kind != "nps" or setup.side not in ("client", "staff"):
        return pd.DataFrame(columns=["term", "share", "share_ci_low", "share_ci_high", "rank", "n", "n_clusters"])
    other = "staff" if setup.side == "client" else "client"
    other_setup = driver_setup(answers, responses, accounts, outcome="nps", side=other,
                               min_group_size=min_group_size, instrument=instrument)
    out = driver_importance(other_setup, method="dominance", n_boot=n_boot, seed=seed)
    out.attrs["side"] = other
    return out


def congruence_summary(
    table: pd.DataFrame,
    *,
    outcomes: Sequence[str] = ("churned",),
    fdr: float = 0.05,
    ci: float = 0.95,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Does client–team agreement predict the outcome?  Response-surface terms per dimension, BH-corrected.

    Parameters
    ----------
    table : DataFrame
        :func:`helpers.stats.model_data.account_table` (client_<d>, staff_<d>, outcome
        columns; team means of small groups already blanked).
    outcomes : sequence of str
        ``churned`` (renewal; accounts with a known outcome only) and/or
        ``client_nps_mean``.
    fdr : float
        False discovery rate for ``significant``.
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        outcome, dimension, term (a1…a4), meaning, coef, ci_low, ci_high,
        p_val, p_fdr, significant, n, n_events, estimator, warnings —
        ``attrs["warnings"]`` lists the fits' warnings with their outcome and
        dimension ("churn, care: …"), ``attrs["notes"]`` the same as
        (outcome, "care: …") pairs for a page to put into its own words.

    Notes
    -----
    Per dimension, Z = b0 + b1·X + b2·Y + b3·X² + b4·XY + b5·Y² with X the
    client mean and Y the team mean (Edwards & Parry 1993), a1 = b1+b2,
    a2 = b3+b4+b5, a3 = b1−b2, a4 = b3−b4+b5 (Shanock et al. 2010); see
    :func:`helpers.stats.congruence.congruence`.  Agreement matters when a4
    is clearly non-zero (for churn, a4 > 0: disagreement either way raises
    churn).  The four a-terms × dimensions of one outcome are one family for
    the Benjamini–Hochberg correction.
    """
    import warnings as _w

    from helpers.stats.congruence import congruence
    from helpers.stats.diagnostics import ModelWarning

    parts, messages, notes = [], [], []
    for outcome in outcomes:
        with _w.catch_warnings():
            _w.simplefilter("ignore", ModelWarning)  # the same sentences are in attrs["warnings"]
            res = congruence(table, outcome=outcome, ci=ci, instrument=instrument)
        messages += [f"{term_label(outcome)}, {m}" for m in res.attrs.get("warnings", [])]
        notes += [(outcome, m) for m in res.attrs.get("warnings", [])]
        res = res[res["term"].isin(["a1", "a2", "a3", "a4"])].copy()
        res.attrs = {}
        if len(res):
            res.insert(0, "outcome", outcome)
            res["p_fdr"] = fdr_bh(res["p_val"])
            parts.append(res)
    cols = ["outcome", "dimension", "term", "meaning", "coef", "ci_low", "ci_high", "p_val", "p_fdr", "significant",
            "n", "n_events", "estimator", "warnings"]
    if not parts:
        out = pd.DataFrame(columns=cols)
    else:
        out = pd.concat(parts, ignore_index=True)
        out["significant"] = (out["p_fdr"] <= fdr).fillna(False).astype(bool)
        out = out[cols]
    out.attrs["warnings"] = list(dict.fromkeys(messages))
    out.attrs["notes"] = list(dict.fromkeys(notes))
    return out


def congruence_verdict(summary: pd.DataFrame, *, language: str = "en",
                       instrument: str | Instrument | None = None) -> list[str]:
    """Plain sentences from :func:`congruence_summary`: where disagreement itself goes with the outcome.

    Returns
    -------
    list of str
        One sentence per outcome (words from ``drivers.agree.*`` in the
        catalogue): the dimensions with a clear a4 (curvature along the line
        of disagreement) after the correction, and which way disagreement
        goes with the outcome there; or that none has, with the number of
        accounts and of tests allowed for.

    Examples
    --------
    >>> summary = pd.DataFrame({"outcome": "churned", "dimension": ["care"], "term": ["a4"], "coef": [2.0],
    ...                         "n": [40], "significant": [False]})
    >>> congruence_verdict(summary)[0][:18]
    'Churn (40 accounts'
    """
    from helpers.report import formatting as fmt
    from helpers.words import has, say

    inst = load_instrument(instrument)
    out = []
    for outcome, grp in summary.groupby("outcome", sort=False):
        a4 = grp[grp["term"] == "a4"]
        n = int(a4["n"].max()) if len(a4) and a4["n"].notna().any() else 0
        clear = a4[a4["significant"].astype(bool)]
        key = f"drivers.agree.outcome.{outcome}"
        what = say(key, language) if has(key, language) else term_label(outcome, language=language, instrument=inst)
        fields = {"what": what[:1].upper() + what[1:], "n": fmt.count(n, language), "m": fmt.count(len(grp), language)}
        if clear.empty:
            out.append(say("drivers.agree.none", language, **fields))
            continue
        parts = []
        for r in clear.itertuples():
            way = "up" if r.coef > 0 else "down"
            key = f"drivers.agree.{way}_{outcome}"
            parts.append(say(key if has(key, language) else f"drivers.agree.{way}", language,
                             dim=inst.label(r.dimension, language)))
        out.append(say("drivers.agree.clear", language, parts="; ".join(parts), **fields))
    return out


def baseline_comparison(setup: DriverSetup, *, repeats: int = 20, seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Cross-validated AUC and Brier score of the retention model beside the NPS-only baseline.

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup` with ``kind == "retention"``; for ``nps``
        an empty frame is returned (the baseline applies to retention).
    repeats, seed, ci
        See :func:`helpers.stats.validation.retention_cv`.

    Returns
    -------
    DataFrame
        As :func:`helpers.stats.validation.retention_cv`; ``attrs["predictions"]``
        (for :func:`helpers.stats.validation.calibration_table`) and
        ``attrs["warnings"]``.
    """
    from helpers.stats import validation

    if setup.kind != "retention":
        out = pd.DataFrame(columns=["model", "metric", "estimate", "ci_low", "ci_high", "n", "n_events"])
        out.attrs.update(warnings=[], not_applicable=True)
        return out
    return fit_with_warnings(lambda: validation.retention_cv(setup.table, predictors=setup.predictors,
                                                          repeats=repeats, seed=seed, ci=ci))


def driver_ipa(setup: DriverSetup, importance: pd.DataFrame, *, language: str = "en",
               instrument: str | Instrument | None = None) -> pd.DataFrame:
    """Importance–performance table for a driver analysis, with display labels.

    Parameters
    ----------
    setup : DriverSetup
        From :func:`driver_setup`.
    importance : DataFrame
        From :func:`driver_importance`.
    language : str
        Labels of the terms.

    Returns
    -------
    DataFrame
        As :func:`helpers.stats.drivers.importance_performance` (term, label,
        importance with interval, performance with interval, n, cuts,
        quadrant); performance is the mean of account means over every
        account of the waves analysed (active accounts included for
        retention, decided accounts with their answers before renewal),
        ``label`` from :func:`term_label`.

    Notes
    -----
    Martilla & James (1977); cross-hairs at the average importance 1/p and
    the mean performance (Bacon 2003).  Gap terms have their own scale
    (negative = blind spot), so with ``side="both"`` for retention read
    their "performance" as the average gap.
    """
    from helpers.stats import drivers

    scores = setup.table if setup.level == "account" else setup.data
    imp = importance.copy()
    imp.attrs = {}
    return drivers.importance_performance(imp, scores, account_column="account_id", language=language,
                                          instrument=instrument)


def model_heading(name: str, fit: pd.DataFrame):
    """A model table's heading as Markdown: name, estimator, n, clusters, events and R² where known."""
    import html

    from IPython.display import Markdown

    first = fit.iloc[0] if len(fit) else pd.Series(dtype=object)
    bits = [str(first.get("estimator", ""))]
    for key, label in (("n", "n"), ("n_groups", "accounts"), ("n_events", "churned")):
        v = first.get(key)
        if v is not None and pd.notna(v):
            bits.append(f"{label} = {int(v)}")
    r2 = fit.attrs.get("r2")
    if r2 is not None and np.isfinite(r2):
        bits.append(f"R² = {r2:.2f}")
    return Markdown(f"**{html.escape(name, quote=False)}** — " + html.escape(", ".join(b for b in bits if b),
                                                                                 quote=False))
