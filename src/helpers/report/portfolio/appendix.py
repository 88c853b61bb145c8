"""The portfolio page's "For analysts" appendix: the complete statistics behind the plain words above it.

Takes the :class:`~.setup.Portfolio` of the wave and hands on tables for
people (:func:`helpers.report.formatting.people_table`: headers in the page's
language, numbers by locale) with the test names, corrected p-values, effect
sizes and both kinds of interval; the at-risk list with the check of the
churn model against NPS alone; the evidence of the celebrate list; the
methods and the data's provenance.  Long tables are folded (``<details>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from helpers.report.formatting import PeopleTable, count, format_value, interval, number, people_table, points
from helpers.words import has, say, say_list, section

from .display import Html, details, paragraphs, words_with_names
from .risk import baseline_verdict
from .summary import headline

if TYPE_CHECKING:
    from .setup import Portfolio

__all__ = ["headline_table", "scores_table", "gaps_table", "nps_table", "trend_table", "risk_table", "risk_notes",
           "evidence_table", "methods", "provenance_table", "FOLD_ROWS"]

#: Tables longer than this are folded.
FOLD_ROWS = 15


def _right(table: PeopleTable, *columns: str) -> PeopleTable:
    """Right-align text columns that hold numbers already formatted (intervals)."""
    table.numeric.extend(c for c in columns if c in table.frame.columns and c not in table.numeric)
    return table


def _table(data: pd.DataFrame, language: str, columns: dict[str, str], *, caption_key: str,
           intervals: tuple[str, ...] = (), verbatim=("name",), **fields):
    """A people table with its caption, intervals right-aligned, folded when long."""
    caption = say(caption_key, language, **fields)
    t = people_table(data, language=language, page="portfolio", columns=columns,
                     verbatim=[c for c in verbatim if c in columns], caption=None if len(data) > FOLD_ROWS else caption)
    t = _right(t, *[say(f"portfolio.header.{c}", language) for c in intervals])
    if len(data) > FOLD_ROWS:
        return details(caption + " " + say("portfolio.appendix_rows", language, n=count(len(data), language)), t)
    return t


def headline_table(p: Portfolio):
    """The wave's numbers: accounts, answers, client NPS with both intervals."""
    lang = p.language
    h = headline(p.responses, p.accounts, wave=p.wave, min_group_size=p.min_group_size, language=lang)
    value = [points(v, lang) if k == "nps" else count(v, lang) for k, v in zip(h["key"], h["value"])]
    data = h.assign(value_text=value,
                    interval=[interval(lo, hi, lang, 0, sign=True) if pd.notna(lo) else "" for lo, hi in
                              zip(h["ci_low"], h["ci_high"])])
    return _table(data, lang, {"measure": "text", "value_text": "text", "interval": "text", "n": "count",
                               "note": "text"}, caption_key="portfolio.caption.headline",
                  intervals=("value_text", "interval"))


def _with_names(p: Portfolio, data: pd.DataFrame) -> pd.DataFrame:
    return data.assign(name=data["account_id"].map(p.name),
                       dimension_label=data["dimension"].map(lambda d: p.instrument.label(d, p.language)))


def scores_table(p: Portfolio):
    """Account × dimension cells clearly different from the rest of the portfolio (Welch, BH, Hedges' g)."""
    lang = p.language
    clear = p.heat[p.heat["direction"].isin(["below", "above"])].sort_values(["diff", "account_id"])
    data = _with_names(p, clear).assign(ci=[interval(lo, hi, lang, 2, sign=True) for lo, hi in
                                            zip(clear["diff_low"], clear["diff_high"])])
    return _table(data, lang, {"name": "text", "dimension_label": "text", "n": "count", "mean": "number:2",
                               "rest_mean": "number:2", "diff": "signed:2", "ci": "text", "p_fdr": "p",
                               "effect_size": "signed:2"}, caption_key="portfolio.caption.scores", intervals=("ci",),
                  tested=count(int(p.heat["p_val"].notna().sum()), lang))


