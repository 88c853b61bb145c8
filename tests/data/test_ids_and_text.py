"""Ids from a known alphabet, and stored text without control or text-direction characters."""

from __future__ import annotations

import pandas as pd
import pytest
from helpers_data import survey_frame, write_csv

from helpers.data.ingest import ingest
from helpers.data.store import load_accounts, load_quarantine, load_responses, load_touchpoints
from helpers.data.validation import clean_text, id_problem


@pytest.fixture
def ready(store, accounts_csv):
    """A store that knows accounts A1–A3."""
    ingest(accounts_csv, kind="accounts", store=store)
    return store


# ---------------------------------------------------------------------------
# Ids
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["A001", "R_1abcDEF", "C-2026Q3-A001-001", "Mäkelä:7", "Åbo/2026#3", "acme.fi",
                                   "ACME 2", "p+1@example.fi", "Ma\u0308kela\u0308", "x" * 64])
def test_ids_the_alphabet_allows(value):
    assert id_problem(value) is None


@pytest.mark.parametrize("value,shown", [
    ("A1\nA2", "U+000A (a control character)"),
    ("A1\x07", "U+0007 (a control character)"),
    ("A1\u202e", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ("A1\u2066", "U+2066 LEFT-TO-RIGHT ISOLATE"),
    ("A1\u200b", "U+200B ZERO WIDTH SPACE"),
    ("A1\u00a0B", "U+00A0 NO-BREAK SPACE"),
    ('A1"', "'\"' (U+0022 QUOTATION MARK)"),
    ("A1'; --", "\"'\" (U+0027 APOSTROPHE)"),
    ("<b>A1</b>", "'<' (U+003C LESS-THAN SIGN)"),
    ("A1\tB", "U+0009 (a control character)"),
    ("A1\x9b", "U+009B (a control character)"),
])
def test_ids_with_odd_characters_name_the_character(value, shown):
    assert id_problem(value).startswith(f"is not a valid id: it contains {shown} (an id may hold letters, ")


@pytest.mark.parametrize("value,why", [
    ("../A1", "'.' or '..' between slashes"), ("A1/..", "'.' or '..' between slashes"), ("a/./b", "between slashes"),
    ("..", "between slashes"), ("x" * 65, "it has 65 characters"), (" A1", "starts or ends with a space"),
])
def test_ids_that_could_name_another_folder_or_are_too_long(value, why):
    assert why in id_problem(value)


@pytest.mark.parametrize("column", ["response_id", "account_id", "respondent_id"])
def test_survey_rows_with_an_odd_id_are_quarantined(ready, tmp_path, column):
    f = survey_frame(3).assign(respondent_id=["P1", "P2", "P3"])
    f.loc[1, column] = f.loc[1, column] + "\u202e"
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=ready)
    assert res.rows_stored == 2 and set(res.quarantine["row"]) == {3}
    q = load_quarantine(store=ready)
    hit = q[(q["column"] == column) & q["reason"].str.contains("valid id")]  # an account id is unknown, too
    assert len(hit) == 1 and hit["value"].iloc[0].endswith("\u202e")
    assert "it contains U+202E RIGHT-TO-LEFT OVERRIDE" in hit["reason"].iloc[0]
    assert "U+202E" in res.summary() and "\u202e" not in res.summary().replace(repr(hit["value"].iloc[0]), "")
    assert "R2" not in set(load_responses(store=ready)["response_id"])


def test_accounts_with_an_odd_id_are_quarantined_like_other_rows(store, tmp_path):
    f = pd.DataFrame({"account_id": ["A1", "../../etc/x", "A\x1b[2J3", "Mäkelä-4"],
                      "name": ["Yksi Oy", "Kaksi Oy", "Kolme Oy", "Neljä Oy"]})
    res = ingest(write_csv(f, tmp_path / "acc.csv"), kind="accounts", store=store)
    assert (res.rows_stored, res.rows_quarantined) == (2, 2)
    assert load_accounts(store=store)["account_id"].tolist() == ["A1", "Mäkelä-4"]
    reasons = load_quarantine(store=store).set_index("row")["reason"]
    assert "'.' or '..' between slashes" in reasons[3] and "U+001B (a control character)" in reasons[4]


