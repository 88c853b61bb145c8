"""Validation of survey exports: columns matched to fields, values checked, problems collected.

Takes the raw frame of an export (:mod:`helpers.data.readers`) and a mapping
file; hands on parsed columns and a list of problems per row, which
:mod:`helpers.data.ingest` turns into quarantine rows.  Ranges and allowed
values are pandera schemas; dates accept ISO and Finnish forms.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import yaml

from .instrument import Instrument, normalise_header
from .readers import ExportError, RawExport, parse_numbers, read_export

ACCOUNT_STATUSES = ("active", "renewed", "churned")

# Fields each kind of file can hold; required ones must be present as columns.
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "survey": {
        "required": ("response_id", "account_id", "nps"),
        "optional": ("side", "wave", "submitted_at", "respondent_id", "role", "team", "comment",
                     "duration_min", "status", "channel",
                     # client files only (a staff file with any of them is refused): see helpers.data.contacts
                     "consent", "contact_name", "contact_email", "contact_phone"),
    },
    "accounts": {
        "required": ("account_id", "name"),
        "optional": ("segment", "owner", "contract_start", "renewal_date", "status", "annual_value"),
    },
    "touchpoints": {
        "required": ("account_id", "answered_at", "score"),
        "optional": ("touchpoint_id", "visit_at", "comment"),
    },
    # outcomes of the follow-up queue, in the workbook the owners got (helpers.data.followups)
    "followups": {
        "required": ("item_id", "status", "outcome_at"),
        "optional": ("note",),
    },
}

# Common header names in survey tools and CRMs (English and Finnish), folded.
SYNONYMS: dict[str, str] = {
    **{k: "response_id" for k in ("responseid", "response id", "response_id", "vastaustunnus",
                                  "vastauksen tunnus", "vastaus id", "id")},
    **{k: "account_id" for k in ("account", "account id", "account_id", "asiakas", "asiakastunnus",
                                 "asiakas id", "client id", "customer id")},
    **{k: "submitted_at" for k in ("submitted_at", "submitted", "recordeddate", "recorded date",
                                   "completion time", "lähetetty", "vastausaika", "vastattu")},
    **{k: "respondent_id" for k in ("respondent_id", "respondent", "vastaaja", "vastaajatunnus")},
    **{k: "role" for k in ("role", "respondent role", "rooli", "vastaajan rooli")},
    **{k: "team" for k in ("team", "service unit", "unit", "tiimi", "yksikkö", "palveluyksikkö")},
    **{k: "nps" for k in ("nps", "likelihood to recommend", "suositteluhalukkuus")},
    **{k: "comment" for k in ("comment", "comments", "kommentti", "avoin palaute", "open comment")},
    **{k: "duration_min" for k in ("duration_min", "duration (min)", "kesto (min)", "vastauksen kesto (min)")},
    **{k: "status" for k in ("status", "response type")},
    **{k: "channel" for k in ("distributionchannel", "distribution channel", "channel")},
    **{k: "side" for k in ("side", "puoli")},
    **{k: "wave" for k in ("wave", "kierros", "mittauskierros")},
    **{k: "name" for k in ("name", "account name", "nimi", "asiakkaan nimi")},
    **{k: "segment" for k in ("segment", "segmentti", "toimiala")},
    **{k: "owner" for k in ("owner", "account owner", "vastuuhenkilö", "asiakasvastaava")},
    **{k: "contract_start" for k in ("contract_start", "contract start", "sopimus alkoi", "sopimuksen alku")},
    **{k: "renewal_date" for k in ("renewal_date", "renewal date", "uusintapäivä", "sopimuksen uusinta")},
    **{k: "annual_value" for k in ("annual_value", "annual value", "vuosiarvo", "vuosilaskutus")},
    **{k: "touchpoint_id" for k in ("touchpoint_id", "event id", "tapahtuma id")},
    **{k: "visit_at" for k in ("visit_at", "visit", "visit time", "käynti", "käyntiaika")},
    **{k: "answered_at" for k in ("answered_at", "answered", "answer time", "vastausaika tapahtumaan")},
    **{k: "score" for k in ("score", "pisteet", "arvosana")},
    **{k: "consent" for k in ("consent", "contact consent", "yhteydenottolupa", "lupa yhteydenottoon")},
    **{k: "contact_name" for k in ("contact_name", "contact name", "respondent name", "vastaajan nimi")},
    **{k: "contact_email" for k in ("contact_email", "contact email", "email", "e-mail", "sähköposti",
                                    "sähköpostiosoite")},
    **{k: "contact_phone" for k in ("contact_phone", "contact phone", "phone", "puhelin", "puhelinnumero")},
}

# Survey-tool metadata that carries no analysis value (or personal data): never stored.
ALWAYS_IGNORED = {normalise_header(h) for h in (
    "StartDate", "EndDate", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecipientLastName", "RecipientFirstName", "RecipientEmail", "ExternalReference",
    "LocationLatitude", "LocationLongitude", "UserLanguage", "Q_RecaptchaScore",
)}


class IngestError(ValueError):
    """The file as a whole cannot be ingested; nothing was written."""


# ---------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------
@dataclass
class Mapping:
    """A mapping file: export headers → fields, ignored headers, value recodings and a wave calendar."""

    columns: dict[str, str] = field(default_factory=dict)
    ignore: set[str] = field(default_factory=set)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    waves: dict[str, WaveWindow] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None) -> Mapping:
        if path is None:
            return cls()
        p = Path(path)
        if not p.exists():
            raise IngestError(f"Mapping file {p} does not exist.")
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise IngestError(f"Mapping file {p} is not valid YAML: {exc}") from exc
        if not isinstance(raw, dict):
            raise IngestError(f"Mapping file {p} must be a YAML mapping with 'columns:', 'ignore:', 'values:' "
                              "or 'waves:'.")
        return cls(
            columns={normalise_header(k): str(v) for k, v in (raw.get("columns") or {}).items()},
            ignore={normalise_header(h) for h in (raw.get("ignore") or [])},
            values={f: {normalise_header(k): str(v) for k, v in (m or {}).items()}
                    for f, m in (raw.get("values") or {}).items()},
            waves=_calendar_from_yaml(raw.get("waves"), source=str(p)),
        )


# ---------------------------------------------------------------------------
# Wave calendar: when each wave was open
# ---------------------------------------------------------------------------
#: Days after a wave's last day in which its answers still count: surveys stay open a while.
GRACE_DAYS = 60


@dataclass(frozen=True)
class WaveWindow:
    """When a wave was open.

    Attributes
    ----------
    start : Timestamp
        Midnight at the start of its first day; earlier answers do not belong to it.
    end : Timestamp
        Midnight after its last day.
    grace_days : int
        Days after ``end`` in which answers still count.
    """

    start: pd.Timestamp
    end: pd.Timestamp
    grace_days: int = GRACE_DAYS

    @property
    def last_day(self) -> pd.Timestamp:
        """The wave's last day."""
        return self.end - pd.Timedelta(days=1)

    @property
    def closes(self) -> pd.Timestamp:
        """The first moment at which an answer comes too late: ``end`` plus the grace days."""
        return self.end + pd.Timedelta(days=self.grace_days)


