"""The account page with the follow-up loop, as people get it: rendered in each language on a copy of the sample
with the loop run as `make demo` runs it (the queue since 2026Q2, the owners' outcomes back in).

A001 and A036 show the section (A001 with a visit-survey group under the threshold), A003 has three client
answers, so its client NPS — and with it every loop figure — is held back.  The page without any follow-up
data is checked in ``test_account_pages.py``.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from helpers.words import say
from language import other_language_words, page_text

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
WAVE = "2026Q3"
ACCOUNTS = ["A001", "A036", "A003"]
HEADING = {"en": '<h2 id="Follow-ups"', "fi": '<h2 id="Yhteydenotot-palautteeseen"'}
NEXT = {"en": '<h2 id="For-the-next-meeting"', "fi": '<h2 id="Seuraavaan-tapaamiseen"'}
APPENDIX = {"en": '<h2 id="For-analysts"', "fi": '<h2 id="Analyytikoille"'}
IDS = re.compile(r"FU-[0-9A-F]{12}|TP-\d{6}|P-A\d{3}-\d{3}|C-20\d\dQ\d-A\d{3}")


@pytest.fixture(scope="module")
def loop_pages(sample_store, tmp_path_factory):
    """(account, language) → (HTML page, the headline JSON) of the account pages with the loop run."""
    from helpers.batch.run import render_notebook
    from helpers.data.ingest import ingest
    from helpers.followup import run_followup

    out = tmp_path_factory.mktemp("account-loop-pages")
    store = out / "store.duckdb"
    shutil.copy(sample_store, store)
    run_followup(store=store, out=out / "queue", since="2026Q2", now=pd.Timestamp("2026-12-01 09:00"))
    ingest(sample_store.parent / "exports" / "followup_outcomes.xlsx", kind="followups", store=store)
    pages = {}
    for account in ACCOUNTS:
        for language in ("en", "fi"):
            res = render_notebook(ROOT / "notebooks" / "account_report.ipynb",
                                  out / language / f"{account}.html", language=language,
                                  parameters={"account_id": account, "wave": WAVE, "store": str(store),
                                              "language": language})
            nb = nbformat.read(Path(res.html).with_suffix(".ipynb"), as_version=4)
            head = [o["data"]["application/json"] for c in nb.cells if "headline" in c.metadata.get("tags", [])
                    for o in c.outputs if "application/json" in o.get("data", {})]
            pages[(account, language)] = Path(res.html).read_text(encoding="utf-8"), head[0]
    return pages


def section(page: str, language: str) -> str:
    return page[page.index(HEADING[language]):page.index(NEXT[language])]


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize("language", ["en", "fi"])
@pytest.mark.parametrize("account_id", ["A001", "A036"])
def test_the_section_answers_in_plain_words_and_one_language(loop_pages, account_id, language):
    page, head = loop_pages[(account_id, language)]
    assert other_language_words(page_text(page), language) == []
    body = text(section(page, language))
    assert re.search(r"48 h", body) and "%" in body  # the share of the wave's follow-ups (at least 5 items)
    assert "<table" not in section(page, language)  # words only; the table is for the appendix
    assert "Wilson" not in body and "Wilson" in text(page[page.index(APPENDIX[language]):])
    assert {"en": "Visit surveys of September 2026", "fi": "Käyntikyselyt ajalta syyskuu 2026"}[language] in body
    assert not IDS.search(page)  # no item, answer or respondent id anywhere on the page
    assert isinstance(head["followups_overdue"], int) and head["followups_overdue"] > 0
    overdue = {"en": "of them overdue: {n}.", "fi": "joista myöhässä {n}."}[language]
    assert overdue.format(n=head["followups_overdue"]) in body  # the JSON says what the page says
    json.dumps(head, allow_nan=False)


def test_a_small_group_shows_its_counts_only(loop_pages):
    page, _ = loop_pages[("A001", "en")]  # three visit-survey follow-ups in September
    body = text(section(page, "en"))
    assert re.search(r"contacted within 48 h: \d of 3; overdue", body)
    assert "Groups of fewer than 5 follow-ups show their counts only." in body


@pytest.mark.parametrize("language", ["en", "fi"])
def test_nothing_of_the_loop_when_the_client_nps_is_held_back(loop_pages, language):
    page, head = loop_pages[("A003", language)]
    body = text(section(page, language))
    heading = say("account_loop.hidden", language, wave=WAVE)
    assert heading in body and not re.search(r"\d", body.replace(WAVE, "").replace("0–6", ""))
    appendix = page[page.index(APPENDIX[language]):]
    assert say("account_loop.analysts_none", language) in text(appendix)
    assert head["followups_overdue"] is None
    assert other_language_words(page_text(page), language) == []


def test_the_body_stays_short(loop_pages):
    """The section is a few sentences: the page before the appendix grows by no more than a paragraph."""
    for (account_id, language), (page, _) in loop_pages.items():
        body = text(section(page, language))
        assert len(body) < 900, (account_id, language, len(body))
