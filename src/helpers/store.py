"""The store: one embedded DuckDB database file holding every ingested survey.

Tables (one row per …):

``accounts``     account (master data from the CRM)
``responses``    survey response: who answered, when, NPS, comment, flags
``answers``      response × item (long, tidy): the 1–5 item answers
``touchpoints``  transactional NPS event (e.g. sent two hours after a service visit)
``quarantine``   rejected cell or row, with file, row (and CSV line), column, value and reason
``ingests``      ingested file (content hash), to make re-ingesting a no-op

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

PROJECT_ROOT = Path(__file__).resolve().parents[2]

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
"""


class StoreError(RuntimeError):
    """The store file is missing or cannot be opened."""


def default_store() -> Path:
    """Path of the store: ``$FLAMEKIT_STORE`` or ``data/flamekit.duckdb`` in the project."""
    env = os.environ.get("FLAMEKIT_STORE")
    return Path(env) if env else PROJECT_ROOT / "data" / "flamekit.duckdb"


def _path(store: str | Path | None) -> Path:
    return Path(store) if store is not None else default_store()


@contextmanager
def connect(store: str | Path | None = None, *, read_only: bool = True) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the store; read-only unless writing.  Creates the schema when writing.

    A store written by an earlier version is upgraded the first time it is
    read: the tables and columns it lacks are added (nothing is removed or
    changed), so its readers never fail on a column it did not have yet.  If
    another process has it open, that is a :class:`StoreError` saying so.

    ``$FLAMEKIT_DUCKDB_THREADS`` (a positive integer) caps DuckDB's threads
    per connection; unset, DuckDB uses every core.
    """
    path = _path(store)
    if read_only and not path.exists():
        raise StoreError(
            f"No store at {path}. Ingest survey exports first (`flamekit ingest …`, or `make demo` for sample data)."
        )
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    config = {}
    threads = os.environ.get("FLAMEKIT_DUCKDB_THREADS", "").strip()
    if threads.isdigit() and int(threads) > 0:  # set by the report batch so parallel workers do not oversubscribe
        config["threads"] = int(threads)
    con = _open(path, read_only=read_only, config=config)
    try:
        if not read_only:
            con.execute(SCHEMA)
        elif _outdated(con, path):
            con.close()
            _upgrade(path, config)
            con = _open(path, read_only=True, config=config)
        yield con
    finally:
        con.close()


def _open(path: Path, *, read_only: bool, config: dict) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(str(path), read_only=read_only, config=config)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise StoreError(
                f"The store {path} is open for writing in another process (an ingest, or a notebook holding "
                "a write connection). Wait for it to finish, or close that connection, and try again."
            ) from exc
        raise


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


def _outdated(con: duckdb.DuckDBPyConnection, path: Path) -> list[str]:
    """Columns of this version's schema that the store lacks (checked once per process and file state)."""
    st = path.stat()
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key in _UP_TO_DATE:
        return []
    have = set(con.execute("SELECT table_name, column_name FROM information_schema.columns").fetchall())
    missing = sorted(f"{t}.{c}" for t, c in _schema_columns() - have)
    if not missing:
        _UP_TO_DATE.add(key)
    return missing


def _upgrade(path: Path, config: dict) -> None:
    """Add what a store written by an earlier version lacks (tables, columns); nothing is removed or changed."""
    try:
        con = _open(path, read_only=False, config=config)
    except (StoreError, duckdb.Error) as exc:
        raise StoreError(
            f"The store {path} was written by an earlier version of flamekit and needs new columns, which are "
            f"added the first time it is opened for writing; that failed ({exc}). Run any `flamekit ingest` "
            "on it, or make the file writable, and try again."
        ) from exc
    try:
        con.execute(SCHEMA)
    finally:
        con.close()


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
    where, params = _where({"account_id": _as_list(account), "wave": _as_list(wave), "side": _as_list(side)})
    return query(
        "SELECT response_id, account_id, side, wave, submitted_at, respondent_id, role, team, "
        f"nps, comment, duration_min, straightlining FROM responses{where} "
        + (" AND " if where else " WHERE ") + "superseded_by IS NULL "
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
    where, params = _where(
        {"r.account_id": _as_list(account), "r.wave": _as_list(wave), "r.side": _as_list(side)}
    )
    return query(
        "SELECT a.response_id, r.account_id, r.side, r.wave, r.role, r.team, a.item, a.value "
        f"FROM answers a JOIN responses r USING (response_id){where} "
        + (" AND " if where else " WHERE ") + "r.superseded_by IS NULL "
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
    df = query("SELECT wave, median(submitted_at) AS mid FROM responses GROUP BY wave", store=store)
    return sort_waves(df["wave"].tolist(), dated=dict(zip(df["wave"], df["mid"])))


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
    """A short content hash of every file ingested into the store.

    Reports print it in their methods note and the batch uses it to skip
    unchanged inputs (a report's benchmark depends on every account, so any
    ingest changes every report).
    """
    import hashlib

    with connect(store) as con:
        files = con.execute("SELECT file_sha256 FROM ingests ORDER BY file_sha256").fetchall()
    h = hashlib.sha256("".join(f[0] for f in files).encode())
    return h.hexdigest()[:16]
