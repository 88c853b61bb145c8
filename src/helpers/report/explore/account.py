"""The chosen account's client-vs-team view: a band, a chart and a side-by-side table.

Every figure comes from the account report's own builders
(:func:`helpers.report.account.view_360`, :func:`~helpers.report.account.gaps_section`,
:func:`~helpers.report.account.headline`), so what is hidden in the report is hidden here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.disclosure import DIFFERENCE
from helpers.report.band import SummaryBand, Tile, arrow
from helpers.report.figures import to_image
from helpers.report.formatting import count, interval, number, people_table, points
from helpers.stats import gaps as gp
from helpers.words import say

from .data import AccountView, Explorer
from .html import Html, heading, paragraph, say_html, words
from .plots import plot_client_team
from .selection import Selection

__all__ = ["account_heading", "account_band", "account_chart", "account_table", "gap_sentences"]

#: Gap readings a sentence names (clear first), as :func:`helpers.stats.gaps.perception_gaps` labels them.
NAMED = (gp.BLIND_SPOT, gp.HIDDEN_STRENGTH, gp.POSSIBLE_BLIND_SPOT, gp.POSSIBLE_HIDDEN_STRENGTH)


def _chosen(explorer: Explorer, selection: Selection) -> AccountView | None:
    if selection.account_id is None:
        return None
    return explorer.account_view(selection.account_id, selection.wave)


def _none(explorer: Explorer, selection: Selection) -> Html:
    return paragraph(say_html("selection.account_none", explorer.language, data={"wave": selection.wave}))


def account_heading(explorer: Explorer, selection: Selection) -> Html:
    """The account's name, id and wave as a heading, and why it is the one shown."""
    lang = explorer.language
    if selection.account_id is None:
        return _none(explorer, selection)
    data = {"name": explorer.name(selection.account_id), "account_id": selection.account_id,
            "wave": selection.wave}
    title = heading(say_html("account.heading", lang, data=data))
    return title + paragraph(say_html(f"account.why.{selection.account_why}", lang), css_class="fk-note")


def _nps_reason(chosen: AccountView, wave: str) -> str | None:
    """Why the report does not show the account's client NPS in ``wave`` (a disclosure reason), if it does not."""
    pub = chosen.account.publication
    if pub.empty:
        return None
    hit = pub[(pub["side"] == "client") & (pub["measure"] == "nps") & (pub["wave"] == wave)]["reason"].dropna()
    return str(hit.iloc[0]) if len(hit) else None


def _nps_tile(head: dict, reason: str | None, language: str, k: int) -> Tile:
    label = words("account.tile_nps", language)
    if head["n_client"] == 0:
        return Tile(label, "–", detail=words("account.nps_no_answers", language), tone="client")
    if head["nps"] != head["nps"]:
        key = "account.nps_difference" if reason == DIFFERENCE else "account.nps_few"
        return Tile(label, "–", detail=words(key, language, k=k), tone="client")
    change, direction = "", ""
    x = head.get("nps_change")
    if x is not None and x == x:
        change = words("account.change", language, x=points(x, language), previous=head["previous_wave"])
        direction = arrow(x, clear=bool(head["change_clear"]))
    ci = interval(head["nps_ci_low"], head["nps_ci_high"], language, 0, sign=True)
    return Tile(label, points(head["nps"], language), change=change, direction=direction, tone="client",
                detail=words("account.nps_detail", language, n=count(head["n_client"], language), ci=ci))


def gap_sentences(gaps: pd.DataFrame, view: pd.DataFrame, *, language: str, k_client: int, k_team: int,
                  labels: dict[str, str]) -> list[str]:
    """Plain sentences on the gaps a report names (clear, then possible), or why none is named.

    Parameters
    ----------
    gaps : DataFrame
        :func:`helpers.report.account.gaps_section` (dimension, gap, label, suppressed).
    view : DataFrame
        :func:`helpers.report.account.view_360` (side, mean), to tell a hidden side.
    language : {"en", "fi"}
    k_client, k_team : int
        The fewest answers behind a client / team figure.
    labels : dict
        Dimension id → label.

    Returns
    -------
    list of str

    Examples
    --------
    >>> g = pd.DataFrame({"dimension": ["care", "dare"], "gap": [-0.8, 0.1],
    ...                   "label": ["blind spot", "no clear gap"], "suppressed": [False, False]})
    >>> v = pd.DataFrame({"side": ["client", "staff"], "mean": [3.4, 4.2]})
    >>> gap_sentences(g, v, language="en", k_client=5, k_team=5, labels={"care": "Care", "dare": "Dare"})
    ['Blind spot on Care: the team rates itself 0.8 points higher than the client.']
    """
    client_shown = view.loc[view["side"] == "client", "mean"].notna().any()
    team_shown = view.loc[view["side"] == "staff", "mean"].notna().any()
    if not client_shown:
        return [words("account.client_hidden", language, k=k_client)]
    if not team_shown:
        return [words("account.team_hidden", language, k=k_team)]
    named = gaps[gaps["label"].isin(NAMED) & ~gaps["suppressed"].astype(bool)]
    named = named.assign(_order=named["label"].map({lab: i for i, lab in enumerate(NAMED)}),
                         _size=-named["gap"].abs()).sort_values(["_order", "_size"], kind="mergesort")
    out = [words(f"account.gap.{r.label}", language, dim=labels.get(r.dimension, r.dimension),
                 x=number(abs(r.gap), language, 1)) for r in named.itertuples()]
    return out or [words("account.no_gap", language)]


