"""The portfolio's "Closing the loop" section: were detractors and contact requests followed up, and what came after.

Takes the store and the wave (:func:`loop_setup`, called by
:func:`.setup.portfolio_setup`) and hands on a :class:`PortfolioLoop` of tidy
frames from :mod:`helpers.stats.loop`; the functions below turn it into the
page's blocks: plain words with n and intervals (:func:`loop_words`), a table
per owner (:func:`owner_table`), the accounts with the most overdue items
(:func:`overdue_accounts`), visit-survey NPS per month beside the loop of
its items (:func:`visits_table`), the later NPS of followed-up clients
(:func:`later_words`, the adjusted comparison first and always the caveat),
and the statistics for the "For analysts" appendix (:func:`analysts_table`,
:func:`analysts_notes`).

Privacy, as everywhere on the page: only aggregates (no respondent, answer
or item id, no comment, no contact); a group with fewer follow-up items than
the client threshold (:attr:`.setup.Portfolio.k_client`) shows its counts
only — no share, interval or median — and an account is named only when it
has at least that many items.  "Open" and "overdue" are as of
:attr:`PortfolioLoop.as_of`, which the page prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.report.formatting import MISSING, count, interval, number, people_table, percent
from helpers.report.loop_common import as_of_date, counts_only
from helpers.report.loop_common import percent_interval as _percent_interval
from helpers.words import say

from .display import Html, details, paragraphs, words_with_names

if TYPE_CHECKING:
    from .setup import Portfolio

__all__ = ["PortfolioLoop", "loop_setup", "build_loop", "loop_words", "owner_table", "overdue_accounts",
           "visits_table", "later_words", "band_finding", "analysts_table", "analysts_notes", "overdue_details",
           "counts_only", "VISIT_MONTHS", "OVERDUE_ACCOUNTS"]

#: Most months of visit-survey NPS the page shows (the latest, up to the wave).
VISIT_MONTHS = 12
#: Most accounts named in the list of the most overdue items.
OVERDUE_ACCOUNTS = 5


@dataclass
class PortfolioLoop:
    """The loop of one wave, computed once.

    Attributes
    ----------
    as_of : Timestamp
        The moment "open" and "overdue" refer to (naive UTC).
    timezone : str
        The zone the queue was made in (for the page's dates).
    sla : str
        The response time the items were given ("48 h"; several: "24–48 h").
    k : int
        The client threshold: fewer items in a group → counts only.
    n_store : int
        Follow-up items in the store (0: nothing recorded yet).
    wave : DataFrame
        :func:`~helpers.stats.loop.loop_summary` of the wave's survey items, one row.
    owners, accounts : DataFrame
        The same by owner and by account (with ``name``), rates blanked below ``k``.
    overdue_all : DataFrame
        One row: the open items past due now, from every wave and the visit surveys.
    visits : DataFrame
        :func:`~helpers.stats.loop.touchpoint_loop` per month, the latest
        :data:`VISIT_MONTHS` up to the wave.
    later : DataFrame
        :func:`~helpers.stats.loop.later_nps_change` (survey items up to the
        wave, client answers up to the wave); empty when no item is linked.
    """

    as_of: pd.Timestamp
    timezone: str
    sla: str
    k: int
    n_store: int
    wave: pd.DataFrame
    owners: pd.DataFrame
    accounts: pd.DataFrame
    overdue_all: pd.DataFrame
    visits: pd.DataFrame
    later: pd.DataFrame


def _sla_text(hours: pd.Series, language: str) -> str:
    h = sorted(pd.unique(hours.dropna().astype(float)))
    if not h:
        return say("portfolio_loop.hours", language, hours=count(48, language))
    if len(h) == 1:
        return say("portfolio_loop.hours", language, hours=number(h[0], language, 0))
    return say("portfolio_loop.hours", language, hours=f"{number(h[0], language, 0)}–{number(h[-1], language, 0)}")


def loop_setup(*, store: str | None, wave: str, waves: list[str], responses: pd.DataFrame, names: dict[str, str],
               language: str, k: int, now: datetime | None = None) -> PortfolioLoop:
    """Load the follow-up items and the visit surveys and compute what the section shows for ``wave``.

    Parameters
    ----------
    store, wave, waves, language
        As :class:`.setup.Portfolio` (``waves``: the store's waves up to ``wave``).
    responses : DataFrame
        The responses of ``waves`` (the client ones are the later answers).
    names : dict
        Account id → name.
    k : int
        Fewest items behind a share or a median (the client threshold).
    now : datetime, optional
        The moment open and overdue refer to (naive UTC; default now).

    Returns
    -------
    PortfolioLoop
        See :func:`build_loop`.
    """
    from helpers.data.followups import load_loop
    from helpers.data.store import load_touchpoints

    return build_loop(load_loop(store=store), touchpoints=load_touchpoints(store=store), responses=responses,
                      wave=wave, waves=waves, names=names, language=language, k=k, now=now)


def build_loop(items: pd.DataFrame, *, touchpoints: pd.DataFrame, responses: pd.DataFrame, wave: str,
               waves: list[str], names: dict[str, str], language: str, k: int,
               now: datetime | None = None) -> PortfolioLoop:
    """The section's frames from the items (:func:`helpers.data.followups.load_loop`), the visit surveys and the
    responses: the wave's survey items overall, by owner and by account (rates blanked below ``k``), the overdue
    items of every source, visit-survey NPS by month and the later NPS of followed-up clients."""
    from helpers.stats import loop

    as_of = pd.Timestamp(now) if now is not None else pd.Timestamp(datetime.now(timezone.utc).replace(tzinfo=None))
    items = items[(items["source"] != "survey") | items["wave"].isin(waves)]
    in_wave = items[(items["source"] == "survey") & (items["wave"] == wave)]
    zone = str(items["timezone"].mode().iloc[0]) if len(items) else "Europe/Helsinki"
    summary = loop.loop_summary(in_wave, by=(), now=as_of)
    owners = counts_only(loop.loop_summary(in_wave.assign(owner=in_wave["owner"].fillna("")), by=("owner",),
                                           now=as_of), k=k)
    accounts = counts_only(loop.loop_summary(in_wave, by=("account_id",), now=as_of), k=k)
    accounts = accounts.assign(name=accounts["account_id"].map(lambda a: names.get(a) or str(a)))
    overdue_all = loop.loop_summary(items.assign(part=np.where(items["source"] == "survey", "survey", "visit")),
                                    by=("part",), now=as_of)
    client = responses[responses["side"] == "client"] if "side" in responses else responses
    survey = items[items["source"] == "survey"]
    linked = bool(survey["respondent_id"].notna().any()) if len(survey) else False
    later = loop.later_nps_change(survey, client, timezone=zone) if linked else pd.DataFrame()
    visits = _visits(touchpoints, items, responses=client, wave=wave, now=as_of, zone=zone)
    return PortfolioLoop(as_of=as_of, timezone=zone, sla=_sla_text(in_wave["sla_hours"], language), k=k,
                         n_store=len(items), wave=summary, owners=owners, accounts=accounts, overdue_all=overdue_all,
                         visits=visits, later=later)


def _visits(touchpoints: pd.DataFrame, items: pd.DataFrame, *, responses: pd.DataFrame, wave: str,
            now: pd.Timestamp, zone: str) -> pd.DataFrame:
    """Visit-survey NPS and the loop of its items per month: the latest VISIT_MONTHS up to the wave's last answer."""
    from helpers.stats import loop

    if touchpoints.empty:
        return pd.DataFrame(columns=["period", "n", "nps", "ci_low", "ci_high", "n_items", "n_contacted", "n_due",
                                     "n_in_sla", "share_in_sla", "median_hours_to_contact"])
    out = loop.touchpoint_loop(touchpoints, items, timezone=zone, now=now)
    last = pd.to_datetime(responses.loc[responses["wave"] == wave, "submitted_at"]).max()
    if pd.notna(last):
        out = out[out["period"] <= str(last.to_period("M"))]
    return out.tail(VISIT_MONTHS).reset_index(drop=True)


# ---------------------------------------------------------------------------
# Formatting
# ---------------------------------------------------------------------------
def _share(row, language: str) -> str:
    """"17% (55 of 315; 95% CI 14% to 22%)" or the counts only."""
    if pd.isna(row["share_in_sla"]):
        return say("portfolio_loop.of", language, k=count(row["n_in_sla"], language), n=count(row["n_due"], language))
    return say("portfolio_loop.share", language, share=percent(row["share_in_sla"], language),
               k=count(row["n_in_sla"], language), n=count(row["n_due"], language),
               ci=_percent_interval(row["ci_low"], row["ci_high"], language))


def _hours(h: float, language: str) -> str:
    return MISSING if pd.isna(h) else say("portfolio_loop.hours", language, hours=number(h, language, 1))


def _as_of(L: PortfolioLoop, language: str) -> str:
    return as_of_date(L.as_of, L.timezone, language)


# ---------------------------------------------------------------------------
# The body
# ---------------------------------------------------------------------------
def loop_words(p: Portfolio) -> Html:
    """The wave's loop in plain words: items, contacted within the SLA with n and interval, median time, overdue."""
    lang, L = p.language, p.loop
    if L is None or L.n_store == 0:
        return paragraphs(words_with_names("portfolio_loop.none", lang))
    s = L.wave.iloc[0] if len(L.wave) else None
    if s is None or s["n_items"] == 0:
        text = words_with_names("portfolio_loop.none_in_wave", lang, wave=p.wave)
    else:
        row = counts_only(L.wave, k=L.k).iloc[0]
        text = words_with_names("portfolio_loop.sentence", lang, wave=p.wave, n=count(row["n_items"], lang),
                                sla=L.sla, share=_share(row, lang))
        if pd.notna(row["median_hours_to_contact"]):
            text += " " + words_with_names("portfolio_loop.median", lang,
                                           hours=_hours(row["median_hours_to_contact"], lang),
                                           n=count(row["n_timed"], lang))
        text += " " + words_with_names("portfolio_loop.open", lang, date=_as_of(L, lang),
                                       open=count(row["n_open"], lang), overdue=count(row["n_overdue"], lang))
        if row["n_items"] < L.k:
            text += " " + words_with_names("portfolio_loop.few", lang, k=L.k)
    visits = L.overdue_all.set_index("part")["n_overdue"] if len(L.overdue_all) else pd.Series(dtype=int)
    if visits.get("visit", 0):
        text += " " + words_with_names("portfolio_loop.visits_overdue", lang, n=count(visits["visit"], lang))
    return paragraphs(text)


def owner_table(p: Portfolio):
    """One row per owner: the wave's items, open, overdue, contacted within the SLA (interval), median time."""
    lang, L = p.language, p.loop
    if L is None or L.owners.empty:
        return Html("")
    o = L.owners.sort_values(["n_overdue", "n_items", "owner"], ascending=[False, False, True])
    data = o.assign(owner=o["owner"].replace("", say("portfolio_loop.no_owner", lang)),
                    in_sla=[_cell_share(r, lang) for _, r in o.iterrows()],
                    ci=[_percent_interval(lo, hi, lang) for lo, hi in zip(o["ci_low"], o["ci_high"])],
                    median=[_hours(h, lang) for h in o["median_hours_to_contact"]])
    t = people_table(data, language=lang, page="portfolio_loop", verbatim=["owner"], columns={
        "owner": "text", "n_items": "count", "n_open": "count", "n_overdue": "count", "in_sla": "text", "ci": "text",
        "median": "text"}, caption=say("portfolio_loop.owner_caption", lang, wave=p.wave, sla=L.sla,
                                       date=_as_of(L, lang), k=L.k))
    t.numeric.extend(say(f"portfolio_loop.header.{c}", lang) for c in ("in_sla", "ci", "median"))
    return t


def _cell_share(row, language: str) -> str:
    """A table cell: "17% (55/315)", or "55/315" when the group is too small for a share."""
    k, n = count(row["n_in_sla"], language), count(row["n_due"], language)
    if pd.isna(row["share_in_sla"]):
        return f"{k}/{n}" if row["n_due"] else MISSING
    return f"{percent(row['share_in_sla'], language)} ({k}/{n})"


def overdue_accounts(p: Portfolio) -> Html:
    """The accounts with the most overdue items of the wave, by name (only those with at least k items)."""
    lang, L = p.language, p.loop
    if L is None or L.accounts.empty or not L.accounts["n_overdue"].any():
        return Html("")
    a = L.accounts[L.accounts["n_overdue"] > 0]
    named = a[a["n_items"] >= L.k].sort_values(["n_overdue", "n_items", "name"], ascending=[False, False, True])
    items = [words_with_names("portfolio_loop.account_item", lang, names={"name": r.name},
                              overdue=count(r.n_overdue, lang), n=count(r.n_items, lang))
             for r in named.head(OVERDUE_ACCOUNTS).itertuples()]
    text = (words_with_names("portfolio_loop.accounts", lang, items=Html("; ".join(items))) if items else "")
    unnamed = len(a) - len(named)
    if unnamed:
        text += (" " if text else "") + words_with_names("portfolio_loop.accounts_small", lang,
                                                         n=count(unnamed, lang), k=L.k)
    return paragraphs(text)


def visits_table(p: Portfolio):
    """Visit-survey NPS per month (n, interval) beside the loop of that month's visit items (none without a loop:
    the section is then one sentence)."""
    lang, L = p.language, p.loop
    if L is None or L.n_store == 0 or L.visits.empty:
        return Html("")
    v = L.visits.copy()
    v.loc[(v["n_items"] < L.k) | (v["n_due"] < L.k), "share_in_sla"] = np.nan  # counts only below k
    data = v.assign(month=v["period"].map(lambda m: _month(m, lang)),
                    tnps_ci=[interval(lo, hi, lang, 0, sign=True) for lo, hi in zip(v["ci_low"], v["ci_high"])],
                    in_sla=[_cell_share(r, lang) if r["n_items"] else MISSING for _, r in v.iterrows()])
    t = people_table(data, language=lang, page="portfolio_loop", columns={
        "month": "text", "n": "count", "nps": "points", "tnps_ci": "text", "n_items": "count", "in_sla": "text"},
        caption=say("portfolio_loop.visits_caption", lang, sla=L.sla))
    t.numeric.extend(say(f"portfolio_loop.header.{c}", lang) for c in ("tnps_ci", "in_sla"))
    return t


def _month(period: str, language: str) -> str:
    from babel.dates import format_date

    d = pd.Period(period, freq="M").start_time.date()
    english = language == "en"
    return format_date(d, format="LLL y" if english else "L/y", locale="en_GB" if english else "fi_FI")


def _estimate(row, language: str) -> str:
    return words_with_names("portfolio_loop.estimate", language, x=number(row["mean"], language, 1, sign=True),
                            ci=interval(row["ci_low"], row["ci_high"], language, 1, sign=True))


def later_words(p: Portfolio) -> Html:
    """Did followed-up clients score differently at their next answer?  The adjusted comparison first, n and
    interval, then the raw one, then always the caveat that this is not an experiment."""
    lang, L = p.language, p.loop
    if L is None or L.n_store == 0:
        return Html("")
    caveat = f"<strong>{_esc(say('followup.loop.caveat', lang))}</strong>"
    later = L.later
    if later.empty:
        return paragraphs(words_with_names("portfolio_loop.later_none", lang), caveat)
    r = later.set_index("estimate")
    up, down = r.loc["followed_up"], r.loc["not_followed_up"]
    if min(up["n"], down["n"]) < L.k or pd.isna(r.loc["difference_adjusted", "mean"]):
        return paragraphs(words_with_names("portfolio_loop.later_few", lang, up=count(up["n"], lang),
                                           down=count(down["n"], lang), k=L.k), caveat)
    adj, raw = r.loc["difference_adjusted"], r.loc["difference"]
    clear = adj["ci_low"] > 0 or adj["ci_high"] < 0
    key = "portfolio_loop.later_clear" if clear else "portfolio_loop.later_unclear"
    text = words_with_names(key, lang, estimate=Html(_estimate(adj, lang)), up=count(up["n"], lang),
                            down=count(down["n"], lang))
    text += " " + words_with_names("portfolio_loop.later_raw", lang, estimate=Html(_estimate(raw, lang)),
                                   base_up=number(up["baseline"], lang, 1), base_down=number(down["baseline"], lang, 1))
    return paragraphs(text, caveat)


def _esc(text: str) -> str:
    import html

    return html.escape(text, quote=False)


def band_finding(p: Portfolio) -> str:
    """One line for the summary band, only when it earns it: the wave's follow-ups overdue now ("" when none)."""
    lang, L = p.language, p.loop
    if L is None or not len(L.wave) or L.wave["n_overdue"].iloc[0] == 0:
        return ""
    s = L.wave.iloc[0]
    return words_with_names("portfolio_loop.band", lang, overdue=count(s["n_overdue"], lang),
                            n=count(s["n_items"], lang), wave=p.wave, date=_as_of(L, lang))


# ---------------------------------------------------------------------------
# For analysts
# ---------------------------------------------------------------------------
def analysts_table(p: Portfolio):
    """The later-NPS comparison in full: each group's n, earlier score, mean change with its interval; the raw
    (Welch) and the adjusted (same earlier score) differences with p."""
    lang, L = p.language, p.loop
    if L is None or L.later.empty:
        return Html("")
    t = L.later
    names = {e: say(f"portfolio_loop.estimate_name.{e}", lang) for e in t["estimate"]}
    data = t.assign(n_group=t["n"], estimate=t["estimate"].map(names),
                    ci=[interval(lo, hi, lang, 2, sign=True) for lo, hi in zip(t["ci_low"], t["ci_high"])])
    table = people_table(data, language=lang, page="portfolio_loop", columns={
        "estimate": "text", "n_group": "count", "baseline": "number:2", "mean": "signed:2", "ci": "text", "p_val": "p"},
        caption=say("portfolio_loop.analysts_caption", lang, items=count(t.attrs.get("n_items", 0), lang),
                    linked=count(t.attrs.get("n_linked", 0), lang)))
    table.numeric.append(say("portfolio_loop.header.ci", lang))
    return table


def analysts_notes(p: Portfolio):
    """How the loop's figures are counted and tested: open, overdue, the SLA's denominator, Wilson, the adjustment."""
    from IPython.display import Markdown

    from helpers.words import say_list

    lang, L = p.language, p.loop
    if L is None or L.n_store == 0:
        return Markdown("")
    notes = say_list("portfolio_loop.methods", lang, k=L.k, date=_as_of(L, lang), months=VISIT_MONTHS)
    return Markdown("\n".join(f"- {m}" for m in notes))


def overdue_details(p: Portfolio):
    """Every account with items in the wave, in one folded table (counts; rates only from k items)."""
    lang, L = p.language, p.loop
    if L is None or L.accounts.empty:
        return Html("")
    a = L.accounts[L.accounts["n_items"] >= L.k].sort_values(["n_overdue", "name"], ascending=[False, True])
    data = a.assign(in_sla=[_cell_share(r, lang) for _, r in a.iterrows()],
                    median=[_hours(h, lang) for h in a["median_hours_to_contact"]])
    t = people_table(data, language=lang, page="portfolio_loop", verbatim=["name"], columns={
        "name": "text", "n_items": "count", "n_open": "count", "n_overdue": "count", "in_sla": "text",
        "median": "text"})
    return details(say("portfolio_loop.accounts_summary", lang, n=count(len(a), lang), k=L.k), t)