def gaps_table(p: Portfolio):
    """Clear client − team gaps, largest blind spot first (Welch, BH over the map, Hedges' g)."""
    lang = p.language
    clear = p.gaps[p.gaps["significant"].astype(bool)].sort_values(["gap", "account_id"])
    labels = section("gaps.label", lang)
    data = _with_names(p, clear).assign(
        ci=[interval(lo, hi, lang, 2, sign=True) for lo, hi in zip(clear["ci_low"], clear["ci_high"])],
        reading=clear["label"].map(lambda v: labels.get(v, v)))
    if data.empty:
        return paragraphs(words_with_names("portfolio.caption.gaps_none", lang))
    return _table(data, lang, {"name": "text", "dimension_label": "text", "n_client": "count", "n_staff": "count",
                               "client_mean": "number:2", "staff_mean": "number:2", "gap": "signed:2", "ci": "text",
                               "p_fdr": "p", "effect_size": "signed:2", "reading": "text"},
                  caption_key="portfolio.caption.gaps", intervals=("ci",))


def nps_table(p: Portfolio):
    """Every published account NPS with its adjusted-Wald interval and the corrected test against the rest."""
    lang = p.language
    a = p.account_nps.dropna(subset=["nps"]).sort_values(["nps", "account_id"])
    directions = {"above": say("portfolio.direction.above", lang), "below": say("portfolio.direction.below", lang)}
    data = a.assign(name=a["account_id"].map(p.name),
                    ci=[interval(lo, hi, lang, 0, sign=True) for lo, hi in zip(a["ci_low"], a["ci_high"])],
                    reading=a["direction"].map(lambda d: directions.get(d, say("portfolio.direction.same", lang))))
    return _table(data, lang, {"name": "text", "n": "count", "promoters": "count", "passives": "count",
                               "detractors": "count", "nps": "points", "ci": "text", "rest_nps": "points",
                               "diff": "points", "p_fdr": "p", "reading": "text"},
                  caption_key="portfolio.caption.nps", intervals=("ci",))


def trend_table(p: Portfolio):
    """Portfolio NPS per wave: both intervals and the change with its account-resampling interval."""
    lang = p.language
    t = p.trend
    data = t.assign(cluster=[interval(lo, hi, lang, 0, sign=True) for lo, hi in zip(t["cluster_low"],
                                                                                     t["cluster_high"])],
                    wald=[interval(lo, hi, lang, 0, sign=True) for lo, hi in zip(t["ci_low"], t["ci_high"])],
                    change_ci=[interval(lo, hi, lang, 0, sign=True) for lo, hi in zip(t["change_low"],
                                                                                       t["change_high"])])
    return _table(data, lang, {"wave": "text", "n": "count", "n_accounts": "count", "nps": "points",
                               "cluster": "text", "wald": "text", "change": "points", "change_ci": "text"},
                  caption_key="portfolio.caption.trend", intervals=("cluster", "wald", "change_ci"), verbatim=())


def risk_table(p: Portfolio):
    """The whole at-risk list in its order; the model's probabilities only when the model ranks the list."""
    lang = p.language
    r = p.at_risk
    data = r.assign(name=r["account_id"].map(p.name), n_client_all=r["n_client"], n_staff_all=r["n_staff"])
    columns = {"risk_rank": "count", "name": "text", "renewal_date": "date", "n_client_all": "count",
               "n_staff_all": "count",
               "nps": "points", "nps_change": "points", "n_signals": "count", "signals": "text"}
    intervals: tuple[str, ...] = ()
    if p.rank_by_model:
        data = data.assign(p_ci=[interval(lo * 100, hi * 100, lang, 0) for lo, hi in zip(r["ci_low"], r["ci_high"])],
                           value_ci=[f"{format_value(lo, 'money', lang)} … {format_value(hi, 'money', lang)}"
                                     for lo, hi in zip(r["value_low"], r["value_high"])])
        columns.update({"p_churn": "percent", "p_ci": "text", "drivers": "text", "value_at_risk": "money",
                        "value_ci": "text"})
        intervals = ("p_ci", "value_ci")
    return _table(data, lang, columns, caption_key="portfolio.caption.risk", intervals=intervals,
                  rule=say("portfolio.rule", lang))


