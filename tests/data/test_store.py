"""Store loaders: filters in SQL, one account never brings another's rows."""

from __future__ import annotations

from contextlib import contextmanager

import duckdb
import pytest

from helpers.data.store import (
    StoreError,
    data_hash,
    load_accounts,
    load_answers,
    load_responses,
    load_touchpoints,
    query,
    waves,
)


def test_sample_store_contents(sample_store):
    acc = load_accounts(store=sample_store)
    assert len(acc) == 60 and set(acc["status"]) == {"active", "renewed", "churned"}
    assert waves(store=sample_store) == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert any("ä" in n or "ö" in n or "Å" in n for n in acc["name"])


def test_load_one_account_only(sample_store, monkeypatch):
    seen = []
    import helpers.data.store as st

    real = st.query

    def spy(sql, params=None, *, store=None):
        seen.append((sql, params))
        return real(sql, params, store=store)

    monkeypatch.setattr(st, "query", spy)
    resp = load_responses(account="A007", wave="2026Q3", side="client", store=sample_store)
    assert set(resp["account_id"]) == {"A007"} and set(resp["side"]) == {"client"} and len(resp) >= 3
    ans = load_answers(account="A007", store=sample_store)
    assert set(ans["account_id"]) == {"A007"}
    # the filter is a SQL parameter, so other accounts' rows are never materialised in Python
    assert all("IN (?" in sql and "A007" in params for sql, params in seen)


def test_multiple_accounts_and_touchpoints(sample_store):
    resp = load_responses(account=["A001", "A002"], store=sample_store)
    assert set(resp["account_id"]) == {"A001", "A002"}
    tp = load_touchpoints(account="A003", start="2026-01-01", end="2026-02-01", store=sample_store)
    assert set(tp["account_id"]) == {"A003"}
    assert tp["answered_at"].min() >= __import__("pandas").Timestamp("2026-01-01")
    assert tp["answered_at"].max() < __import__("pandas").Timestamp("2026-02-01")


def test_several_readers_at_once(sample_store):
    a = duckdb.connect(str(sample_store), read_only=True)
    try:
        assert len(load_accounts(store=sample_store)) == 60  # a second read-only connection works
    finally:
        a.close()


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="No store at .*flamekit ingest"):
        load_accounts(store=tmp_path / "none.duckdb")


def test_data_hash_stable(sample_store):
    assert data_hash(store=sample_store) == data_hash(store=sample_store)
    assert len(data_hash(store=sample_store)) == 16


def test_sample_quarantine_shows_planted_errors(sample_store):
    q = query('SELECT "row", reason FROM quarantine WHERE file LIKE \'%client_2026Q3%\'', store=sample_store)
    reasons = " | ".join(q["reason"])
    for expected in ("outside the 1–5 scale", "outside the 0–10 NPS scale", "not a known account",
                     "duplicates response id", "superseded by a resubmission", "is in the future",
                     "is not a valid id: it contains U+0007 (a control character)"):
        assert expected in reasons
    # the account name planted with a right-to-left override is stored as simulated, without it
    names = load_accounts(store=sample_store)["name"]
    assert "Sävel Media" in set(names) and not names.str.contains("\u202e").any()
    staff_q = query("SELECT count(*) AS n FROM quarantine WHERE reason LIKE '%preview%'", store=sample_store)
    assert staff_q["n"].iloc[0] == 8  # two preview rows in each of the four staff exports


def test_store_locked_by_a_writer_is_a_clear_error(tmp_path):
    from helpers.data.store import connect

    path = tmp_path / "locked.duckdb"
    with connect(path, read_only=False):
        pass
    with held(path, read_only=False), pytest.raises(StoreError, match="open for writing in another process"):
        load_accounts(store=path)


