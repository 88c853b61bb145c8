"""Ingest: every validation rule has a negative test; nothing is lost or duplicated."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest
from helpers_data import ITEMS, survey_frame, write_csv
from openpyxl import Workbook

import helpers.data.ingest as ingest_mod
from helpers.cli import main as cli
from helpers.data.ingest import ingest
from helpers.data.store import load_accounts, load_answers, load_quarantine, load_responses, load_touchpoints
from helpers.data.validation import IngestError


@pytest.fixture
def ready(store, accounts_csv):
    """A store that knows accounts A1–A3."""
    ingest(accounts_csv, kind="accounts", store=store)
    return store


def counts(store) -> dict:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in ("accounts", "responses", "answers", "touchpoints", "quarantine", "ingests")}
    finally:
        con.close()


def test_clean_ingest_round_trip(ready, tmp_path):
    p = write_csv(survey_frame(4), tmp_path / "c.csv")
    res = ingest(p, kind="client", wave="2026Q3", store=ready)
    assert (res.rows_read, res.rows_stored, res.rows_quarantined) == (4, 4, 0)
    resp = load_responses(store=ready)
    assert len(resp) == 4 and set(resp["side"]) == {"client"} and set(resp["wave"]) == {"2026Q3"}
    assert resp["comment"].iloc[0] == "Hyvä yhteistyö – kiitos!"
    ans = load_answers(store=ready)
    assert len(ans) == 4 * len(ITEMS)


def test_reingest_changes_nothing(ready, tmp_path):
    p = write_csv(survey_frame(4), tmp_path / "c.csv")
    ingest(p, kind="client", wave="2026Q3", store=ready)
    before = counts(ready)
    res = ingest(p, kind="client", wave="2026Q3", store=ready)
    assert res.already_ingested
    assert counts(ready) == before
    # the same rows in a renamed/re-exported file are recognised as already stored
    p2 = write_csv(survey_frame(4), tmp_path / "copy.csv", sep=";")
    res2 = ingest(p2, kind="client", wave="2026Q3", store=ready)
    assert (res2.rows_stored, res2.rows_already_stored) == (0, 4)
    after = counts(ready)
    assert after["responses"] == before["responses"] and after["answers"] == before["answers"]


def test_failure_half_way_leaves_store_unchanged(ready, tmp_path, monkeypatch):
    p = write_csv(survey_frame(4), tmp_path / "c.csv")
    before = counts(ready)

    def boom(con, long):
        raise RuntimeError("disk full")

    monkeypatch.setattr(ingest_mod, "_insert_answers", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        ingest(p, kind="client", wave="2026Q3", store=ready)
    assert counts(ready) == before
    monkeypatch.undo()
    res = ingest(p, kind="client", wave="2026Q3", store=ready)  # and it can be retried
    assert res.rows_stored == 4


def _one_bad(ready, tmp_path, column, value, *, row=1):
    f = survey_frame(4)
    f.loc[row, column] = value
    p = write_csv(f, tmp_path / "bad.csv")
    res = ingest(p, kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 3 and res.rows_quarantined == 1
    q = load_quarantine(store=ready)
    assert len(q) >= 1 and set(q["row"]) == {row + 2}  # header is line 1
    assert len(load_responses(store=ready)) == 3
    return q


@pytest.mark.parametrize("value", ["0", "6"])
def test_item_out_of_range(ready, tmp_path, value):
    q = _one_bad(ready, tmp_path, "care_2", value)
    assert q["column"].iloc[0] == "care_2" and q["value"].iloc[0] == value
    assert "outside the 1–5 scale" in q["reason"].iloc[0]


@pytest.mark.parametrize("value", ["11", "-1"])
def test_nps_out_of_range(ready, tmp_path, value):
    q = _one_bad(ready, tmp_path, "nps", value)
    assert "outside the 0–10 NPS scale" in q["reason"].iloc[0] and q["value"].iloc[0] == value


def test_text_in_numeric_column(ready, tmp_path):
    q = _one_bad(ready, tmp_path, "dare_1", "neljä")
    assert q["reason"].iloc[0] == "is not a number" and q["value"].iloc[0] == "neljä"


def test_decimal_comma(ready, tmp_path):
    f = survey_frame(3)
    f.loc[0, "care_1"] = "4,0"      # Excel's way of writing 4: accepted
    f.loc[1, "care_1"] = "3,5"      # not a point of the scale: quarantined
    p = write_csv(f, tmp_path / "c.csv", sep=";")
    res = ingest(p, kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 2
    ans = load_answers(store=ready)
    assert ans.query("response_id == 'R1' and item == 'care_1'")["value"].iloc[0] == 4.0
    q = load_quarantine(store=ready)
    assert q["reason"].iloc[0] == "is not a whole point of the 1–5 scale" and q["value"].iloc[0] == "3,5"


def test_dont_know_becomes_missing(ready, tmp_path):
    f = survey_frame(2)
    f.loc[0, "care_1"] = "En osaa sanoa"
    f.loc[1, "care_2"] = "99"
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 2 and res.rows_quarantined == 0
    ans = load_answers(store=ready)
    assert ans["value"].isna().sum() == 2


def test_missing_required_column(ready, tmp_path):
    p = write_csv(survey_frame(2).drop(columns=["care_3"]), tmp_path / "c.csv")
    with pytest.raises(IngestError, match="missing required column.*care_3"):
        ingest(p, kind="client", wave="2026Q3", store=ready)
    p = write_csv(survey_frame(2).drop(columns=["account_id"]), tmp_path / "c2.csv")
    with pytest.raises(IngestError, match="missing required column.*account_id"):
        ingest(p, kind="client", wave="2026Q3", store=ready)


def test_unexpected_column(ready, tmp_path, tmp_path_factory):
    p = write_csv(survey_frame(2).assign(**{"Lempiväri": "sininen"}), tmp_path / "c.csv")
    with pytest.raises(IngestError, match="unexpected column.*'Lempiväri'.*ignore"):
        ingest(p, kind="client", wave="2026Q3", store=ready)
    m = tmp_path / "m.yml"
    m.write_text("ignore: [Lempiväri]\n", encoding="utf-8")
    assert ingest(p, kind="client", wave="2026Q3", store=ready, mapping=m).rows_stored == 2


def test_duplicated_response_id(ready, tmp_path):
    f = survey_frame(3)
    f.loc[2, "response_id"] = "R1"
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 2
    q = load_quarantine(store=ready)
    assert q["row"].tolist() == [4] and "duplicates response id on row 2" in q["reason"].iloc[0]


def test_response_id_in_store_with_other_answers(ready, tmp_path):
    ingest(write_csv(survey_frame(2), tmp_path / "a.csv"), kind="client", wave="2026Q3", store=ready)
    f = survey_frame(2)
    f.loc[0, "nps"] = "2"
    res = ingest(write_csv(f, tmp_path / "b.csv"), kind="client", wave="2026Q3", store=ready)
    assert (res.rows_stored, res.rows_already_stored, res.rows_quarantined) == (0, 1, 1)
    assert "already in the store with different answers" in load_quarantine(store=ready)["reason"].iloc[0]


def test_unknown_account(ready, tmp_path):
    q = _one_bad(ready, tmp_path, "account_id", "A999")
    assert "not a known account" in q["reason"].iloc[0]


def test_resubmission_keeps_latest(ready, tmp_path):
    f = survey_frame(3).assign(respondent_id=["P1", "P2", "P1"])
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 2
    assert set(load_responses(store=ready)["response_id"]) == {"R2", "R3"}
    assert "superseded by a resubmission" in load_quarantine(store=ready)["reason"].iloc[0]


def test_preview_rows_quarantined(ready, tmp_path):
    f = survey_frame(3).assign(Status=["IP Address", "Survey Preview", "IP Address"])
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 2
    assert "preview or test" in load_quarantine(store=ready)["reason"].iloc[0]


def test_straightlining_flagged_not_dropped(ready, tmp_path):
    f = survey_frame(3)
    for item in ITEMS:
        f.loc[0, item] = "5"
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 3 and res.flagged_straightlining == 1
    resp = load_responses(store=ready).set_index("response_id")
    assert bool(resp.loc["R1", "straightlining"]) and not bool(resp.loc["R2", "straightlining"])


def test_empty_response(ready, tmp_path):
    f = survey_frame(2)
    for c in [*ITEMS, "nps", "comment"]:
        f.loc[1, c] = None
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 1 and load_quarantine(store=ready)["reason"].iloc[0] == "response has no answers"


@pytest.mark.parametrize("content,msg", [(b"", "is empty"), (b"response_id,account_id\n", "no data rows")])
def test_empty_and_header_only_files(ready, tmp_path, content, msg):
    p = tmp_path / "c.csv"
    p.write_bytes(content)
    before = counts(ready)
    with pytest.raises(IngestError, match=msg):
        ingest(p, kind="client", wave="2026Q3", store=ready)
    assert counts(ready) == before


def test_wrong_encoding(ready, tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes("response_id,comment\nR1,hyvä\n".encode("utf-8").decode("cp1252").encode("utf-8"))
    with pytest.raises(IngestError, match="Finnish letter"):
        ingest(p, kind="client", wave="2026Q3", store=ready)


def test_cp1252_export_ingests_with_finnish_letters(ready, tmp_path):
    p = write_csv(survey_frame(2), tmp_path / "c.csv", sep=";", encoding="cp1252")
    ingest(p, kind="client", wave="2026Q3", store=ready)
    assert load_responses(store=ready)["comment"].iloc[0] == "Hyvä yhteistyö – kiitos!"


def test_excel_merged_header(ready, tmp_path):
    wb = Workbook()
    ws = wb.active
    ws.append(list(survey_frame(1).columns))
    ws.merge_cells("E1:F1")
    ws.append(survey_frame(1).iloc[0].tolist())
    p = tmp_path / "c.xlsx"
    wb.save(p)
    with pytest.raises(IngestError, match="merged cells"):
        ingest(p, kind="client", wave="2026Q3", store=ready)


def test_excel_export_ingests(ready, tmp_path):
    wb = Workbook()
    ws = wb.active
    f = survey_frame(3)
    ws.append(list(f.columns))
    for row in f.itertuples(index=False):
        ws.append([int(v) if str(v).isdigit() else v for v in row])
    p = tmp_path / "c.xlsx"
    wb.save(p)
    assert ingest(p, kind="client", wave="2026Q3", store=ready).rows_stored == 3


def test_path_that_does_not_exist(ready, tmp_path):
    with pytest.raises(IngestError, match="does not exist"):
        ingest(tmp_path / "missing.csv", kind="client", wave="2026Q3", store=ready)


def test_wave_required(ready, tmp_path):
    with pytest.raises(IngestError, match="--wave"):
        ingest(write_csv(survey_frame(1), tmp_path / "c.csv"), kind="client", store=ready)


def test_finnish_question_texts_and_mapping(ready, tmp_path):
    """Headers are the instrument's Finnish wording; meta columns come from a mapping file."""
    from helpers.data.instrument import load_instrument

    inst = load_instrument()
    f = survey_frame(2).rename(columns={"account_id": "Asiakasyritys"})
    f = f.rename(columns={it.id: it.text["client"]["fi"] for it in inst.items})
    f = f.rename(columns={"nps": inst.texts["nps"]["text"]["client"]["fi"]})
    f["role"] = ["Päättäjä", "Käyttäjä"]
    m = tmp_path / "m.yml"
    m.write_text("columns:\n  Asiakasyritys: account_id\nvalues:\n  role: {Päättäjä: decision-maker, Käyttäjä: user}\n",
                 encoding="utf-8")
    res = ingest(write_csv(f, tmp_path / "c.csv", sep=";"), kind="client", wave="2026Q3", store=ready, mapping=m)
    assert res.rows_stored == 2
    assert load_responses(store=ready)["role"].tolist() == ["decision-maker", "user"]


