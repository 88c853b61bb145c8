"""The account report's "Follow-ups": were this wave's detractors, contact requests and comments followed up?

Takes the account (:class:`.load.AccountData`) and its follow-up items
(:func:`helpers.data.followups.load_loop`, this account's rows only) and hands
on an :class:`AccountLoop`: the wave's client-survey items as one row of
:func:`helpers.stats.loop.loop_summary` and, counted apart, the account's
visit-survey items answered in the calendar months of the wave's answers.
:func:`loop_markdown` writes the section in one to three sentences,
:func:`loop_table` the appendix's figures with the Wilson interval and
:func:`loop_notes` how they are counted; :attr:`AccountLoop.overdue` goes into
the headline JSON.

Privacy, as on the portfolio page (:mod:`helpers.report.loop_common`): a
group of fewer follow-ups than the client threshold shows its counts only — no
share, interval or median.  When the client NPS of the wave is held back (too
few answers, or it would give away who joined or left), no loop figure is
shown at all: the number of follow-ups is close to the number of detractors.
Never an item, answer or respondent id, a contact, a comment or an owner's
note: :func:`~helpers.data.followups.load_loop` does not even read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pandas as pd

from helpers.data.disclosure import DIFFERENCE
from helpers.report.formatting import MISSING, check_language, count, number, people_table, percent
from helpers.report.loop_common import as_of_date, counts_only, percent_interval
from helpers.stats.loop import SUMMARY_COLUMNS
from helpers.words import say, say_list

from .load import AccountData
from .texts import _md

__all__ = ["AccountLoop", "loop_section", "build_account_loop", "loop_markdown", "loop_table", "loop_notes",
           "SHOWN", "HIDDEN", "NO_LOOP", "NOT_QUEUED"]

#: The section's states: figures shown; held back with the client NPS; no follow-up in the store; the queue
#: has not reached the wave yet.
SHOWN, HIDDEN, NO_LOOP, NOT_QUEUED = "shown", "hidden", "no_loop", "not_queued"
#: The zone of the dates when the store holds no item to take it from.
DEFAULT_ZONE = "Europe/Helsinki"


@dataclass(frozen=True)
class AccountLoop:
    """The follow-up loop of one account and wave, as the report may show it.

    Attributes
    ----------
    state : str
        :data:`SHOWN`, :data:`HIDDEN` (the client NPS of the wave is held
        back: nothing of the loop is shown), :data:`NO_LOOP` (the store holds
        no follow-up) or :data:`NOT_QUEUED` (the queue holds no answer of the wave).
    wave : str
    k : int
        The client threshold: fewer follow-ups in a group → counts only.
    as_of : Timestamp
        The moment "open" and "overdue" refer to (naive UTC).
    timezone : str
        The zone the queue was made in (for the printed date and the months).
    survey : DataFrame
        One row of :func:`~helpers.stats.loop.loop_summary` for the wave's
        client answers, rates blanked below ``k``; empty unless shown.
    visits : DataFrame
        The same for the account's visit-survey items of ``months``; empty
        when there are none (or nothing is shown).
    months : tuple of str
        The calendar months (``YYYY-MM``) in which the wave's answers were given.
    sla_hours, visit_sla_hours : tuple of float
        The response times the wave's items and the visit items were given (usually one: 48).
    reason : str, optional
        Why the figures are held back (the client NPS's reason).
    """

    state: str
    wave: str
    k: int
    as_of: pd.Timestamp
    timezone: str = DEFAULT_ZONE
    survey: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    visits: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    months: tuple[str, ...] = ()
    sla_hours: tuple[float, ...] = ()
    visit_sla_hours: tuple[float, ...] = ()
    reason: str | None = None

    @property
    def overdue(self) -> int | None:
        """Follow-ups of the wave's client answers open and past due at :attr:`as_of`; None unless shown."""
        if self.state != SHOWN or self.survey.empty:
            return None
        return int(self.survey["n_overdue"].iloc[0])


def _now(now: datetime | None) -> pd.Timestamp:
    return pd.Timestamp(now) if now is not None else pd.Timestamp(datetime.now(timezone.utc).replace(tzinfo=None))


def loop_section(account: AccountData, *, now: datetime | None = None) -> AccountLoop:
    """The account's loop for its wave, read from the store (this account's items, and two counts of the store).

    Parameters
    ----------
    account : AccountData
    now : datetime, optional
        The moment open and overdue refer to (naive UTC; default now).

    Returns
    -------
    AccountLoop
        See :func:`build_account_loop`.  A store without the loop's tables
        counts as one without follow-ups.
    """
    import duckdb

    from helpers.data.followups import load_loop, queue_counts

    from .summary import _answer_counts, _nps_hidden_reason

    n_client, _ = _answer_counts(account)
    withheld = _nps_hidden_reason(account, account.wave) if n_client else None
    months = wave_months(account.in_wave(account.responses)["submitted_at"])
    k = account.figure_min("client")
    try:
        n_store, n_wave = queue_counts(account.wave, store=account.store)
        items = load_loop(account=account.account_id, store=account.store) if withheld is None else None
    except (duckdb.Error, OSError):
        return AccountLoop(state=NO_LOOP, wave=account.wave, k=k, as_of=_now(now), months=months)
    return build_account_loop(items, wave=account.wave, months=months, k=k, withheld=withheld,
                              n_store=n_store, wave_queued=bool(n_wave), now=now)


def wave_months(submitted_at: pd.Series) -> tuple[str, ...]:
    """The calendar months (``YYYY-MM``) from the first to the last of the answers' local times.

    Examples
    --------
    >>> wave_months(pd.Series(pd.to_datetime(["2026-08-30 10:00", "2026-10-01 09:00"])))
    ('2026-08', '2026-09', '2026-10')
    """
    t = pd.to_datetime(submitted_at).dropna()
    if t.empty:
        return ()
    return tuple(str(p) for p in pd.period_range(t.min().to_period("M"), t.max().to_period("M"), freq="M"))


def build_account_loop(items: pd.DataFrame | None, *, wave: str, months: Sequence[str], k: int,
                       withheld: str | None = None, n_store: int | None = None, wave_queued: bool = True,
                       now: datetime | None = None) -> AccountLoop:
    """The section's figures from one account's items (:func:`helpers.data.followups.load_loop`).

    Parameters
    ----------
    items : DataFrame or None
        The account's items (survey and visit); None or empty when there are none.
    wave : str
        The report's wave: its client-survey items are the section's.
    months : sequence of str
        ``YYYY-MM`` months whose visit-survey items are counted apart (local time of the item's zone).
    k : int
        Fewest follow-ups behind a share, its interval or a median.
    withheld : str, optional
        Why the wave's client NPS is held back (None when it is shown): then nothing of the loop is shown.
    n_store : int, optional
        Items in the whole store (default: ``len(items)``); 0 → :data:`NO_LOOP`.
    wave_queued : bool
        Whether the store holds any item of ``wave`` (of any account); False → :data:`NOT_QUEUED`.
    now : datetime, optional
        The moment open and overdue refer to (naive UTC; default now).

    Returns
    -------
    AccountLoop
    """
    from helpers.data.clock import to_local

    as_of = _now(now)
    items = items if items is not None else pd.DataFrame()
    n_store = len(items) if n_store is None else n_store
    months = tuple(months)
    zone = str(items["timezone"].mode().iloc[0]) if len(items) else DEFAULT_ZONE
    common = dict(wave=wave, k=k, as_of=as_of, timezone=zone, months=months)
    if withheld is not None:
        return AccountLoop(state=HIDDEN, reason=withheld, **common)
    if n_store == 0:
        return AccountLoop(state=NO_LOOP, **common)
    if not wave_queued:
        return AccountLoop(state=NOT_QUEUED, **common)
    survey = items[(items["source"] == "survey") & (items["wave"] == wave)] if len(items) else items
    visit = items[items["source"] == "touchpoint"] if len(items) else items
    if len(visit):
        month = to_local(visit["answered_at_utc"], visit["timezone"].astype(str)).dt.to_period("M").astype(str)
        visit = visit[month.isin(months).to_numpy()]
    summary = counts_only(_summary(survey, as_of), k=k)
    visits = counts_only(_summary(visit, as_of), k=k) if len(visit) else pd.DataFrame()
    return AccountLoop(state=SHOWN, survey=summary, visits=visits, sla_hours=_sla_hours(survey),
                       visit_sla_hours=_sla_hours(visit), **common)


def _sla_hours(items: pd.DataFrame) -> tuple[float, ...]:
    return tuple(sorted(float(h) for h in pd.unique(items["sla_hours"].dropna()))) if len(items) else ()


def _summary(items: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """One row of :func:`loop_summary` (zeros without items)."""
    from helpers.stats.loop import loop_summary

    if not len(items):
        items = pd.DataFrame({"answered_at_utc": pd.Series(dtype="datetime64[ns]"),
                              "due_at_utc": pd.Series(dtype="datetime64[ns]"),
                              "contacted_at_utc": pd.Series(dtype="datetime64[ns]")})
    return loop_summary(items, by=(), now=as_of)


# ---------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------
def _hours(h: float, language: str, digits: int = 1) -> str:
    return MISSING if pd.isna(h) else say("account_loop.hours", language, hours=number(h, language, digits))


def _sla(hours: tuple[float, ...], language: str) -> str:
    """"48 h" (several response times: "24–48 h"; none known: the queue's default, 48 h)."""
    h = hours or (48.0,)
    text = number(h[0], language, 0) if len(h) == 1 else f"{number(h[0], language, 0)}–{number(h[-1], language, 0)}"
    return say("account_loop.hours", language, hours=text)


def _in_time(row: pd.Series, language: str) -> str:
    """"20% (1 of 5; 95% CI 4% to 62%)", or "1 of 5" when the share may not be shown."""
    k, n = count(row["n_in_sla"], language), count(row["n_due"], language)
    if pd.isna(row["share_in_sla"]):
        return say("account_loop.of", language, k=k, n=n)
    return say("account_loop.share", language, share=percent(row["share_in_sla"], language), k=k, n=n,
               ci=percent_interval(row["ci_low"], row["ci_high"], language))


def _month(period: str, language: str) -> str:
    from babel.dates import format_date

    d = pd.Period(period, freq="M").start_time.date()
    return format_date(d, format="LLLL y", locale="en_GB" if language == "en" else "fi_FI")


def months_text(months: Sequence[str], language: str) -> str:
    """"September 2026", or "July 2026–September 2026" for several months."""
    if not months:
        return MISSING
    first, last = _month(months[0], language), _month(months[-1], language)
    return first if first == last else f"{first}–{last}"


def _markdown(text: str):
    from IPython.display import Markdown

    return Markdown(text)


def loop_words(loop: AccountLoop, *, language: str = "en") -> str:
    """The section as Markdown text: what was followed up, in time, how fast, what is open or overdue."""
    lang = check_language(language)
    wave = _md(loop.wave)
    if loop.state == HIDDEN:
        key = "account_loop.hidden_difference" if loop.reason == DIFFERENCE else "account_loop.hidden"
        return say(key, lang, wave=wave)
    if loop.state == NO_LOOP:
        return say("account_loop.none", lang)
    if loop.state == NOT_QUEUED:
        return say("account_loop.not_queued", lang, wave=wave)
    s = loop.survey.iloc[0]
    parts = []
    if s["n_items"] == 0:
        parts.append(say("account_loop.none_in_wave", lang, wave=wave))
    else:
        median = ""
        if pd.notna(s["median_hours_to_contact"]):
            median = say("account_loop.median", lang, hours=_hours(s["median_hours_to_contact"], lang),
                         n=count(s["n_timed"], lang))
        parts.append(say("account_loop.sentence", lang, wave=wave, n=count(s["n_items"], lang),
                         sla=_sla(loop.sla_hours, lang), in_time=_in_time(s, lang), median=median,
                         date=as_of_date(loop.as_of, loop.timezone, lang), open=count(s["n_open"], lang),
                         overdue=count(s["n_overdue"], lang)))
    if not loop.visits.empty:
        v = loop.visits.iloc[0]
        parts.append(say("account_loop.visits", lang, months=months_text(loop.months, lang),
                         n=count(v["n_items"], lang), sla=_sla(loop.visit_sla_hours, lang),
                         in_time=_in_time(v, lang), overdue=count(v["n_overdue"], lang)))
    small = [r for r in (s, loop.visits.iloc[0] if len(loop.visits) else None)
             if r is not None and 0 < r["n_items"] < loop.k]
    if small:
        parts.append(say("account_loop.few", lang, k=loop.k))
    return " ".join(parts)


def loop_markdown(loop: AccountLoop, *, language: str = "en"):
    """The "Follow-ups" section's sentences as Markdown (see :func:`loop_words`)."""
    return _markdown(loop_words(loop, language=language))


# ---------------------------------------------------------------------------
# For analysts
# ---------------------------------------------------------------------------
def loop_table(loop: AccountLoop, *, language: str = "en"):
    """The appendix's figures: per group (the wave's client answers; visit surveys) the counts, the share in
    time with its Wilson interval and the median hours to contact with its n; a note when nothing is shown."""
    lang = check_language(language)
    if loop.state != SHOWN:
        from .display import notes_markdown

        return notes_markdown([say("account_loop.analysts_none", lang)])
    rows = [loop.survey.assign(group=say("account_loop.group.survey", lang, wave=loop.wave))]
    if not loop.visits.empty:
        rows.append(loop.visits.assign(group=say("account_loop.group.visits", lang,
                                                 months=months_text(loop.months, lang))))
    t = pd.concat(rows, ignore_index=True)
    data = t.assign(share=[_share_cell(r, lang) for _, r in t.iterrows()],
                    median=[_hours(h, lang) for h in t["median_hours_to_contact"]])
    table = people_table(data, language=lang, page="account_loop", verbatim=["group"], columns={
        "group": "text", "n_items": "count", "n_open": "count", "n_overdue": "count", "n_due": "count",
        "n_in_sla": "count", "share": "text", "median": "text", "n_timed": "count"},
        caption=say("account_loop.analysts_caption", lang, sla=_sla(loop.sla_hours, lang), k=loop.k,
                    date=as_of_date(loop.as_of, loop.timezone, lang)))
    table.numeric.extend(say(f"account_loop.header.{c}", lang) for c in ("share", "median"))
    return table


def _share_cell(row: pd.Series, language: str) -> str:
    """A table cell: "18% (5% to 48%)", or "–" when the share may not be shown."""
    if pd.isna(row["share_in_sla"]):
        return MISSING
    return f"{percent(row['share_in_sla'], language)} ({percent_interval(row['ci_low'], row['ci_high'], language)})"


def loop_notes(loop: AccountLoop, *, language: str = "en"):
    """How the section's figures are counted, as a Markdown list (None when nothing is shown)."""
    lang = check_language(language)
    if loop.state != SHOWN:
        return None
    notes = say_list("account_loop.methods", lang, k=loop.k, date=as_of_date(loop.as_of, loop.timezone, lang))
    return _markdown("\n".join(f"- {m}" for m in notes))


def loop_frame(loop: AccountLoop) -> pd.DataFrame:
    """The shown figures as one tidy frame (``part``: survey, visits) for :func:`.report_data.account_report_data`."""
    parts = [f.assign(part=p) for p, f in (("survey", loop.survey), ("visits", loop.visits)) if len(f)]
    if not parts:
        return pd.DataFrame(columns=["part", *SUMMARY_COLUMNS])
    out = pd.concat(parts, ignore_index=True)
    return out[["part", *[c for c in out.columns if c != "part"]]]
