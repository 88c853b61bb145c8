"""The flamekit command line: sample, summary, quarantine."""

from __future__ import annotations

import subprocess
import sys

from helpers.cli import main


def test_sample_summary_quarantine(sample_store, tmp_path, capsys):
    assert main(["sample", "--out", str(tmp_path / "s"), "--accounts", "5"]) == 0
    out = capsys.readouterr().out
    assert "client_2026Q3.csv" in out and "mapping_client_fi.yml" in out
    assert main(["--store", str(sample_store), "summary", "--wave", "2026Q3"]) == 0
    out = capsys.readouterr().out
    assert "NPS [95% CI]" in out and "Care" in out and "client" in out and "staff" in out
    assert main(["--store", str(sample_store), "quarantine"]) == 0
    out = capsys.readouterr().out
    assert "A999" in out and "Survey Preview" in out


def test_missing_store_message(tmp_path, capsys):
    assert main(["--store", str(tmp_path / "none.duckdb"), "summary"]) == 2
    assert "No store at" in capsys.readouterr().err


def test_console_script_installed():
    res = subprocess.run([sys.executable, "-m", "helpers.cli", "--help"], capture_output=True, text=True)
    assert res.returncode == 0 and "ingest" in res.stdout and "sample" in res.stdout