_YEAR = r"(?P<year>(?:19|20|21)\d\d)"
_SEP = r"[-_ /]?"
# Wave labels the kit reads, each with the months of its period; group "n" numbers the quarter, half or month.
_WAVE_LABELS = [
    (re.compile(rf"{_YEAR}{_SEP}Q(?P<n>[1-4])", re.I), 3),
    (re.compile(rf"Q(?P<n>[1-4]){_SEP}{_YEAR}", re.I), 3),
    (re.compile(rf"{_YEAR}{_SEP}H(?P<n>[12])", re.I), 6),
    (re.compile(rf"H(?P<n>[12]){_SEP}{_YEAR}", re.I), 6),
    (re.compile(rf"{_YEAR}(?:-|{_SEP}M)(?P<n>0?[1-9]|1[0-2])", re.I), 1),
    (re.compile(_YEAR), 12),
]


def wave_window(label: object, calendar: dict[str, WaveWindow] | None = None) -> WaveWindow | None:
    """When wave ``label`` was open: its calendar entry, else what the label says, else ``None``.

    Parameters
    ----------
    label : str
        A wave label.  Read without a calendar: a quarter (``2026Q3``,
        ``2026-Q3``, ``Q3 2026``), a half year (``2026H1``, ``H1 2026``), a
        month (``2026-09``, ``2026M09``) or a year (``2026``).
    calendar : dict, optional
        label → :class:`WaveWindow`, from :func:`load_wave_calendar` or a
        mapping file's ``waves:`` section; it wins over the label.

    Returns
    -------
    WaveWindow or None
        ``None`` for a label the kit cannot read and the calendar lacks.

    Examples
    --------
    >>> w = wave_window("Q3 2026")
    >>> w.start.date().isoformat(), w.last_day.date().isoformat(), w.grace_days
    ('2026-07-01', '2026-09-30', 60)
    >>> wave_window("Syksy 2025") is None
    True
    """
    label = str(label).strip()
    if calendar and label in calendar:
        return calendar[label]
    for pattern, months in _WAVE_LABELS:
        m = pattern.fullmatch(label)
        if m:
            n = int(m.groupdict().get("n") or 1)
            start = pd.Timestamp(year=int(m["year"]), month=(n - 1) * months + 1, day=1)
            return WaveWindow(start=start, end=start + pd.DateOffset(months=months))
    return None


