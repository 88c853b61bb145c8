"""The follow-up loop in the store: item ids, outcomes in (``--kind followups``), tidy frames out.

Takes the queue's items (written by :mod:`helpers.followup`) and the workbooks
the owners send back; hands on the ``followup_outcomes`` rows and, for the
statistics (:mod:`helpers.stats.loop`), one row per item with its first
contact and current status — never a comment, a note or a contact.

Outcome rules, stated plainly:

* An owner fills in **Status** (contacted / resolved / no-answer, or the
  Finnish *tavoitettu* / *ratkaistu* / *ei vastannut*), **Contacted at** and a
  short **Note** in the workbook they got, and may add rows with the same item
  for later steps.  Rows with none of the three are not filled in: counted in
  the summary, nothing recorded.
* Quarantined, with the reason: an item id the queue does not have, a status
  that is none of the three, a missing status or time, a time in the future
  (more than :data:`OUTCOME_SKEW` after the ingest) or before the answer.
* Times are read in the item's time zone (the one the queue was made in).  A
  time of exactly 00:00 is read as a date without a time: the outcome counts at
  the end of that day, or now if that is today — late rather than early when
  the SLA ran out that day.
* **Never duplicated.**  Every distinct outcome (item, status, time, note) is
  kept once; the same row ingested again is counted as already stored.
* **The newest outcome is the item's status**: the latest *Contacted at*
  (same time: the later ingest, then resolved over contacted over no-answer).
  The time to contact is the earliest contacted-or-resolved outcome.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import pandas as pd

from .clock import to_utc
from .instrument import normalise_header
from .readers import RawExport
from .store import _as_list, _where, query
from .validation import Mapping, _parse_common, _Problems

STATUSES = ("contacted", "resolved", "no-answer")
#: Statuses that mean the client was reached.
REACHED = ("contacted", "resolved")
#: Ties between outcomes at the same time: the higher rank is the status.
STATUS_RANK = {"no-answer": 0, "contacted": 1, "resolved": 2}
#: How far after the ingest an outcome's time may lie (a clock a little fast); the zone is known, so no day.
OUTCOME_SKEW = pd.Timedelta(hours=1)
#: Fields the ingest reads from an owner's workbook; its other columns are left alone.
OUTCOME_FIELDS = ("item_id", "status", "outcome_at", "note")
#: Characters that make a spreadsheet read a cell as a formula; the queue prefixes such cells with "'".
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def item_id(source: str, source_id: str) -> str:
    """The stable id of the follow-up item for one answer: ``FU-`` and 12 hex digits of a SHA-256.

    The same answer always gets the same id, so re-running the queue never
    duplicates an item, and owners' outcomes stay attached.

    Examples
    --------
    >>> item_id("survey", "C-2026Q3-A001-004")
    'FU-F35062E42C3C'
    """
    digest = hashlib.sha256(f"{source}\x1f{source_id}".encode()).hexdigest()[:12].upper()
    return f"FU-{digest}"


@cache
def _status_words() -> dict[str, str]:
    """Folded status text (codes, and the catalogue's words in every language) → status code."""
    from helpers.words import LANGUAGES, section

    out = {normalise_header(s): s for s in STATUSES}
    out[normalise_header("no answer")] = "no-answer"
    for lang in LANGUAGES:
        for code, word in section("followup.status", lang).items():
            if code in STATUSES:
                out[normalise_header(word)] = code
    return out


def outcome_mapping(mapping: Mapping) -> Mapping:
    """``mapping`` plus the queue workbook's own headers (both languages): the four outcome fields are read,
    every other column of the workbook (account, comment, contacts …) is left out, never stored."""
    from helpers.words import LANGUAGES, section

    columns, ignore = {}, set()
    for lang in LANGUAGES:
        for key, header in section("followup.column", lang).items():
            if key in OUTCOME_FIELDS:
                columns[normalise_header(header)] = key
            else:
                ignore.add(normalise_header(header))
    for key in OUTCOME_FIELDS:
        columns.setdefault(normalise_header(key), key)
    columns.update({"item id": "item_id", "when": "outcome_at", "outcome at": "outcome_at"})
    return Mapping(columns={**columns, **mapping.columns}, ignore=(ignore - set(mapping.columns)) | mapping.ignore,
                   values=mapping.values, waves=mapping.waves)


def unneutralise(text: object) -> object:
    """A cell the queue neutralised (``'=…``) back to what was written, so a returned note matches the stored one."""
    if isinstance(text, str) and len(text) > 1 and text[0] == "'" and text[1] in FORMULA_START:
        return text[1:]
    return text


def build_outcomes(con, raw: RawExport, resolved: dict, mp: Mapping, inst, problems: _Problems, result, *,
                   kind: str, wave: str | None, now: datetime) -> None:
    """Outcomes of follow-up items: every rule checked, the new ones written to ``followup_outcomes``."""
    df, header_of, seen = _parse_common(raw, resolved, mp, problems, numeric=[], dates=["outcome_at"])
    if "note" in df:
        df["note"] = df["note"].map(unneutralise)
    filled = df.reindex(columns=["status", "outcome_at", "note"]).notna().any(axis=1)
    if (~filled).any():
        result.notes.append(f"{int((~filled).sum())} row(s) not filled in (no status, time or note): nothing "
                            "recorded for them.")
    raw_status, words = df["status"], _status_words()
    code = raw_status.map(lambda v: words.get(normalise_header(v)) if isinstance(v, str) else None)
    problems.add(filled & raw_status.notna() & code.isna(), header_of["status"], raw_status,
                 "is not a status (contacted, resolved or no-answer; tavoitettu, ratkaistu tai ei vastannut)")
    problems.add(filled & raw_status.isna(), header_of["status"], raw_status,
                 "is required when a time or a note is filled in")
    problems.add(filled & df["item_id"].isna(), header_of["item_id"], df["item_id"], "is required but empty")
    bad_when = pd.Series([(i, "outcome_at") in seen for i in df.index], index=df.index)
    problems.add(filled & df["outcome_at"].isna() & ~bad_when, header_of["outcome_at"], df["outcome_at"],
                 "is required: when the client was contacted (or tried)")
    df["status"] = code
    items = _items_of(con, df.loc[filled, "item_id"].dropna())
    known = df["item_id"].isin(items.index)
    problems.add(filled & df["item_id"].notna() & ~known, header_of["item_id"], df["item_id"],
                 "is not an item of the follow-up queue (check the id, or run `flamekit followup` first)")
    when = _outcome_instants(df, items, known & df["outcome_at"].notna(), now=now)
    shown = raw.frame[header_of["outcome_at"]]
    limit = pd.Timestamp(now) + OUTCOME_SKEW
    problems.add(when > limit, header_of["outcome_at"], shown, f"is in the future (this ingest ran on {now:%Y-%m-%d})")
    answered = df["item_id"].map(items["answered_at_utc"]) if len(items) else pd.Series(pd.NaT, index=df.index)
    problems.add(when < answered, header_of["outcome_at"], shown, "is before the answer it follows up")
    df["outcome_at_utc"] = when
    key = ["item_id", "status", "outcome_at_utc", "note"]
    candidate = df[filled].drop(index=problems.bad_rows(), errors="ignore").reindex(columns=key)
    dup = candidate.astype(str).duplicated(keep="first")
    if dup.any():
        first = candidate.astype(str).reset_index().groupby(key)["index"].transform("first")
        first.index = candidate.index
        problems.add(dup.reindex(df.index, fill_value=False), header_of["item_id"], df["item_id"],
                     first.map(lambda i: f"repeats the outcome on row {raw.row_number(i)}"))
    good = candidate[~dup].assign(source_file=raw.file, ingested_at=now)
    _insert_outcomes(con, good, result)


def _items_of(con, ids: pd.Series) -> pd.DataFrame:
    """Stored items among ``ids``: answered_at_utc and timezone, indexed by item_id."""
    if not len(ids):
        return pd.DataFrame(columns=["answered_at_utc", "timezone"])
    con.register("ids_in", pd.DataFrame({"item_id": pd.unique(ids.astype(str))}))
    items = con.execute("SELECT item_id, answered_at_utc, timezone FROM followup_items JOIN ids_in USING (item_id)"
                        ).df()
    con.unregister("ids_in")
    return items.set_index("item_id")


def _outcome_instants(df: pd.DataFrame, items: pd.DataFrame, rows: pd.Series, *, now: datetime) -> pd.Series:
    """The UTC instant of each outcome (``rows``), read in its item's zone; midnight = that whole day."""
    out = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns]")
    if not rows.any():
        return out
    local = df.loc[rows, "outcome_at"]
    zone = df.loc[rows, "item_id"].map(items["timezone"])
    date_only = local == local.dt.normalize()
    local = local.where(~date_only, local + pd.Timedelta(days=1) - pd.Timedelta(seconds=1))
    utc = to_utc(local, zone)
    now_ts = pd.Timestamp(now)
    out[rows] = utc.where(~date_only | (utc <= now_ts), now_ts)
    return out