def test_touchpoint_ids_follow_the_same_alphabet(ready, tmp_path):
    f = pd.DataFrame({"touchpoint_id": ["T1", "T2\x00x".replace("\x00", "\x7f")], "account_id": ["A1", "A1"],
                      "answered_at": ["2026-03-01 10:00", "2026-03-02 10:00"], "score": ["9", "8"]})
    res = ingest(write_csv(f, tmp_path / "tp.csv"), kind="touchpoints", store=ready)
    assert res.rows_stored == 1 and "U+007F (a control character)" in res.quarantine["reason"].iloc[0]
    assert load_touchpoints(store=ready)["touchpoint_id"].tolist() == ["T1"]


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------
EVIL_NAME = "Oy Ab\u202e1A\u0007 (evil)"


def test_control_and_bidi_characters_are_stripped_from_account_text(store, tmp_path):
    f = pd.DataFrame({"account_id": ["A1", "A2"], "name": [EVIL_NAME, "Mäkelä Oy"],
                      "owner": ["Aino\u2067 Mäkelä\u2069", "Jussi"], "segment": ["Energy\x1b[31m", "Retail"]})
    res = ingest(write_csv(f, tmp_path / "acc.csv"), kind="accounts", store=store)
    assert res.rows_stored == 2 and res.rows_quarantined == 0  # cleaned, not rejected
    acc = load_accounts(store=store).set_index("account_id")
    assert acc.loc["A1", "name"] == "Oy Ab1A (evil)"
    assert acc.loc["A1", "owner"] == "Aino Mäkelä" and acc.loc["A1", "segment"] == "Energy[31m"
    assert acc.loc["A2", "name"] == "Mäkelä Oy"
    assert res.stripped == {"name": (1, 2), "owner": (1, 2), "segment": (1, 1)}
    assert ("Removed 5 control or text-direction character(s) from 3 text cell(s) in column(s) 'name' (1), "
            "'owner' (1), 'segment' (1); the rows were kept.") in res.summary()


def test_comments_keep_line_breaks_and_tabs_other_text_gets_a_space(ready, tmp_path):
    f = survey_frame(3).assign(team=["Hankinta\nja talous", "IT", "IT\u202d"])
    f.loc[0, "comment"] = "Hyvä\tpalvelu.\nKiitos!\u202e\x00"
    f.loc[1, "comment"] = "\u2066\u2069"  # nothing left: no comment
    res = ingest(write_csv(f.replace("\x00", "\x01", regex=True), tmp_path / "c.csv"), kind="client",
                 wave="2026Q3", store=ready)
    assert res.rows_stored == 3 and res.rows_quarantined == 0
    resp = load_responses(store=ready).set_index("response_id")
    assert resp.loc["R1", "comment"] == "Hyvä\tpalvelu.\nKiitos!" and pd.isna(resp.loc["R2", "comment"])
    assert resp.loc["R1", "team"] == "Hankinta ja talous" and resp.loc["R3", "team"] == "IT"
    assert res.stripped == {"team": (2, 2), "comment": (2, 4)}


def test_clean_text_leaves_clean_text_alone():
    s = pd.Series(["Mäkelä Rakennus", None, "Åbo – “quoted” & <b>", "−7 €"], dtype=object)
    out, cells, chars = clean_text(s)
    assert out is s and (cells, chars) == (0, 0)
    out, cells, chars = clean_text(pd.Series(["a\r\nb\rc"], dtype=object), keep_breaks=True)
    assert out.tolist() == ["a\nb\nc"] and (cells, chars) == (0, 0)
