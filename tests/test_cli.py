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


def test_stored_text_reaches_the_terminal_escaped(store, accounts_csv, tmp_path, capsys):
    """A rejected cell holding terminal control sequences is listed, not executed."""
    from helpers_data import survey_frame, write_csv

    from helpers.data.ingest import ingest

    ingest(accounts_csv, kind="accounts", store=store)
    rows = survey_frame(2)
    rows.loc[1, "account_id"] = "A9\x1b]0;owned\x07\x1b[2J\u202eevil"  # sets the title, clears the screen, reverses
    ingest(write_csv(rows, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=store)
    capsys.readouterr()
    assert main(["--store", str(store), "quarantine"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out
    assert r"A9\x1b]0;owned\x07\x1b[2J\u202eevil" in out


def test_terminal_safe_keeps_letters_tabs_and_line_breaks():
    from helpers.cli import terminal_safe

    assert terminal_safe("Mäkelä\tå\nö € −7") == "Mäkelä\tå\nö € −7"
    assert terminal_safe("\x9b31m\u2028x") == r"\x9b31m\u2028x"


def test_ingest_passes_the_calendar_and_the_wait_on(store, accounts_csv, tmp_path, capsys, monkeypatch):
    """`flamekit ingest --calendar F --wait S` reaches the ingest: the calendar's window decides the date check."""
    from helpers_data import survey_frame, write_csv

    from helpers.data import ingest as ingest_module

    seen = {}
    real = ingest_module.ingest

    def spy(*args, **kw):
        seen.update(calendar=kw.get("calendar"), wait=kw.get("wait"))
        return real(*args, **kw)

    monkeypatch.setattr(ingest_module, "ingest", spy)
    cal = tmp_path / "waves.yml"
    cal.write_text("waves:\n  Syksy:\n    start: 2026-09-01\n    end: 2026-09-30\n", encoding="utf-8")
    assert main(["--store", str(store), "ingest", str(accounts_csv), "--kind", "accounts"]) == 0
    rows = survey_frame(3)
    rows["submitted_at"] = "2026-05-01"  # months before the calendar's window opens
    f = write_csv(rows, tmp_path / "c.csv")
    assert main(["--store", str(store), "ingest", str(f), "--kind", "client", "--wave", "Syksy",
                 "--calendar", str(cal), "--wait", "5"]) == 0
    assert seen == {"calendar": str(cal), "wait": 5.0}
    assert "before wave Syksy opened" in capsys.readouterr().out