def _insert_outcomes(con, good: pd.DataFrame, result) -> None:
    """New outcomes into the store; ones already there are counted, not repeated."""
    result.rows_stored = 0
    if not len(good):
        return
    con.register("out_new", good)
    result.rows_already_stored = con.execute(
        "SELECT count(*) FROM out_new n WHERE EXISTS (SELECT 1 FROM followup_outcomes o WHERE o.item_id = n.item_id "
        "AND o.status = n.status AND o.outcome_at_utc = CAST(n.outcome_at_utc AS TIMESTAMP) "
        "AND o.note IS NOT DISTINCT FROM n.note)").fetchone()[0]
    con.execute(
        "INSERT INTO followup_outcomes SELECT item_id, status, CAST(outcome_at_utc AS TIMESTAMP), note, source_file, "
        "CAST(ingested_at AS TIMESTAMP) FROM out_new n WHERE NOT EXISTS (SELECT 1 FROM followup_outcomes o "
        "WHERE o.item_id = n.item_id AND o.status = n.status AND o.outcome_at_utc = CAST(n.outcome_at_utc AS "
        "TIMESTAMP) AND o.note IS NOT DISTINCT FROM n.note)")
    con.unregister("out_new")
    result.rows_stored = len(good) - result.rows_already_stored


# ---------------------------------------------------------------------------
# Loaders
# ---------------------------------------------------------------------------
_CURRENT = """
WITH ranked AS (
    SELECT item_id, status, outcome_at_utc, row_number() OVER (PARTITION BY item_id ORDER BY outcome_at_utc DESC,
        ingested_at DESC, CASE status WHEN 'resolved' THEN 2 WHEN 'contacted' THEN 1 ELSE 0 END DESC) AS k
    FROM followup_outcomes),
first_contact AS (
    SELECT item_id, min(outcome_at_utc) AS contacted_at_utc FROM followup_outcomes
    WHERE status IN ('contacted', 'resolved') GROUP BY item_id),
tries AS (SELECT item_id, min(outcome_at_utc) AS first_try_utc, count(*) AS n_outcomes
          FROM followup_outcomes GROUP BY item_id)
"""


