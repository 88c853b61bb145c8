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


_COLUMNS = ["dimension", "client_mean", "n_client", "gap", "label", "evidence", "reason"]
#: Means closer than this count as equal (ties, and the margin's edge).
_TOL = 1e-9


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
        ``"too_few"``, ``"hidden"`` or ``"no_clients"``), ``note`` (a sentence explaining an
        empty list, else ""), ``median`` (the median client dimension mean),
        ``margin``.

    Notes
    -----
    With fewer client answers than a figure needs (the client threshold or the
    reliable minimum), or when the client results are hidden, nothing is ranked.
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
    nothing.  A possible blind spot (interval below zero, not confirmed after
    the correction) is mentioned as not confirmed.
    """
    lang, k = account.language, account.figure_min("client")
    g = gaps_section(account) if gaps is None else gaps
    mg = equivalence_margin(account.instrument) if margin is None else float(margin)
    empty = pd.DataFrame(columns=_COLUMNS)
    n_client = int(g["n_client"].max()) if len(g) else 0
    g = g[g["client_mean"].notna()].copy()
    out = {"focus": empty, "strengths": empty, "median": np.nan, "margin": mg}
    if n_client == 0:
        return {**out, "status": "no_clients", "note": _t("no_focus", lang)}
    if n_client < k:
        return {**out, "status": "too_few", "note": _t("too_few_rank", lang, n=n_client, k=k)}
    if g.empty:  # the client results are hidden (e.g. they would give away who joined since an earlier wave)
        return {**out, "status": "hidden", "note": _t("hidden_rank", lang)}
    g = g[g["n_client"] >= k]
    med = float(g["client_mean"].median())
    cap = len(g) - 1  # never label every dimension
    focus = _focus_areas(g, median=med, margin=mg, n=n_focus, cap=cap)
    strengths = _strengths(g[~g["dimension"].isin(focus["dimension"])], median=med, margin=mg, n=n_strengths,
                           cap=cap - len(focus))
    if focus.empty and strengths.empty:
        return {**out, "median": med, "status": "none_stand_out",
                "note": _t("none_stand_out", lang, mg=_num(mg, lang, 1), med=_num(med, lang, 2))}
    return {**out, "focus": _with_reasons(focus, "focus", median=med, account=account),
            "strengths": _with_reasons(strengths, "strength", median=med, account=account),
            "median": med, "status": "ranked", "note": ""}


def _ranked(candidates: pd.DataFrame, *, first: pd.Series, key_first: pd.Series, key_rest: pd.Series, n: int,
            cap: int) -> pd.DataFrame:
    """Up to ``n`` candidates: the ``first`` ones (by ``key_first``) before the rest (by ``key_rest``), ties whole."""
    cand = candidates.copy()
    cand["_rank"] = np.where(first, 0, 1)
    cand["_key"] = np.where(first, key_first, key_rest)
    return _take(cand.sort_values(["_rank", "_key"], kind="mergesort"), n, cap)


def _focus_areas(g: pd.DataFrame, *, median: float, margin: float, n: int, cap: int) -> pd.DataFrame:
    """Clear blind spots (largest gap first), then client means at least ``margin`` below the median (lowest first)."""
    cand = g[g["label"].eq(gp.BLIND_SPOT) | (g["client_mean"] - median <= -margin + _TOL)]
    blind = cand["label"].eq(gp.BLIND_SPOT)
    return _ranked(cand, first=blind, key_first=cand["gap"], key_rest=cand["client_mean"], n=n, cap=cap)


def _strengths(rest: pd.DataFrame, *, median: float, margin: float, n: int, cap: int) -> pd.DataFrame:
    """Clear hidden strengths (largest gap first), then client means at least ``margin`` above the median."""
    cand = rest[rest["label"].eq(gp.HIDDEN_STRENGTH) | (rest["client_mean"] - median >= margin - _TOL)]
    hidden = cand["label"].eq(gp.HIDDEN_STRENGTH)
    return _ranked(cand, first=hidden, key_first=-cand["gap"], key_rest=-cand["client_mean"], n=n, cap=cap)


def _with_reasons(chosen: pd.DataFrame, kind: str, *, median: float, account: AccountData) -> pd.DataFrame:
    """The chosen focus areas or strengths with the sentence that says why, tagged with the instrument."""
    lang, labels = account.language, account.instrument.labels(account.language)
    reasons = [_reason(r, kind, chosen, median=median, language=lang, labels=labels) for _, r in chosen.iterrows()]
    return tag_frame(chosen.assign(reason=reasons)[_COLUMNS].reset_index(drop=True), account.instrument)


def _reason(r: pd.Series, kind: str, chosen: pd.DataFrame, *, median: float, language: str,
            labels: dict[str, str]) -> str:
    """Why one dimension is a focus area or a strength: a clear gap, or its distance from the median."""
    m, n = _num(r["client_mean"], language, 2), int(r["n_client"])  # two decimals: the difference adds up
    d, md = _num(abs(r["client_mean"] - median), language, 2), _num(median, language, 2)
    tied = _tied_with(r, chosen, language=language, labels=labels)
    if kind == "focus":
        if r["label"] == gp.BLIND_SPOT:
            return _t("r_blind", language, x=_num(-r["gap"], language))
        if r["label"] == gp.POSSIBLE_BLIND_SPOT:
            return _t("r_low_tentative", language, m=m, n=n, d=d, med=md, x=_num(-r["gap"], language)) + tied
        return _t("r_low", language, m=m, n=n, d=d, med=md) + tied
    if r["label"] == gp.HIDDEN_STRENGTH:
        return _t("r_hidden", language, x=_num(r["gap"], language))
    return _t("r_high", language, m=m, n=n, d=d, med=md) + tied


def _tied_with(r: pd.Series, chosen: pd.DataFrame, *, language: str, labels: dict[str, str]) -> str:
    """The "tied with" clause naming the other chosen dimensions with the same client mean ("" when none)."""
    same = chosen[(chosen["dimension"] != r["dimension"])
                  & np.isclose(chosen["client_mean"], r["client_mean"], rtol=0, atol=_TOL)]
    return _t("tied", language, dims=", ".join(_md(labels[d]) for d in same["dimension"])) if len(same) else ""
