"""Ingest survey exports into the store: read, validate, quarantine, write.

Takes a CSV/XLSX export (client, staff, accounts or touchpoints) and hands on
rows in the store: valid rows into ``responses``/``answers``/``accounts``/
``touchpoints``, every rejected row into ``quarantine`` with its reason, all in
one transaction.  Column matching and the validation rules live in
:mod:`helpers.data.validation`; reading the file in :mod:`helpers.data.readers`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from .contacts import contact_rows, insert_contacts, refuse_staff_contacts
from .followups import build_outcomes, outcome_mapping
from .instrument import Instrument, load_instrument, normalise_header
from .readers import ExportError, RawExport, read_export
from .store import StoreError, connect
from .validation import (
    ACCOUNTS_SCHEMA,
    IngestError,
    Mapping,
    _parse_common,
    _Problems,
    _survey_schema,
    _touchpoint_schema,
    _validate,
    load_wave_calendar,
    resolve_columns,
    wave_window,
)

KINDS = ("client", "staff", "accounts", "touchpoints", "followups")
WAVE_LABEL = re.compile(r"[\w.\- ]{1,40}")
STRAIGHTLINE_MIN_ITEMS = 6
#: How far past the time of the ingest a date may lie before it is in the future: times without a zone are
#: the survey tool's local time, and a day covers every time zone and a clock that runs a little fast.
FUTURE_SKEW = pd.Timedelta(days=1)

PREVIEW_VALUES = {"survey preview", "survey test", "preview", "test", "spam", "esikatselu", "testi"}
SIDE_VALUES = {"client": "client", "asiakas": "client", "customer": "client",
               "staff": "staff", "henkilöstö": "staff", "oma": "staff", "team": "staff"}
STATUS_VALUES = {"active": "active", "aktiivinen": "active", "voimassa": "active",
                 "renewed": "renewed", "uusittu": "renewed", "jatkettu": "renewed",
                 "churned": "churned", "päättynyt": "churned", "menetetty": "churned", "lost": "churned"}


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
    stripped: dict[str, tuple[int, int]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

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
        if self.stripped:
            chars, cells = (sum(v[i] for v in self.stripped.values()) for i in (1, 0))
            cols = ", ".join(f"'{col}' ({n})" for col, (n, _) in self.stripped.items())
            lines.append(f"  Removed {chars} control or text-direction character(s) from {cells} text cell(s) in "
                         f"column(s) {cols}; the rows were kept.")
        lines += [f"  {note}" for note in self.notes]
        if len(self.quarantine):
            lines += [f"  {line}" for line in _quarantine_lines(self.quarantine)]
            lines.append("  Quarantined rows are kept in the store: `flamekit quarantine --file …` lists them.")
        return "\n".join(lines)

    __str__ = summary


def _quarantine_lines(quarantine: pd.DataFrame) -> list[str]:
    """One line per column and reason: the values, and the rows (and text lines) they are on."""
    lines = []
    for (col, reason), grp in quarantine.groupby(["column", "reason"], sort=False, dropna=False):
        rows = sorted(set(grp["row"].astype(int)))
        vals = sorted({str(v) for v in grp["value"].dropna()})
        shown_rows = ", ".join(map(str, rows[:8])) + (f" … ({len(rows)} rows)" if len(rows) > 8 else "")
        at = grp["line"] if "line" in grp else pd.Series(dtype="Int64")
        if (at.notna() & (at != grp["row"])).any():  # a quoted cell above spans lines: say where in the text
            shown_rows += "; text lines " + ", ".join(map(str, sorted(set(at.dropna().astype(int)))[:8]))
        shown_vals = (" " + ", ".join(repr(v) for v in vals[:5]) + (" …" if len(vals) > 5 else "")) if vals else ""
        col_txt = f"column '{col}'" if isinstance(col, str) and col else "row"
        lines.append(f"{col_txt}:{shown_vals} {reason} (rows {shown_rows})")
    return lines


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
    calendar: str | Path | None = None,
    wait: float | None = None,
) -> IngestResult:
    """Validate one export and write it to the store in a single transaction.

    Parameters
    ----------
    path : path
        CSV or XLSX export.
    kind : {'client', 'staff', 'accounts', 'touchpoints', 'followups'}
        What the file holds (``followups``: outcomes of the follow-up queue,
        :mod:`helpers.data.followups`).
    wave : str, optional
        Survey wave (e.g. ``"2026Q3"``); required for client and staff files unless
        the file has a wave column.
    mapping : path, optional
        YAML mapping file for headers the kit does not recognise.
    store : path, optional
        The DuckDB store file.
    instrument : path or Instrument, optional
        Instrument definition (default: the flamekit instrument).
    calendar : path, optional
        Wave calendar (:func:`helpers.data.validation.load_wave_calendar`);
        default ``$FLAMEKIT_WAVES``.  A mapping file's ``waves:`` entries win
        over it.  Waves it lacks are dated by their labels (``2026Q3``).
    wait : float, optional
        Seconds to wait while another process has the store open
        (default ``$FLAMEKIT_STORE_WAIT``, else 30; see
        :func:`helpers.data.store.connect`).

    Returns
    -------
    IngestResult
        Counts, and the quarantined cells (file, row, column, value, reason).

    Raises
    ------
    IngestError
        When the file as a whole cannot be used; the store is left unchanged.
    helpers.data.store.StoreError
        The store stayed open in another process for ``wait`` seconds.

    Notes
    -----
    Dates are checked against the time of the ingest: one more than
    :data:`FUTURE_SKEW` (a day) later is quarantined.  A survey answer must
    also fall in its wave's window, from the first day until ``grace_days``
    (60) after the last; a wave the kit cannot date is named once in the
    summary and its answers are not checked against it.
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
    mp.waves = {**load_wave_calendar(calendar if calendar is not None else os.environ.get("FLAMEKIT_WAVES")),
                **mp.waves}
    if kind == "followups":  # the owners' workbook: its own headers, and every column but four left alone
        mp = outcome_mapping(mp)
    resolved = resolve_columns(raw, kind, inst, mp)
    if kind == "staff":
        refuse_staff_contacts(resolved, file=raw.file)
    if kind in ("client", "staff") and wave is None and "wave" not in resolved.values():
        raise IngestError(f"{raw.file}: give the survey wave with --wave (e.g. --wave 2026Q3); the file has no wave column.")
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    result = IngestResult(file=raw.file, kind=kind, wave=wave, rows_read=len(raw.frame), encoding=raw.encoding)
    with connect(store, read_only=False, wait=wait) as con:
        if _earlier_ingest(con, sha, kind, wave) is not None:  # another process got there in the meantime
            result.already_ingested = True
            return result
        builder = {"accounts": _build_accounts, "touchpoints": _build_touchpoints,
                   "followups": build_outcomes}.get(kind, _build_survey)
        con.execute("BEGIN TRANSACTION")
        try:
            problems = _Problems()
            builder(con, raw, resolved, mp, inst, problems, result, kind=kind, wave=wave, now=now)
            result.stripped = dict(problems.stripped)
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
    """Client or team answers: every rule checked, the new answers written to ``responses`` and ``answers``."""
    items = inst.item_ids
    df, header_of, seen = _parse_common(raw, resolved, mp, problems, numeric=[*items, "nps", "duration_min"],
                                        dates=["submitted_at"], instrument=inst)
    _validate(df, _survey_schema(inst), problems, header_of, seen, raw)
    _check_side(df, problems, header_of, kind=kind)
    _check_wave(df, problems, header_of, wave=wave)
    future = _flag_future(df, problems, header_of, raw, columns=["submitted_at"], now=now)
    _check_wave_windows(df[~future], problems, header_of, raw, result, calendar=mp.waves)
    _flag_previews(df, problems, header_of)
    _flag_unknown_accounts(con, df, problems, header_of)
    answered = df[items].notna().sum(axis=1)
    problems.add((answered == 0) & df["nps"].isna() & _blank(df.get("comment")), "", None,
                 "response has no answers")
    dup = _flag_repeated_response_ids(df, problems, header_of, raw)
    if "respondent_id" in df:
        _flag_resubmissions_in_file(df, df[~dup], problems, header_of, raw)
    good = df.drop(index=problems.bad_rows())
    fp_cols = ["account_id", "side", "wave", "nps", "comment", *items]
    good = good.assign(fingerprint=_fingerprint(good.reindex(columns=fp_cols), fp_cols))
    good = _drop_answers_in_store(con, df, good, problems, header_of, result)
    good, supersede = _resubmissions_across_files(con, df, good, problems, header_of, kind=kind)
    straight = _straightlining(good, items)
    result.flagged_straightlining = int(straight.sum())
    resp = _responses_frame(good, straightlining=straight, kind=kind, source_file=raw.file, now=now)
    long = good.melt(id_vars=["response_id", "account_id"], value_vars=items, var_name="item", value_name="value")
    _insert_responses(con, resp)
    _insert_answers(con, long[["response_id", "account_id", "item", "value"]])
    if kind == "client":  # consented contacts, apart from the answers (helpers.data.contacts)
        contacts, notes = contact_rows(good, instrument=inst, row_number=raw.row_number, source_file=raw.file, now=now)
        insert_contacts(con, contacts)
        result.notes += notes
    for new_id, old_id in supersede.itertuples(index=False):
        con.execute("UPDATE responses SET superseded_by = ? WHERE response_id = ?", [new_id, old_id])
    result.superseded_in_store = len(supersede)
    result.rows_stored = len(resp)


