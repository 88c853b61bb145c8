"""Accounts to celebrate: clear evidence of something going well in the wave.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.report.formatting import count, interval, number, points
from helpers.stats.comparisons import (
    nps_change_tests,
    require_waves,
    dimension_heatmap,
    nps_vs_portfolio,
    score_change,
)
from helpers.words import say

__all__ = [
    "celebrate",
]


def celebrate(
    scores: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    wave: str,
    previous: str | None = None,
    account: str = "account_id",
    accounts: pd.DataFrame | None = None,
    alpha: float = 0.05,
    ci: float = 0.95,
    min_n: int = 5,
    min_score_step: float | None = None,
    min_nps_step: float = 20.0,
    top: int | None = 5,
    at_risk: pd.DataFrame | None = None,
    withheld: pd.DataFrame | None = None,
    language: str = "en",
    by_account: bool = False,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Accounts to celebrate: a short list of clear, sizeable improvements or clearly top results, with the evidence.

    Four kinds of evidence, each one family of tests with a Benjamini–Hochberg
    correction at false discovery rate ``alpha``, client side only, and each
    only when the step is large enough to matter (``min_score_step`` scale
    points for a dimension, ``min_nps_step`` NPS points):

    * ``NPS up`` — account NPS rose from ``previous`` to ``wave``;
    * ``score up`` — a dimension mean rose (:func:`score_change`);
    * ``NPS above portfolio`` — account NPS above the rest of the portfolio
      (:func:`nps_vs_portfolio`);
    * ``score above portfolio`` — a dimension mean above the rest of the
      portfolio (:func:`dimension_heatmap`).

    Parameters
    ----------
    scores : DataFrame
        Client respondent scores of ``wave`` and ``previous`` (account_id,
        wave, dimension, score, side).
    responses : DataFrame
        Responses with NPS of the same waves.
    wave : str
        The wave to celebrate.
    previous : str, optional
        The wave compared with; default the wave before ``wave`` in the data
        (ordered as :func:`helpers.data.store.waves` orders them).
        No earlier wave → only the "above portfolio" evidence.
    accounts : DataFrame, optional
        Account master; adds ``name``.
    alpha : float
        False discovery rate.
    min_n : int
        Fewest client respondents (in each wave compared) for a piece of
        evidence to count: the client threshold (or the reliable minimum).
    min_score_step : float, optional
        Smallest rise, or lead over the rest of the portfolio, of a dimension
        mean that counts (default one eighth of the scale's range: 0.5 on 1–5).
    min_nps_step : float
        The same for NPS, in NPS points (default 20).
    top : int or None
        With ``by_account``, keep the ``top`` accounts with the strongest
        evidence (improvements first, then the most pieces, then the largest
        steps); ``attrs["n_more"]`` says how many more qualify.  None keeps all.
    at_risk : DataFrame, optional
        The at-risk list (account_id, signals): an account on both lists gets
        ``also_at_risk`` saying why, instead of appearing twice silently.
    withheld : DataFrame, optional
        Results the reports may not publish (:func:`helpers.data.disclosure.withheld`:
        account_id, side, wave, dimension — "nps" for NPS): they give no evidence.
    language : str
        Language of the evidence text (dimension labels, numbers), "en" or "fi".
    by_account : bool
        One row per account instead of one per piece of evidence.

    Returns
    -------
    DataFrame
        account_id, (name,) evidence, dimension, estimate, ci_low, ci_high,
        n, p_fdr, detail — one row per piece of evidence, accounts with the most
        evidence first.  Empty (same columns) when nothing passes.  With
        ``by_account``: account_id, (name,) n_evidence, improved (bool: any
        improvement since ``previous``), evidence (the kinds), detail (every
        detail, "; "-separated), also_at_risk ("" or the at-risk signals).

    Raises
    ------
    ValueError
        When ``wave`` or ``previous`` has no responses (the message lists the
        waves present).

    Notes
    -----
    NPS tests use the adjusted-Wald estimate and variance of an NPS difference
    (Rocks 2016; see :func:`nps_vs_portfolio`); score tests use Welch's t.  A score "above the portfolio" is
    relative: in a strong portfolio, an average account is not celebrated.
    """
    inst = load_instrument(instrument)
    labels = inst.labels(language)
    waves = require_waves(responses, wave, previous)
    if previous is None:
        earlier = waves[:waves.index(wave)]
        previous = earlier[-1] if earlier else None
    step = (inst.scale_max - inst.scale_min) / 8 if min_score_step is None else float(min_score_step)
    tests = {"account": account, "alpha": alpha, "ci": ci, "min_n": min_n, "language": language}
    rows: list[dict] = []
    if previous is not None:
        rows += _nps_up(responses, wave=wave, previous=previous, step=min_nps_step, withheld=withheld, **tests)
        rows += _scores_up(scores, wave=wave, previous=previous, labels=labels, instrument=inst, step=step,
                           withheld=withheld, **tests)
    rows += _nps_above_portfolio(responses[responses["wave"] == wave], step=min_nps_step, withheld=withheld, **tests)
    w_scores = scores[scores["wave"] == wave] if "wave" in scores else scores
    rows += _scores_above_portfolio(w_scores, labels=labels, instrument=inst, step=step, withheld=withheld, **tests)
    cols = [account, "evidence", "dimension", "estimate", "ci_low", "ci_high", "n", "p_fdr", "detail"]
    out = _most_evidence_first(pd.DataFrame(rows, columns=cols), account=account)
    if by_account:
        out = _shortlist(_evidence_by_account(out, account=account), top=top)
        out["also_at_risk"] = _also_at_risk(out[account], at_risk, account=account, language=language)
    if accounts is not None and "name" in accounts:
        out.insert(1, "name", out[account].map(accounts.set_index(account)["name"]))
    return out


