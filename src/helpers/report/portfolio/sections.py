"""The body of the portfolio page, one function per block: plain words with n and intervals, charts, tables.

Each takes the :class:`~.setup.Portfolio` of the wave and returns something
a notebook cell shows: :class:`~.display.Html` sentences, a
:class:`~helpers.report.formatting.PeopleTable`, or a chart as an image with
alt text.  Every word comes from the catalogue (``portfolio``,
``portfolio_plots``) in the page's language; account names are marked as data.
Charts draw at most :data:`.select.MAX_ROWS` accounts — the ones that
matter — and the full list sits in a folded table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.report.formatting import count, interval, number, people_table, points
from helpers.words import say

from . import plots, select
from .attention import evidence_text, needs_attention, portfolio_list
from .display import Html, chart_image, details, paragraphs, words_with_names

if TYPE_CHECKING:
    from .setup import Portfolio

__all__ = [
    "title", "nps_words", "nps_chart", "attention_words", "attention_table", "scores_words", "scores_chart",
    "gaps_words", "gaps_chart", "celebrate_words", "celebrate_table", "trend_words", "trend_chart", "full_list",
]

#: Most rows of the client − team map (it is read cell by cell).
GAP_ROWS = 15
#: Most rows of the dimension heatmap.
SCORE_ROWS = 20
#: Most accounts in the body's table of accounts needing attention (the full list has them all).
ATTENTION_ROWS = 15


def _attention(p: Portfolio) -> pd.DataFrame:
    """The accounts needing attention, with their reasons in the page's words."""
    return needs_attention(p.at_risk, p.signs, language=p.language, previous=p.previous, instrument=p.instrument)


def title(p: Portfolio):
    """The page's level-1 heading with the wave (the exported page's title)."""
    from IPython.display import Markdown

    return Markdown(say("portfolio.title", p.language, wave=p.wave))


# ---------------------------------------------------------------------------
# NPS across the portfolio
# ---------------------------------------------------------------------------
def nps_words(p: Portfolio) -> Html:
    """The portfolio's client NPS with its interval, n and change; how many accounts are clearly above or below."""
    lang = p.language
    parts = []
    row = p.trend[p.trend["wave"] == p.wave]
    if len(row):
        t = row.iloc[-1]
        change = ""
        if p.previous is not None and pd.notna(t["change"]):
            clear_up, clear_down = t["change_low"] > 0, t["change_high"] < 0
            key = "up" if clear_up else "down" if clear_down else "no_change"
            x = points(t["change"], lang) if key == "no_change" else number(abs(t["change"]), lang, 0)
            change = say(f"portfolio.nps.{key}", lang, x=x, previous=p.previous,
                         ci=interval(t["change_low"], t["change_high"], lang, 0, sign=True))
        parts.append(words_with_names("portfolio.nps.sentence", lang, nps=points(t["nps"], lang),
                                      ci=interval(t["cluster_low"], t["cluster_high"], lang, 0, sign=True),
                                      n=count(t["n"], lang), accounts=count(t["n_accounts"], lang), change=change))
    a = p.account_nps
    shown = a["nps"].notna()
    above, below = int((a["direction"] == "above").sum()), int((a["direction"] == "below").sum())
    parts.append(words_with_names("portfolio.nps.spread", lang, above=count(above, lang), below=count(below, lang),
                                  other=count(int(shown.sum()) - above - below, lang)))
    hidden = int((~shown).sum())
    if hidden:
        parts.append(words_with_names("portfolio.nps.hidden", lang, n=count(hidden, lang), k=p.k_client))
    drawn = _nps_rows(p)
    if len(drawn) < int(shown.sum()):
        parts.append(words_with_names("portfolio.nps.chart_note", lang, shown=count(len(drawn), lang),
                                      total=count(int(shown.sum()), lang)))
    return paragraphs(" ".join(parts))


def _nps_rows(p: Portfolio) -> list[str]:
    """The accounts the NPS chart draws: clearly above or below, named elsewhere, then the extremes."""
    a = p.account_nps.assign(_clear=p.account_nps["direction"].isin(["above", "below"]))
    also = [*_attention(p)["account_id"], *p.cheers["account_id"]]
    return select.chart_accounts(a, score="nps", flagged="_clear", also=also)


def nps_chart(p: Portfolio):
    """Client NPS per account with intervals, the portfolio's NPS as a line (at most MAX_ROWS accounts)."""
    lang = p.language
    rows = _nps_rows(p)
    row = p.trend[p.trend["wave"] == p.wave]
    portfolio = float(row["nps"].iloc[-1]) if len(row) else None
    direction = p.account_nps["direction"]
    title = say("portfolio_plots.nps_title", lang, wave=p.wave, above=count(int((direction == "above").sum()), lang),
                below=count(int((direction == "below").sum()), lang))
    ax = plots.plot_nps_distribution(p.account_nps, rows=rows, names=p.names, portfolio=portfolio, language=lang,
                                     title=title)
    return chart_image(ax, alt=say("portfolio_plots.nps_alt", lang, n=count(len(rows), lang)))


