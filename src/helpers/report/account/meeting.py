"""For the next meeting: up to three focus areas and two strengths, only dimensions that stand out.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, tag_frame
from helpers.report.formatting import _num
from helpers.stats import gaps as gp

from .load import AccountData
from .sections import gaps_section
from .texts import _md, _t


def equivalence_margin(inst: Instrument) -> float:
    """The gaps module's default equivalence margin: one eighth of the scale range (0.5 on 1–5)."""
    return (inst.scale_max - inst.scale_min) / 8


def _take(candidates: pd.DataFrame, n: int, cap: int) -> pd.DataFrame:
    """The first ``n`` rows of sorted ``candidates``, never splitting a tie on (``_rank``, ``_key``).

    When the n-th and the (n+1)-th candidate tie, the whole tie comes in if
    that keeps to ``cap`` rows, and is left out otherwise: tied dimensions are
    named together or not at all.
    """
    n = max(min(int(n), int(cap)), 0)
    if len(candidates) <= n:
        return candidates
    key = list(zip(candidates["_rank"], candidates["_key"].round(9)))
    if n == 0 or key[n - 1] != key[n]:
        return candidates.iloc[:n]
    tie = [i for i, kk in enumerate(key) if kk == key[n - 1]]
    if tie[-1] < cap:
        return candidates.iloc[: tie[-1] + 1]
    return candidates.iloc[: tie[0]]


def next_meeting(
    account: AccountData,
    *,
    gaps: pd.DataFrame | None = None,
    n_focus: int = 3,
    n_strengths: int = 2,
    margin: float | None = None,
) -> dict[str, Any]:
    """Focus areas and strengths for the next meeting — only dimensions that really stand out.

    Parameters
    ----------
    account : AccountData
    gaps : DataFrame, optional
        :func:`gaps_section` output (computed when omitted).
    n_focus, n_strengths : int
        How many of each; a tie for the last place brings in every tied
        dimension, as long as no more than all dimensions but one are named.
    margin : float, optional
        How far (in scale points) a client mean must lie from the account's
        median dimension to count as low or high; default the gaps module's
        equivalence margin (:func:`equivalence_margin`, 0.5 on a 1–5 scale).

    Returns
    -------
    dict
        ``focus`` and ``strengths`` (frames: dimension, client_mean, n_client,
        gap, label, evidence, reason — a Markdown sentence in the report's
        language), ``status`` (``"ranked"``, ``"none_stand_out"``,
        ``"too_few"`` or ``"no_clients"``), ``note`` (a sentence explaining an
        empty list, else ""), ``median`` (the median client dimension mean),
        ``margin``.

    Notes
    -----
    With fewer than ``min_group_size`` client answers nothing is ranked.
    Otherwise a dimension is a **focus area** when it has a *clear* blind spot
    (:func:`helpers.stats.gaps.perception_gaps`) or its client mean is at least
    ``margin`` below the median of the account's dimension means; blind spots
    come first (largest gap first), then the lowest means.  From the other
    dimensions, a **strength** has a clear hidden strength or a client mean at
    least ``margin`` above the median.  Focus areas and strengths together
    never name more than all dimensions but one, and tied dimensions (equal
    means or gaps) are named together or not at all (a tie for the last place
    is taken whole when that stays within the limit, else left out) — so a tie
    is never broken by the order of the rows.  The median dimension itself is
    never "low" or "high", so a "ranking" of five nearly equal means names
    nothing.  A negative gap that is only ``tentative`` is mentioned as not
    confirmed.
    """
    lang, k = account.language, account.min_group_size
    g = gaps_section(account) if gaps is None else gaps
    mg = equivalence_margin(account.instrument) if margin is None else float(margin)
    cols = ["dimension", "client_mean", "n_client", "gap", "label", "evidence", "reason"]
    empty = pd.DataFrame(columns=cols)
    g = g[g["client_mean"].notna()].copy()
    n_client = int(g["n_client"].max()) if len(g) else 0
    out = {"focus": empty, "strengths": empty, "median": np.nan, "margin": mg}
    if g.empty:
        return {**out, "status": "no_clients", "note": _t("no_focus", lang)}
    if n_client < k:
        return {**out, "status": "too_few", "note": _t("too_few_rank", lang, n=n_client, k=k)}
    g = g[g["n_client"] >= k]
    med = float(g["client_mean"].median())
    tol = 1e-9
    dist = g["client_mean"] - med
    labels = account.instrument.labels(lang)
    cap = len(g) - 1  # never label every dimension

    blind = g["label"].eq(gp.BLIND_SPOT)
    cand = g[blind | (dist <= -mg + tol)].copy()
    is_blind = cand["label"].eq(gp.BLIND_SPOT)
    cand["_rank"] = np.where(is_blind, 0, 1)
    cand["_key"] = np.where(is_blind, cand["gap"], cand["client_mean"])
    focus = _take(cand.sort_values(["_rank", "_key"], kind="mergesort"), n_focus, cap)

    rest = g[~g["dimension"].isin(focus["dimension"])]
    rest_dist = rest["client_mean"] - med
    cand = rest[rest["label"].eq(gp.HIDDEN_STRENGTH) | (rest_dist >= mg - tol)].copy()
    is_hidden = cand["label"].eq(gp.HIDDEN_STRENGTH)
    cand["_rank"] = np.where(is_hidden, 0, 1)
    cand["_key"] = np.where(is_hidden, -cand["gap"], -cand["client_mean"])
    strengths = _take(cand.sort_values(["_rank", "_key"], kind="mergesort"), n_strengths, cap - len(focus))

    if focus.empty and strengths.empty:
        return {**out, "median": med, "status": "none_stand_out",
                "note": _t("none_stand_out", lang, mg=_num(mg, lang, 1), med=_num(med, lang, 2))}

    def tied(r: pd.Series, chosen: pd.DataFrame) -> str:
        same = chosen[(chosen["dimension"] != r["dimension"])
                      & np.isclose(chosen["client_mean"], r["client_mean"], rtol=0, atol=tol)]
        return _t("tied", lang, dims=", ".join(_md(labels[d]) for d in same["dimension"])) if len(same) else ""

    def reason(r: pd.Series, kind: str, chosen: pd.DataFrame) -> str:
        m, n = _num(r["client_mean"], lang, 2), int(r["n_client"])  # two decimals: the difference adds up
        d, md = _num(abs(r["client_mean"] - med), lang, 2), _num(med, lang, 2)
        if kind == "focus":
            if r["label"] == gp.BLIND_SPOT:
                return _t("r_blind", lang, x=_num(-r["gap"], lang))
            if r["evidence"] == gp.TENTATIVE and r["gap"] < 0:
                return _t("r_low_tentative", lang, m=m, n=n, d=d, med=md, x=_num(-r["gap"], lang)) + tied(r, chosen)
            return _t("r_low", lang, m=m, n=n, d=d, med=md) + tied(r, chosen)
        if r["label"] == gp.HIDDEN_STRENGTH:
            return _t("r_hidden", lang, x=_num(r["gap"], lang))
        return _t("r_high", lang, m=m, n=n, d=d, med=md) + tied(r, chosen)

    focus = focus.assign(reason=[reason(r, "focus", focus) for _, r in focus.iterrows()])
    strengths = strengths.assign(reason=[reason(r, "strength", strengths) for _, r in strengths.iterrows()])
    return {**out, "focus": tag_frame(focus[cols].reset_index(drop=True), account.instrument),
            "strengths": tag_frame(strengths[cols].reset_index(drop=True), account.instrument),
            "median": med, "status": "ranked", "note": ""}
