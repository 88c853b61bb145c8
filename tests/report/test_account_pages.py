"""The account page as people get it: rendered by the batch in each language and read as a page.

The batch keeps the notebook's cells of the page's language only (``lang-en`` / ``lang-fi``), runs it and
exports the HTML; here the page's text is checked for words of the other language (names and comments,
marked as data, left out), its tables for snake_case headers and True/False cells, its outputs for printed
text and raw reprs, and its order: the summary band first, the analysts' appendix last.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from helpers.batch import run
from helpers.words import say
from language import other_language_words, page_text

pytestmark = pytest.mark.slow

WAVE = "2026Q3"
ACCOUNTS = ["A001", "A002"]  # every section shown; the team's view hidden (two team answers)


@pytest.fixture(scope="module")
def pages(sample_store, tmp_path_factory):
    """(account, language) → (HTML page text, executed notebook) of the batch's account reports."""
    out = {}
    root = tmp_path_factory.mktemp("account-pages")
    for language in ("en", "fi"):
        res = run.run_batch(WAVE, accounts=ACCOUNTS, jobs=1, store=sample_store, extra_notebooks={},
                            out_root=root / language, progress=False, language=language)
        assert res.exit_code == 0, [r.error for r in res.reports if not r.ok]
        for r in res.reports:
            if r.kind == "account":
                out[(r.account_id, language)] = (Path(r.html).read_text(encoding="utf-8"),
                                                 nbformat.read(r.ipynb, as_version=4))
    return out


class Cells(HTMLParser):
    """Header and data cells of the page's tables, as text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.headers, self.cells, self._open = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag in ("th", "td"):
            self._open = (tag, [])

    def handle_data(self, data):
        if self._open:
            self._open[1].append(data)

    def handle_endtag(self, tag):
        if self._open and tag == self._open[0]:
            (self.headers if tag == "th" else self.cells).append("".join(self._open[1]).strip())
            self._open = None


@pytest.mark.parametrize("language", ["en", "fi"])
@pytest.mark.parametrize("account_id", ACCOUNTS)
def test_the_page_speaks_one_language(pages, account_id, language):
    page, _ = pages[(account_id, language)]
    assert other_language_words(page_text(page), language) == []
    assert f'<html lang="{language}"' in page


@pytest.mark.parametrize("language", ["en", "fi"])
@pytest.mark.parametrize("account_id", ACCOUNTS)
def test_tables_are_for_people(pages, account_id, language):
    page, _ = pages[(account_id, language)]
    cells = Cells()
    cells.feed(page)
    assert cells.headers and cells.cells
    assert not [h for h in cells.headers if re.fullmatch(r"[a-z]+(_[a-z0-9]+)+", h)]
    assert not {"True", "False", "nan", "NaN", "None"} & set(cells.cells)
    assert not [c for c in cells.cells if re.fullmatch(r"-?\d+\.0+", c)]  # counts as whole numbers
    assert not [c for c in cells.cells if re.fullmatch(r"-\d.*", c)]  # a real minus sign, not a hyphen
    if language == "fi":
        assert not [c for c in cells.cells if re.fullmatch(r"[−+]?\d+\.\d+", c)]  # a decimal comma


@pytest.mark.parametrize("language", ["en", "fi"])
def test_outputs_are_displays_not_printed_text(pages, language):
    _, nb = pages[("A001", language)]
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] in ("display_data", "execute_result"), out
            data = set(out.get("data", {}))
            assert data - {"text/plain"}, out  # never a raw repr alone


@pytest.mark.parametrize("language", ["en", "fi"])
def test_the_band_opens_the_page_and_the_appendix_closes_it(pages, language):
    page, _ = pages[("A001", language)]
    main = page[page.index("<main"):]
    h1, band = main.index("<h1"), main.index('class="fk-band"')
    first_section = main.index("<h2", band)
    assert h1 < band < first_section  # nothing but the title before the band (the batch's navigation aside)
    assert not re.search(r"<h2|<table|<img", main[h1:band])
    headings = [re.sub(r"<[^>]+>", "", m.group(1)).replace("¶", "").strip()
                for m in re.finditer(r"<h2[^>]*>(.*?)</h2>", main, re.S)]
    assert headings[-1] == say("account.appendix", language)
    appendix = main.index(say("account.appendix", language), first_section)
    for word in ("Welch", "Benjamini", "Hedges", "r_wg", "Wald"):  # test names only in the appendix
        assert word not in page_text(main[:appendix]), word
        assert word in page_text(main[appendix:]), word
    images = re.findall(r'<img [^>]*alt="([^"]*)"', main[:appendix])
    assert len(images) == 2  # the 360° view and the trend: one picture each


def test_no_other_accounts_data_and_comments_marked_as_data(pages):
    page, _ = pages[("A001", "fi")]
    text = re.sub(r"<img [^>]*>", "", page[page.index("<main"):])  # not in the embedded charts' bytes
    assert set(re.findall(r"\bA\d{3}\b", re.sub(r"<[^>]+>", " ", text))) == {"A001"}
    assert 'class="fk-text fk-data" dir="auto"' in page  # comments are the respondents' words
    assert "&lt;script&gt;alert" in page and "<script" not in page.lower()


@pytest.mark.parametrize("language", ["en", "fi"])
def test_without_follow_ups_the_section_is_one_sentence(pages, language):
    """The sample has no follow-up run: the section says how to start, the appendix and the JSON show nothing."""
    page, nb = pages[("A001", language)]
    main = page[page.index("<main"):]
    heading = {"en": '<h2 id="Follow-ups"', "fi": '<h2 id="Yhteydenotot-palautteeseen"'}[language]
    nxt = {"en": '<h2 id="For-the-next-meeting"', "fi": '<h2 id="Seuraavaan-tapaamiseen"'}[language]
    section = main[main.index(heading):main.index(nxt)]
    assert "flamekit followup" in section and "<table" not in section
    assert re.sub(r"<[^>]+>", "", say("account_loop.none", language).replace("`", "")) in \
        re.sub(r"<[^>]+>", "", section)
    head = [o["data"]["application/json"] for c in nb.cells if "headline" in c.metadata.get("tags", [])
            for o in c.outputs if "application/json" in o.get("data", {})]
    assert head[0]["followups_overdue"] is None