# ---------------------------------------------------------------------------
# Accounts needing attention
# ---------------------------------------------------------------------------
def attention_words(p: Portfolio) -> Html:
    """How many accounts with an open renewal need attention, by what rule the list is ordered, and the model's part."""
    lang = p.language
    attention = _attention(p)
    first = (words_with_names("portfolio.attention.none", lang, active=count(len(p.at_risk), lang))
             if attention.empty else
             words_with_names("portfolio.attention.count", lang, n=count(len(attention), lang),
                              active=count(len(p.at_risk), lang)))
    order = words_with_names("portfolio.attention.by_model" if p.rank_by_model else "portfolio.attention.by_rule",
                             lang, rule=say("portfolio.rule", lang))
    if len(attention) > ATTENTION_ROWS:
        order += " " + words_with_names("portfolio.attention.table_note", lang, shown=count(ATTENTION_ROWS, lang),
                                        n=count(len(attention), lang))
    return paragraphs(first + " " + order)


def attention_table(p: Portfolio):
    """The accounts needing attention, in the list's order: renewal, client answers, NPS and its change, why."""
    lang = p.language
    attention = _attention(p)
    if attention.empty:
        return Html("")
    attention = attention.head(ATTENTION_ROWS)
    data = attention.assign(name=attention["account_id"].map(p.name),
                            n_wave=attention["account_id"].map(p.account_nps.set_index("account_id")["n"]))
    return people_table(data, language=lang, page="portfolio", verbatim=["name"], columns={
        "name": "text", "renewal_date": "date", "n_wave": "count", "nps": "points", "nps_change": "points",
        "reasons": "text"})


# ---------------------------------------------------------------------------
# Dimension scores against the rest of the portfolio
# ---------------------------------------------------------------------------
def _score_rows(p: Portfolio) -> list[str]:
    per = select.account_summary(p.heat, value="diff")
    also = _attention(p)["account_id"]
    return select.chart_accounts(per, score="mean", flagged="clear", also=also, cap=SCORE_ROWS)


def scores_words(p: Portfolio) -> Html:
    """How many account × dimension cells are clearly below or above the rest of the portfolio, in how many accounts."""
    lang = p.language
    h = p.heat
    below, above = (h["direction"] == "below"), (h["direction"] == "above")
    per = select.account_summary(h, value="diff")
    text = words_with_names("portfolio.scores.sentence", lang, below=count(int(below.sum()), lang),
                            above=count(int(above.sum()), lang), accounts=count(int(per["clear"].sum()), lang),
                            tested=count(int(h["p_val"].notna().sum()), lang))
    rows = _score_rows(p)
    if len(rows) < int(per["mean"].notna().sum()):
        text += " " + words_with_names("portfolio.scores.chart_note", lang, shown=count(len(rows), lang),
                                       total=count(int(per["mean"].notna().sum()), lang))
    return paragraphs(text)


def scores_chart(p: Portfolio):
    """The heatmap of client dimension means against the rest of the portfolio, lowest accounts first."""
    lang = p.language
    rows = _score_rows(p)
    ax = plots.plot_heatmap(p.heat, rows=rows, names=p.names, language=lang, instrument=p.instrument,
                            title=say("portfolio_plots.heat_title", lang, wave=p.wave))
    return chart_image(ax, alt=say("portfolio_plots.heat_alt", lang, n=count(len(rows), lang)))


# ---------------------------------------------------------------------------
# Where the client and the team see it differently
# ---------------------------------------------------------------------------
def _gap_rows(p: Portfolio) -> list[str]:
    shown = p.gaps[~p.gaps["suppressed"].astype(bool)]
    per = select.account_summary(shown, value="gap")
    return select.chart_accounts(per, score="low", flagged="clear", cap=GAP_ROWS)


def gaps_words(p: Portfolio) -> Html:
    """How many accounts have a clear blind spot or hidden strength, and how many have no team view to compare."""
    lang = p.language
    g = p.gaps
    clear = g[g["significant"].astype(bool)]
    with_view = g.loc[~g["suppressed"].astype(bool), "account_id"].nunique()
    hidden = g["account_id"].nunique() - with_view
    text = (words_with_names("portfolio.gaps.sentence", lang,
                             blind=count(clear.loc[clear["gap"] < 0, "account_id"].nunique(), lang),
                             strength=count(clear.loc[clear["gap"] > 0, "account_id"].nunique(), lang),
                             shown=count(with_view, lang))
            if with_view else words_with_names("portfolio.gaps.no_view", lang))
    if hidden:
        text += " " + words_with_names("portfolio.gaps.hidden", lang, n=count(hidden, lang), k=p.k_team,
                                       k_client=p.k_client)
    blind = clear[clear["gap"] < 0].sort_values("gap")
    if len(blind):
        items = [words_with_names("portfolio.gaps.item", lang, names={"name": p.name(r.account_id)},
                                  dim=p.instrument.label(r.dimension, lang),
                                  x=number(-r.gap, lang, 1))
                 for r in blind.head(5).itertuples()]
        text += " " + words_with_names("portfolio.gaps.largest", lang, items=Html("; ".join(items)))
    rows = _gap_rows(p)
    if rows and len(rows) < with_view:
        text += " " + words_with_names("portfolio.gaps.chart_note", lang, shown=count(len(rows), lang),
                                       total=count(with_view, lang))
    return paragraphs(text)


