"""Contacts with consent: stored apart from the answers, only with a yes, never from staff, never in quarantine."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from helpers_data import survey_frame, write_csv

from helpers.data.ingest import ingest
from helpers.data.instrument import load_instrument
from helpers.data.store import query
from helpers.data.validation import IngestError

CONSENT = "May we contact you about your answers?"
CONSENT_FI = "Saammeko ottaa sinuun yhteyttä vastaustesi johdosta?"


def _q(sql, store):
    """A query's rows with None (not NaN) for missing values."""
    df = query(sql, store=store)
    return df.astype(object).where(df.notna(), None)


def _client(tmp_path, consent, *, name=None, email=None, phone=None, header=CONSENT, n=None):
    n = n or len(consent)
    f = survey_frame(n)
    f[header] = consent
    if name is not None:
        f["Your name"] = name
    if email is not None:
        f["Your e-mail address"] = email
    if phone is not None:
        f["Your phone number"] = phone
    return write_csv(f, tmp_path / "client.csv")


def test_the_instrument_reads_consent_answers_in_both_languages():
    inst = load_instrument()
    assert inst.consent_answer("Yes") == inst.consent_answer("kyllä") == "yes"
    assert inst.consent_answer("Kyllä, ottakaa minuun yhteyttä") == inst.consent_answer("Please contact me.") \
        == "request"
    assert inst.consent_answer("Ei") == inst.consent_answer("no") == "no"
    assert inst.consent_answer("maybe later") is None and inst.consent_answer(None) is None
    assert inst.header_lookup()["sähköpostiosoitteesi"] == "contact_email"


def test_a_contact_is_stored_only_with_consent(store, accounts_csv, tmp_path):
    ingest(accounts_csv, kind="accounts", store=store)
    f = _client(tmp_path, ["Kyllä", "Kyllä, ottakaa minuun yhteyttä", "Ei", "maybe", None],
                name=["Matti Meikäläinen", "Liisa Öster", "Pekka No", "Maybe Person", "Blank Person"],
                email=["matti@example.fi", None, "pekka@example.fi", "maybe@example.fi", "blank@example.fi"],
                header=CONSENT_FI)
    res = ingest(f, kind="client", wave="2026Q3", store=store)
    assert res.rows_stored == 5 and res.rows_quarantined == 0
    c = _q("SELECT response_id, consent, name, email FROM contacts ORDER BY response_id", store)
    assert c.to_dict("records") == [
        {"response_id": "R1", "consent": "yes", "name": "Matti Meikäläinen", "email": "matti@example.fi"},
        {"response_id": "R2", "consent": "request", "name": "Liisa Öster", "email": None},
    ]
    text = res.summary()
    assert "3 contact(s) given without consent to contact were not stored (rows 4, 5, 6)" in text
    assert "'maybe'" in text and "count as no" in text
    assert "pekka@example.fi" not in text and "blank@example.fi" not in text  # values never echoed
    everything = " ".join(str(v) for t in ("responses", "answers", "quarantine", "ingests")
                          for v in query(f"SELECT * FROM {t}", store=store).to_numpy().ravel())
    for value in ("Matti", "Liisa", "Pekka", "pekka@example.fi", "maybe@example.fi", "blank@example.fi"):
        assert value not in everything


def test_a_request_without_details_is_kept_so_it_reaches_the_queue(store, accounts_csv, tmp_path):
    ingest(accounts_csv, kind="accounts", store=store)
    ingest(_client(tmp_path, ["Yes, please contact me", "No"]), kind="client", wave="2026Q3", store=store)
    c = _q("SELECT response_id, consent, name, email, phone FROM contacts", store)
    assert c.to_dict("records") == [{"response_id": "R1", "consent": "request", "name": None, "email": None,
                                     "phone": None}]


def test_a_bad_email_or_phone_is_left_out_and_the_row_named(store, accounts_csv, tmp_path):
    ingest(accounts_csv, kind="accounts", store=store)
    f = _client(tmp_path, ["Yes", "Yes", "Yes"], name=["A B", "C D", "E F"],
                email=["not an address", "ok@example.fi", None], phone=["040 123 4567", "12", "call me"])
    res = ingest(f, kind="client", wave="2026Q3", store=store)
    c = _q("SELECT response_id, name, email, phone FROM contacts ORDER BY response_id", store)
    assert c["email"].tolist() == [None, "ok@example.fi", None]
    assert c["phone"].tolist() == ["040 123 4567", None, None]
    assert c["name"].tolist() == ["A B", "C D", "E F"]
    text = res.summary()
    assert "an e-mail address that is not one (rows 2)" in text and "a phone number that is not one (rows 3, 4)" in text
    assert "not an address" not in text and "call me" not in text
    assert query("SELECT count(*) AS n FROM quarantine", store=store)["n"].iloc[0] == 0