def test_accounts_validation_and_upsert(store, tmp_path):
    f = pd.DataFrame({"account_id": ["A1", "A2", "A2", "A3"], "name": ["Ä Oy", "B", "B again", None],
                      "status": ["renewed", "jatkettu", "churned", "bogus"], "annual_value": ["1 000,5", "x", "5", "1"]})
    p = write_csv(f, tmp_path / "acc.csv", sep=";")
    res = ingest(p, kind="accounts", store=store)
    assert res.rows_stored == 1  # A2 has a bad value, its repeat is a duplicate, A3 has no name and a bad status
    acc = load_accounts(store=store)
    assert acc.iloc[0]["annual_value"] == 1000.5 and acc.iloc[0]["name"] == "Ä Oy"
    reasons = set(load_quarantine(store=store)["reason"])
    assert {"is not a number", "repeats an account id listed on an earlier row", "is required but empty",
            "is not a status (active, renewed, churned)"} <= reasons
    # a corrected CRM export updates the account instead of duplicating it
    f2 = pd.DataFrame({"account_id": ["A1"], "name": ["Ä Oy"], "status": ["churned"], "annual_value": ["1000,5"]})
    ingest(write_csv(f2, tmp_path / "acc2.csv", sep=";"), kind="accounts", store=store)
    acc = load_accounts(store=store)
    assert len(acc) == 1 and acc.iloc[0]["status"] == "churned"