def load_wave_calendar(path: str | Path | None) -> dict[str, WaveWindow]:
    """Read a wave calendar: label → :class:`WaveWindow`.

    Parameters
    ----------
    path : path, optional
        A YAML file with a ``waves:`` section, as in a mapping file
        (``2026Q3: {start: 2026-08-15, end: 2026-10-15, grace_days: 30}``), or
        a CSV or XLSX file with the columns ``wave``, ``start``, ``end`` and
        optionally ``grace_days``.  Dates as ``2026-08-15`` or ``15.8.2026``;
        ``end`` is the last day.  ``None`` or empty: no calendar.

    Raises
    ------
    IngestError
        A file that cannot be read, a missing column, a date that is not one,
        a wave that ends before it starts or is listed twice.
    """
    if path is None or not str(path).strip():
        return {}
    p = Path(path)
    if p.suffix.lower() in (".yml", ".yaml"):
        return Mapping.load(p).waves
    try:
        frame = read_export(p).frame
    except ExportError as exc:
        raise IngestError(f"Wave calendar: {exc}") from exc
    frame.columns = [normalise_header(c) for c in frame.columns]
    missing = sorted({"wave", "start", "end"} - set(frame.columns))
    if missing:
        raise IngestError(f"Wave calendar {p} needs the columns wave, start and end (grace_days is optional); "
                          f"it has no {', '.join(missing)}.")
    labels = frame["wave"].dropna()
    twice = sorted(set(labels[labels.duplicated()]))
    if twice:
        raise IngestError(f"Wave calendar {p} lists wave(s) {', '.join(map(repr, twice))} more than once.")
    entries = {row["wave"]: {k: v for k, v in row.items() if k != "wave" and pd.notna(v)}
               for row in frame.to_dict("records") if pd.notna(row["wave"])}
    return _calendar_from_yaml(entries, source=str(p))


def _calendar_from_yaml(entries: object, *, source: str) -> dict[str, WaveWindow]:
    """A ``waves:`` section (label → start, end and optional grace_days) as label → :class:`WaveWindow`."""
    if entries is None:
        return {}
    if not isinstance(entries, dict):
        raise IngestError(f"{source}: 'waves:' must give each wave label its first and last day, e.g. "
                          "'2026Q3: {start: 2026-08-15, end: 2026-10-15}'.")
    return {str(label).strip(): _calendar_entry(str(label).strip(), value, source=source)
            for label, value in entries.items()}


def _calendar_entry(label: str, value: object, *, source: str) -> WaveWindow:
    """One calendar entry, checked: both days are dates, the last not before the first, grace days whole."""
    if not isinstance(value, dict) or not {"start", "end"} <= set(value):
        raise IngestError(f"{source}: wave {label!r} needs its first and last day, e.g. "
                          f"'{label}: {{start: 2026-08-15, end: 2026-10-15}}'.")
    start, end = (_calendar_day(value[k], label=label, what=k, source=source) for k in ("start", "end"))
    if end < start:
        raise IngestError(f"{source}: wave {label!r} ends ({end:%Y-%m-%d}) before it starts ({start:%Y-%m-%d}).")
    grace = value.get("grace_days", GRACE_DAYS)
    grace = int(grace) if isinstance(grace, str) and grace.strip().isdigit() else grace
    if isinstance(grace, bool) or not isinstance(grace, int) or grace < 0:
        raise IngestError(f"{source}: grace_days of wave {label!r} must be a whole number of days (0 or more), "
                          f"not {grace!r}.")
    return WaveWindow(start=start, end=end + pd.Timedelta(days=1), grace_days=grace)