def _check_side(df: pd.DataFrame, problems: _Problems, header_of: dict, *, kind: str) -> None:
    """A side column must agree with ``--kind``; every row then gets the kind as its side."""
    if "side" in df:
        side = df["side"].map(lambda v: SIDE_VALUES.get(normalise_header(v)) if isinstance(v, str) else None)
        problems.add(side.notna() & (side != kind) | df["side"].notna() & side.isna(), header_of["side"],
                     df["side"], f"does not match --kind {kind}")
    df["side"] = kind


def _check_wave(df: pd.DataFrame, problems: _Problems, header_of: dict, *, wave: str | None) -> None:
    """A wave column must agree with ``--wave`` (or, without it, be filled in) and hold wave labels."""
    if "wave" not in df:
        df["wave"] = wave
        return
    w = df["wave"].astype("object")
    if wave is not None:
        problems.add(w.notna() & (w != wave), header_of["wave"], w, f"differs from --wave {wave}")
    else:
        problems.add(w.isna(), header_of["wave"], w, "is required but empty")
    bad_label = w.notna() & ~w.map(lambda v: isinstance(v, str) and bool(WAVE_LABEL.fullmatch(v)))
    problems.add(bad_label, header_of["wave"], w,
                 "is not a wave label (letters, digits, spaces, '.', '-' or '_'; at most 40)")
    df["wave"] = w.where(w.notna(), wave) if wave is None else wave