def test_touchpoints(ready, tmp_path):
    f = pd.DataFrame({"account_id": ["A1", "A1", "A2", "A9", "A1"],
                      "visit_at": ["2026-03-01 08:00", "2026-03-02 08:00", "2026-03-03 08:00", "2026-03-03 08:00", "2026-03-01 08:00"],
                      "answered_at": ["2026-03-01 10:00", "2026-03-02 10:00", "14.3.2026 10.00", "2026-03-03 10:00", "2026-03-01 10:00"],
                      "score": ["9", "11", "6", "7", "9"]})
    p = write_csv(f, tmp_path / "tp.csv")
    res = ingest(p, kind="touchpoints", store=ready)
    assert res.rows_stored == 2 and res.rows_quarantined == 3
    reasons = " | ".join(load_quarantine(store=ready)["reason"])
    assert "outside the 0–10 NPS scale" in reasons and "not a known account" in reasons and "repeats the event on row 2" in reasons
    tp = load_touchpoints(store=ready)
    assert tp["answered_at"].iloc[-1] == pd.Timestamp("2026-03-14 10:00")
    assert ingest(p, kind="touchpoints", store=ready).already_ingested


def test_cli_ingest_prints_summary_and_errors(ready, tmp_path, capsys):
    f = survey_frame(3)
    f.loc[0, "care_1"] = "7"
    p = write_csv(f, tmp_path / "c.csv")
    assert cli(["--store", str(ready), "ingest", str(p), "--kind", "client", "--wave", "2026Q3"]) == 0
    out = capsys.readouterr().out
    assert "3 rows read, 2 stored" in out and "column 'care_1': '7' is outside the 1–5 scale (rows 2)" in out
    assert cli(["--store", str(ready), "ingest", str(tmp_path / "nope.csv"), "--kind", "client", "--wave", "X"]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Nothing was written" in err


def test_hostile_wave_label_is_quarantined(ready, tmp_path):
    f = survey_frame(2).assign(wave=["2026Q3", "2026Q4 <img src=x onerror=alert(7)>"])
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", store=ready)
    assert res.rows_stored == 1 and "is not a wave label" in load_quarantine(store=ready)["reason"].iloc[0]
    with pytest.raises(IngestError, match="short label"):
        ingest(write_csv(survey_frame(1), tmp_path / "d.csv"), kind="client", wave="<b>x</b>", store=ready)


def test_resubmission_across_files_supersedes_the_stored_answer(ready, tmp_path):
    monday = survey_frame(1, prefix="RS").assign(respondent_id="P1", nps="2", submitted_at="2026-09-07 10:00")
    ingest(write_csv(monday, tmp_path / "mon.csv"), kind="client", wave="2026Q3", store=ready)
    friday = survey_frame(2, prefix="RS").assign(respondent_id="P1", nps=["2", "10"],
                                                submitted_at=["2026-09-07 10:00", "2026-09-11 10:00"])
    res = ingest(write_csv(friday, tmp_path / "fri.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.superseded_in_store == 1 and res.rows_stored == 1
    resp = load_responses(store=ready)
    assert resp["response_id"].tolist() == ["RS2"] and resp["nps"].tolist() == [10]
    assert set(load_answers(store=ready)["response_id"]) == {"RS2"}
    con = duckdb.connect(str(ready), read_only=True)  # the earlier answer is kept, marked, not deleted
    assert con.execute("SELECT superseded_by FROM responses WHERE response_id = 'RS1'").fetchone()[0] == "RS2"
    con.close()
    # an older answer arriving later does not replace the newer one
    late = survey_frame(1, prefix="OLD").assign(respondent_id="P1", submitted_at="2026-09-01 10:00")
    res = ingest(write_csv(late, tmp_path / "late.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 0 and "older than this respondent's answer already in the store (RS2)" in \
        res.quarantine["reason"].iloc[0]


def test_dates_with_offsets_and_excel_serials(ready, tmp_path):
    f = survey_frame(4).assign(submitted_at=["2026-03-28T10:00:00+02:00", "2026-03-30T10:00:00+03:00",
                                             "46030", "46031.5"])  # Excel day numbers in the wave too
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q1", store=ready)
    assert res.rows_stored == 4
    got = load_responses(store=ready).set_index("response_id")["submitted_at"]
    assert got["R1"] == pd.Timestamp("2026-03-28 08:00") and got["R2"] == pd.Timestamp("2026-03-30 07:00")
    assert got["R3"] == pd.Timestamp("2026-01-08") and got["R4"] == pd.Timestamp("2026-01-09 12:00")


def test_quarantine_gives_the_text_line_when_a_comment_spans_lines(ready, tmp_path, capsys):
    f = survey_frame(4)
    f.loc[0, "comment"] = "Hyvä yhteistyö.\nKiitos Äänekoskelta!\nTerveisin Åsa"  # three lines in one cell
    f.loc[1, "nps"] = "11"
    p = write_csv(f, tmp_path / "multiline.csv")
    res = ingest(p, kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 3 and res.rows_quarantined == 1
    q = load_quarantine(store=ready)
    assert (q["row"].iloc[0], q["line"].iloc[0]) == (3, 5)  # row 3 in a spreadsheet, line 5 in a text editor
    assert "(rows 3; text lines 5)" in res.summary()
    assert load_responses(store=ready).set_index("response_id")["comment"].str.contains("\n").sum() == 1
    assert cli(["--store", str(ready), "quarantine"]) == 0
    assert "line" in capsys.readouterr().out.splitlines()[0]
    # without a cell spanning lines the two agree, and the listing shows the row only
    g = survey_frame(4)
    g["response_id"] = g["response_id"] + "b"
    g.loc[2, "nps"] = "12"
    res = ingest(write_csv(g, tmp_path / "plain.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.quarantine[["row", "line"]].iloc[0].tolist() == [4, 4] and "text lines" not in res.summary()


@pytest.mark.parametrize("kind", ["client", "staff"])
def test_empty_wave_beside_a_respondent_id_is_quarantined_not_a_crash(ready, tmp_path, kind):
    f = survey_frame(4).assign(wave=["2026Q3", None, "2026Q3", None], respondent_id=["P1", "P2", "P1", None])
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind=kind, store=ready)  # no --wave: the column says it
    assert (res.rows_stored, res.rows_quarantined) == (1, 3)
    q = load_quarantine(store=ready)
    assert q.loc[q["column"] == "wave", "row"].tolist() == [3, 5]
    assert set(q.loc[q["column"] == "wave", "reason"]) == {"is required but empty"}
    assert "superseded by a resubmission from the same respondent (row 4)" in q.loc[q["row"] == 2, "reason"].iloc[0]
    assert load_responses(store=ready)["response_id"].tolist() == ["R3"]
