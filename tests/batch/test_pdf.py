"""PDFs for the meeting: A4, the page's text, one file per page, and a failure that stops nothing.

The tests that print need headless Chromium (``make browser``): without it
they are skipped locally and fail on CI (``CI=true``), like the browser tests.
"""

from __future__ import annotations

import json
import os
import time
import unicodedata
from pathlib import Path

import pytest

from helpers.batch import pdf as batch_pdf
from helpers.batch import run as batch_run
from helpers.batch.errors import ReportError
from helpers.cli import main
from pdf_text import read_pdf

FIXTURE = Path(__file__).parents[1] / "fixtures" / "report_fixture.ipynb"
OVERVIEW = Path(__file__).parents[1] / "fixtures" / "overview_fixture.ipynb"
WAVE = "2026Q3"
A4 = (595.0, 842.0)  # points, as Chromium writes it (594.96 × 841.92)


@pytest.fixture(scope="module")
def chromium() -> str:
    found = batch_pdf.find_chromium()
    if not found:
        message = "headless Chromium not found; `make browser` installs Debian's chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the PDF tests must run)")
        pytest.skip(message)
    return found


def _fake_browser(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-chromium"
    script.write_text("#!/bin/sh\n" + body + "\n")
    script.chmod(0o755)
    return script


def _page(tmp_path: Path, title: str = "Mäkelä Rakennus · Partnership report", body: str = "") -> Path:
    page = tmp_path / "page.html"
    page.write_text(f'<!DOCTYPE html><html lang="fi"><head><meta charset="utf-8"><title>{title}</title>'
                    "<style>@media print { @page { size: A4; margin: 14mm 12mm; } }</style></head>"
                    f"<body><h1>{title}</h1>{body}</body></html>", encoding="utf-8")
    return page


def _plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())  # ligatures (ﬁ) as letters, no spacing


def _is_a4(page) -> bool:
    return abs(page.width - A4[0]) < 1.5 and abs(page.height - A4[1]) < 1.5


# ---------------------------------------------------------------------------
# Without a browser
# ---------------------------------------------------------------------------
def test_the_browser_is_found_or_named(tmp_path, monkeypatch):
    fake = _fake_browser(tmp_path, "exit 0")
    monkeypatch.setenv("FLAMEKIT_CHROMIUM", str(fake))
    assert batch_pdf.find_chromium() == str(fake)
    monkeypatch.setenv("FLAMEKIT_CHROMIUM", str(tmp_path / "nowhere"))
    assert batch_pdf.find_chromium() is None
    with pytest.raises(batch_pdf.PdfError, match="make browser"):
        batch_pdf.print_pdf(_page(tmp_path))


def test_pdf_without_a_browser_stops_the_batch_before_anything_runs(tmp_path, monkeypatch, sample_store, capsys):
    monkeypatch.setenv("FLAMEKIT_CHROMIUM", str(tmp_path / "nowhere"))
    with pytest.raises(ReportError, match="PDFs need headless Chromium"):
        batch_run.run_batch(WAVE, accounts=["A001"], store=sample_store, out_root=tmp_path / "r", pdf=True,
                            notebook=FIXTURE, extra_notebooks={}, progress=False)
    assert not (tmp_path / "r").exists()
    assert main(["--store", str(sample_store), "reports", "--wave", WAVE, "--out", str(tmp_path / "r"), "--pdf"]) == 2
    assert "make browser" in capsys.readouterr().err


def test_a_browser_that_fails_leaves_no_file_and_the_earlier_pdf(tmp_path):
    page = _page(tmp_path)
    earlier = page.with_suffix(".pdf")
    earlier.write_bytes(b"%PDF-1.4 earlier")
    with pytest.raises(batch_pdf.PdfError, match="DevTools pipe"):
        batch_pdf.print_pdf(page, chromium=str(_fake_browser(tmp_path, "echo 'no display' >&2; exit 3")))
    assert earlier.read_bytes() == b"%PDF-1.4 earlier"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake-chromium", "page.html", "page.pdf"]


def test_a_browser_that_hangs_is_stopped_at_the_timeout(tmp_path):
    pid_file = tmp_path / "pid"
    hang = _fake_browser(tmp_path, f"echo $$ > {pid_file}; exec sleep 60")
    t0 = time.monotonic()
    with pytest.raises(batch_pdf.PdfError, match="longer than 1 s"):
        batch_pdf.print_pdf(_page(tmp_path), chromium=str(hang), timeout=1)
    assert time.monotonic() - t0 < 15
    with pytest.raises(ProcessLookupError):  # the browser this module started is gone, and reaped
        os.kill(int(pid_file.read_text()), 0)


def test_print_pdfs_records_every_failure_and_raises_none(tmp_path):
    pages = [_page(tmp_path), tmp_path / "missing.html"]
    errors = batch_pdf.print_pdfs(pages, jobs=2, chromium=str(_fake_browser(tmp_path, "exit 1")))
    assert list(errors) == pages
    assert "DevTools pipe" in errors[pages[0]] and "no page at" in errors[pages[1]]


