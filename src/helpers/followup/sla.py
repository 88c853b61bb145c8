"""The follow-up promise in numbers: the SLA (``48h``), the ``--since`` window, due times across time zones.

An item is due a fixed elapsed time after its answer: ``due = answer + SLA``,
computed on UTC instants (:mod:`helpers.data.clock`), so a 48-hour promise
made on the Saturday before the clocks change is still 48 hours — due at 11:00
on Monday in Helsinki, not 10:00.  Business hours are not counted: a promise to
call back "within two working days" is ``--sla 96h`` over a weekend, and the
queue shows the due time so an owner can plan.
"""

from __future__ import annotations

import re
from datetime import datetime

import pandas as pd

from helpers.data.clock import to_local, to_utc

_PART = re.compile(r"(\d+(?:[.,]\d+)?)\s*(d|h|min|m)", re.I)


class FollowupError(ValueError):
    """An option of the follow-up queue that cannot be used; the message says what would."""


def parse_sla(text: str | float | int) -> pd.Timedelta:
    """An SLA as a duration: ``48h``, ``2d``, ``90min``, ``1d 12h``; a bare number is hours.

    Raises
    ------
    FollowupError
        Not a duration, or not more than zero.

    Examples
    --------
    >>> parse_sla("48h"), parse_sla("1d 12h"), parse_sla("90min"), parse_sla(24)
    (Timedelta('2 days 00:00:00'), Timedelta('1 days 12:00:00'), Timedelta('0 days 01:30:00'), Timedelta('1 days 00:00:00'))
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        out = pd.Timedelta(hours=float(text))
    else:
        s = str(text).strip()
        if re.fullmatch(r"\d+(?:[.,]\d+)?", s):
            out = pd.Timedelta(hours=float(s.replace(",", ".")))
        elif re.fullmatch(rf"(?:{_PART.pattern}\s*)+", s, re.I):
            out = pd.Timedelta(0)
            for num, unit in _PART.findall(s):
                value = float(num.replace(",", "."))
                unit = unit.lower()
                out += pd.Timedelta(days=value) if unit == "d" else pd.Timedelta(hours=value) if unit == "h" \
                    else pd.Timedelta(minutes=value)
        else:
            raise FollowupError(f"SLA {text!r} is not a duration: write it as 48h, 2d, 90min or 1d 12h.")
    if out <= pd.Timedelta(0):
        raise FollowupError(f"SLA {text!r} must be more than zero (e.g. 48h).")
    return out


def sla_text(sla: pd.Timedelta) -> str:
    """An SLA as people write it: ``48 h``, ``90 min``.

    >>> sla_text(pd.Timedelta(hours=48)), sla_text(pd.Timedelta(minutes=90))
    ('48 h', '90 min')
    """
    hours = sla / pd.Timedelta(hours=1)
    if hours == int(hours):
        return f"{int(hours)} h"
    return f"{int(round(sla / pd.Timedelta(minutes=1)))} min"


def parse_since(text: str | None, *, now: datetime, timezone: str, calendar: dict | None = None) -> pd.Timestamp:
    """The first answer time (UTC) that enters the queue.

    Parameters
    ----------
    text : str or None
        A date or time (``2026-07-01``, ``1.7.2026``, ``2026-07-01 08:00``,
        read in ``timezone``), a number of days back (``30d``), or a wave
        label (``2026Q3``: the wave's first day).  None: 30 days back.
    now : datetime
        The time of the run (naive UTC).

    Raises
    ------
    FollowupError
        None of those.
    """
    from helpers.data.validation import parse_dates, wave_window

    if text is None or not str(text).strip():
        return pd.Timestamp(now) - pd.Timedelta(days=30)
    s = str(text).strip()
    m = re.fullmatch(r"(\d+)\s*d", s, re.I)
    if m:
        return pd.Timestamp(now) - pd.Timedelta(days=int(m.group(1)))
    ts, bad = parse_dates(pd.Series([s], dtype=object))
    if bad.iloc[0] or pd.isna(ts.iloc[0]):
        window = wave_window(s, calendar)
        if window is None:
            raise FollowupError(f"--since {text!r} is not a date (2026-07-01 or 1.7.2026), a number of days "
                                "back (30d) or a wave label (2026Q3).")
        ts = pd.Series([window.start])
    return to_utc(ts, timezone).iloc[0]


def due_times(answered_utc: pd.Series, sla: pd.Timedelta) -> pd.Series:
    """Due instants (UTC): each answer plus the SLA, in elapsed time."""
    return pd.to_datetime(answered_utc) + sla


def local_text(utc: pd.Series, timezone: str, language: str) -> pd.Series:
    """UTC instants as the wall-clock time in ``timezone``: ``2026-03-30 11:00`` / ``30.3.2026 11.00``."""
    local = to_local(utc, timezone)
    fmt = "%-d.%-m.%Y %H.%M" if language == "fi" else "%Y-%m-%d %H:%M"
    return local.map(lambda t: "" if pd.isna(t) else t.strftime(fmt))
