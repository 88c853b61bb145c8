"""The index as a front page: who needs attention and why, the order, the words, and escaping that holds."""

from __future__ import annotations

import base64
import hashlib
import html
import re
from datetime import date
from html.parser import HTMLParser

import pytest

from helpers.batch import index as batch_index
from helpers.batch import index_page
from helpers.batch.results import ReportResult
from helpers.data.instrument import load_instrument
from helpers.words import LANGUAGES
from language import other_language_words, page_text

WAVE = "2026Q3"
TODAY = date(2026, 10, 1)
# Names, owners and segments that try to leave their place in the page.
HOSTILE = [
    "</script><script>alert(1)</script>",
    '"onmouseover="alert(2)" x="',
    "'><img src=x onerror=alert(3)>",
    "Oy \u202eAb\u202c evil",
    "line\u2028break\u2029para",
    "</bdi><b>bold</b>",
    "<!--",
    "&amp; &lt;",
]


def _account(i, name, **head):
    head = {"account_id": f"A{i}", "wave": WAVE, **head}
    return ReportResult(name=name, kind="account", slug=f"a{i}", status="ok", account_id=f"A{i}", headline=head)


def _facts(**owners):
    return {a: {"owner": o, "segment": "Energy", "renewal_date": None, "status": "active"} for a, o in owners.items()}


class _Page(HTMLParser):
    """Start tags with their attributes, script contents and text, as a browser's tokenizer reads them."""

    def __init__(self, page):
        super().__init__(convert_charrefs=True)
        self.tags, self.scripts, self.text, self._in_script = [], [], [], False
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False if tag == "script" else self._in_script

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data
        else:
            self.text.append(data)


# ---------------------------------------------------------------------------
# Rows and their order
# ---------------------------------------------------------------------------
def test_accounts_are_sorted_by_attention_then_falling_nps_then_nearest_renewal():
    reports = [
        _account(1, "Calm", n_client=12, n_staff=6, nps=40, nps_change=5, nps_change_clear=False),
        _account(2, "Falling", n_client=12, n_staff=6, nps=-10, nps_change=-30, nps_change_ci_low=-50,
                 nps_change_ci_high=-8, nps_change_clear=True),
        _account(3, "Blind", n_client=12, n_staff=6, nps=10, blind_spots=["care"], nps_change=-5),
        _account(4, "Risky and blind", n_client=12, n_staff=6, nps=0, blind_spots=["impact"]),
        _account(5, "Soon", n_client=12, n_staff=6, nps=20),
        _account(6, "Later", n_client=12, n_staff=6, nps=20),
        _account(7, "Dipping", n_client=12, n_staff=6, nps=20, nps_change=-12, nps_change_ci_low=-40,
                 nps_change_ci_high=10),
    ]
    facts = {f"A{i}": {"owner": "Aino", "segment": "Energy", "renewal_date": d, "status": "active"}
             for i, d in [(1, "2026-11-01"), (2, None), (3, None), (4, None), (5, "2026-10-15"), (6, "2027-03-01"),
                          (7, "2028-01-01")]}
    facts["A6"]["renewal_date"] = "2026-01-01"  # already past: not "nearest"
    rows = batch_index.account_rows(reports, accounts=facts, at_risk={"A4"}, today=TODAY)
    assert [r.report.name for r in rows] == ["Risky and blind", "Falling", "Blind", "Dipping", "Calm", "Soon",
                                             "Later"]
    by = {r.report.name: r for r in rows}
    assert by["Risky and blind"].reasons == ["risk", "blind"] and "attention" in by["Risky and blind"].flags
    assert by["Falling"].reasons == ["down"] and by["Falling"].change_clear
    assert by["Dipping"].reasons == [] and not by["Dipping"].change_clear  # its interval includes 0
    assert by["Blind"].reasons == ["blind"] and by["Calm"].reasons == []


