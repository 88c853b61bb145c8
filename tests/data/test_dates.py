"""Dates that cannot be right: in the future, or outside their wave's window (from its label or a calendar)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
from helpers_data import survey_frame, write_csv

from helpers.cli import main as cli
from helpers.data.ingest import ingest
from helpers.data.store import load_quarantine, load_responses, load_touchpoints
from helpers.data.validation import IngestError, load_wave_calendar, wave_window


@pytest.fixture
def ready(store, accounts_csv):
    """A store that knows accounts A1–A3."""
    ingest(accounts_csv, kind="accounts", store=store)
    return store


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _this_quarter(now: datetime) -> str:
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"


# ---------------------------------------------------------------------------
# In the future
# ---------------------------------------------------------------------------
def test_answer_dated_in_the_future_is_quarantined(ready, tmp_path):
    f = survey_frame(3)
    f.loc[1, "submitted_at"] = "2099-01-01 10:00"
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert (res.rows_stored, res.rows_quarantined) == (2, 1)
    q = load_quarantine(store=ready)
    assert q[["row", "column", "value"]].values.tolist() == [[3, "submitted_at", "2099-01-01 10:00"]]
    assert q["reason"].iloc[0].startswith("is in the future (this ingest ran on ")
    assert "R2" not in set(load_responses(store=ready)["response_id"])


def test_a_clock_a_few_hours_ahead_is_not_the_future(ready, tmp_path):
    now = _now()
    f = survey_frame(2)
    f["submitted_at"] = [(now + timedelta(hours=3)).strftime("%Y-%m-%d %H:%M"),  # Finnish local time, say
                         (now + timedelta(days=3)).strftime("%Y-%m-%d %H:%M")]
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="pilot", store=ready)
    assert res.rows_stored == 1 and res.quarantine["row"].tolist() == [3]
    assert "in the future" in res.quarantine["reason"].iloc[0]


def test_touchpoints_in_the_future_or_answered_before_the_visit(ready, tmp_path):
    f = pd.DataFrame({"account_id": ["A1", "A1", "A1", "A2"],
                      "visit_at": ["2026-03-01 08:00", "2099-01-01 08:00", "2026-03-02 10:00", "2026-03-03 08:00"],
                      "answered_at": ["2026-03-01 10:00", "2026-03-01 10:00", "2026-03-02 08:00", "2099-03-03 10:00"],
                      "score": ["9", "8", "7", "6"]})
    res = ingest(write_csv(f, tmp_path / "tp.csv"), kind="touchpoints", store=ready)
    assert (res.rows_stored, res.rows_quarantined) == (1, 3)
    got = {(r.row, r.column, r.reason.split(" (")[0]) for r in res.quarantine.itertuples()}
    assert got == {(3, "visit_at", "is in the future"), (3, "answered_at", "is before the visit"),
                   (4, "answered_at", "is before the visit"), (5, "answered_at", "is in the future")}
    assert load_touchpoints(store=ready)["visit_at"].tolist() == [pd.Timestamp("2026-03-01 08:00")]


# ---------------------------------------------------------------------------
# The wave's window
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("label,first,last", [
    ("2026Q3", "2026-07-01", "2026-09-30"),
    ("2026-Q3", "2026-07-01", "2026-09-30"),
    ("Q3 2026", "2026-07-01", "2026-09-30"),
    ("2026q4", "2026-10-01", "2026-12-31"),
    ("2026H1", "2026-01-01", "2026-06-30"),
    ("H2 2026", "2026-07-01", "2026-12-31"),
    ("2026", "2026-01-01", "2026-12-31"),
    ("2026-09", "2026-09-01", "2026-09-30"),
    ("2026M09", "2026-09-01", "2026-09-30"),
    ("2024-02", "2024-02-01", "2024-02-29"),
])
def test_wave_labels_the_kit_reads(label, first, last):
    w = wave_window(label)
    assert (w.start, w.last_day, w.grace_days) == (pd.Timestamp(first), pd.Timestamp(last), 60)


@pytest.mark.parametrize("label", ["Syksy 2025", "W1", "2026Q5", "2026-13", "Q3", "20261", "kevät"])
def test_wave_labels_the_kit_cannot_read(label):
    assert wave_window(label) is None


def test_answers_outside_their_wave_are_quarantined(ready, tmp_path):
    f = survey_frame(5)
    f["submitted_at"] = ["2026-06-30 23:59",   # the day before the wave opened
                         "2026-07-01 00:00",   # its first moment
                         "2026-09-30 18:00",   # its last day
                         "2026-11-29 12:00",   # the last day of the 60 days' grace
                         "2026-11-30 00:00"]   # too late
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert sorted(load_responses(store=ready)["response_id"]) == ["R2", "R3", "R4"]
    q = res.quarantine.set_index("row")["reason"]
    assert q[2] == "is before wave 2026Q3 opened on 2026-07-01"
    assert q[6] == "is after wave 2026Q3 closed on 2026-09-30 and its 60 days of grace"


def test_a_file_ingested_with_the_wrong_wave_is_quarantined_not_stored(ready, tmp_path):
    f = survey_frame(3).assign(submitted_at="2024-03-14 10:00")
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert (res.rows_stored, res.rows_quarantined) == (0, 3)
    assert "'2024-03-14 10:00' is before wave 2026Q3 opened on 2026-07-01 (rows 2, 3, 4)" in res.summary()


def test_each_wave_of_a_wave_column_has_its_own_window(ready, tmp_path):
    f = survey_frame(4).assign(wave=["2026Q2", "2026Q2", "2026Q3", "Syksy 2026"],
                               submitted_at=["2026-05-02 10:00", "2026-09-10 10:00", "2026-09-10 10:00",
                                             "2020-01-01 10:00"])
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", store=ready)
    assert sorted(load_responses(store=ready)["response_id"]) == ["R1", "R3", "R4"]
    assert res.quarantine["reason"].tolist() == ["is after wave 2026Q2 closed on 2026-06-30 and its 60 days of grace"]


def test_a_wave_the_kit_cannot_date_is_said_once_and_not_checked(ready, tmp_path):
    f = survey_frame(3).assign(submitted_at=["2020-01-01 10:00", "2026-09-10 10:00", "2026-09-11 10:00"])
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="Syksy 2026", store=ready)
    assert res.rows_stored == 3
    text = res.summary()
    assert text.count("Answer dates not checked against wave 'Syksy 2026'") == 1
    assert "wave calendar" in text
    # no date column: nothing to check, nothing to say
    res = ingest(write_csv(survey_frame(2, prefix="N").drop(columns="submitted_at"), tmp_path / "d.csv"),
                 kind="client", wave="Syksy 2026", store=ready)
    assert res.rows_stored == 2 and not res.notes


def test_wave_calendar_in_the_mapping_file(ready, tmp_path, capsys):
    m = tmp_path / "m.yml"
    m.write_text("waves:\n"
                 "  Syksy 2026: {start: 2026-09-01, end: 15.10.2026}\n"
                 "  2026Q3: {start: 2026-08-15, end: 2026-10-15, grace_days: 0}\n", encoding="utf-8")
    f = survey_frame(3).assign(submitted_at=["2026-08-31 10:00", "2026-09-01 08:00", "2026-10-16 08:00"])
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="Syksy 2026", store=ready, mapping=m)
    assert res.rows_stored == 2 and not res.notes
    assert res.quarantine["reason"].tolist() == ["is before wave Syksy 2026 opened on 2026-09-01"]
    # a calendar entry wins over what the label says: 2026Q3 opens on 15 August here, with no grace
    g = survey_frame(3, prefix="Q").assign(submitted_at=["2026-08-01 10:00", "2026-08-20 10:00",
                                                         "2026-10-16 10:00"])
    res = ingest(write_csv(g, tmp_path / "q.csv"), kind="client", wave="2026Q3", store=ready, mapping=m)
    assert res.quarantine["reason"].tolist() == ["is before wave 2026Q3 opened on 2026-08-15",
                                                 "is after wave 2026Q3 closed on 2026-10-15 and its 0 days of grace"]
    # a mapping file with only a calendar works for exports that need no other mapping
    assert cli(["--store", str(ready), "ingest", str(write_csv(survey_frame(1, prefix="S").assign(
        submitted_at="2026-09-02 10:00"), tmp_path / "s.csv")), "--kind", "staff", "--wave", "Syksy 2026",
        "--mapping", str(m)]) == 0
    assert "not checked" not in capsys.readouterr().out


def test_wave_calendar_file_for_every_ingest(ready, tmp_path, monkeypatch):
    cal = tmp_path / "waves.csv"
    cal.write_text("wave;start;end;grace_days\nKevät 2026;1.3.2026;30.4.2026;14\nSyksy 2026;2026-09-01;2026-10-15;\n",
                   encoding="utf-8")
    monkeypatch.setenv("FLAMEKIT_WAVES", str(cal))
    f = survey_frame(3).assign(submitted_at=["2026-03-02 10:00", "2026-05-14 10:00", "2026-05-15 00:00"])
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="Kevät 2026", store=ready)
    assert res.rows_stored == 2
    assert res.quarantine["reason"].tolist() == ["is after wave Kevät 2026 closed on 2026-04-30 and its 14 days "
                                                 "of grace"]
    assert load_wave_calendar(cal)["Syksy 2026"].grace_days == 60  # empty: the default
    yml = tmp_path / "waves.yml"
    yml.write_text("waves:\n  Kevät 2026: {start: 2026-03-01, end: 2026-04-30}\n", encoding="utf-8")
    assert load_wave_calendar(yml)["Kevät 2026"].last_day == pd.Timestamp("2026-04-30")


@pytest.mark.parametrize("text,msg", [
    ("waves:\n  2026Q3: {start: 2026-10-15, end: 2026-08-15}\n", r"'2026Q3' ends \(2026-08-15\) before it starts"),
    ("waves:\n  2026Q3: {start: 2026-08-15}\n", "needs its first and last day"),
    ("waves:\n  2026Q3: {start: soon, end: 2026-10-15}\n", "the start of wave '2026Q3' is 'soon', not a date"),
    ("waves:\n  2026Q3: {start: 2026-08-15, end: 2026-10-15, grace_days: -1}\n", "grace_days .* whole number"),
    ("waves: [2026Q3]\n", "must give each wave label its first and last day"),
])
def test_a_wrong_calendar_is_an_error_before_anything_is_written(ready, tmp_path, text, msg):
    m = tmp_path / "m.yml"
    m.write_text(text, encoding="utf-8")
    with pytest.raises(IngestError, match=msg):
        ingest(write_csv(survey_frame(1), tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready, mapping=m)
    assert load_responses(store=ready).empty


def test_calendar_csv_needs_its_columns_and_each_wave_once(tmp_path):
    p = tmp_path / "waves.csv"
    p.write_text("wave,first\n2026Q3,2026-08-15\n", encoding="utf-8")
    with pytest.raises(IngestError, match="needs the columns wave, start and end.*no end, start"):
        load_wave_calendar(p)
    p.write_text("wave,start,end\nW1,2026-01-01,2026-01-31\nW1,2026-02-01,2026-02-28\n", encoding="utf-8")
    with pytest.raises(IngestError, match="lists wave.*'W1' more than once"):
        load_wave_calendar(p)
