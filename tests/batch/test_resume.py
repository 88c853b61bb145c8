"""An interrupted batch resumes: every report is recorded as it finishes, and a rerun renders only the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import nbformat
import pytest

from helpers.batch import journal
from helpers.batch import run as batch_run

FIXTURE = Path(__file__).parents[1] / "fixtures" / "report_fixture.ipynb"
WAVE = "2026Q3"
ACCOUNTS = ["A001", "A002", "A003", "A004", "A005"]
# rendered in this order (by name) with one job; the last two sleep in the first run
SLUGS = {"A004": "järvi-suomen-vesi-a004", "A005": "kärkkäinen-retail-a005", "A002": "mäkelä-rakennus-a002",
         "A001": "pohjolan-energia-a001", "A003": "åbo-logistik-a003"}
BATCH = """
import sys

from helpers.batch import run_batch

if __name__ == "__main__":
    store, out, notebook, *accounts = sys.argv[1:]
    run_batch("2026Q3", accounts=accounts, store=store, out_root=out, notebook=notebook, extra_notebooks={},
              jobs=1, progress=False)
"""


def test_records_are_read_tolerantly(tmp_path):
    journal.record_started(tmp_path, "a", "k1")
    journal.record_finished(tmp_path, {"slug": "b", "key": "k2", "status": "ok", "headline": {"nps": 1.5}})
    journal.record_finished(tmp_path, {"slug": "c", "key": "k3", "status": "failed", "error": "boom"})
    done = tmp_path / journal.DONE
    (done / "d.json").write_text('{"slug": "d", "key": "k4", "stat', encoding="utf-8")  # cut off half-way
    (done / "e.json").write_text('{"slug": "other", "key": "k5", "status": "ok"}', encoding="utf-8")
    (done / "f.json").write_text("[1, 2]", encoding="utf-8")
    (done / "g.json").write_bytes(b"\xff\xfe\x00")
    (done / ".h.json.abc.tmp").write_text("{", encoding="utf-8")  # a write whose rename never came
    rec = journal.read_records(tmp_path)
    assert set(rec) == set("abcdefg")
    assert rec["b"]["status"] == "ok" and rec["b"]["action"] == "rendered" and rec["b"]["headline"] == {"nps": 1.5}
    assert rec["c"]["status"] == "failed" and rec["c"]["error"] == "boom"
    for slug in "adefg":  # begun but not finished, or unreadable: not done
        assert rec[slug] == {"slug": slug, "status": "started"}
    assert journal.read_records(tmp_path / "none") == {}


def _slow_notebook(folder: Path) -> Path:
    """The fixture report; accounts named in $FLAMEKIT_TEST_SLOW sleep (the environment is not in a report's key)."""
    nb = nbformat.read(FIXTURE, as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(
        'import os\nimport time\n\nif account_id in os.environ.get("FLAMEKIT_TEST_SLOW", "").split(","):\n'
        "    time.sleep(600)"))
    path = folder / "slow_report.ipynb"
    nbformat.write(nb, path)
    return path


def _processes_with(marker: str) -> list[int]:
    """Processes whose environment has FLAMEKIT_TEST_BATCH=marker (the batch this test started, and its kernels)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"FLAMEKIT_TEST_BATCH={marker}".encode() in environ:
            found.append(int(pid))
    return found


def _kill_batch(proc: subprocess.Popen, marker: str) -> None:
    """SIGKILL the batch's process group; then any kernel of it still there (kernels have sessions of their own)."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(30)
    deadline = time.monotonic() + 10
    while (left := _processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _wait_for(folder: Path, proc: subprocess.Popen, *, finished: list[str], running: str) -> None:
    """Until the ``finished`` reports are recorded as done and ``running`` as begun."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        rec = journal.read_records(folder)
        if (all(rec.get(SLUGS[a], {}).get("status") == "ok" for a in finished)
                and rec.get(SLUGS[running], {}).get("status") == "started"):
            return
        assert proc.poll() is None, f"the batch ended before it was killed: {proc.stderr.read()}"
        time.sleep(0.2)
    pytest.fail("the first reports of the batch did not finish in time")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find the batch's kernels")
def test_a_killed_batch_renders_only_what_it_had_not_finished(sample_store, tmp_path):
    notebook = _slow_notebook(tmp_path)
    script = tmp_path / "batch.py"
    script.write_text(BATCH, encoding="utf-8")
    out = tmp_path / "reports"
    folder = out / WAVE
    marker = f"{os.getpid()}-{tmp_path.name}"
    env = {**os.environ, "FLAMEKIT_TEST_SLOW": "A001,A003", "FLAMEKIT_TEST_BATCH": marker}
    proc = subprocess.Popen([sys.executable, str(script), str(sample_store), str(out), str(notebook), *ACCOUNTS],
                            env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    try:
        _wait_for(folder, proc, finished=["A004", "A005", "A002"], running="A001")
    finally:
        _kill_batch(proc, marker)
    assert not (folder / "manifest.json").exists() and not (folder / "index.html").exists()
    assert not (folder / f"{SLUGS['A001']}.html").exists()
    stamps = {a: (folder / f"{SLUGS[a]}.html").stat().st_mtime_ns for a in ("A004", "A005")}
    # a record cut off half-way counts for nothing: that report is rendered again
    (folder / journal.DONE / f"{SLUGS['A002']}.json").write_text('{"slug": "mäkelä-rakennus-a002", "ke',
                                                                 encoding="utf-8")

    again = batch_run.run_batch(WAVE, accounts=ACCOUNTS, store=sample_store, out_root=out, notebook=notebook,
                                extra_notebooks={}, jobs=1, progress=False)
    actions = {r.account_id: r.action for r in again.reports}
    assert actions == {"A004": "unchanged", "A005": "unchanged", "A002": "rendered", "A001": "rendered",
                       "A003": "rendered"}
    assert again.exit_code == 0 and all(r.ok for r in again.reports)
    assert {a: (folder / f"{SLUGS[a]}.html").stat().st_mtime_ns for a in stamps} == stamps
    by_id = {r.account_id: r for r in again.reports}
    assert by_id["A004"].headline and by_id["A004"].headline["n_client"] > 0  # from the record
    # the end of the batch is as before: a manifest and an index listing every report
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["timings"]["unchanged"] == 2 and manifest["timings"]["rendered"] == 3
    assert {r["account_id"]: r["action"] for r in manifest["reports"]} == actions
    index = (folder / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{quote(SLUGS[a])}.html"' in index for a in ACCOUNTS) and index.count('<tr class="ok"') == 5
    # and a third run finds everything done
    third = batch_run.run_batch(WAVE, accounts=ACCOUNTS, store=sample_store, out_root=out, notebook=notebook,
                                extra_notebooks={}, jobs=1, progress=False)
    assert {r.action for r in third.reports} == {"unchanged"}