def test_a_figure_the_report_did_not_publish_stays_missing():
    older = _account(1, "Older", n_client=3, n_staff=2, nps=None, nps_ci_low=None, nps_ci_high=None)  # today's keys
    rows = batch_index.account_rows([older], min_client=5)
    row = rows[0]
    assert row.nps is None and row.change is None and row.blind == [] and not row.at_risk
    assert row.few  # no few_answers in the headline: fewer client answers than a figure needs
    assert batch_index.account_rows([_account(2, "Said", n_client=3, few_answers=False)])[0].few is False
    page = batch_index._index_html([older], wave=WAVE, language="en", data_hash="abc", today=TODAY)
    cells = dict(re.findall(r'data-label="([^"]+)" data-sort="[^"]*">(.*?)</td>', page))
    assert cells["Client NPS"] == "–" and cells["Change"] == "–" and cells["Answers (client / team)"] == "3 / 2"
    # the blind spots and the changes are unknown here, not zero
    tiles = dict(re.findall(r'fk-tile-label">([^<]+)</div><div class="fk-tile-value">([^<]+)<', page))
    assert tiles["Blind spot"] == "–" and tiles["NPS clearly down"] == "–" and tiles["At risk"] == "–"
    assert tiles["Few answers"] == "1" and tiles["Accounts"] == "1"


def test_store_fallback_gives_counts_only(sample_store):
    heads = batch_index._store_headlines(sample_store, WAVE, ["A001", "A004"])
    assert heads["A004"] == {"account_id": "A004", "wave": WAVE, "n_client": 38, "n_staff": 6}
    assert "nps" not in heads["A001"]  # a figure is the report's to publish, not the index's


# ---------------------------------------------------------------------------
# The page in each language
# ---------------------------------------------------------------------------
def _front_page(language):
    reports = [
        ReportResult(name="Portfolio", kind="portfolio", slug="portfolio", status="ok", title="Portfolio · 2026Q3",
                     pdf="portfolio.pdf"),
        ReportResult(name="Drivers", kind="drivers", slug="drivers", status="failed", error="ValueError: boom",
                     failed_ipynb="drivers.failed.ipynb"),
        _account(1, "Mäkelä Rakennus", n_client=1234, n_staff=6, nps=-12.4, nps_ci_low=-40.2, nps_ci_high=15.6,
                 nps_change=-31, nps_change_ci_low=-55, nps_change_ci_high=-7, nps_change_clear=True,
                 blind_spots=["care", "impact"], few_answers=False),
        _account(2, "Åbo Logistik", n_client=4, n_staff=2, nps=None, few_answers=True, nps_change=None,
                 blind_spots=[]),
        ReportResult(name="Järvi-Suomen Vesi", kind="account", slug="a3", status="failed", account_id="A3",
                     error="RuntimeError: planted", failed_ipynb="x", headline={"n_client": 38, "n_staff": 6}),
    ]
    facts = {"A1": {"owner": "Sofia Åström", "segment": "Public sector", "renewal_date": "2026-12-16",
                    "status": "active"},
             "A2": {"owner": "Olli Kärkkäinen", "segment": "Retail", "renewal_date": "2026-03-25",
                    "status": "renewed"}}
    return batch_index._index_html(reports, wave=WAVE, language=language, data_hash="c73b0ec8", accounts=facts,
                                   at_risk={"A1"}, min_client=5, today=TODAY)


def test_front_page_in_english():
    page = _front_page("en")
    text = " ".join(page_text(page).split())
    assert "Accounts that need attention: 1 of 3 — 1 at risk, 1 with a clear blind spot, 1 with client NPS " \
           "clearly down." in text
    assert "Reports that failed: 1" in text
    row = re.search(r'<tr class="ok" data-search="Mäkelä Rakennus A1".*?</tr>', page).group(0)
    assert ">16 Dec 2026<" in row and ">−12<" in row and "−40 to +16" in row
    assert '<span class="fk-down"><span class="fk-arrow" aria-hidden="true">▼</span> −31</span>' in row
    assert "1,234 / 6" in row and "Blind spot: Care, Impact" in row and ">At risk<" in row
    assert 'data-flags="risk blind down attention"' in row
    assert "25 Mar 2026 <span class=\"fk-small\">renewed</span>" in page
    # the data hash sits in the footer, not at the top
    assert page.index("c73b0ec8") > page.index("<footer>")
    assert 'href="portfolio.html">Portfolio · 2026Q3</a>' in page and 'href="portfolio.pdf"' in page
    assert 'href="drivers.failed.ipynb"' in page and "ValueError: boom" in page and 'href="drivers.html"' not in page


def test_front_page_in_finnish_has_finnish_numbers_dates_and_words():
    page = _front_page("fi")
    text = " ".join(page_text(page).split())
    assert "Huomiota vaativia asiakkuuksia on 1/3: riskissä 1, selvä sokea piste 1, asiakkaiden NPS selvästi " \
           "laskenut 1." in text
    row = re.search(r'<tr class="ok" data-search="Mäkelä Rakennus A1".*?</tr>', page).group(0)
    assert ">16.12.2026<" in row and "−40…+16" in row and "1\u00a0234 / 6" in row
    labels = load_instrument().labels("fi")
    assert f"Sokea piste: {labels['care']}, {labels['impact']}" in row
    assert 'lang="fi"' in page and ">Asiakkuus<" in page


