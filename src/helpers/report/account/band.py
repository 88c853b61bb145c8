"""The account report's summary band: the numbers that matter as tiles, three findings and the next focus.

Takes the sections already computed (:func:`helpers.report.account.summary.headline`,
the gaps, the overall scores, the next meeting, the comments) and hands on a
:class:`helpers.report.band.SummaryBand` in the report's language.  Every
text is plain (the band escapes it) and comes from the catalogue
(``account_band``); a figure the report may not publish is not in the band
either — its tile says why in a few words ("not shown: 3 answers").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.data.disclosure import DIFFERENCE
from helpers.report.band import SummaryBand, Tile, arrow
from helpers.report.formatting import count, interval, number, points
from helpers.words import say

from .load import AccountData
from .overall import DIMENSION_HIDDEN


def _say(key: str, language: str, **fields: Any) -> str:
    return say(f"account_band.{key}", language, **fields)


def join_names(names: list[str], language: str) -> str:
    """Names as a list in running text: "Care", "Care and Impact", "Dare, Care and Impact"."""
    names = [str(n) for n in names]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} {_say('and', language)} {names[-1]}"


def summary_band(account: AccountData, *, headline: dict[str, Any], gaps: pd.DataFrame, overall: pd.DataFrame,
                 meeting: dict[str, Any], voice: dict[str, Any]) -> SummaryBand:
    """The band that opens the account report.

    Parameters
    ----------
    account : AccountData
    headline : dict
        :func:`helpers.report.account.summary.headline` (its NPS, change, counts and named gaps).
    gaps : DataFrame
        :func:`helpers.report.account.sections.gaps_section`.
    overall : DataFrame
        :func:`helpers.report.account.overall.overall_scores`.
    meeting : dict
        :func:`helpers.report.account.meeting.next_meeting`.
    voice : dict
        :func:`helpers.report.account.sections.comments_section`.

    Returns
    -------
    SummaryBand
        Tiles: client NPS (an arrow only for a clear change, the interval in small print), the client's and
        the team's overall score, the answers, the clear gaps; three findings (NPS, gaps, the client's
        profile); the focus for the next meeting.
    """
    lang = account.language
    tiles = [nps_tile(account, headline), score_tile(account, overall, "client"),
             score_tile(account, overall, "staff"), answers_tile(account, headline, voice),
             gaps_tile(account, headline, gaps)]
    return SummaryBand(tiles=tiles, sentences=findings(account, headline=headline, gaps=gaps),
                       heading=_say("heading", lang, wave=account.wave), focus=focus_line(account, meeting))


# ---------------------------------------------------------------------------
# Tiles
# ---------------------------------------------------------------------------
def nps_tile(account: AccountData, head: dict[str, Any]) -> Tile:
    """Client NPS with its n and interval, the change since the previous wave (an arrow only when clear)."""
    lang = account.language
    label = _say("nps_label", lang)
    if head["n_client"] == 0:
        return Tile(label, "–", _say("no_answers", lang))
    if pd.isna(head["nps"]):
        return Tile(label, "–", _hidden_why(account, "client", head["n_client"]))
    detail = _say("nps_detail", lang, n=count(head["n_client"], lang),
                  ci=interval(head["nps_ci_low"], head["nps_ci_high"], lang, 0, sign=True))
    prev, change = head["previous_wave"], head["nps_change"]
    if prev is None:
        return Tile(label, points(head["nps"], lang), detail, _say("first_wave", lang), "flat")
    if pd.isna(change):
        return Tile(label, points(head["nps"], lang), detail, _say("no_comparison", lang, prev=prev))
    clear = bool(head["change_clear"])
    direction = arrow(change, clear=clear)
    text = _say("change" if clear else "change_unclear", lang, x=points(change, lang), prev=prev)
    detail += " · " + _say("change_detail", lang, ci=interval(head["change_ci_low"], head["change_ci_high"], lang,
                                                               0, sign=True))
    tone = {"up": "good", "down": "attention"}.get(direction, "")
    return Tile(label, points(head["nps"], lang), detail, text, direction, tone)


def score_tile(account: AccountData, overall: pd.DataFrame, side: str) -> Tile:
    """One side's overall score (mean over the five dimensions) with its n and interval, or why it is hidden."""
    lang, inst = account.language, account.instrument
    label = _say("client_label" if side == "client" else "team_label", lang, lo=inst.scale_min, hi=inst.scale_max)
    tone = "client" if side == "client" else "team"
    rows = overall.set_index("side")
    r = rows.loc[side] if side in rows.index else pd.Series({"n": 0, "mean": np.nan})
    n_side = _answers(account, side)
    if n_side == 0:
        return Tile(label, "–", _say("no_answers", lang), tone=tone)
    if pd.isna(r["mean"]):
        return Tile(label, "–", _hidden_why(account, side, n_side, reason=r.get("reason")), tone=tone)
    detail = _say("score_detail", lang, n=count(r["n"], lang), ci=interval(r["ci_low"], r["ci_high"], lang, 1))
    return Tile(label, number(r["mean"], lang, 1), detail, tone=tone)