def _flag_future(df: pd.DataFrame, problems: _Problems, header_of: dict, raw: RawExport, *,
                 columns: list[str], now: datetime) -> pd.Series:
    """Dates later than the ingest (beyond :data:`FUTURE_SKEW`); the mask of rows with one."""
    limit = pd.Timestamp(now) + FUTURE_SKEW
    any_future = pd.Series(False, index=df.index)
    for col in columns:
        if col in df:
            future = df[col] > limit
            problems.add(future, header_of[col], raw.frame[header_of[col]],
                         f"is in the future (this ingest ran on {now:%Y-%m-%d})")
            any_future |= future
    return any_future


def _check_wave_windows(df: pd.DataFrame, problems: _Problems, header_of: dict, raw: RawExport,
                        result: IngestResult, *, calendar: dict) -> None:
    """Answers dated before their wave opened, or after it closed and its grace days passed.

    Waves without dates (a label the kit cannot read, not in the calendar) are
    named once in the result's notes; their answers are not checked.
    """
    if "submitted_at" not in df:
        return
    header, at = header_of["submitted_at"], df["submitted_at"]
    undated = []
    for label in pd.unique(df["wave"].dropna()):
        if not WAVE_LABEL.fullmatch(str(label)):
            continue  # quarantined as a label already
        window = wave_window(label, calendar)
        if window is None:
            undated.append(str(label))
            continue
        ours = (df["wave"] == label) & at.notna()
        problems.add(ours & (at < window.start), header, raw.frame[header],
                     f"is before wave {label} opened on {window.start:%Y-%m-%d}")
        problems.add(ours & (at >= window.closes), header, raw.frame[header],
                     f"is after wave {label} closed on {window.last_day:%Y-%m-%d} and its {window.grace_days} "
                     "days of grace")
    if undated:
        result.notes.append(
            f"Answer dates not checked against wave {', '.join(map(repr, undated))}: the kit cannot tell when it "
            "was open. Use a label such as 2026Q3, or give its first and last day in a wave calendar (waves:).")


