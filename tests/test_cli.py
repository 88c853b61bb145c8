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


def _loop_store(store, accounts_csv, tmp_path, *, submitted_at):
    """Accounts and two client detractors answered at ``submitted_at`` (one asks to be contacted)."""
    from helpers_data import survey_frame, write_csv

    from helpers.data.ingest import ingest

    ingest(accounts_csv, kind="accounts", store=store)
    rows = survey_frame(2, nps=3).assign(submitted_at=submitted_at)
    rows["May we contact you about your answers?"] = ["Yes, please contact me", "No"]
    ingest(write_csv(rows, tmp_path / "c.csv"), kind="client", wave="2026", store=store)


def test_followup_exits_3_while_something_is_overdue_and_0_when_nothing_is(store, accounts_csv, tmp_path, capsys):
    """The daily command's exit codes: 3 = overdue items, 0 = nothing overdue; outcomes go back in via ingest."""
    from helpers.data.followups import item_id

    _loop_store(store, accounts_csv, tmp_path, submitted_at="2026-06-10 10:00")
    out = tmp_path / "queue"
    args = ["--store", str(store), "followup", "--since", "2026-06-01", "--out", str(out)]
    assert main(args) == 3
    text = capsys.readouterr().out
    assert "2 answers in the queue (2 new): 2 open, 2 overdue" in text and "Aino: 2 overdue" in text
    assert (out / "index.html").exists() and (out / "aino.xlsx").exists()
    import pandas as pd

    pd.DataFrame({"Item": [item_id("survey", "R1"), item_id("survey", "R2")], "Status": ["contacted", "resolved"],
                  "Contacted at": ["2026-06-11 09:00", "2026-06-15 09:00"]}).to_csv(tmp_path / "o.csv", index=False)
    assert main(["--store", str(store), "ingest", str(tmp_path / "o.csv"), "--kind", "followups"]) == 0
    assert "2 stored" in capsys.readouterr().out
    assert main(args) == 0
    assert "0 overdue, 2 contacted or resolved" in capsys.readouterr().out


def test_followup_in_finnish_and_its_errors(store, accounts_csv, tmp_path, capsys):
    _loop_store(store, accounts_csv, tmp_path, submitted_at="2026-06-10 10:00")
    base = ["--store", str(store), "followup", "--out", str(tmp_path / "q")]
    assert main([*base, "--since", "2026-06-01", "--lang", "fi"]) == 3
    assert "Jonossa 2 vastausta" in capsys.readouterr().out
    assert main([*base, "--sla", "two days"]) == 2
    assert "48h" in capsys.readouterr().err
    assert main([*base, "--timezone", "Mars/Olympus"]) == 2
    assert "Unknown time zone 'Mars/Olympus'" in capsys.readouterr().err
    assert main(["--store", str(tmp_path / "none.duckdb"), "followup"]) == 2


def test_followup_help_documents_the_exit_codes(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["followup", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "0 when nothing is overdue, 3 when some open item is past due" in text


def test_reports_takes_account_ids_separated_by_commas_or_spaces(tmp_path, monkeypatch):
    import helpers.batch

    seen = []

    def fake_run_batch(wave, *, accounts, **options):
        seen.append(accounts)
        raise helpers.batch.ReportError("stop here")

    monkeypatch.setattr(helpers.batch, "run_batch", fake_run_batch)
    store = ["--store", str(tmp_path / "s.duckdb"), "reports", "--wave", "2026Q3", "--quiet", "--accounts"]
    main([*store, "A001,A036"])
    main([*store, "A001", "A036,"])
    assert seen == [["A001", "A036"], ["A001", "A036"]]
