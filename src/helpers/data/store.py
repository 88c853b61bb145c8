"""The store: one embedded DuckDB database file holding every ingested survey.

Tables (one row per …):

``accounts``     account (master data from the CRM)
``responses``    survey response: who answered, when, NPS, comment, flags
``answers``      response × item (long, tidy): the 1–5 item answers
``touchpoints``  transactional NPS event (e.g. sent two hours after a service visit)
``quarantine``   rejected cell or row, with file, row (and CSV line), column, value and reason
``ingests``      ingested file (content hash), to make re-ingesting a no-op
``contacts``     client response whose respondent consented to contact: name, e-mail, phone (apart from
                 the answers; read only by the follow-up queue, never by a report page)
``followup_items``     answer that needs a follow-up (detractor, contact request, comment to act on)
``followup_outcomes``  what an owner recorded for an item: status, when, note
``erasures``     a ``flamekit forget``: when and how much was removed (no identifiers)

Loaders open the file read-only and filter in SQL, so loading one account never
brings another account's rows into memory, and several report processes can
read at once.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[3]

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account_id VARCHAR PRIMARY KEY,
    name VARCHAR NOT NULL,
    segment VARCHAR,
    owner VARCHAR,
    contract_start DATE,
    renewal_date DATE,
    status VARCHAR,
    annual_value DOUBLE,
    source_file VARCHAR,
    ingested_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS responses (
    response_id VARCHAR PRIMARY KEY,
    account_id VARCHAR NOT NULL,
    side VARCHAR NOT NULL,
    wave VARCHAR NOT NULL,
    submitted_at TIMESTAMP,
    respondent_id VARCHAR,
    role VARCHAR,
    team VARCHAR,
    nps INTEGER,
    comment VARCHAR,
    duration_min DOUBLE,
    straightlining BOOLEAN,
    fingerprint VARCHAR,
    source_file VARCHAR,
    ingested_at TIMESTAMP
);
ALTER TABLE responses ADD COLUMN IF NOT EXISTS superseded_by VARCHAR;
CREATE TABLE IF NOT EXISTS answers (
    response_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    item VARCHAR NOT NULL,
    value DOUBLE,
    PRIMARY KEY (response_id, item)
);
CREATE TABLE IF NOT EXISTS touchpoints (
    touchpoint_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    visit_at TIMESTAMP,
    answered_at TIMESTAMP,
    score INTEGER NOT NULL,
    comment VARCHAR,
    source_file VARCHAR,
    ingested_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS quarantine (
    file VARCHAR,
    file_sha256 VARCHAR,
    kind VARCHAR,
    wave VARCHAR,
    "row" INTEGER,
    "column" VARCHAR,
    value VARCHAR,
    reason VARCHAR,
    ingested_at TIMESTAMP
);
ALTER TABLE quarantine ADD COLUMN IF NOT EXISTS line INTEGER;
CREATE TABLE IF NOT EXISTS ingests (
    file VARCHAR,
    file_sha256 VARCHAR,
    kind VARCHAR,
    wave VARCHAR,
    rows_read INTEGER,
    rows_stored INTEGER,
    rows_already_stored INTEGER,
    rows_quarantined INTEGER,
    ingested_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS contacts (
    response_id VARCHAR PRIMARY KEY,
    account_id VARCHAR NOT NULL,
    respondent_id VARCHAR,
    consent VARCHAR NOT NULL,
    name VARCHAR,
    email VARCHAR,
    phone VARCHAR,
    source_file VARCHAR,
    ingested_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS followup_items (
    item_id VARCHAR PRIMARY KEY,
    source VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    account_id VARCHAR NOT NULL,
    wave VARCHAR,
    reasons VARCHAR NOT NULL,
    score INTEGER,
    answered_at_utc TIMESTAMP NOT NULL,
    due_at_utc TIMESTAMP NOT NULL,
    timezone VARCHAR NOT NULL,
    sla_hours DOUBLE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE IF NOT EXISTS followup_outcomes (
    item_id VARCHAR NOT NULL,
    status VARCHAR NOT NULL,
    outcome_at_utc TIMESTAMP NOT NULL,
    note VARCHAR,
    source_file VARCHAR,
    ingested_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS erasures (
    token VARCHAR,
    erased_at TIMESTAMP,
    contacts INTEGER,
    comments INTEGER,
    notes INTEGER,
    quarantine_cells INTEGER
);
"""


