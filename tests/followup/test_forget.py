"""`flamekit forget`: the contact and the free text leave the store (its bytes too) and newly written files."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from helpers.cli import main
from helpers.data import forget as forget_module
from helpers.data.followups import item_id
from helpers.data.forget import forget
from helpers.data.ingest import ingest
from helpers.data.store import data_hash, query

NOW = pd.Timestamp("2026-12-01 09:00")
SECRETS = ("Matti Öster", "matti.oster@example.fi", "040 111 2222", "Laskutus meni pieleen", "Soitettu Matille",
           "P-MATTI")


@pytest.fixture
def remembered(tiny_store, tmp_path):
    """Matti (respondent P-MATTI): a consented contact, a comment, a follow-up with a note, an older answer
    quarantined under his id; and Liisa, who stays."""
    from helpers.followup import run_followup

    store = tiny_store([
        {"response_id": "R1", "respondent_id": "P-MATTI", "nps": 2, "comment": "Laskutus meni pieleen taas.",
         "consent": "Yes", "name": "Matti Öster", "email": "Matti.Oster@example.fi", "phone": "040 111 2222",
         "submitted_at": "2026-09-10 10:00"},
        {"response_id": "R2", "respondent_id": "P-LIISA", "nps": 3, "comment": "Raportit myöhässä.",
         "consent": "Yes", "name": "Liisa Aho", "email": "liisa@example.fi"},
    ])
    from helpers_data import survey_frame, write_csv

    older = survey_frame(1, prefix="R0-").assign(respondent_id="P-MATTI", submitted_at="2026-09-01 10:00")
    ingest(write_csv(older, tmp_path / "older.csv"), kind="client", wave="2026Q3", store=store)  # quarantined:
    assert _quarantine_value_with(store, "P-MATTI")  # older than his answer in the store, under his id
    run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    pd.DataFrame({"item_id": [item_id("survey", "R1"), item_id("survey", "R2")], "status": ["contacted"] * 2,
                  "outcome_at": ["2026-09-11 10:00"] * 2, "note": ["Soitettu Matille.", "Soitettu."]}).to_csv(
        tmp_path / "o.csv", index=False)
    ingest(tmp_path / "o.csv", kind="followups", store=store)
    run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    return store


def _quarantine_value_with(store, text):
    q = query("SELECT value FROM quarantine", store=store)
    return any(isinstance(v, str) and text in v for v in q["value"])


def test_forget_leaves_no_trace_in_the_store_or_its_bytes(remembered):
    store = remembered
    before_hash = data_hash(store=store)
    res = forget(respondent="P-MATTI", store=store)
    assert (res.responses, res.contacts, res.comments, res.notes, res.quarantine_cells) == (1, 1, 1, 1, 1)
    assert res.waves == ["2026Q3"] and res.items == [item_id("survey", "R1")] and res.rewritten
    everything = " ".join(str(v) for t in ("responses", "answers", "contacts", "quarantine", "followup_items",
                                           "followup_outcomes", "ingests", "erasures")
                          for v in query(f"SELECT * FROM {t}", store=store).to_numpy().ravel())
    for secret in SECRETS:
        assert secret.lower() not in everything.lower(), secret
    data = store.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in data, secret
    assert "Liisa Aho" in everything and "Raportit myöhässä." in everything and "Soitettu." in everything
    r1 = query("SELECT nps, comment, respondent_id FROM responses WHERE response_id = 'R1'", store=store).iloc[0]
    assert r1["nps"] == 2 and pd.isna(r1["comment"]) and pd.isna(r1["respondent_id"])
    assert data_hash(store=store) != before_hash  # the batch renders every report again
    e = query("SELECT * FROM erasures", store=store)
    assert len(e) == 1 and e[["contacts", "comments", "notes"]].values.tolist() == [[1, 1, 1]]


def test_forget_is_one_transaction(remembered, monkeypatch):
    real = forget_module._remove

    def fails_at_the_end(con, result, **kw):
        real(con, result, **kw)
        raise RuntimeError("power cut")

    monkeypatch.setattr(forget_module, "_remove", fails_at_the_end)
    with pytest.raises(RuntimeError, match="power cut"):
        forget(respondent="P-MATTI", store=remembered)
    assert query("SELECT count(*) AS n FROM contacts", store=remembered)["n"].iloc[0] == 2
    assert query("SELECT comment FROM responses WHERE response_id = 'R1'", store=remembered)["comment"].iloc[0] \
        == "Laskutus meni pieleen taas."
    assert query("SELECT count(*) AS n FROM erasures", store=remembered)["n"].iloc[0] == 0


def test_forget_by_email_or_response(remembered):
    assert forget(email="matti.oster@EXAMPLE.fi ", store=remembered).contacts == 1
    assert forget(response="R2", store=remembered).comments == 1
    assert query("SELECT count(*) AS n FROM contacts", store=remembered)["n"].iloc[0] == 0


def test_nothing_to_forget_changes_nothing(remembered):
    before = remembered.read_bytes()
    res = forget(respondent="P-NOBODY", store=remembered)
    assert not res.found and remembered.read_bytes() == before
    with pytest.raises(ValueError, match="Say whom to forget"):
        forget(store=remembered)


def test_reingesting_the_export_does_not_bring_them_back(remembered, tmp_path):
    forget(respondent="P-MATTI", store=remembered)
    same = tmp_path / "client.csv"
    copy = tmp_path / "client-again.csv"
    copy.write_bytes(same.read_bytes() + b"\n")
    for f in (same, copy):
        ingest(f, kind="client", wave="2026Q3", store=remembered)
    assert query("SELECT count(*) AS n FROM contacts", store=remembered)["n"].iloc[0] == 1
    assert pd.isna(query("SELECT comment FROM responses WHERE response_id = 'R1'", store=remembered)["comment"][0])


def test_the_command_writes_the_followup_files_again_without_them(remembered, tmp_path, capsys):
    folder = tmp_path / "q"
    text = " ".join(str(v) for p in folder.glob("*.xlsx") for r in load_workbook(p).worksheets[0].iter_rows(
        values_only=True) for v in r)
    assert "matti.oster@example.fi".lower() in text.lower() and "Soitettu Matille." in text
    code = main(["--store", str(remembered), "forget", "--respondent", "P-MATTI", "--followup-dir", str(folder)])
    out = capsys.readouterr().out
    assert code == 0 and "1 contact(s), 1 comment(s)" in out and "flamekit reports --wave 2026Q3" in out
    files = " ".join([str(v) for p in folder.glob("*.xlsx") for ws in load_workbook(p).worksheets
                      for r in ws.iter_rows(values_only=True) for v in r] + [(folder / "index.html").read_text()])
    for secret in SECRETS:
        assert secret.lower() not in files.lower(), secret
    assert "liisa@example.fi" in files
    assert main(["--store", str(remembered), "forget", "--respondent", "P-MATTI"]) == 1
    assert main(["--store", str(remembered), "forget"]) == 2


def test_a_report_rendered_after_forget_has_no_trace_of_them(remembered):
    """What the account report's notebook shows comes from ``account_report_data``: Matti's comment is in it
    before; after forget neither his comment nor his contact is (Liisa's comment stays)."""
    from helpers.report.account.report_data import account_report_data

    before = repr(account_report_data("A1", "2026Q3", store=remembered))
    assert "Laskutus meni pieleen" in before and "Raportit myöhässä" in before
    forget(respondent="P-MATTI", store=remembered)
    after = repr(account_report_data("A1", "2026Q3", store=remembered))
    for secret in SECRETS:
        assert secret.lower() not in after.lower(), secret
    assert "Raportit myöhässä" in after
