"""The chosen account's transactional NPS by month: the short surveys clients answer after a service visit.

Reads the account's touchpoint answers from the store up to the end of the
wave, hands on one row per month (:func:`touchpoint_months`) and, as the
notebook's view, a chart with a sentence (:func:`account_touchpoints`).  No
report shows these figures, so the explore notebook holds them to the
reports' own rule for a client figure: a month with fewer answers than the
client threshold (:meth:`helpers.data.disclosure.Thresholds.figure_min`) has
no NPS and is not drawn.  Comments are never read here.
"""

from __future__ import annotations

import datetime as _dt

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from babel.dates import format_date
from matplotlib.axes import Axes

from helpers.data import store as st
from helpers.report.figures import to_image
from helpers.report.formatting import count, interval, points
from helpers.report.style import CLIENT, INK, NEUTRAL
from helpers.stats.scores import touchpoint_nps
from helpers.words import check_language, say

from .data import Explorer
from .html import paragraph, say_html, words
from .plots import tick_formatter
from .selection import Selection

__all__ = ["touchpoint_months", "wave_end", "plot_touchpoint_nps", "account_touchpoints"]

#: Babel locales of the page languages, for month names (the same as :mod:`helpers.report.formatting`).
_LOCALES = {"en": "en_GB", "fi": "fi_FI"}


def wave_end(wave: str) -> pd.Timestamp | None:
    """The first moment after a quarterly wave ("2026Q3" → 2026-10-01); None for a label that is not a quarter.

    Examples
    --------
    >>> wave_end("2026Q3")
    Timestamp('2026-10-01 00:00:00')
    >>> wave_end("spring") is None
    True
    """
    try:
        return pd.Period(str(wave), freq="Q").end_time.normalize() + pd.Timedelta(days=1)
    except (ValueError, TypeError):
        return None


def touchpoint_months(touchpoints: pd.DataFrame, *, min_answers: int, until: pd.Timestamp | None = None,
                      months: int = 12) -> pd.DataFrame:
    """Transactional NPS per month of one account, blank for a month with fewer than ``min_answers`` answers.

    Parameters
    ----------
    touchpoints : DataFrame
        One row per answered touchpoint survey (score 0–10, answered_at), as
        :func:`helpers.data.store.load_touchpoints` reads them.
    min_answers : int
        The fewest answers behind a month's NPS (the client threshold of the reports).
    until : Timestamp, optional
        Only answers before it (the end of the wave).
    months : int
        The last ``months`` months with answers.

    Returns
    -------
    DataFrame
        period ("2026-03"), n, nps, ci_low, ci_high (adjusted Wald, 95%), shown — oldest first; nps and the
        interval are blank (NaN) where ``shown`` is False.

    Notes
    -----
    NPS = %promoters (9–10) − %detractors (0–6) of the month's answers
    (:func:`helpers.stats.scores.touchpoint_nps`), with the adjusted-Wald interval (Rocks 2016).

    Examples
    --------
    >>> tp = pd.DataFrame({"account_id": "A1", "score": [10, 9, 0, 10, 9, 6, 10],
    ...                    "answered_at": pd.to_datetime(["2026-01-05"] * 5 + ["2026-02-03"] * 2)})
    >>> m = touchpoint_months(tp, min_answers=5)
    >>> m[["period", "n", "shown"]].values.tolist(), m["nps"].round(1).tolist()
    ([['2026-01', 5, True], ['2026-02', 2, False]], [60.0, nan])
    """
    cols = ["period", "n", "nps", "ci_low", "ci_high", "shown"]
    tp = touchpoints.dropna(subset=["score"])
    if until is not None:
        tp = tp[pd.to_datetime(tp["answered_at"]) < until]
    if tp.empty:
        return pd.DataFrame(columns=cols)
    m = touchpoint_nps(tp, by=()).sort_values("period").tail(months).reset_index(drop=True)
    m["n"] = m["n"].astype("int64")
    m["shown"] = m["n"] >= min_answers
    m.loc[~m["shown"], ["nps", "ci_low", "ci_high"]] = np.nan
    return m[cols]


def _month(period: str, language: str, *, year: bool) -> str:
    """A tick label: "Mar" / "maalis", with the year under it for the first month and every January."""
    d = _dt.date.fromisoformat(f"{period}-01")
    name = format_date(d, "LLL", locale=_LOCALES[check_language(language)])
    return f"{name}\n{d.year}" if year or d.month == 1 else name


