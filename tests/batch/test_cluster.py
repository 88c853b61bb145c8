"""The batch on a Dask cluster: the same files as the built-in pool, account extracts, a worker lost mid-batch."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from helpers.batch import extract as ex
from helpers.batch import run as batch_run
from helpers.data import store as st
from helpers.data.store import StoreError

distributed = pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "report_fixture.ipynb"
WAVE = "2026Q3"


def _same(a, b, where=""):
    """Nested report data equal: frames with assert_frame_equal, the rest with ==."""
    if isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, obj=where)
    elif dataclasses.is_dataclass(a):  # field by field; "as of" is the moment each was computed
        for f in dataclasses.fields(a):
            if f.name != "as_of":
                _same(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for k in a:
            _same(a[k], b[k], f"{where}.{k}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    else:
        assert a == b or (a != a and b != b), (where, a, b)


def _extract(sample_store, tmp_path, account_id):
    waves = st.waves(store=sample_store)
    parts = ex.portfolio_parts(sample_store, WAVE)
    extract = ex.account_extract(parts, account_id, store=sample_store, waves=waves[: waves.index(WAVE) + 1])
    return ex.write_extract(extract, tmp_path / f"{account_id}.duckdb")


def test_an_extract_holds_one_account_and_gives_its_report_the_same_data(sample_store, tmp_path):
    from helpers.report.account import account_report_data
    from helpers.stats import benchmark as bm

    path = _extract(sample_store, tmp_path, "A002")
    # nothing of another account but anonymous aggregates
    assert set(st.query("SELECT account_id FROM responses UNION SELECT account_id FROM answers",
                        store=path)["account_id"]) == {"A002"}
    assert st.query("SELECT account_id FROM accounts WHERE account_id IS NOT NULL", store=path)["account_id"].tolist() \
        == ["A002"]
    carried = bm.portfolio_aggregates(WAVE, store=path)
    full = bm.portfolio_aggregates(WAVE, store=sample_store)
    assert set(carried["account_id"]) - {"A002"} <= {f"~{i}" for i in range(1, len(full) + 1)}
    assert not set(carried["account_id"]) & (set(full["account_id"]) - {"A002"})
    mine = carried[carried["account_id"] == "A002"].reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, full[full["account_id"] == "A002"].reset_index(drop=True))
    # what the whole portfolio tells, carried over
    assert st.waves(store=path) == st.waves(store=sample_store)
    assert st.data_hash(store=path) == st.data_hash(store=sample_store)
    # every section of the report as from the full store
    _same(account_report_data("A002", WAVE, store=path), account_report_data("A002", WAVE, store=sample_store))
    # aggregates it was not made for are an error, not a benchmark of one account
    with pytest.raises(StoreError, match="one account's extract.*--shared-store"):
        bm.portfolio_aggregates(WAVE, store=path, side="staff")


def _files(out_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out_dir.iterdir()) if p.suffix in (".html", ".ipynb")}


@pytest.mark.slow
def test_a_local_cluster_writes_the_pool_s_files_byte_for_byte(sample_store, tmp_path):
    ids = ["A001", "A002"]
    extras = {"portfolio": ROOT / "notebooks" / "portfolio.ipynb"}

    def batch(name, **kw):
        return batch_run.run_batch(WAVE, accounts=ids, store=sample_store, out_root=tmp_path / name, jobs=2,
                                   progress=False, **kw)

    pool = batch("pool", extra_notebooks=extras)
    extracts = batch("extracts", extra_notebooks=extras, scheduler="local")
    # the same pages in each batch: the navigation bar of every page names the pages of its batch
    shared = batch("shared", extra_notebooks=extras, scheduler="local", shared_store=True)
    for res in (pool, extracts, shared):
        assert res.exit_code == 0 and all(r.ok for r in res.reports)
    want = _files(pool.out_dir)
    assert len(want) == 2 * (len(ids) + 1) + 1  # + index.html
    assert _files(extracts.out_dir) == want
    assert _files(shared.out_dir) == want
    # the journal and the manifest are kept here as for the pool
    for r in extracts.reports:
        assert (extracts.out_dir / ".done" / f"{r.slug}.json").is_file()
        assert Path(r.html).parent == extracts.out_dir and Path(r.notebook).is_file()
    assert {r.worker_pid for r in extracts.reports if r.kind == "account"} != {os.getpid()}
    # a second run skips what is unchanged, as with the pool
    again = batch("extracts", extra_notebooks=extras, scheduler="local")
    assert {r.action for r in again.reports} == {"unchanged"}


def _held_notebook(folder: Path) -> Path:
    """The fixture report; an account whose file is in $FLAMEKIT_TEST_HOLD waits while the file is there."""
    nb = nbformat.read(FIXTURE, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
        "import os\nimport time\n\n"
        'hold = os.path.join(os.environ.get("FLAMEKIT_TEST_HOLD", "/nonexistent"), account_id)\n'
        "if os.path.exists(hold):\n"
        '    open(hold + ".waiting", "w").close()\n'
        "while os.path.exists(hold):\n"
        "    time.sleep(0.1)"))
    path = folder / "held_report.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_no_report(sample_store, tmp_path, monkeypatch):
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "A002").touch()
    monkeypatch.setenv("FLAMEKIT_TEST_HOLD", str(hold))  # the workers and their kernels inherit it
    notebook = _held_notebook(tmp_path)
    ids = ["A001", "A002", "A003", "A004"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        out: dict = {}

        def batch():
            out["result"] = batch_run.run_batch(
                WAVE, accounts=ids, store=sample_store, out_root=tmp_path / "reports", notebook=notebook,
                extra_notebooks={}, parameters={"fail_account": "A004"}, progress=False,
                scheduler=cluster.scheduler_address, shared_store=True)

        thread = threading.Thread(target=batch)
        thread.start()
        deadline = time.monotonic() + 300
        while not (hold / "A002.waiting").exists():  # A002's report is running on a worker
            assert time.monotonic() < deadline and thread.is_alive(), "A002's report never started"
            time.sleep(0.2)
        running = [w for w, keys in client.processing().items() if any("mäkelä-rakennus-a002" in str(k)
                                                                       for k in keys)]
        assert len(running) == 1
        pid = client.run(os.getpid, workers=running)[running[0]]
        os.kill(pid, signal.SIGKILL)
        (hold / "A002").unlink()
        thread.join(timeout=300)
        assert not thread.is_alive()
    res = out["result"]
    # every report rendered, or failed by itself: the planted failure is listed, not retried into a crash
    assert [r.account_id for r in res.failed] == ["A004"]
    assert res.failed[0].error.startswith("RuntimeError: planted failure for A004")
    again = {r.account_id: r for r in res.reports}
    assert all(again[a].ok and Path(again[a].html).is_file() for a in ("A001", "A002", "A003"))
    assert again["A002"].worker_pid != pid  # rendered again by another worker


def test_an_extract_carries_the_account_s_follow_ups_without_notes(sample_store, tmp_path):
    import shutil

    from helpers.data.followups import load_loop, load_outcomes, queue_counts
    from helpers.data.ingest import ingest
    from helpers.followup import run_followup

    store = tmp_path / "loop.duckdb"
    shutil.copy(sample_store, store)
    run_followup(store=store, out=tmp_path / "queue", since="2026Q2", now=pd.Timestamp("2026-12-01 09:00"))
    ingest(sample_store.parent / "exports" / "followup_outcomes.xlsx", kind="followups", store=store)
    full = load_loop(store=store)
    account = full.loc[full["n_outcomes"] > 0, "account_id"].iloc[0]
    path = _extract(store, tmp_path, account)

    carried = load_loop(store=path)
    assert set(carried["account_id"]) == {account}  # nothing of any other account's loop
    mine = full[full["account_id"] == account].reset_index(drop=True)
    pd.testing.assert_frame_equal(carried.drop(columns="respondent_id"), mine.drop(columns="respondent_id"))
    outcomes = load_outcomes(store=path)
    assert len(outcomes) and outcomes["note"].isna().all()  # the owners' notes stay home
    # the whole queue's size as the full store tells it, for "not reached this wave yet" vs "none at all"
    assert queue_counts(WAVE, store=path) == queue_counts(WAVE, store=store) != (len(carried), len(carried))
    # and the account's report says the same of its loop from its extract
    from helpers.report.account import account_report_data
    from helpers.report.account.loop import loop_words

    words = [loop_words(account_report_data(account, WAVE, store=where)["followups"]) for where in (path, store)]
    assert words[0] == words[1] and words[0]
