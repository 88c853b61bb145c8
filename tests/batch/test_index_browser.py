"""The index in a real browser: hostile names stay text, the one script sorts and filters, a phone reads it.

Runs headless Debian Chromium through Playwright on index pages built from
hand-made results (no batch: these run in seconds).  ``make browser``
installs Chromium; without it the tests are skipped locally and fail on CI
(``CI=true``), like the other browser tests.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from helpers.batch import index as batch_index
from helpers.batch.results import ReportResult
from helpers.words import LANGUAGES

pytestmark = pytest.mark.browser

WAVE = "2026Q3"
TODAY = date(2026, 10, 1)
# Each tries to run code (a dialog, or a flag on the window) or to break out of its place in the page.
HOSTILE = [
    "</script><script>window.pwned=1;alert(1)</script>",
    '"onmouseover="window.pwned=2" autofocus onfocus="alert(2)" x="',
    "'><img src=x onerror=alert(3)>",
    "Oy \u202eAb\u202c evil",
    "line\u2028break\u2029para",
    "</bdi><svg onload=alert(4)>",
    "<!--",
    "&amp; &lt; ${alert(5)}",
]
VISIBLE_ROWS = "[...document.querySelectorAll('#fk-accounts tbody tr')].filter(tr => !tr.hidden).length"


class Visit:
    """A page opened offline with its dialogs and console errors recorded."""

    def __init__(self, browser, path: Path, *, width: int = 1280):
        self.dialogs: list[str] = []
        self.console: list[str] = []
        self.blocked: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("dialog", self._dialog)
        self.page.on("console", lambda m: self.console.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.path = path.resolve()
        self.page.goto(self.path.as_uri(), wait_until="load")

    def _route(self, route):
        if route.request.url == self.path.as_uri():
            route.continue_()
        else:
            self.blocked.append(route.request.url)
            route.abort()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self):
        self.context.close()


def _hostile_page(tmp_path: Path, language: str, *, policy: bool = True) -> Path:
    reports = [ReportResult(name=name, kind="account", slug=f"a{i}", status="ok", account_id=f"A{i}",
                            headline={"account_id": f"A{i}", "n_client": 6 + i, "n_staff": 5, "nps": 10 - i,
                                      "blind_spots": [name] if i % 2 else []})
               for i, name in enumerate(HOSTILE)]
    facts = {f"A{i}": {"owner": name, "segment": name, "renewal_date": "2026-12-01", "status": "active"}
             for i, name in enumerate(HOSTILE)}
    page = batch_index._index_html(reports, wave="W</script><script>alert(9)</script>", language=language,
                                   data_hash="<b onclick=alert(10)>", accounts=facts, at_risk={"A0", "A3"},
                                   today=TODAY)
    if not policy:  # the escaping alone must hold, without the page's Content-Security-Policy behind it
        page, n = re.subn(r'<meta http-equiv="Content-Security-Policy"[^>]*>\n', "", page)
        assert n == 1
    path = tmp_path / f"index-{language}-{'csp' if policy else 'bare'}.html"
    path.write_text(page, encoding="utf-8")
    return path


@pytest.mark.parametrize("policy", [True, False], ids=["with-policy", "escaping-alone"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_hostile_names_run_nothing_in_the_browser(browser, tmp_path, language, policy):
    visit = Visit(browser, _hostile_page(tmp_path, language, policy=policy))
    page = visit.page
    try:
        # hover, focus and click everything a payload could hang a handler on
        for cell in page.locator("#fk-accounts td").all():
            cell.hover()
        page.locator("#fk-accounts th button").first.click()
        page.locator("#fk-accounts th button").nth(4).click()
        dom = page.evaluate("""() => ({
          scripts: document.scripts.length,
          handlers: [...document.querySelectorAll('*')].flatMap(el =>
              [...el.attributes].filter(a => a.name.startsWith('on')).map(a => el.tagName + ' ' + a.name)),
          active: document.querySelectorAll('img,svg,iframe,object,embed,b').length,
          pwned: window.pwned === undefined ? null : window.pwned,
          names: [...document.querySelectorAll('#fk-accounts td.fk-name bdi')].map(b => b.textContent),
          owners: [...document.querySelectorAll('#fk-accounts tbody tr')].map(tr => tr.getAttribute('data-owner')),
          form: !document.getElementById('fk-filters').hidden,
        })""")
        counts = {}
        for name in HOSTILE:  # the search box finds each name as the text it is
            page.fill("#fk-filters input[name=q]", name)
            counts[name] = page.evaluate(VISIBLE_ROWS)
        page.fill("#fk-filters input[name=q]", "")
        page.select_option("#fk-filters select[name=owner]", HOSTILE[0])
        by_owner = page.evaluate(VISIBLE_ROWS)
        page.select_option("#fk-filters select[name=flag]", "risk")
        by_owner_and_flag = page.evaluate(VISIBLE_ROWS)
        page.wait_for_timeout(200)  # let any (wrongly) scheduled handler fire
    finally:
        visit.close()
    assert visit.dialogs == [] and visit.blocked == []
    assert visit.console == [], visit.console  # nothing the policy had to stop, no error of the script
    assert dom["scripts"] == 1 and dom["handlers"] == [] and dom["active"] == 0 and dom["pwned"] is None
    assert sorted(dom["names"]) == sorted(HOSTILE) and sorted(dom["owners"]) == sorted(HOSTILE)
    assert dom["form"]  # the script ran and showed its controls
    assert all(n == 1 for n in counts.values()), counts
    assert by_owner == 1 and by_owner_and_flag == 1


def _many_accounts(language: str) -> str:
    """An index of 60 accounts with long names, owners and segments: the sample's size, the worst widths."""
    reports = [ReportResult(name="Portfolio", kind="portfolio", slug="portfolio", status="ok",
                            title="Portfolio · 2026Q3"),
               ReportResult(name="Drivers", kind="drivers", slug="drivers", status="ok", title="Drivers · 2026Q3")]
    facts = {}
    for i in range(60):
        reports.append(ReportResult(
            name=f"Pohjois-Pohjanmaan Sähkönsiirto- ja Energiapalvelut {i}", kind="account", slug=f"a{i}",
            status="ok", account_id=f"A{i:03d}",
            headline={"n_client": 10 + i, "n_staff": 6, "nps": -40 + i, "nps_ci_low": -80 + i, "nps_ci_high": i,
                      "nps_change": -30 + i, "nps_change_ci_low": -55 + i, "nps_change_ci_high": -5 + i,
                      "blind_spots": ["care", "impact", "dare"] if i % 3 == 0 else [], "few_answers": i % 7 == 0}))
        facts[f"A{i:03d}"] = {"owner": "Annukka Väisänen-Kääriäinen", "segment": "Julkishallinto ja kunnat",
                              "renewal_date": f"2027-0{1 + i % 9}-15", "status": "active"}
    return batch_index._index_html(reports, wave=WAVE, language=language, data_hash="c73b0ec8", accounts=facts,
                                   at_risk={f"A{i:03d}" for i in range(0, 60, 5)}, today=TODAY)


@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("language", LANGUAGES)
def test_front_page_fits_the_screen_and_answers_first(browser, tmp_path, language, width):
    path = tmp_path / f"index-{language}.html"
    path.write_text(_many_accounts(language), encoding="utf-8")
    visit = Visit(browser, path, width=width)
    try:
        dom = visit.page.evaluate("""() => ({
          overflow: document.documentElement.scrollWidth - window.innerWidth,
          band: document.querySelector('.fk-band').getBoundingClientRect().top,
          tiles: [...document.querySelectorAll('.fk-tile')].map(t => t.getBoundingClientRect().bottom),
          nav: [...document.querySelectorAll('nav.fk-links a')].map(a => a.getAttribute('href')),
        })""")
        visit.page.screenshot(path=str(tmp_path / f"index-{language}-{width}.png"))
    finally:
        visit.close()
    assert visit.console == [] and visit.dialogs == []
    assert dom["overflow"] <= 0, f"{dom['overflow']} px of horizontal scroll at {width} px"
    assert dom["band"] < 900 and (width < 600 or max(dom["tiles"]) < 900)  # the answer in the first screen
    assert dom["nav"] == ["portfolio.html", "drivers.html"]