def load_loop(*, account: str | list[str] | None = None, wave: str | list[str] | None = None,
              store: str | Path | None = None) -> pd.DataFrame:
    """Follow-up items with what became of them, one row per item (for :mod:`helpers.stats.loop`).

    Parameters
    ----------
    account, wave : str or list of str, optional
        Filters, applied in SQL (touchpoint items have no wave: a ``wave``
        filter leaves them out).
    store : path, optional

    Returns
    -------
    DataFrame
        item_id, source (``survey`` / ``touchpoint``), source_id, account_id,
        owner, wave, reasons (comma-separated: ``contact_request``,
        ``detractor``, ``comment``), score, respondent_id (survey items, when
        the export had one), answered_at_utc, due_at_utc, timezone, sla_hours,
        status (latest outcome, None while none is recorded),
        status_at_utc, contacted_at_utc (first contacted or resolved outcome),
        first_try_utc, n_outcomes.  No comments, notes or contacts.
    """
    where, params = _where({"i.account_id": _as_list(account), "i.wave": _as_list(wave)})
    return query(
        _CURRENT + "SELECT i.item_id, i.source, i.source_id, i.account_id, a.owner, i.wave, i.reasons, i.score, "
        "r.respondent_id, i.answered_at_utc, i.due_at_utc, i.timezone, i.sla_hours, c.status, "
        "c.outcome_at_utc AS status_at_utc, f.contacted_at_utc, t.first_try_utc, coalesce(t.n_outcomes, 0) AS "
        "n_outcomes FROM followup_items i LEFT JOIN accounts a USING (account_id) "
        "LEFT JOIN responses r ON i.source = 'survey' AND r.response_id = i.source_id "
        "LEFT JOIN ranked c ON c.item_id = i.item_id AND c.k = 1 "
        "LEFT JOIN first_contact f ON f.item_id = i.item_id LEFT JOIN tries t ON t.item_id = i.item_id"
        f"{where} ORDER BY i.due_at_utc, i.item_id", params, store=store)


