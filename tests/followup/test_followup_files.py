"""The queue's files: formulas neutralised, contacts only in the owner's own workbook, escaped HTML, atomic writes."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from openpyxl import load_workbook

from helpers.followup import run_followup
from helpers.followup.files import neutralise
from language import other_language_words, page_text

NOW = pd.Timestamp("2026-12-01 09:00")
EVIL = ["=HYPERLINK(\"http://evil\",\"x\")", "+358 40 1234567", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"]


@pytest.mark.parametrize("text", EVIL)
def test_cells_that_start_like_a_formula_are_neutralised(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("value", ["Hyvä", "", None, 5, -5, 3.5, pd.Timestamp("2026-01-01")])
def test_other_cells_are_left_alone(value):
    assert neutralise(value) is value or neutralise(value) == value


def _rows(store_maker, **extra):
    return store_maker([
        {"response_id": "R1", "nps": 2, "comment": "=HYPERLINK(\"http://evil\",\"click\") <script>alert(1)</script> "
                                                  "soita 040 765 4321", "consent": "Yes", "name": "@Matti Öster",
         "email": "matti.oster@example.fi", "phone": "+358 40 111 2222"},
        {"response_id": "R2", "nps": 3, "comment": "-Huono palvelu", "consent": "No", "name": "Secret Person",
         "email": "secret@example.fi"},
        {"response_id": "R3", "nps": 4, "account_id": "A2", "consent": "Kyllä, ottakaa minuun yhteyttä",
         "email": "jussin.asiakas@example.fi"},
    ], **extra)


def _accounts(owner_1="=Aino Mäkelä"):
    return pd.DataFrame({"account_id": ["A1", "A2", "A3"], "name": ["+Mäkelä Oy", "Åbo Logistik Ab", "Öljy"],
                         "owner": [owner_1, "Jussi Härkönen", None]})


def test_no_cell_of_a_workbook_is_a_formula_and_text_keeps_its_letters(tiny_store, tmp_path):
    store = _rows(tiny_store, accounts=_accounts())
    res = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    for path in res.workbooks.values():
        wb = load_workbook(path)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (path.name, cell.coordinate, cell.value)
                    if isinstance(cell.value, str):
                        assert cell.value[:1] not in "=+-@\t\r", (path.name, cell.coordinate, cell.value)
    ws = load_workbook(res.workbooks["=Aino Mäkelä"]).worksheets[0]
    header = [c.value for c in ws[1]]
    row = dict(zip(header, next(ws.iter_rows(min_row=2, values_only=True))))
    assert row["Account"] == "'+Mäkelä Oy"
    assert row["Comment"].startswith("'=HYPERLINK(") and "[phone removed]" in row["Comment"]
    assert (row["Name"], row["E-mail"], row["Phone"]) == ("'@Matti Öster", "matti.oster@example.fi",
                                                          "'+358 40 111 2222")
    assert res.workbooks["=Aino Mäkelä"].name == "aino-mäkelä.xlsx"


def test_each_owner_sees_only_their_clients_and_only_consented_contacts(tiny_store, tmp_path):
    store = _rows(tiny_store)
    res = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)

    def text(path):
        return " ".join(str(v) for ws in load_workbook(path).worksheets for r in ws.iter_rows(values_only=True)
                        for v in r if v is not None)

    aino, jussi = text(res.workbooks["Aino Mäkelä"]), text(res.workbooks["Jussi Härkönen"])
    assert "matti.oster@example.fi" in aino and "jussin.asiakas@example.fi" not in aino
    assert "jussin.asiakas@example.fi" in jussi and "matti.oster@example.fi" not in jussi
    assert "secret@example.fi" not in aino + jussi and "Secret Person" not in aino + jussi  # no consent


def test_the_workbook_is_the_form_to_fill_in(tiny_store, tmp_path):
    store = _rows(tiny_store)
    res = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW, language="fi")
    wb = load_workbook(res.workbooks["Aino Mäkelä"])
    assert [ws.title for ws in wb.worksheets] == ["Jono", "Täyttöohje"]
    ws = wb.worksheets[0]
    header = [c.value for c in ws[1]]
    assert header[0] == "Tunnus" and header[-3:] == ["Tila", "Yhteydenoton aika", "Muistiinpano"]
    lists = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert lists == ['"tavoitettu,ratkaistu,ei vastannut"']
    assert "48 h" in wb.worksheets[1]["A1"].value and "Europe/Helsinki" in wb.worksheets[1]["A1"].value
    assert any("Öljy" == c.value or "Mäkelä Oy" == c.value for r in ws.iter_rows() for c in r)


@pytest.mark.parametrize("language", ["en", "fi"])
def test_the_html_list_is_escaped_has_no_contacts_and_speaks_one_language(tiny_store, tmp_path, language):
    store = _rows(tiny_store, accounts=_accounts())
    res = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW, language=language)
    page = res.html.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    for secret in ("matti.oster@example.fi", "Matti Öster", "111 2222", "765 4321", "jussin.asiakas@example.fi",
                   "secret@example.fi"):
        assert secret not in page
    assert f'<html lang="{language}">' in page and "=Aino Mäkelä" in page and "+Mäkelä Oy" in page
    assert not other_language_words(page_text(page), language)


def test_files_are_written_whole_or_not_at_all(tiny_store, tmp_path, monkeypatch):
    store = _rows(tiny_store)
    out = tmp_path / "q"
    run_followup(store=store, out=out, since="2026-09-01", now=NOW)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    from openpyxl import Workbook

    def broken_save(self, target):
        target.write(b"PK half a workbook")
        raise OSError("disk full")

    monkeypatch.setattr(Workbook, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        run_followup(store=store, out=out, since="2026-09-01", now=NOW + pd.Timedelta(days=1))
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no half file, no temporary file left


def test_a_workbook_of_an_owner_who_left_the_queue_is_removed(tiny_store, tmp_path):
    store = _rows(tiny_store)
    out = tmp_path / "q"
    (out).mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    run_followup(store=store, out=out, since="2026-09-01", now=NOW)
    assert (out / "jussi-härkönen.xlsx").exists()
    acc = _accounts(owner_1="Aino Mäkelä").assign(owner=["Aino Mäkelä", "Aino Mäkelä", None])
    acc.to_csv(tmp_path / "accounts2.csv", index=False)
    from helpers.data.ingest import ingest

    ingest(tmp_path / "accounts2.csv", kind="accounts", store=store)
    run_followup(store=store, out=out, since="2026-09-01", now=NOW)
    assert not (out / "jussi-härkönen.xlsx").exists() and (out / "notes.txt").exists()
    assert re.search("jussin.asiakas@example.fi", " ".join(
        str(v) for r in load_workbook(out / "aino-mäkelä.xlsx").worksheets[0].iter_rows(values_only=True)
        for v in r))


def test_the_html_list_shows_open_items_most_urgent_first_and_counts_the_rest(loop_sample):
    """Contacted and resolved items stay in the workbooks and in the headings' counts, not in the page's tables."""
    from helpers.data.followups import load_loop

    page = (loop_sample["queue"] / "index.html").read_text(encoding="utf-8")
    items = load_loop(store=loop_sample["store"])
    listed = set(re.findall(r"FU-[0-9A-F]{12}", page))
    closed = set(items.loc[items["contacted_at_utc"].notna(), "item_id"])
    assert listed and not listed & closed
    assert len(closed) > 0.3 * len(items)  # the sample's owners and service desk did follow up
    headings = re.findall(r"<h2>.*?: ([\d,]+) to follow up, ([\d,]+) open, ([\d,]+) overdue</h2>", page)
    assert sum(int(n.replace(",", "")) for n, _, _ in headings) == loop_sample["second"].counts["n_items"]
    assert len(page.encode("utf-8")) < 500_000


def test_the_html_list_keeps_the_most_urgent_when_an_owner_has_many(tiny_store, tmp_path, monkeypatch):
    from helpers.followup import files

    store = _rows(tiny_store)
    monkeypatch.setattr(files, "HTML_ROWS", 1)
    res = run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    page = res.html.read_text(encoding="utf-8")
    assert "The 1 most urgent of the" in page and "workbook has them all" in page
