"""The account report's headline: counts, NPS and its change, the clearest gap, in one sentence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from helpers.report.formatting import _num
from helpers.stats import gaps as gp
from helpers.stats.scores import nps, nps_change

from .load import CI, RWG_STABLE_N, AccountData
from .sections import comments_section, gaps_section
from .texts import _md, _t


def headline(account: AccountData, *, gaps: pd.DataFrame | None = None,
             voice: dict[str, Any] | None = None) -> dict[str, Any]:
    """Counts, client NPS with CI, the change from the previous wave and a one-sentence summary.

    Parameters
    ----------
    account : AccountData
    gaps : DataFrame, optional
        :func:`gaps_section` output (computed when omitted).
    voice : dict, optional
        :func:`comments_section` output, for the notes (computed when omitted).

    Returns
    -------
    dict
        account_id, name, wave, n_client, n_staff, nps, nps_ci_low,
        nps_ci_high (adjusted Wald, Rocks 2016), previous_wave, n_previous, nps_previous,
        nps_change, change_ci_low, change_ci_high, change_clear (bool: the
        change's CI excludes 0), staff_suppressed, summary (one sentence in
        the report's language, Markdown with its free text escaped), notes
        (privacy and sample-size notes, likewise).

    Notes
    -----
    The sentence never claims more than the numbers carry: a change whose CI
    includes 0 is "no clear change"; a gap is named only when its label is
    ``clear`` (:func:`helpers.stats.gaps.perception_gaps`); few client answers are
    said to be indications.
    """
    lang = account.language
    n_client, n_staff = _answer_counts(account)
    client = account.responses[account.responses["side"] == "client"]
    now = nps(account.in_wave(client), by=None, ci=CI).iloc[0]
    value, lo, hi = (float(now[c]) if now["n"] > 0 else np.nan for c in ("nps", "ci_low", "ci_high"))
    change = _change_from_previous_wave(account, client, n_now=int(now["n"]))
    clear_change = bool(change["change_ci_low"] > 0 or change["change_ci_high"] < 0)
    g = gaps_section(account) if gaps is None else gaps
    staff_hidden = bool(g["suppressed"].all()) if len(g) else True
    gap = _gap_clause(account, g, staff_hidden=staff_hidden, n_client=n_client)
    if now["n"] == 0:
        summary = _t("no_client", lang, wave=_md(account.wave), gap=gap if staff_hidden else "")
    else:
        few = _t("few", lang, n=int(now["n"])) if now["n"] < account.min_group_size else ""
        summary = _t("nps_sentence", lang, nps=_points(value, lang), lo=_points(lo, lang), hi=_points(hi, lang),
                     n=int(now["n"]), change=_change_clause(account, change, clear=clear_change), gap=gap, few=few)
    return {
        "account_id": account.account_id, "name": account.name, "wave": account.wave,
        "n_client": n_client, "n_staff": n_staff, "nps": value, "nps_ci_low": lo, "nps_ci_high": hi,
        "previous_wave": account.previous_wave, **change, "change_clear": clear_change,
        "staff_suppressed": staff_hidden, "summary": summary, "notes": privacy_notes(account, gaps=g, voice=voice),
    }


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
    if not (prev and n_now > 0 and prev_client["nps"].notna().any()):
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


def _gap_clause(account: AccountData, gaps: pd.DataFrame, *, staff_hidden: bool, n_client: int) -> str:
    """The sentence's clause on perception gaps: the clearest blind spot or hidden strength, or why none."""
    lang, k = account.language, account.min_group_size
    if staff_hidden:
        return _t("gap_hidden", lang, k=k)
    labels = account.instrument.labels(lang)
    clear = gaps[gaps["evidence"] == gp.CLEAR]
    blind = clear[clear["label"] == gp.BLIND_SPOT].sort_values("gap")
    hidden = clear[clear["label"] == gp.HIDDEN_STRENGTH].sort_values("gap", ascending=False)
    if len(blind):
        r = blind.iloc[0]
        return _t("gap_blind", lang, dim=_md(labels[r["dimension"]]), x=_num(-r["gap"], lang))
    if len(hidden):
        r = hidden.iloc[0]
        return _t("gap_hidden_strength", lang, dim=_md(labels[r["dimension"]]), x=_num(r["gap"], lang))
    return _t("gap_few", lang) if n_client < k else _t("gap_none", lang)


def privacy_notes(account: AccountData, *, gaps: pd.DataFrame | None = None,
                  voice: dict[str, Any] | None = None) -> list[str]:
    """Plain-language notes on what is hidden or thin in this report, in its language (Markdown).

    ``gaps`` and ``voice`` are the :func:`gaps_section` and
    :func:`comments_section` outputs when already at hand (computed when
    omitted).  :func:`headline` returns these notes as its ``notes``.
    """
    lang, k = account.language, account.min_group_size
    n_client, n_staff = _answer_counts(account)
    notes = []
    g = gaps_section(account) if gaps is None else gaps
    if n_staff == 0:
        notes.append(_t("note_staff_none", lang, wave=_md(account.wave)))
    elif n_staff < k:
        notes.append(_t("note_staff_hidden", lang, n=n_staff, k=k))
    elif g["suppressed"].any():
        labels = account.instrument.labels(lang)
        dims = ", ".join(_md(labels[d]) for d in g.loc[g["suppressed"], "dimension"])
        notes.append(_t("note_staff_dims", lang, dims=dims, k=k))
    if n_client == 0:
        notes.append(_t("note_client_none", lang, wave=_md(account.wave)))
    elif n_client < k:
        notes.append(_t("note_client_few", lang, n=n_client))
    unstable = [f"{gp.SIDE_TEXT[lang][side].lower()}, n = {n}" for side, n in (("client", n_client),
                                                                               ("staff", n_staff))
                if k <= n < RWG_STABLE_N]
    if unstable:
        notes.append(_t("note_rwg", lang, k=k, m=RWG_STABLE_N, groups="; ".join(unstable)))
    if 0 < n_staff < account.min_comment_group_size:
        notes.append(_t("note_team_comments", lang, n=n_staff, k=account.min_comment_group_size))
    if (comments_section(account) if voice is None else voice)["roles_hidden"]:
        notes.append(_t("note_roles", lang, k=k))
    return notes