def _flag_previews(df: pd.DataFrame, problems: _Problems, header_of: dict) -> None:
    """Rows a survey tool marks as preview or test responses."""
    for col in ("status", "channel"):
        if col in df:
            prev = df[col].map(lambda v: isinstance(v, str) and normalise_header(v) in PREVIEW_VALUES)
            problems.add(prev, header_of[col], df[col], "marks a preview or test response")


def _flag_unknown_accounts(con, df: pd.DataFrame, problems: _Problems, header_of: dict) -> None:
    """Rows whose account is not in the store's accounts table."""
    known = _known_accounts(con)
    problems.add(df["account_id"].notna() & ~df["account_id"].isin(known), header_of["account_id"],
                 df["account_id"], "is not a known account (ingest the accounts file first, or fix the id)")


def _flag_repeated_response_ids(df: pd.DataFrame, problems: _Problems, header_of: dict,
                                raw: RawExport) -> pd.Series:
    """Rows that repeat a response id of an earlier row of the file (the first is kept); the mask of them."""
    dup = df["response_id"].notna() & df["response_id"].duplicated(keep="first")
    first_row = df.reset_index().groupby("response_id")["index"].first()
    problems.add(dup, header_of["response_id"], df["response_id"], df.loc[dup, "response_id"].map(
        lambda r: f"duplicates response id on row {raw.row_number(first_row[r])}"))
    return dup


def _flag_resubmissions_in_file(df: pd.DataFrame, base: pd.DataFrame, problems: _Problems, header_of: dict,
                                raw: RawExport) -> None:
    """Earlier answers of a respondent who answered again in the file (same account and wave): the latest is kept.

    ``base`` is ``df`` without repeated response ids; answers are ordered by
    submission time, then by row.
    """
    order = base.assign(_t=base.get("submitted_at"), _i=base.index).sort_values(["_t", "_i"], na_position="first")
    key = ["respondent_id", "account_id", "wave"]
    has = order["respondent_id"].notna() & order["account_id"].notna() & order["wave"].notna()  # else quarantined
    latest = order[has].groupby(key)["_i"].last()
    keep_i = order[has].set_index(key).index.map(lambda k: latest.get(k))
    sup = pd.Series(False, index=df.index)
    later = pd.Series(None, index=df.index, dtype=object)
    for i, k in zip(order[has]["_i"], keep_i):
        if i != k:
            sup.loc[i] = True
            later.loc[i] = f"is superseded by a resubmission from the same respondent (row {raw.row_number(k)})"
    problems.add(sup, header_of["respondent_id"], df["respondent_id"], later)


def _drop_answers_in_store(con, df: pd.DataFrame, good: pd.DataFrame, problems: _Problems, header_of: dict,
                           result: IngestResult) -> pd.DataFrame:
    """``good`` without responses already in the store: the same ones are counted, others quarantined."""
    if not len(good):
        return good
    con.register("incoming", good[["response_id", "fingerprint"]])
    existing = con.execute(
        "SELECT i.response_id, r.fingerprint = i.fingerprint AS same, r.source_file FROM incoming i "
        "JOIN responses r USING (response_id)").df()
    con.unregister("incoming")
    if not len(existing):
        return good
    same = set(existing.loc[existing["same"].astype(bool), "response_id"])
    differ = existing.loc[~existing["same"].astype(bool)].set_index("response_id")["source_file"]
    is_diff = good["response_id"].isin(differ.index)
    problems.add(is_diff.reindex(df.index, fill_value=False), header_of["response_id"], df["response_id"],
                 df["response_id"].map(
                     lambda r: f"is already in the store with different answers (from {differ.get(r)})"))
    result.rows_already_stored = int(good["response_id"].isin(same).sum())
    return good[~good["response_id"].isin(set(existing["response_id"]))]