def _calendar_day(value: object, *, label: str, what: str, source: str) -> pd.Timestamp:
    """A calendar date (ISO, Finnish or a YAML date) as midnight of that day."""
    ts, bad = parse_dates(pd.Series([None if value is None else str(value)], dtype=object))
    if bad.iloc[0] or pd.isna(ts.iloc[0]):
        raise IngestError(f"{source}: the {what} of wave {label!r} is {value!r}, not a date "
                          "(use 2026-08-15 or 15.8.2026).")
    return ts.iloc[0].normalize()


def _group(kind: str) -> str:
    return "survey" if kind in ("client", "staff") else kind


def resolve_columns(raw: RawExport, kind: str, instrument: Instrument, mapping: Mapping) -> dict[str, str]:
    """Decide which field or item each header holds; raise on unknown or missing columns.

    Returns
    -------
    dict
        header → field name or item id (ignored headers are left out).
    """
    group = _group(kind)
    allowed = set(FIELDS[group]["required"]) | set(FIELDS[group]["optional"])
    items = set(instrument.item_ids) if group == "survey" else set()
    lookup = instrument.header_lookup() if group == "survey" else {}
    resolved: dict[str, str] = {}
    unknown: list[str] = []
    for header in raw.frame.columns:
        folded = normalise_header(header)
        alt = normalise_header(raw.alt_headers.get(header, ""))
        if folded in mapping.ignore or alt in mapping.ignore:
            continue
        target = mapping.columns.get(folded) or (mapping.columns.get(alt) if alt else None)
        if target is None:
            target = lookup.get(folded) or (lookup.get(alt) if alt else None)
        if target is None:
            target = SYNONYMS.get(folded) or SYNONYMS.get(folded.replace(" ", "_"))
        if target is None and folded in ALWAYS_IGNORED:
            continue
        if target is None or (target not in allowed and target not in items):
            if target is not None and target not in allowed | items:
                raise IngestError(
                    f"{raw.file}: the mapping sends column '{header}' to '{target}', which is neither a "
                    f"{kind} field ({', '.join(sorted(allowed))}) nor an instrument item."
                )
            unknown.append(header)
            continue
        resolved[header] = target
    if unknown:
        raise IngestError(
            f"{raw.file}: unexpected column(s) {', '.join(repr(u) for u in unknown)}. Map each to a field or "
            "instrument item in a mapping file (columns: {header: field}), or list it under 'ignore:'."
        )
    targets = list(resolved.values())
    twice = sorted({t for t in targets if targets.count(t) > 1})
    if twice:
        heads = [h for h, t in resolved.items() if t in twice]
        raise IngestError(f"{raw.file}: columns {heads} all map to {twice}; each field may come from one column.")
    missing = [f for f in FIELDS[group]["required"] if f not in targets]
    missing += [i for i in instrument.item_ids if group == "survey" and i not in targets]
    if missing:
        raise IngestError(
            f"{raw.file}: missing required column(s) {', '.join(missing)}. Add them to the export, or map "
            "the headers that hold them in a mapping file."
        )
    return resolved


# ---------------------------------------------------------------------------
# Cell parsing
# ---------------------------------------------------------------------------
class _Problems:
    """Collects (row index, column header, value, reason) for quarantine, and what was cleaned from text.

    ``stripped`` is header → (cells, characters) removed by :func:`clean_text`;
    those rows are kept.
    """

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []
        self.stripped: dict[str, tuple[int, int]] = {}

    def add(self, mask: pd.Series, column: str, values: pd.Series | None, reason: str | pd.Series) -> None:
        mask = mask.fillna(False).astype(bool)
        if not mask.any():
            return
        idx = mask.index[mask.to_numpy()]
        vals = values.loc[idx].astype("object") if values is not None else pd.Series(None, index=idx, dtype=object)
        rs = reason.loc[idx].to_numpy() if isinstance(reason, pd.Series) else reason
        self.parts.append(pd.DataFrame({"idx": idx, "column": column, "value": vals.to_numpy(), "reason": rs}))

    def frame(self) -> pd.DataFrame:
        if not self.parts:
            return pd.DataFrame(columns=["idx", "column", "value", "reason"])
        return pd.concat(self.parts, ignore_index=True)

    def bad_rows(self) -> pd.Index:
        f = self.frame()
        return pd.Index(f["idx"].unique())