def account_band(explorer: Explorer, selection: Selection):
    """The account in a few tiles and sentences: client NPS and its change, answers per side, the gaps named."""
    chosen = _chosen(explorer, selection)
    if chosen is None:
        return _none(explorer, selection)
    lang, head, t = explorer.language, chosen.headline, explorer.thresholds
    named = chosen.gaps[chosen.gaps["label"].isin((gp.BLIND_SPOT, gp.HIDDEN_STRENGTH))]
    labels = explorer.instrument.labels(lang)
    team_shown = chosen.view.loc[chosen.view["side"] == "staff", "mean"].notna().any()
    tiles = [
        _nps_tile(head, _nps_reason(chosen, selection.wave), lang, t.figure_min("client")),
        Tile(words("account.tile_client", lang), count(head["n_client"], lang), tone="client",
             detail=words("account.answers_detail", lang, wave=selection.wave)),
        Tile(words("account.tile_team", lang), count(head["n_staff"], lang), tone="team",
             detail=words("account.answers_detail", lang, wave=selection.wave) if team_shown else
             words("account.team_hidden_detail", lang, k=t.figure_min("staff"))),
        Tile(words("account.tile_gaps", lang), count(len(named), lang),
             detail=", ".join(labels[d] for d in named["dimension"]) or words("account.gaps_none", lang),
             tone="attention" if (named["label"] == gp.BLIND_SPOT).any() else ""),
    ]
    sentences = gap_sentences(chosen.gaps, chosen.view, language=lang, k_client=t.figure_min("client"),
                              k_team=t.figure_min("staff"), labels=labels)
    return [account_heading(explorer, selection), SummaryBand(tiles=tiles, sentences=sentences)]


def account_chart(explorer: Explorer, selection: Selection):
    """The client's and the team's mean per dimension with 95% intervals (the account report's 360° view)."""
    chosen = _chosen(explorer, selection)
    if chosen is None:
        return None
    lang = explorer.language
    title = words("account.chart_title", lang, name=explorer.name(selection.account_id), wave=selection.wave)
    ax = plot_client_team(chosen.view, language=lang, title=title, instrument=explorer.instrument)
    return to_image(ax, alt=words("account.chart_alt", lang, wave=selection.wave))


def _reading(row: pd.Series, language: str) -> str:
    if isinstance(row["label"], str) and row["label"]:
        return say(f"gaps.label.{row['label']}", language)
    evidence = row.get("evidence")
    return say(f"gaps.evidence.{evidence}", language) if isinstance(evidence, str) and evidence else "–"


def _answers(n: pd.Series, language: str) -> str:
    """"14" or "12–14": the fewest and most answers behind a side's means ("0" when none is shown)."""
    n = n[n > 0]
    if n.empty:
        return count(0, language)
    lo, hi = int(n.min()), int(n.max())
    return count(lo, language) if lo == hi else f"{count(lo, language)}–{count(hi, language)}"


def account_table(explorer: Explorer, selection: Selection):
    """One row per dimension: client and team mean with 95% intervals, the gap and its reading; a note under it
    gives the answers behind each side's means (per dimension in the appendix's gap table)."""
    chosen = _chosen(explorer, selection)
    if chosen is None:
        return None
    lang, view, gaps = explorer.language, chosen.view, chosen.gaps
    wide = pd.DataFrame({"dimension": explorer.instrument.dimension_ids})
    for side in ("client", "staff"):
        v = view[view["side"] == side].set_index("dimension").reindex(wide["dimension"])
        wide[f"{side}_mean"] = v["mean"].to_numpy(dtype=float)
        wide[f"{side}_ci"] = [interval(a, b, lang, 2) for a, b in zip(v["ci_low"], v["ci_high"])]
        wide[f"{side}_n"] = v["n"].fillna(0).to_numpy(dtype="int64")
    g = gaps.set_index("dimension").reindex(wide["dimension"])
    wide["gap"] = g["gap"].to_numpy(dtype=float)
    wide["label"] = [_reading(r, lang) for _, r in g.reset_index().iterrows()]
    wide["dimension"] = wide["dimension"].map(explorer.instrument.labels(lang))
    wide["gap"] = np.where(np.isfinite(wide["gap"]), wide["gap"], np.nan)
    table = people_table(wide, language=lang, page="explore", columns={
        "dimension": "text", "client_mean": "number:2", "client_ci": "text", "staff_mean": "number:2",
        "staff_ci": "text", "gap": "signed:2", "label": "text"})
    shown = wide[wide["client_mean"].notna() | wide["staff_mean"].notna()]
    note = say_html("account.table_note", lang, client=_answers(shown["client_n"], lang),
                    team=_answers(shown["staff_n"], lang))
    return [table, paragraph(note, css_class="fk-note")]