def _resubmissions_across_files(con, df: pd.DataFrame, good: pd.DataFrame, problems: _Problems, header_of: dict,
                                *, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Answers from respondents who already answered this wave in an earlier file: the later answer counts.

    An incoming answer older than the stored one is quarantined; a newer one
    supersedes it.  Returns ``good`` without the older ones, and the pairs
    ``new_id``, ``old_id`` to mark in the store.
    """
    prior = _stored_answers_of_respondents(con, good, kind=kind)
    if not len(prior):
        return good, pd.DataFrame(columns=["new_id", "old_id"])
    older_new = prior["new_at"].notna() & prior["old_at"].notna() & (prior["new_at"] < prior["old_at"])
    stale = prior[older_new].drop_duplicates("new_id").set_index("new_id")["old_id"]
    mask = pd.Series(df["response_id"].isin(stale.index) & df.index.isin(good.index), index=df.index)
    problems.add(mask, header_of["respondent_id"], df["respondent_id"],
                 df.loc[mask, "response_id"].map(
                     lambda r: f"is older than this respondent's answer already in the store ({stale[r]})"))
    return good[~good["response_id"].isin(stale.index)], prior.loc[~older_new, ["new_id", "old_id"]]


def _stored_answers_of_respondents(con, good: pd.DataFrame, *, kind: str) -> pd.DataFrame:
    """Current stored answers of the incoming answers' respondents (same account, wave and side):
    new_id, old_id, old_at, new_at."""
    if "respondent_id" not in good or not good["respondent_id"].notna().any():
        return pd.DataFrame()
    cand = good.loc[good["respondent_id"].notna(), ["response_id", "respondent_id", "account_id", "wave"]]
    cand = cand.assign(submitted_at=good["submitted_at"] if "submitted_at" in good else pd.NaT)
    con.register("resub", cand)
    prior = con.execute(
        "SELECT c.response_id AS new_id, r.response_id AS old_id, r.submitted_at AS old_at, "
        "CAST(c.submitted_at AS TIMESTAMP) AS new_at FROM resub c JOIN responses r "
        "ON r.respondent_id = c.respondent_id AND r.account_id = c.account_id AND r.wave = c.wave "
        "AND r.side = ? AND r.response_id <> c.response_id AND r.superseded_by IS NULL", [kind]).df()
    con.unregister("resub")
    return prior


def _straightlining(good: pd.DataFrame, items: list[str]) -> pd.Series:
    """Responses with the same answer to every item (at least ``STRAIGHTLINE_MIN_ITEMS`` answered): flagged, kept."""
    vals = good[items]
    n_ans = vals.notna().sum(axis=1)
    return (n_ans >= min(STRAIGHTLINE_MIN_ITEMS, len(items))) & (vals.nunique(axis=1) == 1)


def _responses_frame(good: pd.DataFrame, *, straightlining: pd.Series, kind: str, source_file: str,
                     now: datetime) -> pd.DataFrame:
    """The rows for the ``responses`` table, missing optional columns as NULL."""
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
        "straightlining": straightlining.astype(bool),
        "fingerprint": good["fingerprint"],
        "superseded_by": None,
        "source_file": source_file,
        "ingested_at": now,
    })
    for col in ("respondent_id", "role", "team", "comment"):
        resp[col] = resp[col].astype("object").where(resp[col].notna(), None) if col in good else None
    if "duration_min" not in good:
        resp["duration_min"] = np.nan
    return resp


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
    _flag_unknown_accounts(con, df, problems, header_of)
    _flag_future(df, problems, header_of, raw, columns=["visit_at", "answered_at"], now=now)
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