def _month_words(period: str, language: str) -> str:
    """A month in a sentence: "September 2026" / "syyskuu 2026"."""
    d = _dt.date.fromisoformat(f"{period}-01")
    return format_date(d, "LLLL y", locale=_LOCALES[check_language(language)])


def plot_touchpoint_nps(months: pd.DataFrame, *, language: str, title: str, ax: Axes | None = None) -> Axes:
    """Transactional NPS per month with its 95% interval, in the client's colour; hidden months left empty.

    Parameters
    ----------
    months : DataFrame
        :func:`touchpoint_months` (period, nps, ci_low, ci_high, shown).
    language : {"en", "fi"}
    title : str
        What the chart shows, in the page's language.
    ax : Axes, optional

    Returns
    -------
    Axes
        One errorbar container with a point per shown month, every month as an x tick (month names of the
        language), NPS ticks by locale and a line at zero.

    Examples
    --------
    >>> m = pd.DataFrame({"period": ["2025-12", "2026-01"], "nps": [10.0, float("nan")],
    ...                   "ci_low": [-20.0, float("nan")], "ci_high": [38.0, float("nan")], "shown": [True, False]})
    >>> ax = plot_touchpoint_nps(m, language="fi", title="NPS")
    >>> [t.get_text() for t in ax.get_xticklabels()], len(ax.containers[0].lines[0].get_xdata())
    (['joulu\\n2025', 'tammi\\n2026'], 1)
    >>> plt.close(ax.figure)
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(7.5, 3.0))
    x = np.arange(len(months), dtype=float)
    shown = months["shown"].astype(bool).to_numpy()
    vals = months["nps"].to_numpy(dtype=float)
    err = np.vstack([vals - months["ci_low"].to_numpy(dtype=float), months["ci_high"].to_numpy(dtype=float) - vals])
    ax.axhline(0, color=NEUTRAL, linewidth=0.8)
    ax.errorbar(x[shown], vals[shown], yerr=np.clip(err[:, shown], 0, None), fmt="-o", color=CLIENT,
                ecolor=CLIENT, elinewidth=1, capsize=2, markersize=4, linewidth=1.2)
    ax.set_xticks(x)
    ax.set_xticklabels([_month(p, language, year=i == 0) for i, p in enumerate(months["period"])])
    ax.set_xlim(-0.5, len(months) - 0.5)
    ax.set_ylim(-100, 100)
    ax.yaxis.set_major_formatter(tick_formatter(language, 0))
    ax.grid(axis="y", alpha=0.3)
    ax.set_ylabel(say("explore.touchpoints.chart_axis", language))
    ax.set_title(title, loc="left")
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(colors=INK)
    ax.title.set_color(INK)
    return ax


def account_touchpoints(explorer: Explorer, selection: Selection, *, months: int = 12):
    """The chosen account's transactional NPS in the last ``months`` months up to the end of the wave: a chart
    and a sentence on the latest month shown and the months held back; a sentence when there is none."""
    if selection.account_id is None:
        return None
    lang, k = explorer.language, explorer.thresholds.figure_min("client")
    name = explorer.name(selection.account_id)
    raw = st.load_touchpoints(account=selection.account_id, store=explorer.store)
    m = touchpoint_months(raw, min_answers=k, until=wave_end(selection.wave), months=months)
    if m.empty:
        return paragraph(say_html("touchpoints.none", lang, data={"name": name, "wave": selection.wave}))
    sentences = [say_html("touchpoints.total", lang, n=count(m["n"].sum(), lang), months=count(len(m), lang))]
    shown = m[m["shown"]]
    if len(shown):
        last = shown.iloc[-1]
        sentences.append(say_html("touchpoints.latest", lang, month=_month_words(last["period"], lang),
                                  nps=points(last["nps"], lang), n=count(last["n"], lang),
                                  ci=interval(last["ci_low"], last["ci_high"], lang, 0, sign=True)))
    hidden = int((~m["shown"]).sum())
    if hidden:
        sentences.append(say_html("touchpoints.hidden", lang, n=count(hidden, lang), k=count(k, lang)))
    if shown.empty:
        return paragraph(*sentences)
    title = words("touchpoints.chart_title", lang, name=name, wave=selection.wave)
    ax = plot_touchpoint_nps(m, language=lang, title=title)
    return [to_image(ax, alt=words("touchpoints.chart_alt", lang, n=count(len(shown), lang), wave=selection.wave)),
            paragraph(*sentences)]
