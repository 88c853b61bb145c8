"""The queue: who enters and why, stable ids, no duplicates, outcomes attached, owners, overdue."""

from __future__ import annotations

import pandas as pd
from openpyxl import load_workbook

from helpers.data.followups import item_id
from helpers.data.ingest import ingest
from helpers.data.store import query
from helpers.followup import run_followup
from helpers.followup.queue import candidates, needs_action

NOW = pd.Timestamp("2026-12-01 09:00")


def _survey(rows):
    base = {"account_id": "A1", "wave": "2026Q3", "comment": None, "submitted_at": pd.Timestamp("2026-09-10 10:00"),
            "ingested_at": pd.Timestamp("2026-09-11")}
    return pd.DataFrame([{**base, **r} for r in rows])


def test_reasons_one_item_per_answer():
    s = _survey([
        {"response_id": "R1", "nps": 3},                                              # detractor
        {"response_id": "R2", "nps": 9},                                              # asked to be contacted
        {"response_id": "R3", "nps": 8, "comment": "Raportointi voisi olla selkeämpää."},  # comment to act on
        {"response_id": "R4", "nps": 8, "comment": "Projektipäällikkö on mukava."},   # no cue words: not flagged
        {"response_id": "R5", "nps": 10, "comment": "Kiitos, erinomaista työtä!"},    # praise
        {"response_id": "R6", "nps": 5, "comment": "Toivoisimme nopeampaa reagointia."},  # detractor + comment
        {"response_id": "R7", "nps": None, "comment": None},                          # no score, nothing to say
    ])
    tp = pd.DataFrame({"touchpoint_id": ["T1", "T2"], "account_id": ["A1", "A2"], "score": [6, 7],
                       "comment": [None, "Odotusaika oli liian pitkä, ongelma toistuu."],
                       "answered_at": pd.to_datetime(["2026-09-12 12:00", "2026-09-12 13:00"])})
    c = candidates(s, tp, {"R2"}, timezone="Europe/Helsinki")
    got = dict(zip(c["source_id"], c["reasons"]))
    assert got == {"R1": "detractor", "R2": "contact_request", "R3": "comment", "R6": "detractor,comment",
                   "T1": "detractor", "T2": "comment"}
    assert set(c.loc[c["source"] == "touchpoint", "wave"].isna()) == {True}
    assert c.loc[c["source_id"] == "R1", "answered_at_utc"].iloc[0] == pd.Timestamp("2026-09-10 07:00")


def test_comments_flagged_for_action_follow_the_comments_rule():
    assert needs_action("Raportointi voisi olla selkeämpää.", 9)
    assert not needs_action("Hyvä palvelu, kiitos – mutta voisi olla nopeampaa.", 6)  # both cues: not on words
    assert not needs_action(None, 3)


def test_staff_and_superseded_answers_never_enter(tiny_store, tmp_path):
    from helpers_data import survey_frame, write_csv

    store = tiny_store([{"response_id": "R1", "nps": 3, "respondent_id": "P1", "submitted_at": "2026-09-10 10:00"},
                        {"response_id": "R1b", "nps": 9, "respondent_id": "P1", "submitted_at": "2026-09-11 10:00"}])
    staff = survey_frame(2, prefix="S", nps=2)
    ingest(write_csv(staff, tmp_path / "staff.csv"), kind="staff", wave="2026Q3", store=store)
    run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    assert query("SELECT source_id FROM followup_items", store=store)["source_id"].tolist() == []


def test_ids_are_stable_and_rerunning_never_duplicates(tiny_store, tmp_path):
    store = tiny_store([{"response_id": "R1", "nps": 3}, {"response_id": "R2", "nps": 2, "account_id": "A2"}])
    first = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    second = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW + pd.Timedelta(days=1))
    assert first.counts["n_new"] == 2 and second.counts["n_new"] == 0
    assert second.counts["n_items"] == 2
    ids = query("SELECT item_id, source_id FROM followup_items ORDER BY source_id", store=store)
    assert ids["item_id"].tolist() == [item_id("survey", "R1"), item_id("survey", "R2")]
    assert first.queue["item_id"].tolist() == second.queue["item_id"].tolist()