class StoreError(RuntimeError):
    """The store file is missing or cannot be opened."""


def default_store() -> Path:
    """Path of the store: ``$FLAMEKIT_STORE`` or ``data/flamekit.duckdb`` in the project."""
    env = os.environ.get("FLAMEKIT_STORE")
    return Path(env) if env else PROJECT_ROOT / "data" / "flamekit.duckdb"


def _path(store: str | Path | None) -> Path:
    return Path(store) if store is not None else default_store()


#: Seconds a writer (an ingest) waits while another process has the store open, unless told otherwise.
WRITE_WAIT = 30.0


def write_wait(wait: float | None = None) -> float:
    """Seconds a writer waits for the store: ``wait``, else ``$FLAMEKIT_STORE_WAIT``, else :data:`WRITE_WAIT`.

    Raises
    ------
    StoreError
        ``$FLAMEKIT_STORE_WAIT`` or ``wait`` is not a number of seconds (0 or more).
    """
    if wait is None:
        env = os.environ.get("FLAMEKIT_STORE_WAIT", "").strip()
        if not env:
            return WRITE_WAIT
        try:
            wait = float(env)
        except ValueError:
            wait = -1.0
        if not wait >= 0:
            raise StoreError(f"$FLAMEKIT_STORE_WAIT is {env!r}; set it to the seconds an ingest may wait for the "
                             "store (e.g. 60), or unset it for 30.")
    if not (isinstance(wait, (int, float)) and wait >= 0):
        raise StoreError(f"The wait for the store must be 0 or more seconds, not {wait!r}.")
    return float(wait)