# ---------------------------------------------------------------------------
# With Chromium
# ---------------------------------------------------------------------------
@pytest.mark.browser
def test_a_page_prints_to_an_a4_pdf_with_its_text(chromium, tmp_path):
    long = "".join(f"<p>Kappale {i}: asiakkaiden NPS −12 (95 %:n luottamusväli −40…+16).</p>" for i in range(80))
    page = _page(tmp_path, body=long)
    pdf = batch_pdf.print_pdf(page, chromium=chromium)
    assert pdf == page.with_suffix(".pdf") and pdf.read_bytes().startswith(b"%PDF-")
    pages = read_pdf(pdf)
    assert len(pages) >= 2 and all(_is_a4(p) for p in pages)
    assert _plain("Mäkelä Rakennus · Partnership report") in _plain(pages[0].text)
    assert _plain("Kappale 79") in _plain(pages[-1].text)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.browser
def test_one_browser_prints_page_after_page(chromium, tmp_path):
    pages = []
    for i in range(3):
        (tmp_path / str(i)).mkdir()
        pages.append(_page(tmp_path / str(i), title=f"Sivu {i}"))
    with batch_pdf.Printer(chromium) as printer:
        for p in pages:
            printer.print(p)
        pid = printer._pid
    assert pid is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # closed and reaped
    assert [_plain(read_pdf(p.with_suffix(".pdf"))[0].text)[:5] for p in pages] == ["Sivu0", "Sivu1", "Sivu2"]


@pytest.mark.browser
@pytest.mark.slow
def test_batch_writes_a_pdf_of_every_page_and_a_failure_stops_nothing(chromium, sample_store, tmp_path,
                                                                       monkeypatch, capsys):
    kw = dict(accounts=["A001", "A002"], store=sample_store, out_root=tmp_path / "r", notebook=FIXTURE,
              extra_notebooks={"portfolio": OVERVIEW}, progress=False, jobs=2)
    res = batch_run.run_batch(WAVE, pdf=True, **kw)
    out = res.out_dir
    assert res.exit_code == 0 and res.index_pdf == out / "index.pdf"
    manifest = json.loads(res.manifest.read_text(encoding="utf-8"))
    assert manifest["pdf"]["asked"] and manifest["pdf"]["written"] == 4 and manifest["pdf"]["failed"] == 0
    for r in manifest["reports"]:
        pdf = Path(r["pdf"])
        assert pdf == out / f"{r['slug']}.pdf" and pdf.read_bytes().startswith(b"%PDF-") and r["pdf_error"] is None
        pages = read_pdf(pdf)
        assert pages and all(_is_a4(p) for p in pages)
        title = "Fixture overview" if r["kind"] == "portfolio" else "Fixture report"
        assert _plain(title) in _plain(pages[0].text)
        assert "All accounts" not in pages[0].text  # the navigation is not printed
    index_pages = read_pdf(out / "index.pdf")
    assert all(_is_a4(p) for p in index_pages) and _plain("Reports 2026Q3") in _plain(index_pages[0].text)
    index = res.index.read_text(encoding="utf-8")
    assert 'href="m%C3%A4kel%C3%A4-rakennus-a002.pdf"' in index and 'href="portfolio.pdf"' in index

    # one page that cannot be printed: recorded, the others written, exit code 1, said on stderr
    real = batch_pdf.Printer.print

    def planted(self, page, pdf=None):
        if "a002" in Path(page).name:
            raise batch_pdf.PdfError("planted failure")
        return real(self, page, pdf)

    monkeypatch.setattr(batch_pdf.Printer, "print", planted)
    argv = ["--store", str(sample_store), "reports", "--wave", WAVE, "--accounts", "A001", "A002", "--out",
            str(tmp_path / "r"), "--pdf", "--force", "--quiet"]
    from helpers.batch import plan as batch_plan

    monkeypatch.setattr(batch_plan, "ACCOUNT_NOTEBOOK", FIXTURE)
    monkeypatch.setattr(batch_plan, "EXTRA_NOTEBOOKS", {"portfolio": OVERVIEW})
    assert main(argv) == 1
    err = capsys.readouterr()
    assert "no PDF: Mäkelä Rakennus (A002): planted failure" in err.err
    assert err.out.strip().splitlines()[-1].endswith("index.html") and "PDF for the meeting: " in err.out
    manifest = json.loads(res.manifest.read_text(encoding="utf-8"))
    by = {r["account_id"]: r for r in manifest["reports"] if r["account_id"]}
    assert by["A002"]["pdf"] is None and by["A002"]["pdf_error"] == "planted failure"
    assert not (out / "mäkelä-rakennus-a002.pdf").exists()  # the old one was older than the new page: removed
    assert Path(by["A001"]["pdf"]).is_file() and manifest["pdf"]["failed"] == 1
    assert 'href="m%C3%A4kel%C3%A4-rakennus-a002.pdf"' not in (out / "index.html").read_text(encoding="utf-8")

    # rendered again without --pdf: no PDF older than its page is left behind
    again = batch_run.run_batch(WAVE, force=True, **kw)
    assert again.exit_code == 0 and not list(out.glob("*.pdf"))
    assert all(r.pdf is None and r.pdf_error is None for r in again.reports)
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]