def gaps_chart(p: Portfolio):
    """The client − team map of the accounts with the clearest gaps (largest blind spot first)."""
    lang = p.language
    rows = _gap_rows(p)
    if not rows:
        return Html("")
    ax = plots.plot_gap_map(p.gaps, rows=rows, names=p.names, language=lang, instrument=p.instrument,
                            title=say("portfolio_plots.gap_title", lang, wave=p.wave))
    return chart_image(ax, alt=say("portfolio_plots.gap_alt", lang, n=count(len(rows), lang)))


# ---------------------------------------------------------------------------
# What to celebrate
# ---------------------------------------------------------------------------
def celebrate_words(p: Portfolio) -> Html:
    """How many accounts qualify for the celebrate list and how many more are not shown."""
    lang = p.language
    if p.cheers.empty:
        return paragraphs(words_with_names("portfolio.celebrate.none", lang))
    text = words_with_names("portfolio.celebrate.count", lang, n=count(len(p.cheers), lang))
    more = p.cheers.attrs.get("n_more", 0)
    if more:
        text += " " + words_with_names("portfolio.celebrate.more", lang, n=count(more, lang))
    return paragraphs(text)


def celebrate_table(p: Portfolio):
    """The celebrate list: account, what went well (with n and interval), and why it also needs attention."""
    lang = p.language
    if p.cheers.empty:
        return Html("")
    what = evidence_text(p.evidence, language=lang, previous=p.previous, instrument=p.instrument)
    n_wave = p.account_nps.set_index("account_id")["n"]
    flagged = _attention(p).set_index("account_id")["reasons"]
    data = p.cheers.assign(name=p.cheers["account_id"].map(p.name), detail=p.cheers["account_id"].map(what),
                           n_wave=p.cheers["account_id"].map(n_wave),
                           also_at_risk=p.cheers["account_id"].map(flagged).astype(object).fillna(""))
    columns = {"name": "text", "n_wave": "count", "detail": "text"}
    if data["also_at_risk"].astype(bool).any():
        columns["also_at_risk"] = "text"
    return people_table(data, language=lang, page="portfolio", verbatim=["name"], columns=columns)


# ---------------------------------------------------------------------------
# NPS over time
# ---------------------------------------------------------------------------
def trend_words(p: Portfolio) -> Html:
    """The portfolio NPS wave by wave, and whether any change between waves is clear."""
    lang = p.language
    t = p.trend
    waves = ", ".join(f"{w} {points(v, lang)}" for w, v in zip(t["wave"], t["nps"]))
    changes = t.dropna(subset=["change"])
    clear = changes[(changes["change_low"] > 0) | (changes["change_high"] < 0)]
    key = "portfolio.trend.none_clear" if clear.empty else "portfolio.trend.clear"
    text = words_with_names("portfolio.trend.sentence", lang, waves=waves)
    if len(changes):
        text += " " + words_with_names(key, lang, waves=", ".join(clear["wave"]))
    return paragraphs(text)


def trend_chart(p: Portfolio):
    """The portfolio's client NPS per wave with its interval."""
    lang = p.language
    first, last = (p.trend["wave"].iloc[0], p.trend["wave"].iloc[-1]) if len(p.trend) else ("", "")
    ax = plots.plot_nps_trend(p.trend, language=lang, title=say("portfolio_plots.trend_title", lang, first=first,
                                                                  last=last))
    return chart_image(ax, alt=say("portfolio_plots.trend_alt", lang, n=count(len(p.trend), lang)))


# ---------------------------------------------------------------------------
# Every account
# ---------------------------------------------------------------------------
def full_list(p: Portfolio) -> Html:
    """Every account in one folded table, those needing attention first (the index page filters and sorts)."""
    lang = p.language
    in_wave = p.responses[p.responses["wave"] == p.wave]
    n_staff = in_wave[in_wave["side"] == "staff"].groupby("account_id").size()
    data = portfolio_list(p.accounts, account_nps=p.account_nps, current=p.current, signs=p.signs,
                          at_risk=p.at_risk, celebrated=p.cheers["account_id"], n_staff=n_staff, language=lang,
                          previous=p.previous, instrument=p.instrument)
    status = {s: say(f"portfolio.status.{s}", lang) for s in ("active", "renewed", "churned")}
    flag = np.where(data["attention"], say("portfolio.list.attention", lang),
                    np.where(data["celebrated"], say("portfolio.list.celebrated", lang), ""))
    data = data.assign(status=data["status"].map(lambda s: status.get(s, s)), flag=flag)
    table = people_table(data, language=lang, page="portfolio", verbatim=["name"], columns={
        "name": "text", "flag": "text", "status": "text", "renewal_date": "date", "n_client": "count",
        "n_staff": "count", "nps": "points", "nps_change": "points", "reasons": "text"})
    return details(say("portfolio.list.summary", lang, n=count(len(data), lang)), table)
