"""Accounts to celebrate: clear evidence of something going well in the wave.
"""

from __future__ import annotations

import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.stats.comparisons import (
    _nps_change_tests,
    _require_waves,
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
    waves = _require_waves(responses, wave, previous)
    if previous is None:
        earlier = waves[:waves.index(wave)]
        previous = earlier[-1] if earlier else None
    rows: list[dict] = []
    # NPS up
    if previous is not None:
        ch = _nps_change_tests(responses, wave_from=previous, wave_to=wave, account=account, score="nps",
                               side="client", ci=ci, alpha=alpha)
        ch = ch[ch["significant"] & (ch["change"] > 0) & (ch["n_from"] >= min_n) & (ch["n_to"] >= min_n)]
        for r in ch.itertuples():
            rows.append({account: getattr(r, account), "evidence": "NPS up", "dimension": None,
                         "estimate": r.change, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": int(r.n_to),
                         "p_fdr": r.p_fdr,
                         "detail": f"NPS {r.nps_from:+.0f} → {r.nps_to:+.0f} ({previous} → {wave}); change "
                                   f"{r.change:+.0f} [{r.ci_low:+.0f}, {r.ci_high:+.0f}], n {int(r.n_from)} → {int(r.n_to)}"})
        sc = score_change(scores, wave_from=previous, wave_to=wave, account=account, side="client", alpha=alpha,
                          ci=ci, instrument=inst)
        sc = sc[sc["significant"] & (sc["change"] > 0) & (sc["n_from"] >= min_n) & (sc["n_to"] >= min_n)]
        for r in sc.itertuples():
            rows.append({account: getattr(r, account), "evidence": "score up", "dimension": r.dimension,
                         "estimate": r.change, "ci_low": r.ci_low, "ci_high": r.ci_high, "n": int(r.n_to),
                         "p_fdr": r.p_fdr,
                         "detail": f"{labels.get(r.dimension, r.dimension)} {r.mean_from:.2f} → {r.mean_to:.2f} "
                               f"({previous} → {wave}); "
                                   f"change {r.change:+.2f} [{r.ci_low:+.2f}, {r.ci_high:+.2f}], "
                                   f"n {int(r.n_from)} → {int(r.n_to)}"})
    top = nps_vs_portfolio(responses[responses["wave"] == wave], account=account, side="client", alpha=alpha, ci=ci)
    top = top[top["significant"] & (top["diff"] > 0) & (top["n"] >= min_n)]
    for r in top.itertuples():
        rows.append({account: getattr(r, account), "evidence": "NPS above portfolio", "dimension": None,
                     "estimate": r.diff, "ci_low": r.diff_low, "ci_high": r.diff_high, "n": int(r.n),
                     "p_fdr": r.p_fdr,
                     "detail": f"NPS {r.nps:+.0f} vs {r.rest_nps:+.0f} for the rest; difference {r.diff:+.0f} "
                               f"[{r.diff_low:+.0f}, {r.diff_high:+.0f}], n = {int(r.n)}"})
    w_scores = scores[scores["wave"] == wave] if "wave" in scores else scores
    heat = dimension_heatmap(w_scores, account=account, side="client", alpha=alpha, ci=ci, instrument=inst)
    heat = heat[heat["significant"] & (heat["diff"] > 0) & (heat["n"] >= min_n)]
    for r in heat.itertuples():
        rows.append({account: getattr(r, account), "evidence": "score above portfolio", "dimension": r.dimension,
                     "estimate": r.diff, "ci_low": r.diff_low, "ci_high": r.diff_high, "n": int(r.n),
                     "p_fdr": r.p_fdr,
                     "detail": f"{labels.get(r.dimension, r.dimension)} {r.mean:.2f} vs {r.rest_mean:.2f} for the "
                               f"rest; difference {r.diff:+.2f} [{r.diff_low:+.2f}, {r.diff_high:+.2f}], n = {int(r.n)}"})
    cols = [account, "evidence", "dimension", "estimate", "ci_low", "ci_high", "n", "p_fdr", "detail"]
    out = pd.DataFrame(rows, columns=cols)
    if len(out):
        kinds = {"NPS up": 0, "score up": 1, "NPS above portfolio": 2, "score above portfolio": 3}
        count = out.groupby(account)[account].transform("size")
        out = out.assign(_c=-count, _k=out["evidence"].map(kinds)).sort_values(["_c", account, "_k"]).drop(
            columns=["_c", "_k"]).reset_index(drop=True)
    if by_account:
        g = out.groupby(account, sort=False)
        out = pd.DataFrame({
            account: list(g.groups),
            "n_evidence": g.size().to_numpy(),
            "improved": g["evidence"].agg(lambda s: bool(s.isin(["NPS up", "score up"]).any())).to_numpy(),
            "evidence": g["evidence"].agg(lambda s: ", ".join(dict.fromkeys(s))).to_numpy(),
            "detail": g["detail"].agg("; ".join).to_numpy(),
        }, columns=[account, "n_evidence", "improved", "evidence", "detail"])
    if accounts is not None and "name" in accounts:
        out.insert(1, "name", out[account].map(accounts.set_index(account)["name"]))
    return out
