"""Forget a respondent: their contact and their free text leave the store, in one transaction.

Takes a respondent id (or a response id, or the e-mail address they gave) and
hands on a store without their contact, their comments, the notes owners
wrote about their follow-ups, and any quarantined cell holding their id or
e-mail address.  Their item answers and NPS stay, without the respondent id:
anonymous numbers, like every other answer.

What it covers, and what it cannot:

* **The store**, in one transaction: all of it or nothing.  Deleted values
  stay readable in a DuckDB file's free pages, so the file is then rewritten
  (a fresh copy, renamed over the old one): afterwards the bytes are gone.
* **Reports rendered later**: the erasure changes
  :func:`helpers.data.store.data_hash`, so the next ``flamekit reports`` renders
  every report again instead of keeping pages that quote the comment.
* **Files already written** — rendered reports, follow-up workbooks, the
  owners' copies and the original exports — are outside the store.  ``flamekit
  forget`` writes the follow-up queue again (so its files lose the contact) and
  names the waves whose reports to render again; the exports and any copies
  are for the user to delete.
* **Re-ingesting** an export that still holds the answer does not bring the
  comment or the contact back: the answer is already in the store (same file:
  nothing is read; same answers in another file: counted as already stored).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from .store import _path, connect


@dataclass
class ForgetResult:
    """What :func:`forget` removed (counts only: the result names no one)."""

    responses: int = 0
    contacts: int = 0
    comments: int = 0
    notes: int = 0
    quarantine_cells: int = 0
    waves: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    rewritten: bool = False

    @property
    def found(self) -> bool:
        """Whether anything of the respondent was in the store."""
        return bool(self.responses or self.contacts or self.quarantine_cells)


def forget(*, respondent: str | None = None, response: str | None = None, email: str | None = None,
           store: str | Path | None = None, wait: float | None = None) -> ForgetResult:
    """Remove a respondent's contact and free text from the store.

    Parameters
    ----------
    respondent : str, optional
        Their respondent id (as the survey export gave it).
    response : str, optional
        One response id, for a respondent without an id.
    email : str, optional
        The e-mail address they gave with their consent (case does not matter).
    store : path, optional
    wait : float, optional
        Seconds to wait for a store another process is writing
        (:func:`helpers.data.store.connect`).

    Returns
    -------
    ForgetResult
        Counts of what was removed, the waves whose reports quoted a removed
        comment, and the follow-up items of the respondent.

    Raises
    ------
    ValueError
        None of ``respondent``, ``response``, ``email`` given.

    Notes
    -----
    One transaction: ``contacts`` rows deleted; ``responses.comment`` and
    ``respondent_id`` set to NULL; ``followup_outcomes.note`` of their items set
    to NULL; quarantined cells whose value is their respondent id, e-mail
    address, name or phone emptied (the reason keeps "value removed on
    request"); one ``erasures`` row (a random token, the time and the counts).
    Then the file is rewritten so the removed values are not left in its free
    space.
    """
    keys = [k.strip() for k in (respondent, response, email) if isinstance(k, str) and k.strip()]
    if not keys:
        raise ValueError("Say whom to forget: a respondent id, a response id or the e-mail address they gave.")
    result = ForgetResult()
    with connect(store, read_only=False, wait=wait) as con:
        con.execute("BEGIN TRANSACTION")
        try:
            _remove(con, result, respondent=respondent, response=response, email=email)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        if result.found:
            result.rewritten = _rewrite(con, _path(store))
    return result


def _remove(con, result: ForgetResult, *, respondent: str | None, response: str | None, email: str | None) -> None:
    """Every removal, inside the caller's transaction; fills ``result``."""
    params = [respondent, response, email.strip().lower() if email else None, respondent]
    theirs = con.execute(
        "SELECT response_id, wave, comment IS NOT NULL AS had_comment FROM responses WHERE respondent_id = ? "
        "OR response_id = ? OR response_id IN (SELECT response_id FROM contacts WHERE lower(trim(email)) = ? "
        "OR respondent_id = ?)", params).df()
    ids = theirs["response_id"].tolist()
    contacts = con.execute(
        "SELECT response_id, name, email, phone FROM contacts WHERE respondent_id = ? OR response_id = ? "
        "OR lower(trim(email)) = ?", params[:3]).df()
    ids_all = sorted(set(ids) | set(contacts["response_id"]))
    con.register("forget_ids", pd.DataFrame({"response_id": pd.Series(ids_all, dtype=object)}))
    try:
        result.responses = len(ids)
        result.comments = int(theirs["had_comment"].sum())
        result.waves = sorted({w for w, c in zip(theirs["wave"], theirs["had_comment"]) if c})
        result.contacts = con.execute("SELECT count(*) FROM contacts WHERE response_id IN (SELECT response_id "
                                      "FROM forget_ids)").fetchone()[0]
        con.execute("DELETE FROM contacts WHERE response_id IN (SELECT response_id FROM forget_ids)")
        con.execute("UPDATE responses SET comment = NULL, respondent_id = NULL WHERE response_id IN "
                    "(SELECT response_id FROM forget_ids)")
        items = con.execute("SELECT item_id FROM followup_items WHERE source = 'survey' AND source_id IN "
                            "(SELECT response_id FROM forget_ids) ORDER BY item_id").fetchall()
        result.items = [i[0] for i in items]
        result.notes = con.execute(
            "SELECT count(*) FROM followup_outcomes WHERE note IS NOT NULL AND item_id IN (SELECT item_id FROM "
            "followup_items WHERE source = 'survey' AND source_id IN (SELECT response_id FROM forget_ids))"
        ).fetchone()[0]
        con.execute("UPDATE followup_outcomes SET note = NULL WHERE item_id IN (SELECT item_id FROM followup_items "
                    "WHERE source = 'survey' AND source_id IN (SELECT response_id FROM forget_ids))")
    finally:
        con.unregister("forget_ids")
    values = {v.strip().lower() for v in [respondent, email, *contacts["email"], *contacts["name"],
                                          *contacts["phone"]] if isinstance(v, str) and v.strip()}
    if values:
        con.register("forget_values", pd.DataFrame({"v": sorted(values)}))
        result.quarantine_cells = con.execute(
            "SELECT count(*) FROM quarantine WHERE lower(trim(value)) IN (SELECT v FROM forget_values)").fetchone()[0]
        con.execute("UPDATE quarantine SET value = NULL, reason = reason || ' (value removed on request)' "
                    "WHERE lower(trim(value)) IN (SELECT v FROM forget_values)")
        con.unregister("forget_values")
    if result.found:
        con.execute("INSERT INTO erasures VALUES (?, ?, ?, ?, ?, ?)",
                    [uuid.uuid4().hex, datetime.now(timezone.utc).replace(tzinfo=None), result.contacts,
                     result.comments, result.notes, result.quarantine_cells])


def _rewrite(con, path: Path) -> bool:
    """Copy the store into a fresh file and rename it over the old one, so deleted values leave the file's bytes.

    Runs while ``con`` still holds the old file: no other writer can start on
    it in between, and one that opens the path afterwards gets the new file.
    Returns False (the old file kept, its data already without the removed
    values) when the copy fails, e.g. on a full disk.
    """
    tmp = path.with_name(f".{path.name}.forget.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    db = con.execute("SELECT current_database()").fetchone()[0].replace('"', '""')
    try:
        con.execute("CHECKPOINT")
        con.execute(f"ATTACH '{str(tmp).replace(chr(39), chr(39) * 2)}' AS forget_fresh")
        try:
            con.execute(f'COPY FROM DATABASE "{db}" TO forget_fresh')
        finally:
            con.execute("DETACH forget_fresh")
        os.replace(tmp, path)
    except Exception:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
        return False
    return True