_FI_DATE = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}")


def parse_dates(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse ISO, Finnish and Excel-serial dates to naive UTC timestamps.

    Accepts ``2026-03-14 10:22``, ISO with offsets (``2026-03-28T10:00:00+02:00``;
    mixed offsets across daylight-saving changes are converted to UTC), Finnish
    ``14.3.2026 10.22`` / ``14.3.2026 10:22`` / ``14.3.2026``, and Excel serial
    day numbers (``46000.5``; days since 1899-12-30).

    Returns
    -------
    (timestamps, bad) : naive datetimes (UTC where the text had an offset) and a
    mask of cells that had text but no valid date.
    """
    s = values.astype("object")
    present = s.notna()
    txt = s[present].astype(str).str.strip()
    out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
    iso = pd.to_datetime(txt, format="ISO8601", errors="coerce", utc=True).dt.tz_localize(None)
    out[present] = iso.astype("datetime64[ns]")
    rest = present & out.isna()
    if rest.any():
        t = s[rest].astype(str).str.strip()
        serial = t.str.fullmatch(r"\d{5}(?:\.\d+)?")
        if serial.any():
            days = pd.to_numeric(t[serial]).where(lambda d: d.between(20_000, 80_000))
            out.loc[days.index] = pd.to_datetime(days, unit="D", origin="1899-12-30").astype("datetime64[ns]")
        fi = t.str.match(_FI_DATE)
        t = t.str.replace(r"(\d{1,2})\.(\d{2})(?:\.(\d{2}))?$", lambda m: f"{m.group(1)}:{m.group(2)}"
                          + (f":{m.group(3)}" if m.group(3) else ""), regex=True)
        for fmt in ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y"):
            still = out[rest].isna() & fi
            if not still.any():
                break
            parsed = pd.to_datetime(t[still], format=fmt, errors="coerce")
            out.loc[parsed.index] = out.loc[parsed.index].fillna(parsed)
    bad = present & out.isna()
    return out, bad


def _recode(series: pd.Series, table: dict[str, str] | None) -> pd.Series:
    if not table:
        return series
    folded = series.map(lambda v: normalise_header(v) if isinstance(v, str) else v)
    return folded.map(table).where(folded.isin(table.keys()), series)


def _text(series: pd.Series) -> pd.Series:
    return series.astype("object").where(series.notna(), None)


# ---------------------------------------------------------------------------
# Ids and free text: what may be stored
# ---------------------------------------------------------------------------
ID_FIELDS = ("response_id", "account_id", "respondent_id", "touchpoint_id", "item_id")
ID_MAX_LENGTH = 64
ID_PUNCTUATION = "-_.:/#@+"
ID_RULE = (f"(an id may hold letters, digits, spaces inside and {' '.join(ID_PUNCTUATION)}, "
           f"at most {ID_MAX_LENGTH} characters)")
_ID_PLAIN = re.compile(r"[A-Za-z0-9_:#@+\-]{1,%d}" % ID_MAX_LENGTH)  # valid for sure: no dot, slash or space
_PATH_PART = re.compile(r"(?:^|/)\.\.?(?:/|$)")
# Removed from stored text: C0 and C1 control characters (DEL too), and the bidirectional embeddings,
# overrides and isolates, which reorder the text after them on a page (U+202A–U+202E, U+2066–U+2069).
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
_INVISIBLE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")
_INVISIBLE_BUT_BREAKS = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI_CONTROLS}]")  # keeps tab and line break
_BREAKS = re.compile(r"[\t\n\r]+")
#: Text fields whose line breaks and tabs are kept.
TEXT_WITH_BREAKS = ("comment",)


def describe_char(ch: str) -> str:
    """A character as a reason shows it: ``U+202E RIGHT-TO-LEFT OVERRIDE``, ``'"' (U+0022 QUOTATION MARK)``.

    Examples
    --------
    >>> describe_char("\\x07"), describe_char("\\u202e")
    ('U+0007 (a control character)', 'U+202E RIGHT-TO-LEFT OVERRIDE')
    """
    code = f"U+{ord(ch):04X}"
    cat = unicodedata.category(ch)
    name = unicodedata.name(ch, "")
    if cat == "Cc":
        return f"{code} (a control character)"
    if cat[0] in "CZ" or not name:
        return f"{code} {name}".strip()
    quote = '"' if ch == "'" else "'"
    return f"{quote}{ch}{quote} ({code} {name})"


def id_problem(value: str) -> str | None:
    """Why ``value`` cannot be an id, or ``None`` when it can.

    An id is at most 64 characters of letters (any script's, so ``Mäkelä``
    and ``Åbo`` are fine), digits, spaces between them and ``- _ . : / # @ +``
    (compared in Unicode NFC form); no ``.`` or ``..`` between slashes, so an
    id never names another folder.

    Examples
    --------
    >>> id_problem("A-001") is None, id_problem("Mäkelä:7") is None
    (True, True)
    >>> id_problem("A1\\u202e")  # doctest: +ELLIPSIS
    'is not a valid id: it contains U+202E RIGHT-TO-LEFT OVERRIDE (an id may hold letters, ...)'
    """
    text = unicodedata.normalize("NFC", value)
    for ch in text:
        cat = unicodedata.category(ch)
        if not (cat[0] == "L" or cat == "Nd" or ch in ID_PUNCTUATION or ch == " "):
            return f"is not a valid id: it contains {describe_char(ch)} {ID_RULE}"
    if text != text.strip():
        return f"is not a valid id: it starts or ends with a space {ID_RULE}"
    if len(text) > ID_MAX_LENGTH:
        return f"is not a valid id: it has {len(text)} characters {ID_RULE}"
    if _PATH_PART.search(text):
        return f"is not a valid id: '.' or '..' between slashes could name another folder {ID_RULE}"
    return None


def id_problems(values: pd.Series) -> pd.Series:
    """:func:`id_problem` of every cell (``None`` where the id is fine or the cell empty), each value checked once."""
    reasons = {v: id_problem(str(v)) for v in pd.unique(values.dropna()) if not _ID_PLAIN.fullmatch(str(v))}
    reasons = {v: r for v, r in reasons.items() if r is not None}
    out = pd.Series(None, index=values.index, dtype=object)
    if reasons:
        bad = values.isin(list(reasons))
        out[bad] = values[bad].map(reasons)
    return out


def clean_text(values: pd.Series, *, keep_breaks: bool = False) -> tuple[pd.Series, int, int]:
    """``values`` without control characters and bidirectional embeddings, overrides and isolates.

    Parameters
    ----------
    values : Series
        Text cells (missing ones stay missing).
    keep_breaks : bool
        Keep line breaks and tabs (comments; a Windows or old Mac line break
        becomes ``\\n``).  Otherwise each run of them becomes one space.

    Returns
    -------
    (cleaned, cells, characters)
        The cleaned cells (a cell left empty becomes missing), how many cells
        changed and how many characters were removed or replaced.
    """
    present = values.dropna()
    pattern = _INVISIBLE_BUT_BREAKS if keep_breaks else _INVISIBLE
    if not len(present) or not pattern.search("".join(map(str, pd.unique(present)))):
        return values, 0, 0
    txt = present.astype(str)
    if keep_breaks:
        txt = txt.str.replace("\r\n", "\n", regex=False).str.replace("\r", "\n", regex=False)
        counts = txt.str.count(pattern.pattern)
    else:
        counts = txt.str.count(pattern.pattern)
        txt = txt.str.replace(_BREAKS, " ", regex=True)
    cleaned = txt.str.replace(pattern, "", regex=True).str.strip()
    out = values.astype(object).copy()
    out[present.index] = cleaned.where(cleaned != "", None)
    return out, int((counts > 0).sum()), int(counts.sum())


# ---------------------------------------------------------------------------
# pandera schemas (ranges, allowed values, required cells)
# ---------------------------------------------------------------------------
def _survey_schema(instrument: Instrument) -> pa.DataFrameSchema:
    lo, hi = instrument.scale_min, instrument.scale_max
    whole = pa.Check(lambda s: (s % 1) == 0, element_wise=False, ignore_na=True,
                     error=f"is not a whole point of the {lo}–{hi} scale")
    cols = {
        "response_id": pa.Column(object, nullable=False, checks=pa.Check.str_length(1, 200), coerce=False),
        "account_id": pa.Column(object, nullable=False),
        "nps": pa.Column(float, nullable=True, checks=[
            pa.Check.in_range(instrument.nps_min, instrument.nps_max,
                              error=f"is outside the {instrument.nps_min}–{instrument.nps_max} NPS scale"),
            pa.Check(lambda s: (s % 1) == 0, ignore_na=True, error="is not a whole NPS point")]),
    }
    for item in instrument.item_ids:
        cols[item] = pa.Column(float, nullable=True, checks=[
            pa.Check.in_range(lo, hi, error=f"is outside the {lo}–{hi} scale"), whole])
    return pa.DataFrameSchema(cols, strict=False)


ACCOUNTS_SCHEMA = pa.DataFrameSchema({
    "account_id": pa.Column(object, nullable=False),
    "name": pa.Column(object, nullable=False),
    "status": pa.Column(object, nullable=True, checks=pa.Check.isin(ACCOUNT_STATUSES,
                        error="is not a status (active, renewed, churned)")),
    "annual_value": pa.Column(float, nullable=True, checks=pa.Check.ge(0, error="is negative")),
}, strict=False)


def _touchpoint_schema(instrument: Instrument) -> pa.DataFrameSchema:
    return pa.DataFrameSchema({
        "account_id": pa.Column(object, nullable=False),
        "answered_at": pa.Column("datetime64[ns]", nullable=False),
        "score": pa.Column(float, nullable=False, checks=[
            pa.Check.in_range(instrument.nps_min, instrument.nps_max,
                              error=f"is outside the {instrument.nps_min}–{instrument.nps_max} NPS scale"),
            pa.Check(lambda s: (s % 1) == 0, ignore_na=True, error="is not a whole NPS point")]),
    }, strict=False)


def _validate(df: pd.DataFrame, schema: pa.DataFrameSchema, problems: _Problems,
              header_of: dict[str, str], already: set[tuple[Any, str]], raw: RawExport) -> None:
    """Run a pandera schema lazily and record each failing cell as a problem."""
    try:
        schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
        fc = fc[fc["index"].notna()]
        for (col, check), grp in fc.groupby(["column", "check"], sort=False):
            idx = pd.Index(grp["index"].astype(int).unique())
            if check in ("not_nullable",) or str(check).startswith("not_nullable"):
                reason = "is required but empty"
            else:
                reason = str(check)
            keep = [i for i in idx if (i, col) not in already]
            if not keep:
                continue
            mask = pd.Series(False, index=df.index)
            mask.loc[keep] = True
            shown = raw.frame[header_of[col]] if col in header_of else df[col]
            problems.add(mask, header_of.get(col, col), shown, reason)


# ---------------------------------------------------------------------------
# Building the parsed frames
# ---------------------------------------------------------------------------
def _parse_common(raw: RawExport, resolved: dict[str, str], mapping: Mapping, problems: _Problems,
                  *, numeric: Sequence[str], dates: Sequence[str], instrument: Instrument | None = None
                  ) -> tuple[pd.DataFrame, dict[str, str], set]:
    frame = raw.frame.rename(columns=resolved)[list(resolved.values())]
    header_of = {v: k for k, v in resolved.items()}
    out = pd.DataFrame(index=frame.index)
    seen: set[tuple[Any, str]] = set()
    for col in frame.columns:
        s = frame[col]
        free_text = col not in numeric and col not in dates and col not in ID_FIELDS
        if free_text:
            s, cells, chars = clean_text(s, keep_breaks=col in TEXT_WITH_BREAKS)
            if chars:
                problems.stripped[header_of[col]] = (cells, chars)
        s = _recode(s, mapping.values.get(col))
        if col in numeric:
            if instrument is not None:
                codes = {u for u in pd.unique(s.dropna()) if instrument.is_dont_know(u)}
                if codes:
                    s = s.where(~s.isin(codes), None)
            nums, bad = parse_numbers(s)
            problems.add(bad, header_of[col], frame[col], "is not a number")
            seen |= {(i, col) for i in bad.index[bad.to_numpy()]}
            out[col] = nums
        elif col in dates:
            ts, bad = parse_dates(s)
            problems.add(bad, header_of[col], frame[col], "is not a date (use 2026-03-14 or 14.3.2026)")
            seen |= {(i, col) for i in bad.index[bad.to_numpy()]}
            out[col] = ts
        else:
            out[col] = _text(s)
            if col in ID_FIELDS:
                reason = id_problems(out[col])
                problems.add(reason.notna(), header_of[col], frame[col], reason)
    return out, header_of, seen