def _shortlist(by_account: pd.DataFrame, *, top: int | None) -> pd.DataFrame:
    """The ``top`` accounts (improvements first, then the most evidence); ``attrs["n_more"]`` = the rest."""
    ranked = by_account.sort_values(["improved", "n_evidence"], ascending=[False, False], kind="mergesort")
    keep = ranked if top is None else ranked.head(top)
    out = keep.reset_index(drop=True)
    out.attrs["n_more"] = len(ranked) - len(keep)
    return out


def _also_at_risk(ids: pd.Series, at_risk: pd.DataFrame | None, *, account: str, language: str = "en") -> pd.Series:
    """For accounts also on the at-risk list, why they are there ("" for the others)."""
    if at_risk is None or at_risk.empty:
        return pd.Series("", index=ids.index, dtype=object)
    why = at_risk.set_index(account)
    reasons = why["signals"] if "signals" in why else pd.Series("", index=why.index)
    listed = say("portfolio.celebrate.on_risk_list", language)
    text = ids.map(lambda a: (reasons.get(a) or listed) if a in why.index else "")
    return text.astype(object)


#: The kinds of evidence, in the order an account's rows are listed.
KINDS = ("NPS up", "score up", "NPS above portfolio", "score above portfolio")


def _nps_up(responses: pd.DataFrame, *, wave: str, previous: str, account: str, alpha: float, ci: float,
            min_n: int, step: float, withheld: pd.DataFrame | None, language: str = "en") -> list[dict]:
    """Account NPS clearly up from ``previous`` to ``wave``, by at least ``step`` points."""
    ch = nps_change_tests(responses, wave_from=previous, wave_to=wave, account=account, score="nps",
                           side="client", ci=ci, alpha=alpha)
    ch = _published(ch.assign(dimension="nps"), withheld, waves=(previous, wave), account=account)
    return _evidence(_clear_rise(ch, min_n, step), account=account, kind="NPS up", estimate="change", n="n_to",
                     detail=lambda r: say("portfolio.celebrate.nps_up", language, before=points(r.nps_from, language),
                                          after=points(r.nps_to, language), previous=previous, wave=wave,
                                          x=points(r.change, language),
                                          ci=interval(r.ci_low, r.ci_high, language, 0, sign=True),
                                          n_from=count(r.n_from, language), n_to=count(r.n_to, language)))


def _scores_up(scores: pd.DataFrame, *, wave: str, previous: str, labels: dict[str, str], instrument: Instrument,
               account: str, alpha: float, ci: float, min_n: int, step: float,
               withheld: pd.DataFrame | None, language: str = "en") -> list[dict]:
    """Dimension means clearly up from ``previous`` to ``wave``, by at least ``step`` scale points."""
    sc = score_change(scores, wave_from=previous, wave_to=wave, account=account, side="client", alpha=alpha,
                      ci=ci, instrument=instrument)
    sc = _published(sc, withheld, waves=(previous, wave), account=account)
    return _evidence(_clear_rise(sc, min_n, step), account=account, kind="score up", estimate="change", n="n_to",
                     dimension=True,
                     detail=lambda r: say("portfolio.celebrate.score_up", language,
                                          dim=labels.get(r.dimension, r.dimension),
                                          before=number(r.mean_from, language, 1), after=number(r.mean_to, language, 1),
                                          previous=previous, wave=wave, x=number(r.change, language, 1, sign=True),
                                          ci=interval(r.ci_low, r.ci_high, language, 1, sign=True),
                                          n_from=count(r.n_from, language), n_to=count(r.n_to, language)))