def risk_notes(p: Portfolio) -> Html:
    """How far to trust the list: the ranking decision, the model against NPS alone, and every caveat."""
    lang = p.language
    caveats = list(p.at_risk.attrs.get("caveats", []))
    own = set(caveats)
    technical = [w for w in [*p.at_risk.attrs.get("warnings", []), *p.cv.attrs.get("warnings", [])] if w not in own]
    technical = list(dict.fromkeys(technical))
    notes = [p.ranking_note, baseline_verdict(p.cv, language=lang), p.at_risk.attrs.get("summary", ""), *caveats]
    if technical and lang == "en":
        notes += technical
    elif technical:  # the model's own warnings are written in English by helpers.stats
        notes.append(say("portfolio.appendix_model_warnings", lang, n=count(len(technical), lang)))
    import html as _html

    items = "".join(f"<li>{_html.escape(n)}</li>" for n in notes if n)
    return Html(f'<p><strong>{_html.escape(say("portfolio.caption.trust", lang))}</strong></p><ul>{items}</ul>')


def evidence_table(p: Portfolio):
    """Every piece of evidence behind the accounts on the celebrate list, with its interval, n and corrected p."""
    lang = p.language
    e = p.evidence[p.evidence["account_id"].isin(p.cheers["account_id"])] if len(p.cheers) else p.evidence.iloc[0:0]
    if e.empty:
        return paragraphs(words_with_names("portfolio.celebrate.none", lang))
    is_nps = e["evidence"].str.startswith("NPS")

    def fmt(x, nps):
        return points(x, lang) if nps else number(x, lang, 2, sign=True)

    data = e.assign(
        name=e["account_id"].map(p.name),
        kind=e["evidence"].map(lambda k: say(f"portfolio.evidence.{k}", lang)),
        dimension_label=[p.instrument.label(d, lang) if isinstance(d, str) and d in p.instrument.dimension_ids
                         else "NPS" for d in e["dimension"]],
        estimate_text=[fmt(x, n) for x, n in zip(e["estimate"], is_nps)],
        ci=[interval(lo, hi, lang, 0 if n else 2, sign=True) for lo, hi, n in zip(e["ci_low"], e["ci_high"],
                                                                                  is_nps)])
    return _table(data, lang, {"name": "text", "kind": "text", "dimension_label": "text", "estimate_text": "text",
                               "ci": "text", "n": "count", "p_fdr": "p"}, caption_key="portfolio.caption.evidence",
                  intervals=("estimate_text", "ci"))


def methods(p: Portfolio):
    """The methods in a few points (test names, corrections, interval methods, thresholds)."""
    from IPython.display import Markdown

    from .select import MAX_ROWS

    points_ = say_list("portfolio.methods", p.language, k_client=p.k_client, k_team=p.k_team, max_rows=MAX_ROWS)
    return Markdown("\n".join(f"- {m}" for m in points_))


def provenance_table(p: Portfolio, *, parameters: dict | None = None):
    """What this page read and ran: the data hash, the instrument, versions and the notebook's parameters."""
    from helpers.report.tables import methods_table

    lang = p.language
    m = methods_table(store=p.store, parameters=parameters or {})
    inst = p.instrument
    described = say("portfolio.provenance.instrument_value", lang, name=inst.name,
                    dims=count(len(inst.dimension_ids), lang), items=count(len(inst.item_ids), lang),
                    lo=inst.scale_min, hi=inst.scale_max, k=inst.min_items)

    def item(key: str) -> str:
        if key.startswith("parameter "):
            name = key.removeprefix("parameter ")
            label = f"portfolio.provenance.parameter.{name}"
            return say(label, lang) if has(label, lang) else say("portfolio.provenance.parameter_other", lang,
                                                                    name=name)
        label = f"portfolio.provenance.item.{key.replace(' ', '_')}"
        return say(label, lang) if has(label, lang) else key

    default = say("portfolio.provenance.default", lang)
    data = m.assign(item=m["item"].map(item),
                    value=[described if k == "instrument" else default if v == "(default)" else v
                           for k, v in zip(m["item"], m["value"])])
    return people_table(data, language=lang, page="portfolio", columns={"item": "text", "value": "text"},
                        verbatim=["value"], caption=say("portfolio.caption.provenance", lang))