@contextmanager
def connect(store: str | Path | None = None, *, read_only: bool = True,
            wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store; read-only unless writing.  Creates the schema when writing.

    DuckDB lets one process write a file, or several read it.  A writer
    waits up to ``wait`` seconds (default :func:`write_wait`: ``$FLAMEKIT_STORE_WAIT``,
    else 30) while another process has the file open, trying again with a
    short back-off, so a scheduled ingest does not fail because a report or
    another ingest was using the store.  A reader waits a second for a
    writer, as before.  Then a :class:`StoreError` says how long it waited.

    A store written by an earlier version is upgraded the first time it is
    read: the tables and columns it lacks are added (nothing is removed or
    changed).  The upgrade needs the file to itself for a moment; while other
    processes read it, it is tried again for a few seconds (one of them does
    it, the others find it done).  If it still cannot be done (a reader that
    stays, a file that cannot be written) the store is read as it is, with a
    :class:`StoreWarning`, and a query that needs a new column raises a
    :class:`StoreError` saying how to upgrade.  A DuckDB file that is not a
    flamekit store is never changed.

    ``$FLAMEKIT_DUCKDB_THREADS`` (a positive integer) caps DuckDB's threads
    per connection; unset, DuckDB uses every core.
    """
    path = _path(store)
    if read_only and not path.exists():
        raise StoreError(
            f"No store at {path}. Ingest survey exports first (`flamekit ingest …`, or `make demo` for sample data)."
        )
    if not read_only:
        wait = write_wait(wait)
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {}
    threads = os.environ.get("FLAMEKIT_DUCKDB_THREADS", "").strip()
    if threads.isdigit() and int(threads) > 0:  # set by the report batch so parallel workers do not oversubscribe
        config["threads"] = int(threads)
    con = _open(path, read_only=read_only, config=config, wait=None if read_only else wait)
    missing: list[str] = []
    try:
        if not read_only:
            con.execute(SCHEMA)
        elif _outdated(con, path):
            con.close()
            con, missing = _upgrade(path, config)
        yield con
    except duckdb.BinderException as exc:
        if missing:
            raise StoreError(
                f"The store {path} was written by an earlier version of flamekit and lacks {', '.join(missing)}; "
                "adding them needs the file to itself, which failed. Close the other programs that have it "
                "open (or make it writable) and run any `flamekit ingest` on it, then try again."
            ) from exc
        raise
    finally:
        con.close()


class StoreWarning(UserWarning):
    """The store could be read, but not as this version expects it."""


def _open(path: Path, *, read_only: bool, config: dict, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """Connect, waiting up to ``wait`` seconds while another process holds the file (default: a reader 1 s,
    a writer not at all); tries again after a pause that doubles up to 0.2 s (a reader) or 0.5 s (a writer)."""
    import random
    import time

    wait = (1.0 if read_only else 0.0) if wait is None else wait
    start = time.monotonic()
    pause = 0.01
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() - start + pause > wait:
                waited = "" if not wait else f" Waited {wait:g} s for it" + (
                    "." if read_only else " (an ingest's wait is set by $FLAMEKIT_STORE_WAIT, in seconds).")
                raise StoreError(
                    f"The store {path} is open for writing in another process (an ingest, or a notebook holding "
                    "a write connection). Wait for it to finish, or close that connection, and try again." + waited
                ) from exc
            time.sleep(pause * (0.75 + 0.5 * random.random()))  # jitter: waiting writers do not retry in step
            pause = min(pause * 2, 0.2 if read_only else 0.5)


@lru_cache(maxsize=1)
def _schema_columns() -> frozenset[tuple[str, str]]:
    """(table, column) of every column this version's schema has."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(SCHEMA)
        return frozenset(con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall())
    finally:
        con.close()


_UP_TO_DATE: set[tuple[str, int, int]] = set()  # stores (path, mtime, size) found current in this process
_NOT_UPGRADED: set[tuple[str, int, int]] = set()  # old stores that could not be upgraded in this process
_CORE_TABLES = {"accounts", "responses", "ingests"}  # what makes a DuckDB file a flamekit store


def _outdated(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Columns of this version's schema that a flamekit store lacks (checked once per process and file state).

    A file without the core tables is not a flamekit store: nothing to upgrade (its reads fail on their own).
    """
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key in _UP_TO_DATE:
        return []
    have = set(con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall())
    missing = sorted(f"{t}.{c}" for t, c in _schema_columns() - have)
    if not missing or not _CORE_TABLES <= {t for t, _ in have}:
        _UP_TO_DATE.add(key)
        return []
    return missing


def _upgrade(path: Path, config: dict, *, tries: int = 12) -> tuple[duckdb.DuckDBPyConnection, list[str]]:
    """Add what a store written by an earlier version lacks; a read-only connection and what is still missing.

    Other processes reading the same old store try the same; whoever gets the
    file first upgrades it, the others find it done.  After ``tries`` (about
    3 s) the store is read as it is, with a :class:`StoreWarning`.
    """
    import random
    import time
    import warnings

    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    again = key in _NOT_UPGRADED  # tried and warned already in this process: one quick try, no wait, no warning
    error: Exception | None = None
    for attempt in range(1 if again else tries):
        try:
            con = _open(path, read_only=False, config=config)
        except (StoreError, duckdb.Error) as exc:
            error = exc.__cause__ or exc  # DuckDB's own words: the file is busy, or cannot be written
        else:
            try:
                con.execute(SCHEMA)
            finally:
                con.close()
        con = _open(path, read_only=True, config=config, wait=5.0)  # another reader may be upgrading it
        missing = _outdated(con, path)
        if not missing:
            return con, []
        con.close()
        if not again:
            time.sleep(min(0.5, 0.02 * 2 ** attempt) * (0.5 + random.random()))
    if again:
        return _open(path, read_only=True, config=config), missing
    _NOT_UPGRADED.add(key)
    warnings.warn(f"The store {path} was written by an earlier version of flamekit and lacks {', '.join(missing)}; "
                  f"it could not be upgraded ({error}). It is read as it is: what needs the new columns fails.",
                  StoreWarning, stacklevel=4)
    return _open(path, read_only=True, config=config), missing


def _as_list(value: str | Iterable[str] | None) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _where(filters: dict[str, list[str] | None], alias: str = "") -> tuple[str, list]:
    clauses, params = [], []
    pre = f"{alias}." if alias else ""
    for col, values in filters.items():
        if values is None:
            continue
        clauses.append(f"{pre}{col} IN ({', '.join('?' for _ in values)})")
        params.extend(values)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _current_responses(*, account: str | Iterable[str] | None, wave: str | Iterable[str] | None,
                       side: str | Iterable[str] | None, alias: str = "") -> tuple[str, list]:
    """WHERE clause and parameters for the responses of these accounts, waves and sides that no later
    resubmission superseded."""
    where, params = _where({"account_id": _as_list(account), "wave": _as_list(wave), "side": _as_list(side)},
                           alias)
    current = f"{alias}.superseded_by IS NULL" if alias else "superseded_by IS NULL"
    return (f"{where} AND {current}" if where else f" WHERE {current}"), params


def query(sql: str, params: list | None = None, *, store: str | Path | None = None) -> pd.DataFrame:
    """Run a read-only SQL query against the store and return a DataFrame."""
    with connect(store) as con:
        return con.execute(sql, params or []).df()


def load_accounts(*, store: str | Path | None = None) -> pd.DataFrame:
    """All accounts: account_id, name, segment, owner, contract_start, renewal_date, status, annual_value."""
    return query(
        "SELECT account_id, name, segment, owner, contract_start, renewal_date, status, annual_value "
        "FROM accounts ORDER BY account_id",
        store=store,
    )


def load_responses(
    *,
    account: str | Iterable[str] | None = None,
    wave: str | Iterable[str] | None = None,
    side: str | Iterable[str] | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Survey responses, one row per response (item answers are in :func:`load_answers`).

    Parameters
    ----------
    account, wave, side : str or list of str, optional
        Filters, applied in the database.  ``None`` means all.
    store : path, optional
        The store file (default :func:`default_store`).

    Returns
    -------
    DataFrame
        response_id, account_id, side, wave, submitted_at, respondent_id, role,
        team, nps, comment, duration_min, straightlining.  Responses superseded by
        a later resubmission of the same respondent stay in the store but are left out.
    """
    where, params = _current_responses(account=account, wave=wave, side=side)
    return query(
        "SELECT response_id, account_id, side, wave, submitted_at, respondent_id, role, team, "
        f"nps, comment, duration_min, straightlining FROM responses{where} "
        "ORDER BY account_id, wave, side, response_id",
        params,
        store=store,
    )


def load_answers(
    *,
    account: str | Iterable[str] | None = None,
    wave: str | Iterable[str] | None = None,
    side: str | Iterable[str] | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Item answers in long form, one row per response × item.

    Returns
    -------
    DataFrame
        response_id, account_id, side, wave, role, team, item, value
        (``value`` is NaN for "don't know").
    """
    where, params = _current_responses(account=account, wave=wave, side=side, alias="r")
    return query(
        "SELECT a.response_id, r.account_id, r.side, r.wave, r.role, r.team, a.item, a.value "
        f"FROM answers a JOIN responses r USING (response_id){where} "
        "ORDER BY r.account_id, r.wave, r.side, a.response_id, a.item",
        params,
        store=store,
    )


def load_touchpoints(
    *,
    account: str | Iterable[str] | None = None,
    start: str | None = None,
    end: str | None = None,
    store: str | Path | None = None,
) -> pd.DataFrame:
    """Transactional NPS events: account_id, visit_at, answered_at, score, comment.

    ``start``/``end`` filter on ``answered_at`` (inclusive start, exclusive end).
    """
    where, params = _where({"account_id": _as_list(account)})
    extra = []
    if start is not None:
        extra.append("answered_at >= CAST(? AS TIMESTAMP)")
        params.append(start)
    if end is not None:
        extra.append("answered_at < CAST(? AS TIMESTAMP)")
        params.append(end)
    if extra:
        where = (where + " AND " if where else " WHERE ") + " AND ".join(extra)
    return query(
        f"SELECT touchpoint_id, account_id, visit_at, answered_at, score, comment FROM touchpoints{where} "
        "ORDER BY account_id, answered_at",
        params,
        store=store,
    )


def load_quarantine(*, file: str | None = None, store: str | Path | None = None) -> pd.DataFrame:
    """Rejected rows and cells: file, kind, wave, row, line, column, value, reason.

    ``row`` is the row as a spreadsheet shows the file; ``line`` (CSV only) the
    line as a text editor does, which is further down when a quoted cell above
    spans lines.
    """
    where, params = _where({"file": _as_list(file)})
    return query(
        f'SELECT file, kind, wave, "row", line, "column", value, reason, ingested_at FROM quarantine{where} '
        'ORDER BY file, "row", "column"',
        params,
        store=store,
    )


def waves(*, store: str | Path | None = None) -> list[str]:
    """The survey waves in the store, oldest first.

    Waves are ordered by when they were answered (the median ``submitted_at`` of
    their responses), not by their labels, so ``W9`` comes before ``W10`` and
    ``Syksy 2025`` before ``Kevät 2026``.  Waves without any submission time fall
    back to :func:`natural_key` order of their labels, after the dated ones.
    """
    with connect(store) as con:
        if is_extract(con):  # one account's rows cannot tell the portfolio's order: the extract carries it
            return [w for (w,) in con.execute("SELECT wave FROM extract_waves ORDER BY position").fetchall()]
        df = con.execute("SELECT wave, median(submitted_at) AS mid FROM responses GROUP BY wave").df()
    return sort_waves(df["wave"].tolist(), dated=dict(zip(df["wave"], df["mid"])))


# ---------------------------------------------------------------------------
# Account extracts
# ---------------------------------------------------------------------------
# An account extract (:mod:`helpers.batch.extract`) is a store file holding one account's rows, made for a
# report rendered on a machine that has no copy of the store.  What the full store alone can tell — the order
# of the waves and the other accounts' aggregates for the benchmark — it carries precomputed, in tables
# that a full store never has (``extract_*``); :func:`waves` and :func:`extract_aggregates` read them.
def is_extract(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the open store is one account's extract (:mod:`helpers.batch.extract`)."""
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'extract_waves'").fetchone()[0])


def extract_aggregates(setting: str, *, store: str | Path | None = None) -> pd.DataFrame | None:
    """The portfolio aggregates an account extract carries for ``setting``; None for a full store.

    Parameters
    ----------
    setting : str
        What the aggregates were computed for (wave, side, instrument,
        minimum items, confidence level), as
        :func:`helpers.stats.benchmark.portfolio_aggregates` names it.
    store : path, optional

    Raises
    ------
    StoreError
        The store is an extract without aggregates for ``setting``.
    """
    with connect(store) as con:
        if not is_extract(con):
            return None
        have = [s for (s,) in con.execute("SELECT setting FROM extract_settings ORDER BY setting").fetchall()]
        if setting not in have:
            raise StoreError(f"The store {_path(store)} is one account's extract; it carries the portfolio "
                             f"aggregates for {', '.join(have) or 'nothing'}, not for {setting}. Render this "
                             "report where the full store can be read (e.g. `flamekit reports --shared-store`).")
        return con.execute("SELECT * EXCLUDE (setting, position) FROM extract_aggregates WHERE setting = ? "
                           "ORDER BY position", [setting]).df()


def natural_key(label: str) -> tuple:
    """Sort key that compares digit runs as numbers: ``W9`` < ``W10``, ``2025Q4`` < ``2026Q1``."""
    import re

    return tuple(int(t) if t.isdigit() else t.casefold() for t in re.split(r"(\d+)", str(label)))


def sort_waves(labels: Iterable[str], *, dated: dict | None = None) -> list[str]:
    """Order wave labels: by their date when known (``dated``: label → timestamp), else naturally."""
    dated = {k: v for k, v in (dated or {}).items() if v is not None and not pd.isna(v)}
    return sorted(set(labels), key=lambda w: (0, pd.Timestamp(dated[w]), natural_key(w)) if w in dated
                  else (1, pd.Timestamp.min, natural_key(w)))


def data_hash(*, store: str | Path | None = None) -> str:
    """A short content hash of every file ingested into the store, and of every erasure (``flamekit forget``).

    Reports print it in their methods note and the batch uses it to skip
    unchanged inputs (a report's benchmark depends on every account, so any
    ingest changes every report).
    """
    import hashlib

    with connect(store) as con:
        files = con.execute("SELECT file_sha256 FROM ingests ORDER BY file_sha256").fetchall()
        try:
            erased = con.execute("SELECT token FROM erasures ORDER BY token").fetchall()
        except duckdb.CatalogException:  # an earlier version's store that could not be upgraded: none yet
            erased = []
    # A `flamekit forget` changes what the pages may show without a new file: its token is part of the hash,
    # so the batch renders every report again instead of keeping pages with the forgotten comments.
    h = hashlib.sha256("".join(f[0] for f in files).encode() + "".join(e[0] for e in erased).encode())
    return h.hexdigest()[:16]