@contextmanager
def held(path, *, read_only):
    """Another process holds a connection to the store while the block runs (or until the event it yields is set)."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold, args=(str(path), read_only, ready, done))
    p.start()
    try:
        assert ready.wait(30)
        yield done
    finally:
        done.set()
        p.join(30)


def _hold(path, read_only, ready, done):
    con = duckdb.connect(path, read_only=read_only)
    ready.set()
    done.wait(30)
    con.close()


def _ingest_accounts(path, tmp_path, name="Mäkelä Oy", **kw):
    import pandas as pd

    from helpers.data.ingest import ingest

    csv = tmp_path / "acc.csv"
    pd.DataFrame({"account_id": ["A1"], "name": [name]}).to_csv(csv, index=False)
    return ingest(csv, kind="accounts", store=path, **kw)


def test_an_ingest_waits_for_a_busy_store_and_then_says_how_long(tmp_path, monkeypatch):
    import time

    from helpers.data.store import connect

    path = tmp_path / "busy.duckdb"
    with connect(path, read_only=False):
        pass
    with held(path, read_only=False):
        t0 = time.monotonic()
        with pytest.raises(StoreError, match=r"open for writing in another process.*Waited 1\.5 s for it "
                                             r"\(an ingest's wait is set by \$FLAMEKIT_STORE_WAIT"):
            _ingest_accounts(path, tmp_path, wait=1.5)
        assert 1.0 <= time.monotonic() - t0 < 10
        monkeypatch.setenv("FLAMEKIT_STORE_WAIT", "0.5")
        with pytest.raises(StoreError, match=r"Waited 0\.5 s"):
            _ingest_accounts(path, tmp_path)
        monkeypatch.setenv("FLAMEKIT_STORE_WAIT", "soon")
        with pytest.raises(StoreError, match=r"\$FLAMEKIT_STORE_WAIT is 'soon'"):
            _ingest_accounts(path, tmp_path)
    assert load_accounts(store=path).empty  # nothing was written meanwhile


def test_an_ingest_goes_ahead_once_the_other_process_lets_go(tmp_path, monkeypatch):
    import threading
    import time

    from helpers.data.store import connect

    path = tmp_path / "busy.duckdb"
    with connect(path, read_only=False):
        pass
    monkeypatch.setenv("FLAMEKIT_STORE_WAIT", "30")
    for name, read_only in (("Mäkelä Oy", False), ("Mäkelä Oyj", True)):  # another ingest, or a report reading
        with held(path, read_only=read_only) as release:
            threading.Timer(1.0, release.set).start()
            t0 = time.monotonic()
            assert _ingest_accounts(path, tmp_path, name).rows_stored == 1
            assert time.monotonic() - t0 >= 0.9
        assert load_accounts(store=path)["name"].tolist() == [name]


def test_duckdb_threads_can_be_capped_for_parallel_workers(sample_store, monkeypatch):
    from helpers.data.store import query

    monkeypatch.setenv("FLAMEKIT_DUCKDB_THREADS", "1")
    assert query("SELECT current_setting('threads') AS t", store=sample_store)["t"].iloc[0] == 1
    monkeypatch.setenv("FLAMEKIT_DUCKDB_THREADS", "not a number")  # ignored, not an error
    assert query("SELECT current_setting('threads') AS t", store=sample_store)["t"].iloc[0] >= 1


def _old_store(path):
    """A store as an earlier version wrote it: no responses.superseded_by column."""
    from helpers.data.store import connect

    with connect(path, read_only=False) as con:
        con.execute("ALTER TABLE responses DROP COLUMN superseded_by")
        con.execute("ALTER TABLE quarantine DROP COLUMN line")
        con.execute("INSERT INTO accounts (account_id, name) VALUES ('A1', 'Mäkelä Oy')")
        con.execute("INSERT INTO responses (response_id, account_id, side, wave, nps) "
                    "VALUES ('r1', 'A1', 'client', '2026Q3', 9)")


def test_store_of_an_earlier_version_is_upgraded_when_read(tmp_path):
    path = tmp_path / "old.duckdb"
    _old_store(path)
    resp = load_responses(store=path)  # reads through superseded_by, which the store did not have
    assert list(resp["response_id"]) == ["r1"]
    cols = query("SELECT column_name FROM information_schema.columns WHERE table_name = 'responses'", store=path)
    assert "superseded_by" in set(cols["column_name"])
    assert load_accounts(store=path)["name"].tolist() == ["Mäkelä Oy"]  # nothing else changed
    from helpers.data.store import load_quarantine

    assert "line" in load_quarantine(store=path).columns


def test_store_of_an_earlier_version_held_by_a_reader_is_read_as_it_is(tmp_path):
    from helpers.data.store import StoreWarning

    path = tmp_path / "old.duckdb"
    _old_store(path)
    with held(path, read_only=True):
        with pytest.warns(StoreWarning, match="could not be upgraded"):
            assert load_accounts(store=path)["name"].tolist() == ["Mäkelä Oy"]  # needs nothing new: works
        with pytest.raises(StoreError, match="lacks .*superseded_by.*flamekit ingest"):
            load_responses(store=path)  # needs the new column: says what to do (warned once, not again)
    assert len(load_responses(store=path)) == 1  # once the reader is gone, the upgrade goes through


def test_readers_of_an_earlier_version_at_once_all_get_their_data(tmp_path):
    import multiprocessing as mp

    path = tmp_path / "old.duckdb"
    _old_store(path)
    ctx = mp.get_context("spawn")
    with ctx.Pool(4) as pool:
        got = pool.map(_read_responses, [str(path)] * 8)
    assert got == [["r1"]] * 8  # one of them upgraded the store, the others found it done


def _read_responses(path):
    import warnings

    warnings.simplefilter("error")  # no reader may fall back to reading the old store as it is
    return load_responses(store=path)["response_id"].tolist()


def test_a_duckdb_file_that_is_not_a_store_is_left_alone(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE notes (x INTEGER)")
    con.close()
    with pytest.raises(duckdb.CatalogException):
        load_accounts(store=path)
    con = duckdb.connect(str(path), read_only=True)
    try:  # no flamekit table was written into it
        assert [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()] == ["notes"]
    finally:
        con.close()
