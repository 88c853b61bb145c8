"""Contacts with consent: who may be called back about their answers, stored apart from the answers.

Takes the parsed rows of a client export (the consent answer and the name,
e-mail and phone a respondent gave) and hands on rows for the ``contacts``
table — only for respondents whose consent answer means *yes* or *request*
(please contact me), as the instrument's ``contact:`` section words it.

Rules, stated plainly:

* **No consent, no contact.**  A contact given with "no", with no answer or
  with an answer the instrument does not know is not stored anywhere — not in
  ``contacts``, not in the answers, not in the quarantine — and the ingest
  summary counts it (with rows, never the values).
* **Apart from the answers.**  ``responses`` and ``answers`` never hold a
  contact; ``contacts`` is keyed by response id and read only by the follow-up
  queue (:mod:`helpers.followup`), never by a report page.
* **Staff answer anonymously.**  A staff export with a consent or contact
  column is refused as a whole (:func:`refuse_staff_contacts`).
* **A bad e-mail or phone is left out**, the rest of the contact kept, and the
  summary says on which rows (the value itself is not repeated).

:mod:`helpers.data.forget` removes a contact and the respondent's free text.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from .instrument import Instrument
from .store import connect
from .validation import IngestError

CONTACT_FIELDS = ("contact_name", "contact_email", "contact_phone")
CONSENT_FIELDS = ("consent", *CONTACT_FIELDS)
#: Consent answers that let the kit store a contact.
CONSENTED = ("yes", "request")
EMAIL_SHAPE = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]{2,}")
PHONE_SHAPE = re.compile(r"\+?[\d\s\-()./]+")
NAME_MAX_LENGTH = 100


def refuse_staff_contacts(resolved: dict[str, str], *, file: str) -> None:
    """Raise :class:`IngestError` when a staff export has a consent or contact column (staff answer anonymously)."""
    heads = [h for h, target in resolved.items() if target in CONSENT_FIELDS]
    if heads:
        raise IngestError(
            f"{file}: column(s) {', '.join(repr(h) for h in heads)} hold contact details or a consent to contact, "
            "but staff answer anonymously and their answers never carry contacts. Remove the column(s) from the "
            "export, or list them under 'ignore:' in a mapping file to leave them out.")


def _shown_rows(rows: list[int]) -> str:
    return ", ".join(map(str, rows[:8])) + (f" … ({len(rows)} rows)" if len(rows) > 8 else "")


def contact_rows(good: pd.DataFrame, *, instrument: Instrument, row_number, source_file: str,
                 now: datetime) -> tuple[pd.DataFrame, list[str]]:
    """The ``contacts`` rows of newly stored client answers, and the notes for the ingest summary.

    Parameters
    ----------
    good : DataFrame
        The client answers about to be stored (parsed fields: ``response_id``,
        ``account_id``, optional ``respondent_id``, ``consent``,
        ``contact_name``, ``contact_email``, ``contact_phone``).
    instrument : Instrument
        Reads the consent answers (:meth:`Instrument.consent_answer`).
    row_number : callable
        Row index → row number as a spreadsheet shows the file.

    Returns
    -------
    (DataFrame, list of str)
        response_id, account_id, respondent_id, consent (``yes`` / ``request``),
        name, email, phone, source_file, ingested_at — one row per consenting
        respondent (a request without any contact detail is kept too, so the
        request reaches the queue); and plain-language notes.
    """
    cols = ["response_id", "account_id", "respondent_id", "consent", "name", "email", "phone", "source_file",
            "ingested_at"]
    has_any = [c for c in CONSENT_FIELDS if c in good]
    if not has_any or not len(good):
        return pd.DataFrame(columns=cols), []
    notes: list[str] = []
    meaning = (good["consent"].map(instrument.consent_answer) if "consent" in good
               else pd.Series(None, index=good.index, dtype=object))
    details = good.reindex(columns=list(CONTACT_FIELDS))
    gave = details.notna().any(axis=1)
    unknown = good["consent"].notna() & meaning.isna() if "consent" in good else pd.Series(False, index=good.index)
    if unknown.any():
        vals = sorted({str(v) for v in good.loc[unknown, "consent"]})[:5]
        notes.append(f"Consent answer(s) {', '.join(map(repr, vals))} are not one of the instrument's answers and "
                     f"count as no (rows {_shown_rows([row_number(i) for i in good.index[unknown]])}).")
    ok = meaning.isin(CONSENTED)
    dropped = gave & ~ok
    if dropped.any():
        notes.append(f"{int(dropped.sum())} contact(s) given without consent to contact were not stored "
                     f"(rows {_shown_rows([row_number(i) for i in good.index[dropped]])}).")
    keep = good[ok]
    email = _checked(keep.get("contact_email"), EMAIL_SHAPE, "an e-mail address", notes, row_number)
    phone = _checked(keep.get("contact_phone"), PHONE_SHAPE, "a phone number", notes, row_number,
                     digits=(6, 20))
    name = keep.get("contact_name")
    if name is not None:
        long = name.notna() & (name.astype(str).str.len() > NAME_MAX_LENGTH)
        if long.any():
            notes.append(f"{int(long.sum())} name(s) longer than {NAME_MAX_LENGTH} characters were left out "
                         f"(rows {_shown_rows([row_number(i) for i in keep.index[long]])}).")
        name = name.where(~long, None)
    out = pd.DataFrame({
        "response_id": keep["response_id"].astype(str),
        "account_id": keep["account_id"].astype(str),
        "respondent_id": keep["respondent_id"] if "respondent_id" in keep else None,
        "consent": meaning[ok],
        "name": name, "email": email, "phone": phone,
        "source_file": source_file, "ingested_at": now,
    }, index=keep.index).reindex(columns=cols)
    for c in ("respondent_id", "name", "email", "phone"):
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    if len(out):
        asked = int((out["consent"] == "request").sum())
        notes.append(f"{len(out)} respondent(s) consented to contact ({asked} asked to be contacted); their "
                     "contacts are stored apart from the answers.")
    return out.reset_index(drop=True), notes


def _checked(values: pd.Series | None, shape: re.Pattern, what: str, notes: list[str], row_number, *,
             digits: tuple[int, int] | None = None) -> pd.Series | None:
    """``values`` with cells that are not a ``what`` left out (a note names their rows)."""
    if values is None:
        return None
    text = values.astype(object).where(values.notna(), None)
    bad = text.map(lambda v: v is not None and not _fits(str(v).strip(), shape, digits))
    if bad.any():
        notes.append(f"Left out of {int(bad.sum())} contact(s): {what} that is not one "
                     f"(rows {_shown_rows([row_number(i) for i in text.index[bad]])}); the rest of each was kept.")
    return text.where(~bad, None).map(lambda v: None if v is None else str(v).strip())


def _fits(value: str, shape: re.Pattern, digits: tuple[int, int] | None) -> bool:
    if not shape.fullmatch(value):
        return False
    if digits is not None:
        n = sum(ch.isdigit() for ch in value)
        return digits[0] <= n <= digits[1]
    return True


def insert_contacts(con, contacts: pd.DataFrame) -> None:
    """Add contact rows inside the ingest's transaction (a response already with a contact keeps it)."""
    if not len(contacts):
        return
    con.register("contacts_new", contacts)
    con.execute("INSERT OR IGNORE INTO contacts SELECT response_id, account_id, respondent_id, consent, name, email, "
                "phone, source_file, CAST(ingested_at AS TIMESTAMP) FROM contacts_new")
    con.unregister("contacts_new")


def load_contacts(*, account: str | list[str] | None = None, store: str | Path | None = None) -> pd.DataFrame:
    """Consented contacts: response_id, account_id, respondent_id, consent, name, email, phone.

    For the follow-up queue only (:mod:`helpers.followup`): no report page
    reads this table, and a test checks that none does.
    """
    from .store import _as_list, _where

    where, params = _where({"account_id": _as_list(account)})
    with connect(store) as con:
        return con.execute("SELECT response_id, account_id, respondent_id, consent, name, email, phone FROM contacts"
                           f"{where} ORDER BY account_id, response_id", params).df()
