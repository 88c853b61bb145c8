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
    lang, k = account.language, account.min_group_size
    resp = account.in_wave(account.responses)
    n_client = int((resp["side"] == "client").sum())
    n_staff = int((resp["side"] == "staff").sum())
    client = account.responses[account.responses["side"] == "client"]
    now = nps(account.in_wave(client), by=None, ci=CI).iloc[0]
    value = float(now["nps"]) if now["n"] > 0 else np.nan
    lo = float(now["ci_low"]) if now["n"] > 0 else np.nan
    hi = float(now["ci_high"]) if now["n"] > 0 else np.nan
    prev = account.previous_wave
    change = {"n_previous": 0, "nps_previous": np.nan, "nps_change": np.nan, "change_ci_low": np.nan,
              "change_ci_high": np.nan}
    prev_client = client[client["wave"] == prev] if prev else client.iloc[0:0]
    if prev and now["n"] > 0 and prev_client["nps"].notna().any():
        ch = nps_change(client[client["wave"].isin([prev, account.wave])], order=[prev, account.wave], by=[],
                        ci=CI).iloc[-1]
        change = {"n_previous": int(ch["n_from"]), "nps_previous": float(ch["nps_from"]),
                  "nps_change": float(ch["change"]),
                  "change_ci_low": float(ch["ci_low"]), "change_ci_high": float(ch["ci_high"])}
    clear_change = bool(change["change_ci_low"] > 0 or change["change_ci_high"] < 0)
    g = gaps_section(account) if gaps is None else gaps
    labels = account.instrument.labels(lang)
    staff_hidden = bool(g["suppressed"].all()) if len(g) else True

    # the gap clause
    if staff_hidden:
        gap = _t("gap_hidden", lang, k=k)
    else:
        clear = g[g["evidence"] == gp.CLEAR]
        blind = clear[clear["label"] == gp.BLIND_SPOT].sort_values("gap")
        hidden = clear[clear["label"] == gp.HIDDEN_STRENGTH].sort_values("gap", ascending=False)
        if len(blind):
            r = blind.iloc[0]
            gap = _t("gap_blind", lang, dim=_md(labels[r["dimension"]]), x=_num(-r["gap"], lang))
        elif len(hidden):
            r = hidden.iloc[0]
            gap = _t("gap_hidden_strength", lang, dim=_md(labels[r["dimension"]]), x=_num(r["gap"], lang))
        elif n_client < k:
            gap = _t("gap_few", lang)
        else:
            gap = _t("gap_none", lang)
    if now["n"] == 0:
        summary = _t("no_client", lang, wave=_md(account.wave), gap=gap if staff_hidden else "")
    else:
        if not prev or np.isnan(change["nps_change"]):
            chg = _t("first_wave", lang) if not prev else ""
        elif clear_change:
            key = "up" if change["nps_change"] > 0 else "down"
            chg = _t(key, lang, x=_num(abs(change["nps_change"]), lang, 0), prev=_md(prev),
                     prev_n=change["n_previous"],
                     prev_nps=_num(change["nps_previous"], lang, 0, sign=True),
                     lo=_num(change["change_ci_low"], lang, 0, sign=True),
                     hi=_num(change["change_ci_high"], lang, 0, sign=True))
        else:
            chg = _t("no_change", lang, prev=_md(prev), prev_n=change["n_previous"],
                     prev_nps=_num(change["nps_previous"], lang, 0, sign=True),
                     x=_num(change["nps_change"], lang, 0, sign=True),
                     lo=_num(change["change_ci_low"], lang, 0, sign=True),
                     hi=_num(change["change_ci_high"], lang, 0, sign=True))
        few = _t("few", lang, n=int(now["n"])) if now["n"] < k else ""
        summary = _t("nps_sentence", lang, nps=_num(value, lang, 0, sign=True), lo=_num(lo, lang, 0, sign=True),
                     hi=_num(hi, lang, 0, sign=True), n=int(now["n"]), change=chg, gap=gap, few=few)
    return {
        "account_id": account.account_id, "name": account.name, "wave": account.wave,
        "n_client": n_client, "n_staff": n_staff, "nps": value, "nps_ci_low": lo, "nps_ci_high": hi,
        "previous_wave": prev, **change, "change_clear": clear_change, "staff_suppressed": staff_hidden,
        "summary": summary, "notes": privacy_notes(account, gaps=g, voice=voice),
    }


def privacy_notes(account: AccountData, *, gaps: pd.DataFrame | None = None,
                  voice: dict[str, Any] | None = None) -> list[str]:
    """Plain-language notes on what is hidden or thin in this report, in its language (Markdown).

    ``gaps`` and ``voice`` are the :func:`gaps_section` and
    :func:`comments_section` outputs when already at hand (computed when
    omitted).  :func:`headline` returns these notes as its ``notes``.
    """
    lang, k = account.language, account.min_group_size
    resp = account.in_wave(account.responses)
    n_client = int((resp["side"] == "client").sum())
    n_staff = int((resp["side"] == "staff").sum())
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
