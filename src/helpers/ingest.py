"""Ingest survey exports into the store: map columns, validate, quarantine, write.

The rules, in the order a row meets them:

1. The file is read by :func:`helpers.readers.read_export` (encoding, separator,
   decimal comma, XLSX, Qualtrics header rows).  A file that cannot be read at
   all raises :class:`IngestError` and changes nothing.
2. Column headers are matched to fields and instrument items: first the mapping
   file, then the instrument's own question texts (English or Finnish, client or
   staff wording), then common export names (``ResponseId``, ``Vastaustunnus`` …).
   A required column that is missing, or a column nobody knows, is an error for
   the whole file, naming the columns and how to map or ignore them.
3. Every cell is parsed and validated (numbers, dates, scale ranges, NPS 0–10,
   allowed values — the range and value checks with pandera).  "Don't know"
   codes become missing answers, not errors.
4. Row rules: known account, duplicated response id in the file (first kept),
   resubmission by the same respondent (latest kept), response id already in the
   store (identical → skipped, different → quarantined), preview/test rows,
   responses with no answers.
5. Every rejected row goes to the ``quarantine`` table with file, row, column,
   value and reason.  Nothing is dropped silently; straight-lining is flagged on
   the stored response, not rejected.
6. Everything is written in one transaction: a failure half-way leaves the store
   as it was.  Re-ingesting a file that was already ingested changes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pandera.pandas as pa
import yaml

from .instrument import Instrument, load_instrument, normalise_header
from .readers import ExportError, RawExport, parse_numbers, read_export
from .store import StoreError, connect

KINDS = ("client", "staff", "accounts", "touchpoints")
WAVE_LABEL = re.compile(r"[\w.\- ]{1,40}")
ACCOUNT_STATUSES = ("active", "renewed", "churned")
STRAIGHTLINE_MIN_ITEMS = 6

# Fields each kind of file can hold; required ones must be present as columns.
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "survey": {
        "required": ("response_id", "account_id", "nps"),
        "optional": ("side", "wave", "submitted_at", "respondent_id", "role", "team", "comment",
                     "duration_min", "status", "channel"),
    },
    "accounts": {
        "required": ("account_id", "name"),
        "optional": ("segment", "owner", "contract_start", "renewal_date", "status", "annual_value"),
    },
    "touchpoints": {
        "required": ("account_id", "answered_at", "score"),
        "optional": ("touchpoint_id", "visit_at", "comment"),
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
}

# Survey-tool metadata that carries no analysis value (or personal data): never stored.
ALWAYS_IGNORED = {normalise_header(h) for h in (
    "StartDate", "EndDate", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecipientLastName", "RecipientFirstName", "RecipientEmail", "ExternalReference",
    "LocationLatitude", "LocationLongitude", "UserLanguage", "Q_RecaptchaScore",
)}

PREVIEW_VALUES = {"survey preview", "survey test", "preview", "test", "spam", "esikatselu", "testi"}
SIDE_VALUES = {"client": "client", "asiakas": "client", "customer": "client",
               "staff": "staff", "henkilöstö": "staff", "oma": "staff", "team": "staff"}
STATUS_VALUES = {"active": "active", "aktiivinen": "active", "voimassa": "active",
                 "renewed": "renewed", "uusittu": "renewed", "jatkettu": "renewed",
                 "churned": "churned", "päättynyt": "churned", "menetetty": "churned", "lost": "churned"}


class IngestError(ValueError):
    """The file as a whole cannot be ingested; nothing was written."""


@dataclass
class IngestResult:
    """What one ingest did; ``print(result)`` gives the summary a person reads."""

    file: str
    kind: str
    wave: str | None
    rows_read: int = 0
    rows_stored: int = 0
    rows_already_stored: int = 0
    rows_quarantined: int = 0
    already_ingested: bool = False
    flagged_straightlining: int = 0
    superseded_in_store: int = 0
    quarantine: pd.DataFrame = field(default_factory=pd.DataFrame)
    encoding: str = ""

    def summary(self) -> str:
        what = f"{self.kind}" + (f" wave {self.wave}" if self.wave else "")
        if self.already_ingested:
            return f"{self.file} ({what}): already ingested, nothing changed."
        lines = [
            f"{self.file} ({what}): {self.rows_read} rows read, {self.rows_stored} stored, "
            f"{self.rows_already_stored} already in store, {self.rows_quarantined} quarantined."
        ]
        if self.superseded_in_store:
            lines.append(f"  {self.superseded_in_store} earlier answer(s) in the store superseded by a resubmission "
                         "from the same respondent (kept in the store, no longer counted).")
        if self.flagged_straightlining:
            lines.append(f"  {self.flagged_straightlining} response(s) flagged for straight-lining (kept).")
        if len(self.quarantine):
            for (col, reason), grp in self.quarantine.groupby(["column", "reason"], sort=False, dropna=False):
                rows = sorted(set(grp["row"].astype(int)))
                vals = sorted({str(v) for v in grp["value"].dropna()})
                shown_rows = ", ".join(map(str, rows[:8])) + (f" … ({len(rows)} rows)" if len(rows) > 8 else "")
                at = grp["line"] if "line" in grp else pd.Series(dtype="Int64")
                if (at.notna() & (at != grp["row"])).any():  # a quoted cell above spans lines: say where in the text
                    shown_rows += "; text lines " + ", ".join(map(str, sorted(set(at.dropna().astype(int)))[:8]))
                shown_vals = (" " + ", ".join(repr(v) for v in vals[:5]) + (" …" if len(vals) > 5 else "")) if vals else ""
                col_txt = f"column '{col}'" if isinstance(col, str) and col else "row"
                lines.append(f"  {col_txt}:{shown_vals} {reason} (rows {shown_rows})")
            lines.append("  Quarantined rows are kept in the store: `flamekit quarantine --file …` lists them.")
        return "\n".join(lines)

    __str__ = summary


# ---------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------
@dataclass
class Mapping:
    """A mapping file: export headers → fields, ignored headers, value recodings."""

    columns: dict[str, str] = field(default_factory=dict)
    ignore: set[str] = field(default_factory=set)
    values: dict[str, dict[str, str]] = field(default_factory=dict)

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
            raise IngestError(f"Mapping file {p} must be a YAML mapping with 'columns:', 'ignore:', 'values:'.")
        return cls(
            columns={normalise_header(k): str(v) for k, v in (raw.get("columns") or {}).items()},
            ignore={normalise_header(h) for h in (raw.get("ignore") or [])},
            values={f: {normalise_header(k): str(v) for k, v in (m or {}).items()}
                    for f, m in (raw.get("values") or {}).items()},
        )


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
    """Collects (row index, column header, value, reason) for quarantine."""

    def __init__(self) -> None:
        self.parts: list[pd.DataFrame] = []

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
        s = _recode(frame[col], mapping.values.get(col))
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
    return out, header_of, seen


def _fingerprint(df: pd.DataFrame, cols: list[str]) -> pd.Series:
    h = pd.util.hash_pandas_object(df[cols].astype(str), index=False)
    return pd.Series(h.to_numpy().astype(str), index=df.index, dtype=object)


def _file_sha(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _earlier_ingest(con, sha: str, kind: str, wave: str | None) -> dict[str, int] | None:
    """Counts of an earlier ingest of the same file content as the same kind and wave, or None."""
    row = con.execute(
        "SELECT rows_read, rows_stored, rows_already_stored, rows_quarantined FROM ingests "
        "WHERE file_sha256 = ? AND kind = ? AND coalesce(wave, '') = coalesce(?, '') LIMIT 1",
        [sha, kind, wave]).fetchone()
    if row is None:
        return None
    return dict(zip(("rows_read", "rows_stored", "rows_already_stored", "rows_quarantined"), map(int, row)))


def _earlier_ingest_in(store: str | Path | None, sha: str, kind: str, wave: str | None) -> dict[str, int] | None:
    """:func:`_earlier_ingest` on a read-only connection, None when there is no store yet."""
    try:
        with connect(store) as con:
            return _earlier_ingest(con, sha, kind, wave)
    except StoreError:
        return None


def _known_accounts(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT account_id FROM accounts").fetchall()}


def _quarantine_frame(problems: pd.DataFrame, raw: RawExport, kind: str, wave: str | None,
                      sha: str, now: datetime) -> pd.DataFrame:
    q = problems.copy()
    q["row"] = q["idx"].map(raw.row_number).astype("int64")
    q["line"] = q["idx"].map(raw.line_number).astype("Int64")
    q["value"] = q["value"].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    q = q.assign(file=raw.file, file_sha256=sha, kind=kind, wave=wave, ingested_at=now)
    return q[["file", "file_sha256", "kind", "wave", "row", "line", "column", "value", "reason", "ingested_at"]]


# ---------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------
def ingest(
    path: str | Path,
    *,
    kind: str,
    wave: str | None = None,
    mapping: str | Path | None = None,
    store: str | Path | None = None,
    instrument: str | Path | Instrument | None = None,
) -> IngestResult:
    """Validate one export and write it to the store in a single transaction.

    Parameters
    ----------
    path : path
        CSV or XLSX export.
    kind : {'client', 'staff', 'accounts', 'touchpoints'}
        What the file holds.
    wave : str, optional
        Survey wave (e.g. ``"2026Q3"``); required for client and staff files unless
        the file has a wave column.
    mapping : path, optional
        YAML mapping file for headers the kit does not recognise.
    store : path, optional
        The DuckDB store file.
    instrument : path or Instrument, optional
        Instrument definition (default: the flamekit instrument).

    Returns
    -------
    IngestResult
        Counts, and the quarantined cells (file, row, column, value, reason).

    Raises
    ------
    IngestError
        When the file as a whole cannot be used; the store is left unchanged.
    """
    if kind not in KINDS:
        raise IngestError(f"Unknown kind {kind!r}; use one of {', '.join(KINDS)}.")
    inst = load_instrument(instrument)
    if kind in ("client", "staff") and wave is not None and not WAVE_LABEL.fullmatch(wave):
        raise IngestError(f"Wave {wave!r} should be a short label such as 2026Q3.")
    sha = _file_sha(path) if Path(path).is_file() else None
    done = _earlier_ingest_in(store, sha, kind, wave) if sha else None
    if done is not None:  # the same bytes as the same kind and wave: nothing to read or write
        return IngestResult(file=str(path), kind=kind, wave=wave, already_ingested=True, **done)
    try:
        raw = read_export(path)
    except ExportError as exc:
        raise IngestError(str(exc)) from exc
    mp = Mapping.load(mapping)
    resolved = resolve_columns(raw, kind, inst, mp)
    if kind in ("client", "staff") and wave is None and "wave" not in resolved.values():
        raise IngestError(f"{raw.file}: give the survey wave with --wave (e.g. --wave 2026Q3); the file has no wave column.")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    result = IngestResult(file=raw.file, kind=kind, wave=wave, rows_read=len(raw.frame), encoding=raw.encoding)
    with connect(store, read_only=False) as con:
        if _earlier_ingest(con, sha, kind, wave) is not None:  # another process got there in the meantime
            result.already_ingested = True
            return result
        builder = {"accounts": _build_accounts, "touchpoints": _build_touchpoints}.get(kind, _build_survey)
        con.execute("BEGIN TRANSACTION")
        try:
            problems = _Problems()
            builder(con, raw, resolved, mp, inst, problems, result, kind=kind, wave=wave, now=now)
            q = _quarantine_frame(problems.frame(), raw, kind, wave, sha, now)
            result.quarantine = q[["file", "row", "line", "column", "value", "reason"]].sort_values(["row", "column"])
            result.rows_quarantined = int(q["row"].nunique())
            if len(q):
                con.register("q_new", q)
                con.execute('INSERT INTO quarantine BY NAME SELECT * FROM q_new')
                con.unregister("q_new")
            con.execute(
                "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [raw.file, sha, kind, wave, result.rows_read, result.rows_stored,
                 result.rows_already_stored, result.rows_quarantined, now])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    return result


def _build_survey(con, raw, resolved, mp, inst: Instrument, problems: _Problems, result: IngestResult,
                  *, kind: str, wave: str | None, now: datetime) -> None:
    items = inst.item_ids
    df, header_of, seen = _parse_common(raw, resolved, mp, problems, numeric=[*items, "nps", "duration_min"],
                                        dates=["submitted_at"], instrument=inst)
    _validate(df, _survey_schema(inst), problems, header_of, seen, raw)
    # side and wave
    if "side" in df:
        side = df["side"].map(lambda v: SIDE_VALUES.get(normalise_header(v)) if isinstance(v, str) else None)
        problems.add(side.notna() & (side != kind) | df["side"].notna() & side.isna(), header_of["side"],
                     df["side"], f"does not match --kind {kind}")
    df["side"] = kind
    if "wave" in df:
        w = df["wave"].astype("object")
        if wave is not None:
            problems.add(w.notna() & (w != wave), header_of["wave"], w, f"differs from --wave {wave}")
        else:
            problems.add(w.isna(), header_of["wave"], w, "is required but empty")
        bad_label = w.notna() & ~w.map(lambda v: isinstance(v, str) and bool(WAVE_LABEL.fullmatch(v)))
        problems.add(bad_label, header_of["wave"], w,
                     "is not a wave label (letters, digits, spaces, '.', '-' or '_'; at most 40)")
        df["wave"] = w.where(w.notna(), wave) if wave is None else wave
    else:
        df["wave"] = wave
    # preview and test rows
    for col in ("status", "channel"):
        if col in df:
            prev = df[col].map(lambda v: isinstance(v, str) and normalise_header(v) in PREVIEW_VALUES)
            problems.add(prev, header_of[col], df[col], "marks a preview or test response")
    # unknown accounts
    known = _known_accounts(con)
    unknown = df["account_id"].notna() & ~df["account_id"].isin(known)
    problems.add(unknown, header_of["account_id"], df["account_id"],
                 "is not a known account (ingest the accounts file first, or fix the id)")
    # no answers at all
    answered = df[items].notna().sum(axis=1)
    empty = (answered == 0) & df["nps"].isna() & _blank(df.get("comment"))
    problems.add(empty, "", None, "response has no answers")
    # duplicated response ids in the file: first kept
    dup = df["response_id"].notna() & df["response_id"].duplicated(keep="first")
    first_row = df.reset_index().groupby("response_id")["index"].first()
    problems.add(dup, header_of["response_id"], df["response_id"],
                 df.loc[dup, "response_id"].map(lambda r: f"duplicates response id on row {raw.row_number(first_row[r])}"))
    # resubmissions: same respondent, account and wave; latest kept
    if "respondent_id" in df:
        base = df[~dup]
        order = base.assign(_t=base.get("submitted_at"), _i=base.index).sort_values(["_t", "_i"], na_position="first")
        key = ["respondent_id", "account_id", "wave"]
        has = order["respondent_id"].notna()
        latest = order[has].groupby(key)["_i"].last()
        keep_i = order[has].set_index(key).index.map(lambda k: latest.get(k))
        sup = pd.Series(False, index=df.index)
        later = pd.Series(None, index=df.index, dtype=object)
        for i, k in zip(order[has]["_i"], keep_i):
            if i != k:
                sup.loc[i] = True
                later.loc[i] = f"is superseded by a resubmission from the same respondent (row {raw.row_number(k)})"
        problems.add(sup, header_of["respondent_id"], df["respondent_id"], later)
    bad = problems.bad_rows()
    good = df.drop(index=bad)
    fp_cols = ["account_id", "side", "wave", "nps", "comment", *items]
    good = good.assign(fingerprint=_fingerprint(good.reindex(columns=fp_cols), fp_cols))
    # already in store?
    if len(good):
        con.register("incoming", good[["response_id", "fingerprint"]])
        existing = con.execute(
            "SELECT i.response_id, r.fingerprint = i.fingerprint AS same, r.source_file FROM incoming i "
            "JOIN responses r USING (response_id)").df()
        con.unregister("incoming")
    else:
        existing = pd.DataFrame(columns=["response_id", "same", "source_file"])
    if len(existing):
        same = set(existing.loc[existing["same"].astype(bool), "response_id"])
        differ = existing.loc[~existing["same"].astype(bool)].set_index("response_id")["source_file"]
        is_diff = good["response_id"].isin(differ.index)
        problems.add(is_diff.reindex(df.index, fill_value=False), header_of["response_id"], df["response_id"],
                     df["response_id"].map(lambda r: f"is already in the store with different answers (from {differ.get(r)})"))
        result.rows_already_stored = int(good["response_id"].isin(same).sum())
        good = good[~good["response_id"].isin(set(existing["response_id"]))]
    # resubmissions across files: the same respondent already answered this wave
    supersede = pd.DataFrame(columns=["new_id", "old_id"])
    if "respondent_id" in good and good["respondent_id"].notna().any():
        cand = good.loc[good["respondent_id"].notna(), ["response_id", "respondent_id", "account_id", "wave"]]
        cand = cand.assign(submitted_at=good["submitted_at"] if "submitted_at" in good else pd.NaT)
        con.register("resub", cand)
        prior = con.execute(
            "SELECT c.response_id AS new_id, r.response_id AS old_id, r.submitted_at AS old_at, "
            "CAST(c.submitted_at AS TIMESTAMP) AS new_at FROM resub c JOIN responses r "
            "ON r.respondent_id = c.respondent_id AND r.account_id = c.account_id AND r.wave = c.wave "
            "AND r.side = ? AND r.response_id <> c.response_id AND r.superseded_by IS NULL", [kind]).df()
        con.unregister("resub")
        if len(prior):
            older_new = prior["new_at"].notna() & prior["old_at"].notna() & (prior["new_at"] < prior["old_at"])
            stale = prior[older_new].drop_duplicates("new_id").set_index("new_id")["old_id"]
            mask = pd.Series(df["response_id"].isin(stale.index) & df.index.isin(good.index), index=df.index)
            problems.add(mask, header_of["respondent_id"], df["respondent_id"],
                         df.loc[mask, "response_id"].map(
                             lambda r: f"is older than this respondent's answer already in the store ({stale[r]})"))
            good = good[~good["response_id"].isin(stale.index)]
            supersede = prior.loc[~older_new, ["new_id", "old_id"]]
    # straight-lining: the same answer to every item (flag, keep)
    vals = good[items]
    n_ans = vals.notna().sum(axis=1)
    straight = (n_ans >= min(STRAIGHTLINE_MIN_ITEMS, len(items))) & (vals.nunique(axis=1) == 1)
    result.flagged_straightlining = int(straight.sum())
    resp = pd.DataFrame({
        "response_id": good["response_id"].astype(str),
        "account_id": good["account_id"].astype(str),
        "side": kind,
        "wave": good["wave"].astype(str),
        "submitted_at": good["submitted_at"] if "submitted_at" in good else pd.NaT,
        "respondent_id": good.get("respondent_id"),
        "role": good.get("role"),
        "team": good.get("team"),
        "nps": good["nps"].astype("Int64"),
        "comment": good.get("comment"),
        "duration_min": good.get("duration_min"),
        "straightlining": straight.astype(bool),
        "fingerprint": good["fingerprint"],
        "superseded_by": None,
        "source_file": raw.file,
        "ingested_at": now,
    })
    for col in ("respondent_id", "role", "team", "comment"):
        resp[col] = resp[col].astype("object").where(resp[col].notna(), None) if col in good else None
    if "duration_min" not in good:
        resp["duration_min"] = np.nan
    long = good.melt(id_vars=["response_id", "account_id"], value_vars=items, var_name="item", value_name="value")
    _insert_responses(con, resp)
    _insert_answers(con, long[["response_id", "account_id", "item", "value"]])
    for new_id, old_id in supersede.itertuples(index=False):
        con.execute("UPDATE responses SET superseded_by = ? WHERE response_id = ?", [new_id, old_id])
    result.superseded_in_store = len(supersede)
    result.rows_stored = len(resp)


def _blank(s: pd.Series | None) -> pd.Series | bool:
    if s is None:
        return True
    return s.isna()


def _insert_responses(con, resp: pd.DataFrame) -> None:
    if not len(resp):
        return
    con.register("resp_new", resp)
    con.execute(
        "INSERT INTO responses SELECT response_id, account_id, side, wave, CAST(submitted_at AS TIMESTAMP), "
        "respondent_id, role, team, nps, comment, duration_min, straightlining, fingerprint, source_file, "
        "CAST(ingested_at AS TIMESTAMP), CAST(superseded_by AS VARCHAR) FROM resp_new")
    con.unregister("resp_new")


def _insert_answers(con, long: pd.DataFrame) -> None:
    if not len(long):
        return
    con.register("ans_new", long)
    con.execute("INSERT INTO answers SELECT response_id, account_id, item, value FROM ans_new")
    con.unregister("ans_new")


def _build_accounts(con, raw, resolved, mp, inst, problems: _Problems, result: IngestResult,
                    *, kind: str, wave: str | None, now: datetime) -> None:
    df, header_of, seen = _parse_common(raw, resolved, mp, problems, numeric=["annual_value"],
                                        dates=["contract_start", "renewal_date"])
    if "status" in df:
        st = df["status"].map(lambda v: STATUS_VALUES.get(normalise_header(v), v) if isinstance(v, str) else v)
        df["status"] = st
    _validate(df, ACCOUNTS_SCHEMA if "status" in df and "annual_value" in df else
              pa.DataFrameSchema({c: s for c, s in ACCOUNTS_SCHEMA.columns.items() if c in df}),
              problems, header_of, seen, raw)
    dup = df["account_id"].notna() & df["account_id"].duplicated(keep="first")
    problems.add(dup, header_of["account_id"], df["account_id"], "repeats an account id listed on an earlier row")
    if "contract_start" in df and "renewal_date" in df:
        order = df["renewal_date"].notna() & df["contract_start"].notna() & (df["renewal_date"] < df["contract_start"])
        problems.add(order, header_of["renewal_date"], raw.frame[header_of["renewal_date"]], "is before contract_start")
    good = df.drop(index=problems.bad_rows())
    cols = ["account_id", "name", "segment", "owner", "contract_start", "renewal_date", "status", "annual_value"]
    acc = good.reindex(columns=cols).assign(source_file=raw.file, ingested_at=now)
    for c in ("contract_start", "renewal_date"):
        acc[c] = pd.to_datetime(acc[c]).dt.date
    acc["annual_value"] = acc["annual_value"].astype("float64")
    for c in ("segment", "owner", "status"):
        acc[c] = acc[c].astype("object").where(acc[c].notna(), None)
    if len(acc):
        con.register("acc_new", acc)
        result.rows_already_stored = con.execute(
            "SELECT count(*) FROM acc_new n JOIN accounts a USING (account_id) WHERE "
            "a.name IS NOT DISTINCT FROM n.name AND a.segment IS NOT DISTINCT FROM n.segment AND "
            "a.owner IS NOT DISTINCT FROM n.owner AND a.contract_start IS NOT DISTINCT FROM n.contract_start AND "
            "a.renewal_date IS NOT DISTINCT FROM n.renewal_date AND a.status IS NOT DISTINCT FROM n.status AND "
            "a.annual_value IS NOT DISTINCT FROM n.annual_value").fetchone()[0]
        con.execute(
            "INSERT OR REPLACE INTO accounts SELECT account_id, name, segment, owner, contract_start, renewal_date, "
            "status, annual_value, source_file, CAST(ingested_at AS TIMESTAMP) FROM acc_new")
        con.unregister("acc_new")
    result.rows_stored = len(acc) - result.rows_already_stored


def _build_touchpoints(con, raw, resolved, mp, inst: Instrument, problems: _Problems, result: IngestResult,
                       *, kind: str, wave: str | None, now: datetime) -> None:
    df, header_of, seen = _parse_common(raw, resolved, mp, problems, numeric=["score"],
                                        dates=["visit_at", "answered_at"], instrument=inst)
    _validate(df, _touchpoint_schema(inst), problems, header_of, seen, raw)
    known = _known_accounts(con)
    problems.add(df["account_id"].notna() & ~df["account_id"].isin(known), header_of["account_id"],
                 df["account_id"], "is not a known account (ingest the accounts file first, or fix the id)")
    if "visit_at" in df:
        problems.add(df["visit_at"].notna() & df["answered_at"].notna() & (df["answered_at"] < df["visit_at"]),
                     header_of["answered_at"], raw.frame[header_of["answered_at"]], "is before the visit")
    if "touchpoint_id" not in df:
        cols = [c for c in ("account_id", "visit_at", "answered_at", "score", "comment") if c in df]
        df["touchpoint_id"] = "tp-" + _fingerprint(df, cols)
    dup = df["touchpoint_id"].duplicated(keep="first")
    if dup.any():
        ids = df.loc[dup, "touchpoint_id"]
        first = df.index.to_series()[df["touchpoint_id"].isin(set(ids))].groupby(df["touchpoint_id"]).first()
        problems.add(dup, header_of.get("touchpoint_id", ""), df.get("touchpoint_id"),
                     ids.map(lambda t: f"repeats the event on row {raw.row_number(first[t])}"))
    good = df.drop(index=problems.bad_rows())
    tp = pd.DataFrame({
        "touchpoint_id": good["touchpoint_id"].astype(str),
        "account_id": good["account_id"].astype(str),
        "visit_at": good["visit_at"] if "visit_at" in good else pd.NaT,
        "answered_at": good["answered_at"],
        "score": good["score"].astype("int64"),
        "comment": good["comment"] if "comment" in good else None,
    })
    tp["source_file"] = raw.file
    tp["ingested_at"] = now
    if len(tp):
        con.register("tp_new", tp)
        result.rows_already_stored = con.execute(
            "SELECT count(*) FROM tp_new WHERE touchpoint_id IN (SELECT touchpoint_id FROM touchpoints)").fetchone()[0]
        con.execute(
            "INSERT INTO touchpoints SELECT touchpoint_id, account_id, CAST(visit_at AS TIMESTAMP), "
            "CAST(answered_at AS TIMESTAMP), score, comment, source_file, CAST(ingested_at AS TIMESTAMP) "
            "FROM tp_new WHERE touchpoint_id NOT IN (SELECT touchpoint_id FROM touchpoints)")
        con.unregister("tp_new")
    result.rows_stored = len(tp) - result.rows_already_stored