def test_outcomes_stay_attached_and_close_the_item(tiny_store, tmp_path):
    store = tiny_store([{"response_id": "R1", "nps": 3}, {"response_id": "R2", "nps": 4}])
    first = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    assert first.exit_code == 3 and first.counts["n_overdue"] == 2
    pd.DataFrame({"Item": [item_id("survey", "R1")], "Status": ["contacted"], "Contacted at": ["2026-09-11 09:00"],
                  "Note": ["=Soitettu"]}).to_csv(tmp_path / "o.csv", index=False)
    ingest(tmp_path / "o.csv", kind="followups", store=store)
    again = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    assert again.counts == {"n_items": 2, "n_new": 0, "n_open": 1, "n_overdue": 1, "n_closed": 1}
    ws = load_workbook(again.workbooks["Aino Mäkelä"]).worksheets[0]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    header = [c.value for c in ws[1]]
    done = rows[item_id("survey", "R1")]
    assert done[header.index("Status")] == "contacted"
    assert done[header.index("Note")] == "'=Soitettu"  # neutralised in the sheet
    assert done[header.index("Contacted at")] == pd.Timestamp("2026-09-11 09:00").to_pydatetime()
    assert rows[item_id("survey", "R2")][header.index("Status")] is None


def test_the_owner_comes_from_the_accounts_and_accounts_without_one_are_named(tiny_store, tmp_path):
    store = tiny_store([{"response_id": "R1", "nps": 3}, {"response_id": "R2", "nps": 3, "account_id": "A2"},
                        {"response_id": "R3", "nps": 3, "account_id": "A3"}])
    res = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    assert set(res.workbooks) == {"Aino Mäkelä", "Jussi Härkönen", None}
    assert sorted(p.name for p in res.workbooks.values()) == ["_no-owner.xlsx", "aino-mäkelä.xlsx",
                                                              "jussi-härkönen.xlsx"]
    assert "accounts without an owner" in res.summary()
    assert "Aino Mäkelä: 1 overdue" in res.summary()


def test_nothing_overdue_exits_0(tiny_store, tmp_path):
    store = tiny_store([{"response_id": "R1", "nps": 3, "submitted_at": "2026-11-30 10:00"}], wave="2026Q4")
    res = run_followup(store=store, out=tmp_path / "q", since="2026-11-01", now=NOW)  # due 2 Dec: not yet
    assert res.counts["n_open"] == 1 and res.counts["n_overdue"] == 0 and res.exit_code == 0


def test_the_window_lists_new_answers_and_older_open_items(tiny_store, tmp_path):
    store = tiny_store([{"response_id": "R1", "nps": 3, "submitted_at": "2026-07-10 10:00"},
                        {"response_id": "R2", "nps": 3, "submitted_at": "2026-07-11 10:00"},
                        {"response_id": "R3", "nps": 3, "submitted_at": "2026-09-20 10:00"}])
    run_followup(store=store, out=tmp_path / "q", since="2026-07-01", now=NOW)
    pd.DataFrame({"item_id": [item_id("survey", "R2")], "status": ["resolved"],
                  "outcome_at": ["2026-07-12 09:00"]}).to_csv(tmp_path / "o.csv", index=False)
    ingest(tmp_path / "o.csv", kind="followups", store=store)
    res = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    assert sorted(res.queue["source_id"]) == ["R1", "R3"]  # R1 older but open; R2 older and closed


def test_the_sample_loop(loop_sample):
    first, second = loop_sample["first"], loop_sample["second"]
    assert first.counts["n_new"] > 50 and second.counts["n_new"] == 0
    assert second.counts["n_items"] == first.counts["n_items"]
    assert 0 < second.counts["n_closed"] < second.counts["n_items"]
    reasons = set(",".join(second.queue["reasons"]).split(","))
    assert reasons == {"detractor", "contact_request", "comment"}
    assert set(second.queue["source"]) == {"survey", "touchpoint"}