def _nps_above_portfolio(responses: pd.DataFrame, *, account: str, alpha: float, ci: float,
                         min_n: int, step: float, withheld: pd.DataFrame | None, language: str = "en") -> list[dict]:
    """Account NPS clearly above the rest of the portfolio in the wave, by at least ``step`` points."""
    nps_held = None if withheld is None else withheld[withheld["dimension"] == "nps"]
    top = nps_vs_portfolio(responses, account=account, side="client", alpha=alpha, ci=ci, min_group_size=min_n,
                           withheld=nps_held)
    return _evidence(_clearly_above(top, min_n, step), account=account, kind="NPS above portfolio", estimate="diff",
                     low="diff_low", high="diff_high",
                     detail=lambda r: say("portfolio.celebrate.nps_above", language, nps=points(r.nps, language),
                                          rest=points(r.rest_nps, language), x=points(r.diff, language),
                                          ci=interval(r.diff_low, r.diff_high, language, 0, sign=True),
                                          n=count(r.n, language)))


def _scores_above_portfolio(scores: pd.DataFrame, *, labels: dict[str, str], instrument: Instrument, account: str,
                            alpha: float, ci: float, min_n: int, step: float,
                            withheld: pd.DataFrame | None, language: str = "en") -> list[dict]:
    """Dimension means clearly above the rest of the portfolio in the wave, by at least ``step`` points."""
    heat = dimension_heatmap(scores, account=account, side="client", alpha=alpha, ci=ci, instrument=instrument,
                             min_group_size=min_n, withheld=withheld)
    return _evidence(_clearly_above(heat, min_n, step), account=account, kind="score above portfolio", estimate="diff",
                     low="diff_low", high="diff_high", dimension=True,
                     detail=lambda r: say("portfolio.celebrate.score_above", language,
                                          dim=labels.get(r.dimension, r.dimension), mean=number(r.mean, language, 1),
                                          rest=number(r.rest_mean, language, 1),
                                          x=number(r.diff, language, 1, sign=True),
                                          ci=interval(r.diff_low, r.diff_high, language, 1, sign=True),
                                          n=count(r.n, language)))


def _published(tests: pd.DataFrame, withheld: pd.DataFrame | None, *, waves: tuple[str, str],
               account: str) -> pd.DataFrame:
    """The changes whose two waves may both be published (a change would give a withheld figure away)."""
    if withheld is None or withheld.empty or "wave" not in withheld:
        return tests
    held = withheld[withheld["wave"].isin(waves)][[account, "dimension"]].drop_duplicates().assign(_held=True)
    keep = tests.merge(held, on=[account, "dimension"], how="left")["_held"].isna().to_numpy()
    return tests[keep]


def _clear_rise(tests: pd.DataFrame, min_n: int, step: float) -> pd.DataFrame:
    """Rises of at least ``step`` that pass the correction, from at least ``min_n`` respondents in both waves."""
    return tests[tests["significant"] & (tests["change"] >= step) & (tests["n_from"] >= min_n)
                 & (tests["n_to"] >= min_n)]


def _clearly_above(tests: pd.DataFrame, min_n: int, step: float) -> pd.DataFrame:
    """Leads over the rest of the portfolio of at least ``step`` that pass the correction, from ``min_n`` answers."""
    return tests[tests["significant"] & (tests["diff"] >= step) & (tests["n"] >= min_n)]


def _evidence(tests: pd.DataFrame, *, account: str, kind: str, estimate: str, detail: Callable[[Any], str],
              low: str = "ci_low", high: str = "ci_high", n: str = "n", dimension: bool = False) -> list[dict]:
    """One row of evidence per test that passed, with its sentence of detail."""
    return [{account: getattr(r, account), "evidence": kind, "dimension": r.dimension if dimension else None,
             "estimate": getattr(r, estimate), "ci_low": getattr(r, low), "ci_high": getattr(r, high),
             "n": int(getattr(r, n)), "p_fdr": r.p_fdr, "detail": detail(r)} for r in tests.itertuples()]


def _most_evidence_first(evidence: pd.DataFrame, *, account: str) -> pd.DataFrame:
    """Accounts with the most evidence first, then by account; within one, in the order of :data:`KINDS`."""
    if not len(evidence):
        return evidence
    count = evidence.groupby(account)[account].transform("size")
    kinds = {k: i for i, k in enumerate(KINDS)}
    return evidence.assign(_c=-count, _k=evidence["evidence"].map(kinds)).sort_values([
        "_c", account, "_k"]).drop(columns=["_c", "_k"]).reset_index(drop=True)


def _evidence_by_account(evidence: pd.DataFrame, *, account: str) -> pd.DataFrame:
    """One row per account: how much evidence, whether any of it is an improvement, its kinds and details."""
    g = evidence.groupby(account, sort=False)
    return pd.DataFrame({
        account: list(g.groups),
        "n_evidence": g.size().to_numpy(),
        "improved": g["evidence"].agg(lambda s: bool(s.isin(["NPS up", "score up"]).any())).to_numpy(),
        "evidence": g["evidence"].agg(lambda s: ", ".join(dict.fromkeys(s))).to_numpy(),
        "detail": g["detail"].agg("; ".join).to_numpy(),
    }, columns=[account, "n_evidence", "improved", "evidence", "detail"])