def test_a_quarantined_row_leaves_its_contact_nowhere(store, accounts_csv, tmp_path):
    ingest(accounts_csv, kind="accounts", store=store)
    f = survey_frame(2)
    f.loc[1, "nps"] = "11"
    f[CONSENT] = "Yes"
    f["Your e-mail address"] = ["first@example.fi", "rejected@example.fi"]
    res = ingest(write_csv(f, tmp_path / "c.csv"), kind="client", wave="2026Q3", store=store)
    assert res.rows_quarantined == 1
    assert query("SELECT email FROM contacts", store=store)["email"].tolist() == ["first@example.fi"]
    q = query("SELECT * FROM quarantine", store=store)
    assert "rejected@example.fi" not in q.to_string()


def test_contacts_are_never_in_the_answers_tables(store, accounts_csv, tmp_path):
    ingest(accounts_csv, kind="accounts", store=store)
    ingest(_client(tmp_path, ["Yes"], email=["apart@example.fi"]), kind="client", wave="2026Q3", store=store)
    cols = query("SELECT table_name, column_name FROM information_schema.columns WHERE table_name IN "
                 "('responses', 'answers')", store=store)
    assert not set(cols["column_name"]) & {"name", "email", "phone", "consent", "contact_email"}


@pytest.mark.parametrize("header", ["Your e-mail address", "Sähköposti", CONSENT, "Puhelinnumerosi"])
def test_a_staff_export_with_a_contact_column_is_refused(store, accounts_csv, tmp_path, header):
    ingest(accounts_csv, kind="accounts", store=store)
    f = survey_frame(3, prefix="S")
    f[header] = ["x@example.fi", None, None]
    with pytest.raises(IngestError, match=re.escape(repr(header)) + ".*staff answer anonymously.*ignore:"):
        ingest(write_csv(f, tmp_path / "staff.csv"), kind="staff", wave="2026Q3", store=store)
    assert query("SELECT count(*) AS n FROM responses", store=store)["n"].iloc[0] == 0


def test_a_staff_contact_column_listed_under_ignore_is_left_out(store, accounts_csv, tmp_path):
    ingest(accounts_csv, kind="accounts", store=store)
    f = survey_frame(3, prefix="S")
    f["Sähköposti"] = ["x@example.fi", None, None]
    mapping = tmp_path / "m.yml"
    mapping.write_text("ignore: [Sähköposti]\n", encoding="utf-8")
    res = ingest(write_csv(f, tmp_path / "staff.csv"), kind="staff", wave="2026Q3", store=store, mapping=mapping)
    assert res.rows_stored == 3
    assert query("SELECT count(*) AS n FROM contacts", store=store)["n"].iloc[0] == 0


def test_reingesting_the_same_answers_adds_no_contact_twice(store, accounts_csv, tmp_path):
    ingest(accounts_csv, kind="accounts", store=store)
    f = _client(tmp_path, ["Yes", "Yes"], email=["a@example.fi", "b@example.fi"])
    ingest(f, kind="client", wave="2026Q3", store=store)
    copy = tmp_path / "copy.csv"
    copy.write_bytes(f.read_bytes() + b"\n")
    res = ingest(copy, kind="client", wave="2026Q3", store=store)
    assert res.rows_already_stored == 2
    assert query("SELECT count(*) AS n FROM contacts", store=store)["n"].iloc[0] == 2


def test_the_sample_has_consented_contacts_and_requests(sample_store):
    c = query("SELECT consent, count(*) AS n FROM contacts GROUP BY consent", store=sample_store)
    counts = dict(zip(c["consent"], c["n"]))
    assert counts.get("yes", 0) > 20 and counts.get("request", 0) > 5
    assert set(pd.unique(query("SELECT side FROM responses WHERE response_id IN (SELECT response_id FROM contacts)",
                               store=sample_store)["side"])) == {"client"}
