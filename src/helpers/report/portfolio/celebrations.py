"""Accounts to celebrate: clear evidence of something going well in the wave.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.stats.comparisons import (
    nps_change_tests,
    require_waves,
    dimension_heatmap,
    nps_vs_portfolio,
    score_change,
)

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
    language: str = "en",
    by_account: bool = False,
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Accounts to celebrate: clear improvement or clearly top scores, with the evidence.

    Four kinds of evidence, each one family of tests with a Benjamini–Hochberg
    correction at false discovery rate ``alpha``, client side only:

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
        evidence to count; small samples can pass a test by luck of the
        t distribution's tails with very uneven variances.
    language : str
        Dimension labels in the evidence text.
    by_account : bool
        One row per account instead of one per piece of evidence.

    Returns
    -------
    DataFrame
        account_id, (name,) evidence, dimension, estimate, ci_low, ci_high,
        n, p_fdr, detail — one row per piece of evidence, accounts with the most
        evidence first.  Empty (same columns) when nothing passes.  With
        ``by_account``: account_id, (name,) n_evidence, improved (bool),
        evidence (the kinds), detail (every detail, "; "-separated).

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
    tests = {"account": account, "alpha": alpha, "ci": ci, "min_n": min_n}
    rows: list[dict] = []
    if previous is not None:
        rows += _nps_up(responses, wave=wave, previous=previous, **tests)
        rows += _scores_up(scores, wave=wave, previous=previous, labels=labels, instrument=inst, **tests)
    rows += _nps_above_portfolio(responses[responses["wave"] == wave], **tests)
    w_scores = scores[scores["wave"] == wave] if "wave" in scores else scores
    rows += _scores_above_portfolio(w_scores, labels=labels, instrument=inst, **tests)
    cols = [account, "evidence", "dimension", "estimate", "ci_low", "ci_high", "n", "p_fdr", "detail"]
    out = _most_evidence_first(pd.DataFrame(rows, columns=cols), account=account)
    if by_account:
        out = _evidence_by_account(out, account=account)
    if accounts is not None and "name" in accounts:
        out.insert(1, "name", out[account].map(accounts.set_index(account)["name"]))
    return out


#: The kinds of evidence, in the order an account's rows are listed.
KINDS = ("NPS up", "score up", "NPS above portfolio", "score above portfolio")


def _nps_up(responses: pd.DataFrame, *, wave: str, previous: str, account: str, alpha: float, ci: float,
            min_n: int) -> list[dict]:
    """Account NPS clearly up from ``previous`` to ``wave``."""
    ch = nps_change_tests(responses, wave_from=previous, wave_to=wave, account=account, score="nps",
                           side="client", ci=ci, alpha=alpha)
    return _evidence(_clear_rise(ch, min_n), account=account, kind="NPS up", estimate="change", n="n_to",
                     detail=lambda r: f"NPS {r.nps_from:+.0f} → {r.nps_to:+.0f} ({previous} → {wave}); change "
                                      f"{r.change:+.0f} [{r.ci_low:+.0f}, {r.ci_high:+.0f}], "
                                      f"n {int(r.n_from)} → {int(r.n_to)}")


def _scores_up(scores: pd.DataFrame, *, wave: str, previous: str, labels: dict[str, str], instrument: Instrument,
               account: str, alpha: float, ci: float, min_n: int) -> list[dict]:
    """Dimension means clearly up from ``previous`` to ``wave``."""
    sc = score_change(scores, wave_from=previous, wave_to=wave, account=account, side="client", alpha=alpha,
                      ci=ci, instrument=instrument)
    return _evidence(_clear_rise(sc, min_n), account=account, kind="score up", estimate="change", n="n_to",
                     dimension=True,
                     detail=lambda r: f"{labels.get(r.dimension, r.dimension)} {r.mean_from:.2f} → {r.mean_to:.2f} "
                                      f"({previous} → {wave}); change {r.change:+.2f} "
                                      f"[{r.ci_low:+.2f}, {r.ci_high:+.2f}], n {int(r.n_from)} → {int(r.n_to)}")


def _nps_above_portfolio(responses: pd.DataFrame, *, account: str, alpha: float, ci: float,
                         min_n: int) -> list[dict]:
    """Account NPS clearly above the rest of the portfolio in the wave."""
    top = nps_vs_portfolio(responses, account=account, side="client", alpha=alpha, ci=ci)
    return _evidence(_clearly_above(top, min_n), account=account, kind="NPS above portfolio", estimate="diff",
                     low="diff_low", high="diff_high",
                     detail=lambda r: f"NPS {r.nps:+.0f} vs {r.rest_nps:+.0f} for the rest; difference "
                                      f"{r.diff:+.0f} [{r.diff_low:+.0f}, {r.diff_high:+.0f}], n = {int(r.n)}")


def _scores_above_portfolio(scores: pd.DataFrame, *, labels: dict[str, str], instrument: Instrument, account: str,
                            alpha: float, ci: float, min_n: int) -> list[dict]:
    """Dimension means clearly above the rest of the portfolio in the wave."""
    heat = dimension_heatmap(scores, account=account, side="client", alpha=alpha, ci=ci, instrument=instrument)
    return _evidence(_clearly_above(heat, min_n), account=account, kind="score above portfolio", estimate="diff",
                     low="diff_low", high="diff_high", dimension=True,
                     detail=lambda r: f"{labels.get(r.dimension, r.dimension)} {r.mean:.2f} vs {r.rest_mean:.2f} "
                                      f"for the rest; difference {r.diff:+.2f} [{r.diff_low:+.2f}, "
                                      f"{r.diff_high:+.2f}], n = {int(r.n)}")


def _clear_rise(tests: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """Changes that pass the correction upwards, from at least ``min_n`` respondents in both waves."""
    return tests[tests["significant"] & (tests["change"] > 0) & (tests["n_from"] >= min_n)
                 & (tests["n_to"] >= min_n)]


def _clearly_above(tests: pd.DataFrame, min_n: int) -> pd.DataFrame:
    """Differences from the rest of the portfolio that pass the correction upwards, from at least ``min_n``."""
    return tests[tests["significant"] & (tests["diff"] > 0) & (tests["n"] >= min_n)]


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