def answers_tile(account: AccountData, head: dict[str, Any], voice: dict[str, Any]) -> Tile:
    """Client and team answers in the wave, and how many clients left a comment."""
    lang = account.language
    value = _say("answers_value", lang, n_client=count(head["n_client"], lang), n_staff=count(head["n_staff"], lang))
    detail = _say("answers_detail", lang, n=count(voice.get("n_client_comments", 0), lang))
    tone = "attention" if head.get("few_answers") and head["n_client"] > 0 else ""
    if tone:
        detail = _say("few_answers", lang, k=account.figure_min("client")) + " · " + detail
    return Tile(_say("answers_label", lang), value, detail, tone=tone)


def gaps_tile(account: AccountData, head: dict[str, Any], gaps: pd.DataFrame) -> Tile:
    """The clear gaps named (blind spots, hidden strengths), a possible one in small print, or why none."""
    lang = account.language
    label = _say("gaps_label", lang)
    if head["staff_suppressed"]:
        n_staff = head["n_staff"]
        why = _say("no_answers_team", lang) if n_staff == 0 else _hidden_why(account, "staff", n_staff)
        return Tile(label, "–", why)
    if int(gaps["p_val"].notna().sum()) == 0:
        return Tile(label, "–", _say("gaps_untested", lang))
    names = account.instrument.labels(lang)
    blind, hidden = head["blind_spots"], head["hidden_strengths"]
    parts = []
    if blind:
        parts.append(_say("blind_spots_named", lang, dims=join_names([names[d] for d in blind], lang)))
    if hidden:
        parts.append(_say("hidden_strengths_named", lang, dims=join_names([names[d] for d in hidden], lang)))
    if parts:
        value = count(len(blind) + len(hidden), lang)
        return Tile(label, value, " · ".join(parts), tone="attention" if blind else "good")
    possible = head["possible_blind_spots"] + head["possible_hidden_strengths"]
    detail = (_say("possible_named", lang, dims=join_names([names[d] for d in possible], lang)) if possible
              else _say("no_clear_gap", lang))
    return Tile(label, _say("none", lang), detail)


def _answers(account: AccountData, side: str) -> int:
    resp = account.in_wave(account.responses)
    return int((resp["side"] == side).sum())


def _hidden_why(account: AccountData, side: str, n: int, *, reason: Any = None) -> str:
    """Why a side's figure is not shown, in a few words."""
    lang = account.language
    if reason == DIFFERENCE:
        return _say("hidden_difference", lang)
    if reason == DIMENSION_HIDDEN:
        return _say("hidden_dimension", lang)
    if n >= account.figure_min(side):  # hidden for another reason the publication rules give
        pub = account.publication
        why = pub[(pub["side"] == side) & (pub["wave"] == account.wave)]["reason"].dropna()
        if (why == DIFFERENCE).any():
            return _say("hidden_difference", lang)
    return _say("hidden_few", lang, n=count(n, lang))


# ---------------------------------------------------------------------------
# Findings and focus
# ---------------------------------------------------------------------------
def findings(account: AccountData, *, headline: dict[str, Any], gaps: pd.DataFrame) -> list[str]:
    """Three findings written from the data: the NPS and its change, the gaps, the client's profile."""
    return [s for s in (nps_finding(account, headline), gap_finding(account, headline, gaps),
                        profile_finding(account, gaps)) if s]


def nps_finding(account: AccountData, head: dict[str, Any]) -> str:
    """Client NPS with n and interval, and how it moved — "no clear change" when the interval includes 0."""
    lang = account.language
    if head["n_client"] == 0:
        return _say("f_no_client", lang, wave=account.wave)
    if pd.isna(head["nps"]):
        reason = _nps_reason(account)
        why = (_say("f_why_difference", lang) if reason == DIFFERENCE
               else _say("f_why_few", lang, n=count(head["n_client"], lang), k=account.figure_min("client")))
        return _say("f_nps_hidden", lang, why=why)
    prev, change = head["previous_wave"], head["nps_change"]
    if prev is None:
        after = _say("f_first", lang)
    elif pd.isna(change):
        after = _say("f_no_comparison", lang, prev=prev)
    else:
        ci = interval(head["change_ci_low"], head["change_ci_high"], lang, 0, sign=True)
        before = {"prev": prev, "prev_nps": points(head["nps_previous"], lang), "ci": ci}
        if head["change_clear"]:
            key = "f_up" if change > 0 else "f_down"
            after = _say(key, lang, x=number(abs(change), lang, 0), **before)
        else:
            after = _say("f_flat", lang, x=points(change, lang), **before)
    return _say("f_nps", lang, nps=points(head["nps"], lang), n=count(head["n_client"], lang),
                ci=interval(head["nps_ci_low"], head["nps_ci_high"], lang, 0, sign=True), after=after)


