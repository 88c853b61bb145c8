"""The account report's headline: counts, NPS and its change, the clearest gap, in one sentence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.data.disclosure import DIFFERENCE
from helpers.report.formatting import _num
from helpers.stats import gaps as gp
from helpers.stats.scores import nps, nps_change

from .load import CI, RWG_STABLE_N, AccountData
from .overall import overall_scores
from .sections import comments_section, gaps_section
from .texts import _md, _t


def headline(account: AccountData, *, gaps: pd.DataFrame | None = None,
             voice: dict[str, Any] | None = None, overall: pd.DataFrame | None = None) -> dict[str, Any]:
    """Counts, client NPS with CI, the change from the previous wave, the clear gaps and the overall scores.

    Parameters
    ----------
    account : AccountData
    gaps : DataFrame, optional
        :func:`gaps_section` output (computed when omitted).
    voice : dict, optional
        :func:`comments_section` output, for the notes (computed when omitted).
    overall : DataFrame, optional
        :func:`helpers.report.account.overall.overall_scores` output (computed when omitted).

    Returns
    -------
    dict
        account_id, name, wave, n_client, n_staff, nps, nps_ci_low,
        nps_ci_high (adjusted Wald, Rocks 2016), previous_wave, n_previous, nps_previous,
        nps_change, change_ci_low, change_ci_high, change_clear (bool: the
        change's CI excludes 0), staff_suppressed, blind_spots,
        possible_blind_spots, hidden_strengths, possible_hidden_strengths
        (dimension ids, largest gap first; empty when the team's view is
        hidden), few_answers (bool: fewer client answers than a client figure
        needs), client_score, client_score_n, client_score_ci_low,
        client_score_ci_high and the same for team_score (the overall mean
        over the five dimensions; NaN when the report may not publish it),
        summary (one sentence in the report's language, Markdown with its
        free text escaped), notes (privacy and sample-size notes, likewise).

    Notes
    -----
    The sentence never claims more than the numbers carry: a client NPS the
    report may not publish (too few answers, or one that would give away the
    clients who joined or left since an earlier wave) is not given; a change
    is given only between two published waves, and one whose CI includes 0 is
    "no clear change"; a gap is named as clear or possible in the words of
    :func:`helpers.stats.gaps.perception_gaps`, which always agree with its interval.
    ``withheld`` lists what the report held back (counts and reasons, from
    :attr:`AccountData.audit`) for the batch's manifest.
    """
    lang = account.language
    n_client, n_staff = _answer_counts(account)
    client = account.responses[account.responses["side"] == "client"]
    now = nps(account.in_wave(client), by=None, ci=CI).iloc[0]
    hidden_why = _nps_hidden_reason(account, account.wave) if now["n"] > 0 else None
    shown = now["n"] > 0 and hidden_why is None
    value, lo, hi = (float(now[c]) if shown else np.nan for c in ("nps", "ci_low", "ci_high"))
    change = _change_from_previous_wave(account, client, n_now=int(now["n"]) if shown else 0)
    clear_change = bool(change["change_ci_low"] > 0 or change["change_ci_high"] < 0)
    g = gaps_section(account) if gaps is None else gaps
    staff_hidden = bool(_hidden_dimensions(account, "staff").all()) if n_staff else True
    gap = _gap_clause(account, g, staff_hidden=staff_hidden)
    if now["n"] == 0:
        summary = _t("no_client", lang, wave=_md(account.wave), gap=gap if staff_hidden else "")
    elif not shown:
        why = (_t("why_difference", lang, k=account.min_client_group_size) if hidden_why == DIFFERENCE
               else _t("why_few", lang, n=int(now["n"]), k=account.figure_min("client")))
        summary = _t("nps_hidden", lang, why=why, gap=gap)
    else:
        summary = _t("nps_sentence", lang, nps=_points(value, lang), lo=_points(lo, lang), hi=_points(hi, lang),
                     n=int(now["n"]), change=_change_clause(account, change, clear=clear_change), gap=gap, few="")
    scores = overall_scores(account) if overall is None else overall
    return {
        "account_id": account.account_id, "name": account.name, "wave": account.wave,
        "n_client": n_client, "n_staff": n_staff, "nps": value, "nps_ci_low": lo, "nps_ci_high": hi,
        "previous_wave": account.previous_wave, **change, "change_clear": clear_change,
        "staff_suppressed": staff_hidden, **named_gaps(g),
        "few_answers": n_client < account.figure_min("client"), **_overall_fields(scores),
        "summary": summary, "notes": privacy_notes(account, gaps=g, voice=voice),
        "withheld": account.audit.summary(),
    }


def named_gaps(gaps: pd.DataFrame) -> dict[str, list[str]]:
    """The dimensions with each reading that names a gap, largest gap first (ids; none from a hidden view).

    Returns
    -------
    dict
        blind_spots, possible_blind_spots, hidden_strengths, possible_hidden_strengths: lists of dimension ids.
        A blind spot or hidden strength is *clear* (it holds after the correction for the report's tests and
        its interval excludes 0); a *possible* one has an interval that excludes 0 but does not hold after
        the correction (:func:`helpers.stats.gaps.perception_gaps`).
    """
    shown = gaps[~gaps["suppressed"].astype(bool)] if "suppressed" in gaps else gaps
    out = {}
    for key, label, blind in (("blind_spots", gp.BLIND_SPOT, True), ("possible_blind_spots", gp.POSSIBLE_BLIND_SPOT, True),
                              ("hidden_strengths", gp.HIDDEN_STRENGTH, False),
                              ("possible_hidden_strengths", gp.POSSIBLE_HIDDEN_STRENGTH, False)):
        rows = shown[shown["label"] == label].sort_values("gap", ascending=blind, kind="mergesort")
        out[key] = [str(d) for d in rows["dimension"]]
    return out


def _overall_fields(overall: pd.DataFrame) -> dict[str, Any]:
    """client_score, team_score with their n and interval from :func:`overall_scores` (NaN when hidden)."""
    out: dict[str, Any] = {}
    rows = overall.set_index("side")
    for side, key in (("client", "client_score"), ("staff", "team_score")):
        r = rows.loc[side] if side in rows.index else pd.Series(dtype=object)
        out[key] = float(r["mean"]) if pd.notna(r.get("mean", np.nan)) else np.nan
        out[f"{key}_n"] = int(r["n"]) if pd.notna(r.get("n", np.nan)) else 0
        for end in ("ci_low", "ci_high"):
            out[f"{key}_{end}"] = float(r[end]) if pd.notna(r.get(end, np.nan)) else np.nan
    return out


def _nps_hidden_reason(account: AccountData, wave: str) -> str | None:
    """Why the client NPS of ``wave`` may not be published (None when it may)."""
    pub = account.publication
    row = pub[(pub["side"] == "client") & (pub["measure"] == "nps") & (pub["wave"] == wave)]
    return None if row.empty or pd.isna(row["reason"].iloc[0]) else str(row["reason"].iloc[0])


def _answer_counts(account: AccountData) -> tuple[int, int]:
    """Client and team answers in the report's wave."""
    resp = account.in_wave(account.responses)
    return int((resp["side"] == "client").sum()), int((resp["side"] == "staff").sum())


def _points(x: float, language: str) -> str:
    """NPS points for a sentence: whole points with their sign."""
    return _num(x, language, 0, sign=True)


def _change_from_previous_wave(account: AccountData, client: pd.DataFrame, *, n_now: int) -> dict[str, Any]:
    """Client NPS change from the previous wave with its CI (NaN without a previous wave or NPS answers)."""
    prev = account.previous_wave
    prev_client = client[client["wave"] == prev] if prev else client.iloc[0:0]
    prev_shown = prev is not None and _nps_hidden_reason(account, prev) is None
    if not (prev and n_now > 0 and prev_shown and prev_client["nps"].notna().any()):
        return {"n_previous": 0, "nps_previous": np.nan, "nps_change": np.nan, "change_ci_low": np.nan,
                "change_ci_high": np.nan}
    ch = nps_change(client[client["wave"].isin([prev, account.wave])], order=[prev, account.wave], by=[],
                    ci=CI).iloc[-1]
    return {"n_previous": int(ch["n_from"]), "nps_previous": float(ch["nps_from"]),
            "nps_change": float(ch["change"]),
            "change_ci_low": float(ch["ci_low"]), "change_ci_high": float(ch["ci_high"])}


def _change_clause(account: AccountData, change: dict[str, Any], *, clear: bool) -> str:
    """The sentence's clause on the change from the previous wave: up, down, no clear change or first wave."""
    lang, prev = account.language, account.previous_wave
    if not prev or np.isnan(change["nps_change"]):
        return _t("first_wave", lang) if not prev else ""
    lo, hi = _points(change["change_ci_low"], lang), _points(change["change_ci_high"], lang)
    before = {"prev": _md(prev), "prev_n": change["n_previous"], "prev_nps": _points(change["nps_previous"], lang)}
    if clear:
        key = "up" if change["nps_change"] > 0 else "down"
        return _t(key, lang, x=_num(abs(change["nps_change"]), lang, 0), **before, lo=lo, hi=hi)
    return _t("no_change", lang, **before, x=_points(change["nps_change"], lang), lo=lo, hi=hi)


def _gap_clause(account: AccountData, gaps: pd.DataFrame, *, staff_hidden: bool) -> str:
    """The sentence's clause on perception gaps: the clearest blind spot or hidden strength, a possible one, or
    why none — in the words of the gap labels, so the sentence never says more than the intervals."""
    lang = account.language
    if staff_hidden:
        return _t("gap_hidden", lang, k=account.min_group_size)
    labels = account.instrument.labels(lang)
    tested = int(gaps["p_val"].notna().sum())
    for label, key, sign in ((gp.BLIND_SPOT, "gap_blind", -1), (gp.HIDDEN_STRENGTH, "gap_hidden_strength", 1),
                             (gp.POSSIBLE_BLIND_SPOT, "gap_possible_blind", -1),
                             (gp.POSSIBLE_HIDDEN_STRENGTH, "gap_possible_hidden", 1)):
        named = gaps[gaps["label"] == label].sort_values("gap", ascending=sign < 0)
        if len(named):
            r = named.iloc[0]
            return _t(key, lang, dim=_md(labels[r["dimension"]]), x=_num(sign * r["gap"], lang), m=tested)
    if not tested:
        return _t("gap_few", lang)
    return _t("gap_none", lang)


def _hidden_dimensions(account: AccountData, side: str) -> pd.Series:
    """Whether each dimension of ``side`` is hidden in the report's wave (dimension → bool)."""
    pub = account.publication
    now = pub[(pub["side"] == side) & (pub["wave"] == account.wave) & (pub["measure"] != "nps")]
    return now.set_index("measure")["reason"].reindex(account.instrument.dimension_ids).notna()


def _side_notes(account: AccountData, side: str, n: int) -> list[str]:
    """Notes on what of one side is hidden in the report's wave, and why."""
    lang, k = account.language, account.figure_min(side)
    pub = account.publication
    now = pub[(pub["side"] == side) & (pub["wave"] == account.wave) & (pub["measure"] != "nps")]
    hidden = now[now["reason"].notna()]
    if n == 0:
        return [_t("note_staff_none" if side == "staff" else "note_client_none", lang, wave=_md(account.wave))]
    if n < k:
        return [_t("note_staff_hidden", lang, n=n, k=k) if side == "staff" else _t("note_client_few", lang, n=n,
                                                                                       k=k)]
    notes = []
    labels = account.instrument.labels(lang)
    few = hidden[hidden["reason"] != DIFFERENCE]
    if len(few) and side == "staff":
        notes.append(_t("note_staff_dims", lang, dims=", ".join(_md(labels[d]) for d in few["measure"]), k=k))
    moved = hidden[hidden["reason"] == DIFFERENCE]
    if len(moved):
        what = ", ".join(_md(labels[d]) for d in moved["measure"])
        notes.append(_t("note_difference", lang, side=gp.SIDE_TEXT[lang][side], what=what,
                        k=account.thresholds.for_side(side)))
    return notes


def figure_notes(account: AccountData) -> list[str]:
    """Plain-language notes on the figures this report hides or holds back, and why (Markdown, its language).

    Shown under the summary band: team results below the threshold, too few client answers, results held
    back because they would give away who joined or left since an earlier wave.
    """
    n_client, n_staff = _answer_counts(account)
    return [*_side_notes(account, "staff", n_staff), *_side_notes(account, "client", n_client)]


def agreement_notes(account: AccountData) -> list[str]:
    """The note on within-group agreement (r_wg) of small groups, for the analysts' appendix ([] when none)."""
    lang, k = account.language, account.min_group_size
    n_client, n_staff = _answer_counts(account)
    unstable = [f"{gp.SIDE_TEXT[lang][side].lower()}, n = {n}" for side, n in (("client", n_client),
                                                                               ("staff", n_staff))
                if account.figure_min(side) <= n < RWG_STABLE_N]
    return [_t("note_rwg", lang, k=k, m=RWG_STABLE_N, groups="; ".join(unstable))] if unstable else []


def privacy_notes(account: AccountData, *, gaps: pd.DataFrame | None = None,
                  voice: dict[str, Any] | None = None) -> list[str]:
    """Plain-language notes on what is hidden or thin in this report, and why, in its language (Markdown).

    The :func:`figure_notes` and the notes on comments (team comments not shown, clients' roles hidden).
    ``gaps`` and ``voice`` are the :func:`gaps_section` and :func:`comments_section` outputs when already
    at hand (computed when omitted).  :func:`headline` returns these notes as its ``notes``.
    """
    lang = account.language
    _, n_staff = _answer_counts(account)
    notes = figure_notes(account)
    if 0 < n_staff < account.min_comment_group_size:
        notes.append(_t("note_team_comments", lang, n=n_staff, k=account.min_comment_group_size))
    if (comments_section(account) if voice is None else voice)["roles_hidden"]:
        notes.append(_t("note_roles", lang, k=account.figure_min("client")))
    return notes
