"""Times without a zone: the survey tool's local time, turned into instants (UTC) and back.

The store keeps the times an export gives as they were written (naive): the
survey tool's local time.  Where elapsed time matters — a follow-up due 48
hours after the answer, how long the owner took to call — those local times
are read in one named zone (:data:`DEFAULT_TIMEZONE`, ``--timezone``) and
turned into UTC instants, so daylight saving time never adds or loses an hour.

Two moments a year a local time is not one instant:

* **Spring forward** (in Helsinki 03:00 → 04:00 on the last Sunday of March):
  03:30 does not exist.  It is read as the moment the clocks jumped to
  (04:00 summer time), as a wall clock that was not moved forward would show.
* **Fall back** (04:00 → 03:00 on the last Sunday of October): 03:30 happens
  twice.  The first (summer time) is taken — the earlier instant, so a due
  time is never later than the rule gives.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: The zone of times without one, unless told otherwise (``--timezone``).
DEFAULT_TIMEZONE = "Europe/Helsinki"


class TimezoneError(ValueError):
    """A time zone name the system does not know."""


def check_timezone(name: str) -> str:
    """``name`` when it is an IANA time zone (``Europe/Helsinki``, ``UTC``); else a :class:`TimezoneError`."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise TimezoneError(f"Unknown time zone {name!r}: use a name such as Europe/Helsinki, Europe/Stockholm "
                            "or UTC (the IANA time zone database's names).") from None
    return str(name)


def to_utc(local: pd.Series, timezone: str | pd.Series) -> pd.Series:
    """Naive local times (read in ``timezone``) as naive UTC instants.

    Parameters
    ----------
    local : Series of datetime64
        Times as the survey tool wrote them (no zone); NaT stays NaT.
    timezone : str or Series of str
        An IANA zone for all rows, or one per row.

    Returns
    -------
    Series of datetime64
        Naive UTC.  Non-existent times (spring forward) move to the moment the
        clocks jumped to; repeated times (fall back) take the first, summer-time
        instant.

    Examples
    --------
    >>> t = pd.Series(pd.to_datetime(["2026-03-28 10:00", "2026-03-29 03:30", "2026-10-25 03:30"]))
    >>> to_utc(t, "Europe/Helsinki").dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2026-03-28 08:00', '2026-03-29 01:00', '2026-10-25 00:30']
    """
    local = pd.to_datetime(pd.Series(local))
    if isinstance(timezone, str):
        zones = pd.Series(timezone, index=local.index)
    else:
        zones = pd.Series(timezone, index=local.index).astype(str)
    out = pd.Series(pd.NaT, index=local.index, dtype="datetime64[ns]")
    for zone in pd.unique(zones):
        check_timezone(zone)
        mine = zones == zone
        t = local[mine]
        aware = t.dt.tz_localize(zone, ambiguous=np.ones(len(t), dtype=bool), nonexistent="shift_forward")
        out[mine] = aware.dt.tz_convert("UTC").dt.tz_localize(None).astype("datetime64[ns]")
    return out


def to_local(utc: pd.Series, timezone: str | pd.Series) -> pd.Series:
    """Naive UTC instants as naive wall-clock times in ``timezone`` (one zone, or one per row).

    Examples
    --------
    >>> t = pd.Series(pd.to_datetime(["2026-03-30 08:00"]))
    >>> to_local(t, "Europe/Helsinki").dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2026-03-30 11:00']
    """
    utc = pd.to_datetime(pd.Series(utc))
    zones = pd.Series(timezone, index=utc.index) if isinstance(timezone, str) else pd.Series(timezone,
                                                                                             index=utc.index)
    out = pd.Series(pd.NaT, index=utc.index, dtype="datetime64[ns]")
    for zone in pd.unique(zones.astype(str)):
        check_timezone(zone)
        mine = zones.astype(str) == zone
        wall = utc[mine].dt.tz_localize("UTC").dt.tz_convert(zone).dt.tz_localize(None)
        out[mine] = wall.astype("datetime64[ns]")
    return out