def _nps_reason(account: AccountData) -> str | None:
    pub = account.publication
    row = pub[(pub["side"] == "client") & (pub["measure"] == "nps") & (pub["wave"] == account.wave)]
    return None if row.empty or pd.isna(row["reason"].iloc[0]) else str(row["reason"].iloc[0])


def gap_finding(account: AccountData, head: dict[str, Any], gaps: pd.DataFrame) -> str:
    """Where the client's and the team's view differ clearly — in the words of the gap readings."""
    lang, names = account.language, account.instrument.labels(account.language)
    if head["staff_suppressed"]:
        if head["n_staff"] == 0:
            return _say("f_no_team", lang)
        return _say("f_team_hidden", lang, n=count(head["n_staff"], lang), k=account.figure_min("staff"))
    if int(gaps["p_val"].notna().sum()) == 0:
        return _say("f_gaps_untested", lang)
    g = gaps.set_index("dimension")

    def items(dims: list[str]) -> str:
        return join_names([_say("f_gap_item", lang, dim=names[d], x=number(abs(g.loc[d, "gap"]), lang, 1))
                           for d in dims], lang)

    parts = []
    if head["blind_spots"]:
        parts.append(_say("f_blind", lang, items=items(head["blind_spots"])))
    if head["hidden_strengths"]:
        parts.append(_say("f_hidden_strength", lang, items=items(head["hidden_strengths"])))
    if parts:
        return " ".join(parts)
    if head["possible_blind_spots"]:
        return _say("f_possible_blind", lang, dims=join_names([names[d] for d in head["possible_blind_spots"]], lang))
    if head["possible_hidden_strengths"]:
        return _say("f_possible_hidden", lang,
                    dims=join_names([names[d] for d in head["possible_hidden_strengths"]], lang))
    return _say("f_no_gap", lang)


def profile_finding(account: AccountData, gaps: pd.DataFrame, *, margin: float | None = None) -> str:
    """The client's highest and lowest dimension, or that no dimension stands out ("" without client scores
    when nobody answered)."""
    from .meeting import equivalence_margin

    lang, inst = account.language, account.instrument
    names = inst.labels(lang)
    n_client = int(gaps["n_client"].max()) if len(gaps) else 0
    k = account.figure_min("client")
    if n_client == 0:
        return ""
    if n_client < k:
        return _say("f_profile_few", lang, n=count(n_client, lang), k=k)
    shown = gaps[gaps["client_mean"].notna()]
    if len(shown) < 2:
        return _say("f_profile_hidden", lang)
    m = shown.set_index("dimension")["client_mean"]
    span = {"lo": inst.scale_min, "hi": inst.scale_max, "n": count(int(shown["n_client"].max()), lang)}
    mg = equivalence_margin(inst) if margin is None else margin
    if m.max() - m.min() < mg:
        return _say("f_profile_flat", lang, low=number(m.min(), lang, 1), high=number(m.max(), lang, 1), **span)
    top = [d for d in m.index if np.isclose(m[d], m.max())]
    bottom = [d for d in m.index if np.isclose(m[d], m.min())]
    return _say("f_profile", lang, high=join_names([names[d] for d in top], lang), high_m=number(m.max(), lang, 1),
                low=join_names([names[d] for d in bottom], lang), low_m=number(m.min(), lang, 1), **span)


def focus_line(account: AccountData, meeting: dict[str, Any]) -> str:
    """The focus for the next meeting in one line: what to talk about, what to build on, or why nothing is named."""
    lang, names = account.language, account.instrument.labels(account.language)
    focus = [names[d] for d in meeting["focus"]["dimension"]] if len(meeting["focus"]) else []
    strengths = [names[d] for d in meeting["strengths"]["dimension"]] if len(meeting["strengths"]) else []
    if focus and strengths:
        return _say("focus_and_build", lang, focus=join_names(focus, lang), strengths=join_names(strengths, lang))
    if focus:
        return _say("focus", lang, focus=join_names(focus, lang))
    if strengths:
        return _say("build", lang, strengths=join_names(strengths, lang))
    if meeting.get("status") == "none_stand_out":
        return _say("focus_none", lang)
    return _say("focus_few", lang)
