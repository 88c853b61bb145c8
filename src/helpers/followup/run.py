"""The daily follow-up run in one call: new items into the store, then the queue's files, then a summary.

``run_followup`` is what ``flamekit followup`` (and a scheduler) calls;
``rewrite_files`` writes the files of the last run again from the store as it
is now (``flamekit forget`` uses it, so a forgotten contact leaves the files).
Exit code of the command: 0 when nothing is overdue, 3 when something is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone as _tz
from pathlib import Path

import pandas as pd

from helpers.data.clock import DEFAULT_TIMEZONE, check_timezone
from helpers.data.store import connect
from helpers.report.formatting import check_language
from helpers.stats.loop import loop_summary
from helpers.words import say

from .files import read_manifest, write_files
from .queue import add_items, load_queue, queue_counts
from .sla import parse_since, parse_sla, sla_text

#: Exit code of ``flamekit followup`` when some open item is past due.
EXIT_OVERDUE = 3
DEFAULT_FOLDER = Path("reports") / "followup"


@dataclass
class FollowupResult:
    """What one run wrote and found; ``summary()`` is what the command prints."""

    counts: dict[str, int]
    overdue_by_owner: dict[str | None, int]
    html: Path
    workbooks: dict[str | None, Path]
    folder: Path
    language: str = "en"
    queue: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    @property
    def exit_code(self) -> int:
        """0 when nothing is overdue, :data:`EXIT_OVERDUE` (3) when something is."""
        return EXIT_OVERDUE if self.counts["n_overdue"] else 0

    def summary(self) -> str:
        lang = self.language
        lines = [say("followup.cli.summary", lang, **self.counts),
                 say("followup.cli.files", lang, html=self.html, n_files=len(self.workbooks), folder=self.folder)]
        no_owner = self.overdue_by_owner.get(None, 0)
        for owner, n in self.overdue_by_owner.items():
            if n and owner is not None:
                lines.append(say("followup.cli.overdue_owner", lang, owner=owner, n=n))
        unowned = int(self.queue["owner"].isna().sum()) if len(self.queue) else 0
        if unowned or no_owner:
            lines.append(say("followup.cli.no_owner_warning", lang, n=unowned))
        return "\n".join(lines)


def _now(now: datetime | None) -> pd.Timestamp:
    return pd.Timestamp(now) if now is not None else pd.Timestamp(datetime.now(_tz.utc).replace(tzinfo=None))


def run_followup(*, store: str | Path | None = None, out: str | Path = DEFAULT_FOLDER, since: str | None = None,
                 sla: str = "48h", timezone: str = DEFAULT_TIMEZONE, language: str = "en",
                 now: datetime | None = None, wait: float | None = None, calendar: dict | None = None
                 ) -> FollowupResult:
    """Add the answers that need a follow-up to the queue and write its files.

    Parameters
    ----------
    store : path, optional
    out : path
        Folder for ``index.html`` and one workbook per owner (default
        ``reports/followup``).
    since : str, optional
        Answers from this date (``2026-07-01``), this many days back (``30d``)
        or this wave (``2026Q3``) enter the queue; default 30 days back.
        Older items still open stay listed.
    sla : str
        Time to the first contact, e.g. ``48h`` or ``2d``.
    timezone : str
        Zone of the survey tool's times (IANA name), default Europe/Helsinki.
    language : {"en", "fi"}
        Language of the files and the summary.
    now : datetime, optional
        The moment of the run (naive UTC; for tests).
    wait : float, optional
        Seconds to wait for a store another process is writing.
    calendar : dict, optional
        Wave calendar for a ``since`` given as a wave label.

    Returns
    -------
    FollowupResult
        Counts, overdue items per owner, the files; ``exit_code`` 0 or 3.

    Raises
    ------
    FollowupError
        An SLA or ``since`` that cannot be read.
    helpers.data.clock.TimezoneError, ValueError
        An unknown time zone or language.
    helpers.data.store.StoreError
        No store, or one another process keeps open for writing.
    """
    check_language(language)
    check_timezone(timezone)
    with connect(store):  # a missing store is an error (StoreError), never created here
        pass
    sla_td = parse_sla(sla)
    now_ts = _now(now)
    since_utc = parse_since(since, now=now_ts, timezone=timezone, calendar=calendar)
    new = add_items(since_utc=since_utc, sla=sla_td, timezone=timezone, now=now_ts, store=store, wait=wait)
    return _write(store=store, out=Path(out), since_utc=since_utc, sla=sla_td, timezone=timezone,
                  language=language, now=now_ts, new=new)


def rewrite_files(folder: str | Path = DEFAULT_FOLDER, *, store: str | Path | None = None,
                  now: datetime | None = None) -> FollowupResult | None:
    """Write the queue's files in ``folder`` again, with the options of the run that wrote them (no new items).

    Returns None when ``folder`` holds no queue.
    """
    options = read_manifest(folder)
    if not options:
        return None
    return _write(store=store, out=Path(folder), since_utc=pd.Timestamp(options["since_utc"]),
                  sla=pd.Timedelta(hours=float(options["sla_hours"])), timezone=options["timezone"],
                  language=options["language"], now=_now(now), new=0)


def _write(*, store, out: Path, since_utc: pd.Timestamp, sla: pd.Timedelta, timezone: str, language: str,
           now: pd.Timestamp, new: int) -> FollowupResult:
    queue = load_queue(since_utc=since_utc, now=now, store=store)
    summary = loop_summary(queue, by=(), now=now)
    options = {"since_utc": since_utc.isoformat(), "sla_hours": sla / pd.Timedelta(hours=1), "timezone": timezone,
               "language": language}
    files = write_files(queue, out, language=language, sla=sla_text(sla), timezone=timezone, made=now,
                        summary=summary, options=options)
    overdue = queue[queue["overdue"].astype(bool)]
    by_owner = {o: int(n) for o, n in overdue.groupby(overdue["owner"].fillna("\x00")).size().items()}
    by_owner = {(None if o == "\x00" else o): n for o, n in by_owner.items()}
    return FollowupResult(counts=queue_counts(queue, new=new), overdue_by_owner=by_owner, html=files["html"],
                          workbooks=files["workbooks"], folder=out, language=language, queue=queue)
