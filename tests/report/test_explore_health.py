"""Data health: every ingest reason has a kind, and the store is told in words, per wave and side."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.report.explore.health import Health, _files, health_band, health_sentences, health_table, reason_kind
from language import other_language_words

# Every reason the ingest writes (helpers.data.ingest and helpers.data.validation), with its kind.
REASONS = {
    "is outside the 1–5 scale": "scale",
    "is outside the 0–10 NPS scale": "scale",
    "is not a whole point of the 1–5 scale": "scale",
    "is not a whole NPS point": "scale",
    "is not a known account (ingest the accounts file first, or fix the id)": "unknown_account",
    "is superseded by a resubmission from the same respondent (row 12)": "superseded",
    "is older than this respondent's answer already in the store (C-1)": "superseded",
    "duplicates response id on row 27": "duplicate",
    "is already in the store with different answers (from client_2026Q2.csv)": "duplicate",
    "repeats an account id listed on an earlier row": "duplicate",
    "repeats the event on row 4": "duplicate",
    "marks a preview or test response": "preview",
    "is in the future (this ingest ran on 2026-12-07)": "date",
    "is before wave 2026Q3 opened on 2026-07-01": "date",
    "is after wave 2026Q3 closed on 2026-09-30 and its 14 days of grace": "date",
    "is not a date (use 2026-03-14 or 14.3.2026)": "date",
    "is before the visit": "date",
    "is before contract_start": "date",
    "is required but empty": "empty",
    "response has no answers": "empty",
    "is not a valid id: it contains U+202E RIGHT-TO-LEFT OVERRIDE": "invalid",
    "is not a number": "invalid",
    "is not a wave label (letters, digits, spaces, '.', '-' or '_'; at most 40)": "invalid",
    "is not a status (active, renewed, churned)": "invalid",
    "does not match --kind client": "invalid",
    "differs from --wave 2026Q3": "invalid",
    "is negative": "invalid",
    "a reason added later": "other",
}


@pytest.mark.parametrize("reason, kind", REASONS.items())
def test_every_ingest_reason_has_its_kind(reason, kind):
    assert reason_kind(reason) == kind


def _health() -> Health:
    log = pd.DataFrame({"kind": ["client", "staff", "client", "accounts"], "wave": ["W1", "W1", "W2", None],
                        "rows_read": [100, 40, 120, 10], "rows_stored": [100, 38, 117, 10],
                        "rows_quarantined": [0, 2, 3, 0]})
    q = pd.DataFrame({"file": ["s1.csv", "s1.csv", "c2.csv", "c2.csv", "c2.csv", "c2.csv"],
                      "kind": ["staff", "staff", "client", "client", "client", "client"],
                      "wave": ["W1", "W1", "W2", "W2", "W2", "W2"], "row": [4, 5, 7, 7, 9, 12],
                      "column": ["Status", "Status", "Q1", "Q2", "NPS", "Account"],
                      "reason": ["marks a preview or test response"] * 2 + ["is outside the 1–5 scale"] * 2
                      + ["is outside the 0–10 NPS scale", "is not a known account (ingest the accounts file first)"]})
    q["why"] = q["reason"].map(reason_kind)
    answers = pd.DataFrame({"wave": ["W1", "W1", "W2"], "side": ["client", "staff", "client"], "n": [100, 38, 117],
                            "accounts": [9, 8, 10]})
    return Health(files=_files(log, q, answers, ["W1", "W2"]), quarantine=q, answers=answers,
                  status=pd.Series({"active": 6, "renewed": 3, "churned": 1}), waves=["W1", "W2"])


def test_the_log_is_summed_per_wave_and_side_and_a_row_with_two_bad_cells_counts_once():
    f = _health().files
    assert f[["kind", "wave"]].values.tolist() == [["accounts", ""], ["client", "W1"], ["staff", "W1"],
                                                    ["client", "W2"]]
    w2 = f[(f["kind"] == "client") & (f["wave"] == "W2")].iloc[0]
    assert w2["why"] == {"scale": 2, "unknown_account": 1} and w2["accounts"] == 10


@pytest.mark.parametrize("language", ["en", "fi"])
def test_health_in_words(language):
    h = _health()
    sentences = health_sentences(h, language)
    assert len(sentences) == 3  # client files, team files, how to fix
    if language == "en":
        assert sentences[0] == ("Client files: 3 of 220 rows in quarantine (W2): outside the answer scale (2), "
                                "unknown account (1).")
        assert sentences[1] == "Team files: 2 of 40 rows in quarantine (W1): preview or test answer (2)."
    else:
        assert sentences[0].startswith("Asiakastiedostot: karanteenissa 3 riviä 220 luetusta (W2)")
    html = health_band(h, language).to_html() + health_table(h, language).to_html()
    assert not other_language_words(" ".join(sentences), language)
    assert "rows_read" not in html and "True" not in html and "fk-tile fk-attention" in html


def test_an_empty_quarantine_is_said_so():
    h = _health()
    clean = Health(files=h.files.assign(rows_quarantined=0, why=[{}] * len(h.files)), quarantine=h.quarantine[:0],
                   answers=h.answers, status=h.status, waves=h.waves)
    assert health_sentences(clean, "en") == ["Every row read was stored; the quarantine is empty."]
