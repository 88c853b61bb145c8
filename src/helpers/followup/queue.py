"""The follow-up queue: which answers need a call, as items with stable ids, and the queue as one frame.

Rules, stated plainly:

* **What enters.**  Client survey answers (current ones: a resubmission
  replaces the answer it supersedes) and touchpoint answers given since
  ``--since``, for any of three reasons: a **contact request** (the consent
  answer "please contact me"), a **detractor** (0–6), or a **comment to act
  on** — a comment in which :func:`helpers.report.comments.classify_comment`
  finds improvement cue words and no praise (basis ``keywords``; a comment
  classified by the NPS group alone is not flagged).  Staff answers never.
* **One item per answer**, whatever its reasons (one client, one call):
  :func:`helpers.data.followups.item_id` of the source and its id, so
  re-running never duplicates an item and outcomes stay attached.  An item's
  reasons, answer time and due time are fixed when it enters the queue; a
  later run with another ``--sla`` changes only new items.
* **Owner** is the account's owner in the accounts table at the time of the
  run (a new owner inherits the open items).
* **Open** until a *contacted* or *resolved* outcome is recorded; **overdue**
  when open and past due.  The queue lists every item answered since
  ``--since`` and every older item still open.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pandas as pd

from helpers.data.clock import check_timezone, to_local, to_utc
from helpers.data.followups import item_id, load_loop
from helpers.data.store import connect, query

from .sla import FollowupError, due_times

REASONS = ("contact_request", "detractor", "comment")
ITEM_COLUMNS = ["item_id", "source", "source_id", "account_id", "wave", "reasons", "score", "answered_at_utc",
                "due_at_utc", "timezone", "sla_hours", "created_at"]


def needs_action(comment: object, score: object) -> bool:
    """Whether a comment asks for action: improvement cue words and no praise (the comments rule's ``keywords``).

    >>> needs_action("Raportointi voisi olla selkeämpää.", 8), needs_action("Kiitos, hyvää työtä!", 5)
    (True, False)
    """
    from helpers.report.comments import IMPROVE, classify_comment

    category, basis = classify_comment(comment, None if score is None or pd.isna(score) else float(score))
    return category == IMPROVE and basis == "keywords"


def candidates(survey: pd.DataFrame, touchpoints: pd.DataFrame, requests: set[str], *,
               timezone: str) -> pd.DataFrame:
    """Answers that need a follow-up, one row each, with their reasons.

    Parameters
    ----------
    survey : DataFrame
        Client answers: response_id, account_id, wave, nps, comment,
        submitted_at (local, may be missing), ingested_at (UTC).
    touchpoints : DataFrame
        touchpoint_id, account_id, score, comment, answered_at (local).
    requests : set of str
        Response ids whose respondent asked to be contacted.
    timezone : str
        Zone of the zone-less answer times.

    Returns
    -------
    DataFrame
        source, source_id, account_id, wave, reasons (comma-separated, in
        :data:`REASONS` order), score, answered_at_utc (an answer without a
        time counts from its ingest).
    """
    parts = []
    if len(survey):
        s = survey
        at = to_utc(s["submitted_at"], timezone).fillna(pd.to_datetime(s["ingested_at"]))
        parts.append(pd.DataFrame({
            "source": "survey", "source_id": s["response_id"].astype(str), "account_id": s["account_id"],
            "wave": s["wave"], "score": s["nps"], "comment": s["comment"], "answered_at_utc": at,
            "contact_request": s["response_id"].isin(requests)}))
    if len(touchpoints):
        t = touchpoints
        parts.append(pd.DataFrame({
            "source": "touchpoint", "source_id": t["touchpoint_id"].astype(str), "account_id": t["account_id"],
            "wave": None, "score": t["score"], "comment": t["comment"],
            "answered_at_utc": to_utc(t["answered_at"], timezone), "contact_request": False}))
    cols = ["source", "source_id", "account_id", "wave", "reasons", "score", "answered_at_utc"]
    if not parts:
        return pd.DataFrame(columns=cols)
    d = pd.concat(parts, ignore_index=True)
    flags = pd.DataFrame({
        "contact_request": d["contact_request"].astype(bool),
        "detractor": d["score"].notna() & (pd.to_numeric(d["score"], errors="coerce") <= 6),
        "comment": [isinstance(c, str) and needs_action(c, s) for c, s in zip(d["comment"], d["score"])],
    })
    d["reasons"] = flags.apply(lambda r: ",".join(k for k in REASONS if r[k]), axis=1) if len(d) else ""
    d = d[flags.any(axis=1)]
    d["score"] = pd.to_numeric(d["score"], errors="coerce").astype("Int64")
    return d[cols].reset_index(drop=True)


def _sources(con, *, since_utc: pd.Timestamp, timezone: str) -> tuple[pd.DataFrame, pd.DataFrame, set[str]]:
    """Client answers and touchpoints answered since ``since_utc`` (a day's margin in SQL, exact in Python)."""
    margin = to_local(pd.Series([since_utc]), timezone).iloc[0] - pd.Timedelta(days=1)
    survey = con.execute(
        "SELECT response_id, account_id, wave, nps, comment, submitted_at, ingested_at FROM responses "
        "WHERE side = 'client' AND superseded_by IS NULL AND coalesce(submitted_at, ingested_at) >= ?",
        [margin]).df()
    tps = con.execute("SELECT touchpoint_id, account_id, score, comment, answered_at FROM touchpoints "
                      "WHERE answered_at >= ?", [margin]).df()
    requests = {r[0] for r in con.execute("SELECT response_id FROM contacts WHERE consent = 'request'").fetchall()}
    return survey, tps, requests


def add_items(*, since_utc: pd.Timestamp, sla: pd.Timedelta, timezone: str, now: datetime,
              store: str | Path | None = None, wait: float | None = None) -> int:
    """Put every answer that needs a follow-up since ``since_utc`` in the store's queue; the number of new items.

    Items already in the queue keep their id, reasons and due time (one
    transaction; running it again adds nothing).
    """
    check_timezone(timezone)
    with connect(store, read_only=False, wait=wait) as con:
        survey, tps, requests = _sources(con, since_utc=since_utc, timezone=timezone)
        c = candidates(survey, tps, requests, timezone=timezone)
        c = c[c["answered_at_utc"] >= since_utc]
        c = c.assign(item_id=pd.Series([item_id(s, i) for s, i in zip(c["source"], c["source_id"])], index=c.index,
                                       dtype=object))
        have = con.execute("SELECT item_id, source, source_id FROM followup_items").df()
        clash = c.merge(have, on="item_id", suffixes=("", "_old"))
        clash = clash[(clash["source"] != clash["source_old"]) | (clash["source_id"] != clash["source_id_old"])]
        if len(clash):  # 48 bits of SHA-256: not expected in the life of a store, but never silently merged
            raise FollowupError(f"Item id {clash['item_id'].iloc[0]} would stand for two answers; report this.")
        new = c[~c["item_id"].isin(set(have["item_id"]))].copy()
        new["due_at_utc"] = due_times(new["answered_at_utc"], sla)
        new = new.assign(timezone=timezone, sla_hours=sla / pd.Timedelta(hours=1), created_at=pd.Timestamp(now))
        if len(new):
            con.execute("BEGIN TRANSACTION")
            try:
                con.register("items_new", new[ITEM_COLUMNS])
                con.execute("INSERT INTO followup_items SELECT item_id, source, source_id, account_id, wave, reasons, "
                            "CAST(score AS INTEGER), CAST(answered_at_utc AS TIMESTAMP), CAST(due_at_utc AS "
                            "TIMESTAMP), timezone, sla_hours, CAST(created_at AS TIMESTAMP) FROM items_new")
                con.unregister("items_new")
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise
    return len(new)


def load_queue(*, since_utc: pd.Timestamp, now: datetime, store: str | Path | None = None) -> pd.DataFrame:
    """The queue as people work it: every item answered since ``since_utc`` and every older open one.

    Returns
    -------
    DataFrame
        One row per item, most urgent first (open before closed, then by due
        time): the columns of :func:`helpers.data.followups.load_loop`, and
        account (name), comment (as stored: scrub before showing), contact_name,
        contact_email, contact_phone (only where the respondent consented),
        note (of the latest outcome), is_open, overdue.  Contacts come from
        the ``contacts`` table, which only this queue reads.
    """
    loop = load_loop(store=store)
    if loop.empty:
        return loop.assign(account=[], comment=[], contact_name=[], contact_email=[], contact_phone=[], note=[],
                           is_open=[], overdue=[])
    extra = query(
        "WITH latest AS (SELECT item_id, note, row_number() OVER (PARTITION BY item_id ORDER BY outcome_at_utc "
        "DESC, ingested_at DESC, CASE status WHEN 'resolved' THEN 2 WHEN 'contacted' THEN 1 ELSE 0 END DESC) AS k "
        "FROM followup_outcomes) "
        "SELECT i.item_id, a.name AS account, coalesce(r.comment, t.comment) AS comment, c.name AS contact_name, "
        "c.email AS contact_email, c.phone AS contact_phone, l.note FROM followup_items i "
        "LEFT JOIN accounts a USING (account_id) "
        "LEFT JOIN responses r ON i.source = 'survey' AND r.response_id = i.source_id "
        "LEFT JOIN touchpoints t ON i.source = 'touchpoint' AND t.touchpoint_id = i.source_id "
        "LEFT JOIN contacts c ON i.source = 'survey' AND c.response_id = i.source_id "
        "LEFT JOIN latest l ON l.item_id = i.item_id AND l.k = 1", store=store)
    q = loop.merge(extra.drop_duplicates("item_id"), on="item_id", how="left")
    q["is_open"] = q["contacted_at_utc"].isna()
    q["overdue"] = q["is_open"] & (q["due_at_utc"] < pd.Timestamp(now))
    q = q[(q["answered_at_utc"] >= since_utc) | q["is_open"]]
    for c in ("comment", "contact_name", "contact_email", "contact_phone", "note", "owner", "account", "status"):
        q[c] = q[c].astype(object).where(q[c].notna(), None)
    return q.sort_values(["is_open", "due_at_utc", "item_id"], ascending=[False, True, True]).reset_index(drop=True)


def queue_counts(queue: pd.DataFrame, *, new: int = 0) -> dict[str, int]:
    """n_items, n_new, n_open, n_overdue, n_closed (contacted or resolved) of a queue frame."""
    is_open = queue["is_open"].astype(bool)
    return {"n_items": len(queue), "n_new": int(new), "n_open": int(is_open.sum()),
            "n_overdue": int(queue["overdue"].astype(bool).sum()), "n_closed": int((~is_open).sum())}


def owner_names(queue: pd.DataFrame) -> list[str | None]:
    """The owners of a queue, by name (accounts without an owner last, as None)."""
    names = sorted({o for o in queue["owner"] if isinstance(o, str) and o.strip()}, key=str.casefold)
    return names + ([None] if queue["owner"].isna().any() else [])

