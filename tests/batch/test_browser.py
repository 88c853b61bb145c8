"""Generated reports in a real browser: offline, no console errors, the 360° chart, inert comments, links back.

Runs headless Debian Chromium through Playwright.  ``make browser`` installs
Chromium; without it the tests are skipped locally and fail on CI (``CI=true``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from helpers.batch import run

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "report_fixture.ipynb"
OVERVIEW = Path(__file__).parents[1] / "fixtures" / "overview_fixture.ipynb"
ACCOUNT_REPORT = ROOT / "notebooks" / "account_report.ipynb"
WAVE = "2026Q3"
# Already in the sample data (a client of A001 in 2026Q3):
SAMPLE_PAYLOAD = 'Hyvä palvelu <script>alert("x")</script> – kiitos!'
# Written into a copy of the store for A001 (client and team comments):
PAYLOADS = [
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(2))",
    "<svg/onload=alert(3)>",
    '"><script>alert(4)</script>',
    '<a href="javascript:alert(5)">link</a>',
    '<iframe src="https://example.com/frame"></iframe>',
    "![pixel](https://example.com/pixel.png)",
    "<style>body{background:url(https://example.com/bg.png)}</style>",
    "{{7*7}} ${alert(6)} javascript:alert(7)",
    "<details open ontoggle=alert(8)>x</details>",
]

# Everything the page must not contain, measured in the DOM the browser built.
INSPECT = """() => {
  const all = [...document.querySelectorAll('*')];
  const nodes = [...document.querySelectorAll('h1,h2,h3,h4,img')];
  let heading = '';
  const images = [];
  for (const n of nodes) {
    if (n.tagName === 'IMG') {
      images.push({alt: n.alt, src: n.getAttribute('src') || '', width: n.naturalWidth, heading: heading});
    } else {
      heading = n.textContent;
    }
  }
  return {
    scripts: document.scripts.length,
    active: document.querySelectorAll('iframe,object,embed,svg,form,input,button,textarea,frame,base,meta[http-equiv]').length,
    bodyStyles: document.body.querySelectorAll('style').length,
    handlers: all.flatMap(el => [...el.attributes].filter(a => a.name.startsWith('on')).map(a => el.tagName + ' ' + a.name)),
    hrefs: [...document.querySelectorAll('[href]')].map(el => el.getAttribute('href')),
    srcs: [...document.querySelectorAll('[src]')].map(el => (el.getAttribute('src') || '').slice(0, 30)),
    images: images,
    text: document.body.innerText,
    title: document.title,
  };
}"""


@pytest.fixture(scope="module")
def xss_store(sample_store, tmp_path_factory) -> Path:
    """A copy of the sample store whose A001 comments (client and team, 2026Q3) are XSS payloads."""
    path = tmp_path_factory.mktemp("xss") / "flamekit.duckdb"
    shutil.copy(sample_store, path)
    con = duckdb.connect(str(path))
    try:
        for side in ("client", "staff"):
            ids = [r[0] for r in con.execute(
                "SELECT response_id FROM responses WHERE account_id = 'A001' AND wave = ? AND side = ? "
                "AND (comment IS NULL OR comment NOT LIKE '%<script>%') ORDER BY response_id", [WAVE, side]
            ).fetchall()]
            for rid, payload in zip(ids, PAYLOADS):
                con.execute("UPDATE responses SET comment = ? WHERE response_id = ?", [payload, rid])
    finally:
        con.close()
    return path


@pytest.fixture(scope="module")
def batches(xss_store, tmp_path_factory) -> dict:
    """The fixture report (with an overview) and, once it exists, the real account report, for A001 and A002."""
    out = {}
    root = tmp_path_factory.mktemp("browser-reports")
    out["fixture"] = run.run_batch(WAVE, accounts=["A001", "A002"], jobs=2, store=xss_store, notebook=FIXTURE,
                                  extra_notebooks={"overview": OVERVIEW}, out_root=root / "fixture", progress=False)
    if ACCOUNT_REPORT.is_file():
        out["account_report"] = run.run_batch(WAVE, accounts=["A001", "A002"], jobs=2, store=xss_store,
                                             extra_notebooks={}, out_root=root / "account_report", progress=False)
    return out


class Visit:
    """A page opened with every request recorded (only the page's own file is let through)."""

    def __init__(self, browser, allowed: Path):
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.console: list[str] = []
        self.dialogs: list[str] = []
        self.context = browser.new_context(java_script_enabled=True)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.console.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.console.append(f"pageerror: {e}"))
        self.page.on("dialog", self._dialog)
        self.allowed = allowed.resolve()

    def _route(self, route):
        url = route.request.url
        self.requests.append(url)
        if url.startswith("file://") and Path(url[len("file://"):]).resolve().is_relative_to(self.allowed):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self):
        self.context.close()


