"""The queue as files: one workbook per owner (with the contacts they may see) and one HTML list (with none).

Takes the queue frame (:func:`helpers.followup.queue.load_queue`) and hands
on ``<folder>/<owner>.xlsx`` and ``<folder>/index.html``, each written to a
temporary file and renamed (a reader never sees half a file), and
``.followup.json``, which records the options so ``flamekit forget`` can write
the files again.

* **Workbook per owner**, not one workbook with a sheet per owner: each owner
  gets the contacts of their own clients only, and a file to send back.  Its
  first sheet is the queue (header in row 1, as the ingest reads it); Status
  has a drop-down list; the second sheet says how to fill it in.
* **Formula neutralising**: every text cell that starts with ``= + - @``, a
  tab or a carriage return gets a leading ``'`` — comments, names, notes,
  account and owner names — so a spreadsheet shows it instead of running it.
  The outcomes ingest removes that ``'`` again from a returned note.
* **The HTML list** shows no name, e-mail or phone (it is easy to forward);
  comments are scrubbed of contacts, known people and ids, every cell escaped,
  and the page sanitised.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
from datetime import datetime
from pathlib import Path

import pandas as pd

from helpers.data.clock import to_local
from helpers.data.followups import FORMULA_START, STATUSES
from helpers.data.privacy import scrub_contacts
from helpers.report import formatting as fmt
from helpers.words import say, say_list, section

MANIFEST = ".followup.json"
NO_OWNER_FILE = "_no-owner"
#: Columns of an owner's workbook, in order; the last three are filled in by the owner.
WORKBOOK_COLUMNS = ["item_id", "due", "overdue", "account", "reasons", "source", "score", "answered_at", "comment",
                    "contact_name", "contact_email", "contact_phone", "status", "outcome_at", "note"]
HTML_COLUMNS = ["item_id", "due", "overdue", "account", "reasons", "source", "score", "comment", "status",
                "outcome_at"]


def neutralise(value: object) -> object:
    """A text cell a spreadsheet would read as a formula, made inert with a leading ``'``; other values as they are.

    Examples
    --------
    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-5 points"), neutralise("fine"), neutralise(-5)
    ('\\'=HYPERLINK("http://x")', "'-5 points", 'fine', -5)
    """
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


def owner_file(owner: str | None, taken: set[str]) -> str:
    """A file stem for an owner's workbook: their name as a slug, unique in ``taken``."""
    from helpers.batch.files import slugify

    stem = slugify(owner) if owner else NO_OWNER_FILE
    stem = stem or "owner"
    if stem in taken:
        stem = f"{stem}-{hashlib.sha1(str(owner).encode()).hexdigest()[:8]}"
    taken.add(stem)
    return stem


def _words(queue: pd.DataFrame, language: str) -> pd.DataFrame:
    """Reasons, source, status and overdue in the page's words."""
    reasons, sources, statuses = (section(f"followup.{k}", language) for k in ("reason", "source", "status"))
    out = queue.copy()
    out["reasons"] = out["reasons"].map(lambda r: ", ".join(reasons.get(x, x) for x in str(r).split(",") if x))
    out["source"] = out["source"].map(lambda s: sources.get(s, s))
    out["status_text"] = out["status"].map(lambda s: statuses.get(s, s) if isinstance(s, str) else None)
    out["overdue_text"] = out["overdue"].map(lambda v: say("common.yes", language) if v else "")
    return out


def _local(utc: pd.Series, zones: pd.Series) -> pd.Series:
    return to_local(utc, zones.astype(str)) if len(utc) else pd.Series([], dtype="datetime64[ns]")


def write_workbook(queue: pd.DataFrame, path: Path, *, language: str, sla: str, timezone: str) -> Path:
    """One owner's workbook: the queue sheet (contacts where consented) and the how-to sheet; written atomically."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    from helpers.batch.files import atomic_write

    q = _words(queue, language)
    heads = section("followup.column", language)
    wb = Workbook()
    ws = wb.active
    ws.title = say("followup.sheet.queue", language)
    ws.append([heads[c] for c in WORKBOOK_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    due, answered = _local(q["due_at_utc"], q["timezone"]), _local(q["answered_at_utc"], q["timezone"])
    done = _local(q["status_at_utc"], q["timezone"])
    for i, r in enumerate(q.itertuples(index=False)):
        row = {"item_id": r.item_id, "due": due.iloc[i], "overdue": r.overdue_text, "account": r.account,
               "reasons": r.reasons, "source": r.source, "score": None if pd.isna(r.score) else int(r.score),
               "answered_at": answered.iloc[i], "comment": _sheet_comment(r.comment),
               "contact_name": r.contact_name, "contact_email": r.contact_email, "contact_phone": r.contact_phone,
               "status": r.status_text, "outcome_at": None if pd.isna(done.iloc[i]) else done.iloc[i],
               "note": r.note}
        ws.append([neutralise(_cell(row[c])) for c in WORKBOOK_COLUMNS])
    date_format = "d.m.yyyy h.mm" if language == "fi" else "yyyy-mm-dd hh:mm"
    for name in ("due", "answered_at", "outcome_at"):
        col = WORKBOOK_COLUMNS.index(name) + 1
        for (cell,) in ws.iter_rows(min_row=2, max_row=max(ws.max_row, 2) + 200, min_col=col, max_col=col):
            cell.number_format = date_format
    words = [say(f"followup.status.{s}", language) for s in STATUSES]
    status_col = ws.cell(row=1, column=WORKBOOK_COLUMNS.index("status") + 1).column_letter
    dv = DataValidation(type="list", formula1='"' + ",".join(words) + '"', allow_blank=True)
    dv.add(f"{status_col}2:{status_col}{len(q) + 201}")
    ws.add_data_validation(dv)
    ws.freeze_panes = "B2"
    for col, width in zip("ABCDEFGHIJKLMNO", (18, 17, 9, 24, 22, 16, 8, 17, 60, 22, 28, 16, 14, 17, 40)):
        ws.column_dimensions[col].width = width
    help_ws = wb.create_sheet(say("followup.sheet.help", language))
    for line in say_list("followup.help", language, sla=sla, timezone=timezone):
        help_ws.append([neutralise(line)])
    help_ws.column_dimensions["A"].width = 120
    buf = io.BytesIO()
    wb.save(buf)
    return atomic_write(path, buf.getvalue())


def _cell(value: object) -> object:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _sheet_comment(text: object) -> str | None:
    """A comment for the owner's sheet: e-mails and phones scrubbed (the consented contact has its own column)."""
    if not isinstance(text, str):
        return None
    return " ".join(str(scrub_contacts(text)).split()) or None


def _when(utc: pd.Series, zones: pd.Series, language: str) -> list[str]:
    """Local date and time for a page: ``30 Mar 2026 11:00`` / ``30.3.2026 11.00``."""
    local = _local(utc, zones)
    sep = "." if language == "fi" else ":"
    return [fmt.MISSING if pd.isna(t) else f"{fmt.date(t, language)} {t:%H}{sep}{t:%M}" for t in local]


#: Most open items per owner on the HTML list (the owner's workbook has every item).
HTML_ROWS = 100


def html_page(queue: pd.DataFrame, *, language: str, sla: str, timezone: str, made: datetime,
              summary: pd.DataFrame) -> str:
    """The HTML list: a summary band, then per owner their open items, most urgent first (at most
    :data:`HTML_ROWS`; contacted and resolved ones are counted in the heading and kept in the workbook); no
    contacts; escaped and sanitised."""
    from helpers.batch.html import sanitize_html
    from helpers.report.comments import clean_comment

    from .queue import owner_names

    q = _words(queue, language)
    people = [o for o in q["owner"].dropna().unique()]
    heads = section("followup.column", language)
    band = _band(summary, language=language, sla=sla)
    parts = [f"<p>{html.escape(say('followup.page.intro', language, n_items=fmt.count(len(q), language), sla=sla, timezone=timezone, made=_when(pd.Series([pd.Timestamp(made)]), pd.Series([timezone]), language)[0]))}</p>",
             band, f"<p>{html.escape(say('followup.page.contacts_note', language))}</p>"]
    if q.empty:
        parts.append(f"<p>{html.escape(say('followup.page.none', language))}</p>")
    for owner in owner_names(q):
        theirs = q[q["owner"] == owner] if owner is not None else q[q["owner"].isna()]
        title = owner if owner is not None else say("followup.page.no_owner", language)
        open_ = theirs[theirs["is_open"].astype(bool)]
        heading = say("followup.page.owner_heading", language, owner="\x00", n=fmt.count(len(theirs), language),
                      open=fmt.count(len(open_), language), overdue=fmt.count(int(theirs["overdue"].sum()), language))
        before, _, after = html.escape(heading).partition("\x00")
        parts.append(f"<h2>{before}<bdi>{html.escape(str(title))}</bdi>{after}</h2>")
        mine = open_.head(HTML_ROWS)  # the page is for acting: open items, most urgent first; all in the workbook
        if len(open_) > len(mine):
            more = say("followup.page.more", language, shown=fmt.count(len(mine), language),
                       open=fmt.count(len(open_), language))
            parts.append(f"<p>{html.escape(more)}</p>")
        if mine.empty:
            parts.append(f"<p>{html.escape(say('followup.page.all_closed', language))}</p>")
            continue
        show = pd.DataFrame({
            heads["item_id"]: mine["item_id"], heads["due"]: _when(mine["due_at_utc"], mine["timezone"], language),
            heads["overdue"]: mine["overdue_text"], heads["account"]: mine["account"].fillna(fmt.MISSING),
            heads["reasons"]: mine["reasons"], heads["source"]: mine["source"],
            heads["score"]: [fmt.count(s, language) for s in mine["score"]],
            heads["comment"]: [clean_comment(c, names=people, ids=[]) or "" for c in mine["comment"]],
            heads["status"]: mine["status_text"].fillna(say("followup.status.open", language)),
            heads["outcome_at"]: _when(mine["status_at_utc"], mine["timezone"], language),
        })
        table = fmt.PeopleTable(show, numeric=[heads["score"]], verbatim=[heads["account"], heads["comment"]])
        parts.append(table.to_html())
    body = sanitize_html("\n".join(parts))
    title = html.escape(say("followup.title", language))
    return (f'<!DOCTYPE html>\n<html lang="{language}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{title}</title><style>{_CSS}</style></head>\n<body><main><h1>{title}</h1>\n{body}\n"
            "</main></body></html>\n")


_CSS = ("body{font-family:system-ui,sans-serif;margin:0;color:#222}main{max-width:1200px;margin:auto;padding:1rem}"
        ".fk-scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem}th,td{padding:.3rem .5rem;"
        "border-bottom:1px solid #ddd;vertical-align:top}td:nth-child(-n+2){white-space:nowrap}.fk-band{display:flex;flex-wrap:wrap;gap:1rem}"
        ".fk-band div{border:1px solid #ccc;border-radius:4px;padding:.5rem 1rem}.fk-band b{display:block;"
        "font-size:1.4rem}")


def _band(summary: pd.DataFrame, *, language: str, sla: str) -> str:
    """The few numbers that matter: open, overdue, contacted within the SLA (with n), median time to contact."""
    if summary.empty:
        return ""
    s = summary.iloc[0]
    cells = [
        (say("followup.page.open", language), fmt.count(s["n_open"], language)),
        (say("followup.page.overdue", language), fmt.count(s["n_overdue"], language)),
        (say("followup.page.closed_in_sla", language, sla=sla),
         f"{fmt.percent(s['share_in_sla'], language)} ({fmt.count(s['n_in_sla'], language)}/"
         f"{fmt.count(s['n_due'], language)})"),
        (say("followup.page.median", language),
         say("followup.page.hours", language, hours=fmt.number(s["median_hours_to_contact"], language, 1))
         if pd.notna(s["median_hours_to_contact"]) else fmt.MISSING),
    ]
    inner = "".join(f"<div>{html.escape(label)}<b>{html.escape(value)}</b></div>" for label, value in cells)
    return f'<div class="fk-band">{inner}</div>'


def write_files(queue: pd.DataFrame, folder: str | Path, *, language: str, sla: str, timezone: str, made: datetime,
                summary: pd.DataFrame, options: dict) -> dict[str, object]:
    """Every owner's workbook, the HTML list and the manifest into ``folder``; workbooks of owners no longer in the
    queue that an earlier run wrote are removed.  Returns ``{"html": path, "workbooks": {owner: path}}``."""
    from helpers.batch.files import atomic_write

    from .queue import owner_names

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    before = read_manifest(folder).get("workbooks", [])
    taken: set[str] = set()
    books = {}
    for owner in owner_names(queue):
        mine = queue[queue["owner"] == owner] if owner is not None else queue[queue["owner"].isna()]
        path = folder / f"{owner_file(owner, taken)}.xlsx"
        books[owner] = write_workbook(mine, path, language=language, sla=sla, timezone=timezone)
    page = atomic_write(folder / "index.html", html_page(queue, language=language, sla=sla, timezone=timezone,
                                                          made=made, summary=summary))
    names = sorted(p.name for p in books.values())
    for old in set(before) - set(names):
        stale = folder / Path(old).name
        if stale.suffix == ".xlsx" and stale.exists():
            stale.unlink()
    atomic_write(folder / MANIFEST, json.dumps({**options, "workbooks": names}, indent=2, ensure_ascii=False))
    return {"html": page, "workbooks": books}


def read_manifest(folder: str | Path) -> dict:
    """The options and files of the queue last written into ``folder`` (empty when there is none)."""
    p = Path(folder) / MANIFEST
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
