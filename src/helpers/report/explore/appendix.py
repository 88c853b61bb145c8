"""For analysts: the complete statistics behind the explore notebook's plain words.

Each view returns a captioned table with every estimate, interval, test and
correction the body leaves out: each account's NPS against the rest of the
portfolio (adjusted Wald, Benjamini–Hochberg), the chosen account's gaps
(Welch, Hedges' g) and within-group agreement (r_wg), and the scales'
reliability (Cronbach's alpha, Feldt).  Hidden results stay hidden: the
frames come from the same builders as the body's.
"""

from __future__ import annotations

import pandas as pd

from helpers.report.formatting import interval, people_table
from helpers.stats.scores import cronbach_alpha

from helpers.words import say

from .data import Explorer
from .glance import selection_rows
from .html import words
from .selection import Selection

__all__ = ["analyst_nps", "analyst_gaps", "analyst_agreement", "analyst_reliability"]


def analyst_nps(explorer: Explorer, selection: Selection):
    """Every account of the selection: client NPS (adjusted Wald) against the rest of the portfolio, with the
    difference's interval, its p-value and the Benjamini–Hochberg adjusted p-value (over every account)."""
    lang, data = explorer.language, explorer.wave_data(selection.wave)
    names = selection_rows(explorer, selection)[["account_id", "name"]]
    t = names.merge(data.account_nps, on="account_id", how="left")
    t = t.assign(nps_ci=[interval(a, b, lang, 0, sign=True) for a, b in zip(t["ci_low"], t["ci_high"])],
                 diff_ci=[interval(a, b, lang, 0, sign=True) for a, b in zip(t["diff_low"], t["diff_high"])])
    return people_table(t, language=lang, page="explore", verbatim=["name"],
                        caption=words("analyst.nps_caption", lang, wave=selection.wave), columns={
                            "name": "text", "n": "count", "promoters": "count", "passives": "count",
                            "detractors": "count", "nps": "points", "nps_ci": "text", "rest_nps": "points",
                            "diff": "points", "diff_ci": "text", "p_val": "p", "p_fdr": "p"})


def analyst_gaps(explorer: Explorer, selection: Selection):
    """The chosen account's perception gaps in full: means, Welch interval and p, BH-adjusted p, Hedges' g."""
    if selection.account_id is None:
        return None
    lang = explorer.language
    g = explorer.account_view(selection.account_id, selection.wave).gaps
    g = g.assign(dimension=g["dimension"].map(explorer.instrument.labels(lang)),
                 gap_ci=[interval(a, b, lang, 2, sign=True) for a, b in zip(g["ci_low"], g["ci_high"])],
                 evidence=[say(f"gaps.evidence.{e}", lang) if isinstance(e, str) else "–" for e in g["evidence"]])
    caption = words("analyst.gaps_caption", lang, wave=selection.wave)
    return people_table(g, language=lang, page="explore", caption=caption, columns={
        "dimension": "text", "n_client": "count", "n_staff": "count", "client_mean": "number:2",
        "staff_mean": "number:2", "gap": "signed:2", "gap_ci": "text", "p_val": "p", "p_fdr": "p",
        "effect_size": "signed:2", "evidence": "text"})


def analyst_agreement(explorer: Explorer, selection: Selection):
    """Within-group agreement r_wg(J) of the chosen account's clients and team per dimension (blank below the
    threshold, as in the report)."""
    if selection.account_id is None:
        return None
    lang = explorer.language
    v = explorer.account_view(selection.account_id, selection.wave).view
    wide = v.pivot_table(index="dimension", columns="side", values="rwg", aggfunc="first", dropna=False)
    wide = wide.reindex(index=explorer.instrument.dimension_ids, columns=["client", "staff"]).reset_index()
    wide.columns = ["dimension", "client_rwg", "staff_rwg"]
    wide["dimension"] = wide["dimension"].map(explorer.instrument.labels(lang))
    caption = words("analyst.rwg_caption", lang, wave=selection.wave)
    return people_table(wide, language=lang, page="explore", caption=caption, columns={
        "dimension": "text", "client_rwg": "number:2", "staff_rwg": "number:2"})


def analyst_reliability(explorer: Explorer, selection: Selection):
    """Cronbach's alpha of each dimension's items per side, every account of the wave, with Feldt's interval."""
    lang, data = explorer.language, explorer.wave_data(selection.wave)
    answers = data.answers[data.answers["wave"] == selection.wave]
    a = cronbach_alpha(answers, instrument=explorer.instrument, by=["side"])
    order = {d: i for i, d in enumerate(explorer.instrument.dimension_ids)}
    a = a.assign(_o=a["dimension"].map(order)).sort_values(["side", "_o"], kind="mergesort")
    a = a.assign(side=[say(f"gaps.side.{s}", lang) for s in a["side"]],
                 dimension=a["dimension"].map(explorer.instrument.labels(lang)),
                 alpha_ci=[interval(x, y, lang, 2) for x, y in zip(a["ci_low"], a["ci_high"])])
    return people_table(pd.DataFrame(a), language=lang, page="explore",
                        caption=words("analyst.alpha_caption", lang, wave=selection.wave), columns={
                            "side": "text", "dimension": "text", "n": "count", "alpha": "number:2",
                            "alpha_ci": "text", "n_dropped": "count"})