@pytest.mark.parametrize("language", LANGUAGES)
def test_front_page_speaks_one_language_with_people_headers(language):
    page = _front_page(language)
    assert other_language_words(page_text(page), language) == []
    parsed = _Page(page)
    headers = [t for t in re.findall(r"<th[^>]*>(.*?)</th>", page)]
    assert headers and not [h for h in headers if re.search(r"\b[a-z]+_[a-z_]+\b", h)]
    assert not re.search(r"\b(?:True|False|None|nan|NaN)\b", " ".join(parsed.text))
    assert "-" not in re.sub(r"\d{4}-\d{2}-\d{2}|[A-Za-zÄÖÅäöå]-[A-Za-zÄÖÅäöå]", "",
                             " ".join(re.findall(r'class="num"[^>]*>(.*?)</td>', page)))  # a real minus


def test_navigation_and_overviews_link_only_to_pages_that_exist():
    page = _front_page("en")
    nav = re.search(r'<nav class="fk-links".*?</nav>', page, re.S).group(0)
    assert '<span aria-current="page">All accounts</span>' in nav and 'href="portfolio.html">Portfolio</a>' in nav
    assert "drivers.html" not in nav  # it failed


# ---------------------------------------------------------------------------
# Escaping: the data never become markup or code
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("language", LANGUAGES)
def test_hostile_names_owners_and_segments_stay_text(language):
    reports = [_account(i, name, n_client=6, n_staff=5, nps=10, blind_spots=[name]) for i, name in enumerate(HOSTILE)]
    facts = {f"A{i}": {"owner": name, "segment": name, "renewal_date": "2026-12-01", "status": "active"}
             for i, name in enumerate(HOSTILE)}
    page = batch_index._index_html(reports, wave="W<script>1", language=language, data_hash="<b>", accounts=facts,
                                   at_risk={f"A{i}" for i in range(len(HOSTILE))}, today=TODAY)
    parsed = _Page(page)
    assert [t for t, _ in parsed.tags if t == "script"] == ["script"]
    assert parsed.scripts == [index_page.SCRIPT]  # the one script, exactly as written: no data in it
    assert not [t for t, _ in parsed.tags if t in ("img", "iframe", "svg", "object", "embed", "b")]
    assert not [(t, a) for t, attrs in parsed.tags for a in attrs if a.startswith("on")]
    rows = [attrs for t, attrs in parsed.tags if t == "tr" and "data-search" in attrs]
    assert sorted(r["data-owner"] for r in rows) == sorted(HOSTILE)  # intact, as attribute values
    assert sorted(r["data-search"] for r in rows) == sorted(f"{n} A{i}" for i, n in enumerate(HOSTILE))
    options = [attrs["value"] for t, attrs in parsed.tags if t == "option" and attrs.get("class") == "fk-data"]
    assert sorted(options) == sorted(HOSTILE * 2)
    shown = "".join(parsed.text)
    for name in HOSTILE:
        assert name in shown
    for i, name in enumerate(HOSTILE):  # names isolated from the text around them
        assert f'<bdi>{batch_index._e(name)}</bdi>' in page
    assert "<!--" not in page.replace(batch_index._e("<!--"), "")


def test_the_script_is_the_only_one_the_page_lets_run():
    page = _front_page("en")
    csp = html.unescape(re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page).group(1))
    digest = base64.b64encode(hashlib.sha256(index_page.SCRIPT.encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp and "form-action 'none'" in csp
    assert page.index("Content-Security-Policy") < page.index("<style>") < page.index("<script>")
    # the script reads the page as text and writes only text
    for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "Function(",
                  "setTimeout", "setInterval", "location", "fetch", "XMLHttpRequest", "import("):
        assert risky not in index_page.SCRIPT, risky


def test_controls_need_the_script_and_say_so():
    page = _front_page("en")
    form = re.search(r"<form [^>]*>", page).group(0)
    assert " hidden" in form and 'role="search"' in form  # without the script the list reads in its own order
    flags = re.search(r'<select name="flag">(.*?)</select>', page).group(1)
    assert re.findall(r'value="([a-z]*)"', flags) == ["", "attention", "risk", "blind", "down", "few", "failed"]