def queue_counts(wave: str, *, store: str | Path | None = None) -> tuple[int, int]:
    """How many follow-up items the store holds, and how many of them come from ``wave``'s answers.

    Tells a report "no follow-ups recorded at all" from "the queue has not
    reached this wave yet" without reading any account's items.  An account
    extract (:mod:`helpers.batch.extract`) carries these two counts from the
    full store, as it was made.
    """
    from .store import connect, is_extract

    with connect(store) as con:
        if is_extract(con):
            row = con.execute("SELECT n, n_wave FROM extract_queue WHERE wave = ?", [wave]).fetchone()
        else:
            row = con.execute("SELECT count(*), count(*) FILTER (WHERE wave = ?) FROM followup_items",
                              [wave]).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def load_outcomes(*, item: str | list[str] | None = None, store: str | Path | None = None) -> pd.DataFrame:
    """Every recorded outcome: item_id, status, outcome_at_utc, note, source_file, ingested_at (oldest first)."""
    where, params = _where({"item_id": _as_list(item)})
    return query("SELECT item_id, status, outcome_at_utc, note, source_file, ingested_at FROM followup_outcomes"
                 f"{where} ORDER BY item_id, outcome_at_utc, ingested_at", params, store=store)


def loop_state(*, store: str | Path | None = None, now: datetime | None = None) -> dict[str, str]:
    """A short hash of the loop's state, per account and for the whole store (key ``""``), for the batch's keys.

    The pages' loop figures change without a new export: ``flamekit followup``
    adds items, an outcomes file closes them, and time makes open items
    overdue.  The hash covers each item's id, status, status time and first
    contact, and whether it is overdue at ``now``, so a report whose loop
    figures would differ is rendered again and one whose figures stand is kept.
    Accounts without items are left out; a store without the loop's tables
    gives ``{}``.
    """
    import duckdb

    now = pd.Timestamp(now) if now is not None else pd.Timestamp(datetime.now(timezone.utc).replace(tzinfo=None))
    try:
        items = load_loop(store=store)
    except (duckdb.Error, OSError):
        return {}
    if items.empty:
        return {}
    overdue = items["contacted_at_utc"].isna() & (pd.to_datetime(items["due_at_utc"]) < now)
    columns = ["item_id", "status", "status_at_utc", "contacted_at_utc"]
    rows = items.assign(overdue=overdue).sort_values("item_id")
    text = [rows[c].astype(object).where(rows[c].notna(), "").map(str) for c in columns]  # missing: "" whatever
    lines = pd.Series(["\x1f".join(r) for r in zip(*text, rows["overdue"].map(str))], index=rows.index)

    def digest(x: pd.Series) -> str:
        return hashlib.sha256("\n".join(x).encode()).hexdigest()[:16]

    out = {str(a): digest(x) for a, x in lines.groupby(rows["account_id"].astype(str))}
    out[""] = digest(lines)
    return out