def _batch_or_skip(batches, kind):
    if kind not in batches:
        pytest.skip("notebooks/account_report.ipynb is not written yet")
    return batches[kind]


@pytest.mark.parametrize("kind", ["fixture", "account_report"])
def test_report_offline_360_chart_and_inert_comments(browser, batches, kind, tmp_path):
    batch = _batch_or_skip(batches, kind)
    report = next(r for r in batch.reports if r.account_id == "A001")
    assert report.ok, report.error
    html = Path(report.html)
    visit = Visit(browser, html.parent)
    try:
        visit.page.goto(html.as_uri(), wait_until="load")
        visit.page.wait_for_timeout(300)  # let any (wrongly) scheduled handler fire
        dom = visit.page.evaluate(INSPECT)
        shot = tmp_path / f"{kind}-a001.png"
        visit.page.screenshot(path=str(shot), full_page=True)
    finally:
        visit.close()

    assert visit.console == [], visit.console
    assert visit.dialogs == [], visit.dialogs
    assert visit.requests == [html.resolve().as_uri()] and visit.blocked == []
    assert dom["scripts"] == 0 and dom["active"] == 0 and dom["bodyStyles"] == 0
    assert dom["handlers"] == []
    # anchors in the page, and the navigation bar's relative links to the wave's pages
    assert all(h.startswith("#") or h in ("index.html", "portfolio.html", "drivers.html")
               for h in dom["hrefs"]), dom["hrefs"]
    assert "index.html" in dom["hrefs"]
    assert all(s.startswith("data:image/") for s in dom["srcs"]), dom["srcs"]
    assert dom["title"].startswith("Pohjolan Energia (A001) · ")
    # the 360° picture, client and team side by side (the fixture's flame chart, the report's dot chart):
    # an image named so in its alt text or under a heading that says so
    views = [i for i in dom["images"] if any(w in (i["alt"] + " " + i["heading"]).lower()
                                             for w in ("flame", "radar", "liekki", "client's and the team's"))]
    assert views and all(i["width"] > 100 for i in views), dom["images"]
    # the comments are shown as the text people typed, not as markup
    for payload in [SAMPLE_PAYLOAD, *PAYLOADS]:
        assert payload in dom["text"], payload
    assert shot.stat().st_size > 10_000


def test_index_links_open_reports_offline(browser, batches):
    batch = batches["fixture"]
    visit = Visit(browser, batch.out_dir)
    try:
        visit.page.goto(batch.index.resolve().as_uri(), wait_until="load")
        assert visit.page.evaluate("document.scripts.length") == 1  # the index's own sort-and-filter script
        with visit.page.expect_navigation():
            visit.page.get_by_role("link", name="Mäkelä Rakennus").click()
        assert visit.page.title() == "Mäkelä Rakennus (A002) · Fixture report · 2026Q3"
        assert visit.page.evaluate("document.scripts.length") == 0  # account pages stay script-free
        with visit.page.expect_navigation():  # and link back to the index
            visit.page.locator("nav.fk-links").get_by_role("link", name="All accounts").click()
        assert visit.page.title() == "Reports 2026Q3"
        with visit.page.expect_navigation():
            visit.page.get_by_role("link", name="Fixture overview · 2026Q3").click()
        assert "Answers per account" in visit.page.inner_text("body")
    finally:
        visit.close()
    assert visit.console == [] and visit.dialogs == [] and visit.blocked == []
    assert {u.rsplit("/", 1)[1] for u in visit.requests} >= {"index.html", "m%C3%A4kel%C3%A4-rakennus-a002.html"}
