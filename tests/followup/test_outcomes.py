"""Outcomes of the follow-up queue back in (--kind followups): validated, quarantined, never duplicated."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from helpers.data.followups import item_id, load_loop, load_outcomes
from helpers.data.ingest import ingest
from helpers.data.store import query

NOW = pd.Timestamp("2026-12-01 09:00")
I1, I2 = item_id("survey", "R1"), item_id("survey", "R2")


@pytest.fixture
def queued(tiny_store, tmp_path):
    """A store with two queued items: R1 (A1, answered 10 Sep 2026 10:00 Helsinki) and R2 (A2, 28 Mar 2026)."""
    from helpers.followup import run_followup

    store = tiny_store([{"response_id": "R1", "nps": 3, "submitted_at": "2026-09-10 10:00"},
                        {"response_id": "R2", "nps": 2, "account_id": "A2", "submitted_at": "2026-03-28 10:00"}],
                       wave="2026")
    run_followup(store=store, out=tmp_path / "q", since="2026-01-01", now=NOW)
    return store


def _file(tmp_path, rows, name="outcomes.csv"):
    p = tmp_path / name
    pd.DataFrame(rows).to_csv(p, index=False)
    return p


def test_outcomes_in_either_language_are_stored_in_utc(queued, tmp_path):
    f = _file(tmp_path, [
        {"Item": I1, "Status": "tavoitettu", "Yhteydenoton aika": "11.9.2026 9.30", "Muistiinpano": "Soitettu."},
        {"Item": I2, "Status": "no answer", "Yhteydenoton aika": "2026-03-30 11:00", "Muistiinpano": None},
    ])
    f.write_text(f.read_text(encoding="utf-8").replace("Item,Status", "Tunnus,Tila"), encoding="utf-8")
    res = ingest(f, kind="followups", store=queued)
    assert (res.rows_stored, res.rows_quarantined) == (2, 0)
    o = load_outcomes(store=queued).set_index("item_id")
    assert o.loc[I1, "status"] == "contacted" and o.loc[I1, "outcome_at_utc"] == pd.Timestamp("2026-09-11 06:30")
    assert o.loc[I2, "status"] == "no-answer" and o.loc[I2, "outcome_at_utc"] == pd.Timestamp("2026-03-30 08:00")


def test_every_rule_quarantines_with_its_reason(queued, tmp_path):
    f = _file(tmp_path, [
        {"item_id": "FU-000000000000", "status": "contacted", "outcome_at": "2026-09-11 10:00", "note": "x"},
        {"item_id": I1, "status": "called", "outcome_at": "2026-09-11 10:00", "note": "x"},
        {"item_id": I1, "status": "contacted", "outcome_at": "2099-01-01 10:00", "note": "x"},
        {"item_id": I1, "status": "contacted", "outcome_at": "2026-09-10 09:59", "note": "x"},
        {"item_id": I1, "status": "contacted", "outcome_at": None, "note": "x"},
        {"item_id": I1, "status": None, "outcome_at": None, "note": "a note alone"},
        {"item_id": I1, "status": "resolved", "outcome_at": "not a date", "note": None},
        {"item_id": None, "status": "resolved", "outcome_at": "2026-09-12 10:00", "note": None},
        {"item_id": "FU-ABC<script>", "status": "resolved", "outcome_at": "2026-09-12 10:00", "note": None},
        {"item_id": I2, "status": None, "outcome_at": None, "note": None},                  # not filled in
        {"item_id": I1, "status": "resolved", "outcome_at": "2026-09-12 10:00", "note": "ok"},  # fine
    ])
    res = ingest(f, kind="followups", store=queued)
    q = query('SELECT "row", "column", reason FROM quarantine ORDER BY "row"', store=queued)
    reasons = q.groupby("row")["reason"].apply(" | ".join).to_dict()
    assert "is not an item of the follow-up queue" in reasons[2]
    assert "is not a status" in reasons[3]
    assert "is in the future" in reasons[4]
    assert "is before the answer it follows up" in reasons[5]
    assert "is required: when the client was contacted" in reasons[6]
    assert "is required when a time or a note is filled in" in reasons[7]
    assert "is not a date" in reasons[8]
    assert "is required but empty" in reasons[9]
    assert "is not a valid id" in reasons[10]
    assert 11 not in reasons and 12 not in reasons
    assert (res.rows_stored, res.rows_quarantined) == (1, 9)
    assert "1 row(s) not filled in" in res.summary()
    assert load_outcomes(store=queued)["note"].tolist() == ["ok"]


def test_reingesting_never_duplicates(queued, tmp_path):
    rows = [{"item_id": I1, "status": "contacted", "outcome_at": "2026-09-11 10:00", "note": "Soitettu"}]
    f = _file(tmp_path, rows)
    assert ingest(f, kind="followups", store=queued).rows_stored == 1
    assert ingest(f, kind="followups", store=queued).already_ingested
    g = _file(tmp_path, rows + [rows[0]], name="again.csv")  # the same outcome in another file, and twice in it
    res = ingest(g, kind="followups", store=queued)
    assert (res.rows_stored, res.rows_already_stored, res.rows_quarantined) == (0, 1, 1)
    assert "repeats the outcome on row 2" in res.summary()
    assert len(load_outcomes(store=queued)) == 1


def test_the_newest_outcome_is_the_status_and_the_first_contact_counts_for_the_sla(queued, tmp_path):
    ingest(_file(tmp_path, [
        {"item_id": I1, "status": "no-answer", "outcome_at": "2026-09-10 15:00", "note": "voicemail"},
        {"item_id": I1, "status": "contacted", "outcome_at": "2026-09-11 10:00", "note": "reached"},
    ]), kind="followups", store=queued)
    ingest(_file(tmp_path, [{"item_id": I1, "status": "resolved", "outcome_at": "2026-09-15 10:00", "note": "done"}],
                 name="later.csv"), kind="followups", store=queued)
    ingest(_file(tmp_path, [{"item_id": I1, "status": "contacted", "outcome_at": "2026-09-11 10:00",
                             "note": "reached"}], name="old-copy.csv"), kind="followups", store=queued)
    row = load_loop(store=queued).set_index("item_id").loc[I1]
    assert row["status"] == "resolved" and row["status_at_utc"] == pd.Timestamp("2026-09-15 07:00")
    assert row["contacted_at_utc"] == pd.Timestamp("2026-09-11 07:00")
    assert row["first_try_utc"] == pd.Timestamp("2026-09-10 12:00") and row["n_outcomes"] == 3


def test_a_date_without_a_time_counts_at_the_end_of_that_day(queued, tmp_path):
    res = ingest(_file(tmp_path, [{"item_id": I1, "status": "contacted", "outcome_at": "10.9.2026", "note": None}]),
                 kind="followups", store=queued)
    assert res.rows_quarantined == 0  # the answer's own day is not before the answer
    assert load_outcomes(store=queued)["outcome_at_utc"].iloc[0] == pd.Timestamp("2026-09-10 20:59:59")


def test_a_neutralised_note_comes_back_as_it_was_written(queued, tmp_path):
    ingest(_file(tmp_path, [{"item_id": I1, "status": "contacted", "outcome_at": "2026-09-11 10:00",
                             "note": "=tarkista sopimus"}]), kind="followups", store=queued)
    res = ingest(_file(tmp_path, [{"item_id": I1, "status": "contacted", "outcome_at": "2026-09-11 10:00",
                                   "note": "'=tarkista sopimus"}], name="back.csv"), kind="followups", store=queued)
    assert res.rows_already_stored == 1
    assert load_outcomes(store=queued)["note"].tolist() == ["=tarkista sopimus"]


def test_the_owners_own_workbook_goes_back_in_and_its_contacts_stay_out(tiny_store, tmp_path):
    from helpers.followup import run_followup

    store = tiny_store([{"response_id": "R1", "nps": 3, "consent": "Yes", "name": "Matti Öster",
                         "email": "matti@example.fi"}, {"response_id": "R2", "nps": 4}])
    res = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW, language="fi")
    path = res.workbooks["Aino Mäkelä"]
    wb = load_workbook(path)
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    for r in range(2, ws.max_row + 1):
        if ws.cell(r, 1).value == I1:
            ws.cell(r, header.index("Tila") + 1, "tavoitettu")
            ws.cell(r, header.index("Yhteydenoton aika") + 1, pd.Timestamp("2026-09-11 14:30").to_pydatetime())
            ws.cell(r, header.index("Muistiinpano") + 1, "Sovittu tapaaminen.")
    wb.save(path)
    out = ingest(path, kind="followups", store=store)
    assert (out.rows_stored, out.rows_quarantined) == (1, 0)
    assert "1 row(s) not filled in" in out.summary()
    assert load_outcomes(store=store)[["item_id", "status", "note"]].values.tolist() == [
        [I1, "contacted", "Sovittu tapaaminen."]]
    stored = " ".join(str(v) for t in ("followup_outcomes", "quarantine", "ingests")
                      for v in query(f"SELECT * FROM {t}", store=store).to_numpy().ravel())
    assert "matti@example.fi" not in stored and "Matti" not in stored
