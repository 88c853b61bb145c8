"""The pages as their readers see them, in headless Chromium: the index, one account, the portfolio and drivers.

For each page in English and in Finnish, at 1280 px and at 390 px wide:

* no horizontal page scroll (wide tables scroll inside their own box);
* the summary band is in the first screen;
* every image has loaded;
* no ``snake_case`` header and no ``True``/``False`` cell;
* no text of the other language (data such as names and comments excepted, see ``tests/language.py``);
* the links to the index and the portfolio open those pages.

A screenshot of each page's summary band is written under the run's reports
folder (``reports/<wave>/screens/<page>-<language>-<width>.png``).  Runs headless
Debian Chromium through Playwright; without it the tests are skipped locally
and fail on CI (``CI=true``), like the other browser tests.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers.batch import run
from language import other_language_words, page_text

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WAVE = "2026Q3"
WIDTHS = (1280, 390)
SCREEN_HEIGHT = 900
LANGUAGES = ("en", "fi")
PAGES = ("index", "account", "portfolio", "drivers")
SNAKE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")

LOOK = """() => {
  const doc = document.documentElement;
  const band = document.querySelector('.fk-band');
  const rect = band ? band.getBoundingClientRect() : null;
  const text = el => (el.innerText || el.textContent || '').trim();
  return {
    overflow: Math.max(doc.scrollWidth, document.body.scrollWidth) - window.innerWidth,
    band: rect ? {top: rect.top + window.scrollY, height: rect.height} : null,
    images: [...document.images].map(i => ({alt: i.alt, complete: i.complete, width: i.naturalWidth})),
    headers: [...document.querySelectorAll('th')].map(text),
    cells: [...document.querySelectorAll('td')].map(text),
    links: [...document.querySelectorAll('nav a[href], .fk-links a[href]')].map(a => a.getAttribute('href')),
  };
}"""


@pytest.fixture(scope="module")
def pages(sample_store, tmp_path_factory) -> dict[str, dict[str, Path]]:
    """language → page → HTML file: two accounts with the portfolio and drivers pages, in each language."""
    found: dict[str, dict[str, Path]] = {}
    for language in LANGUAGES:
        root = tmp_path_factory.mktemp(f"pages-{language}")
        batch = run.run_batch(WAVE, accounts=["A001", "A002"], jobs=2, language=language, store=sample_store,
                              out_root=root / "reports", progress=False)
        failed = [(r.slug, r.error) for r in batch.reports if not r.ok]
        assert not failed, failed
        by_kind = {r.kind if r.kind != "account" else f"account-{r.account_id}": Path(r.html)
                   for r in batch.reports}
        found[language] = {"index": Path(batch.index), "account": by_kind["account-A001"],
                           "portfolio": by_kind["portfolio"], "drivers": by_kind["drivers"]}
    return found


def _look(browser, html: Path, width: int, shot: Path | None) -> dict:
    context = browser.new_context(viewport={"width": width, "height": SCREEN_HEIGHT})
    try:
        page = context.new_page()
        page.goto(html.resolve().as_uri(), wait_until="load")
        seen = page.evaluate(LOOK)
        if shot is not None and seen["band"] is not None:
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.locator(".fk-band").first.screenshot(path=str(shot))
        return seen
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PAGES)
def test_page_reads_on_a_desk_and_on_a_phone(browser, pages, name, language):
    html = pages[language][name]
    for width in WIDTHS:
        shot = html.parent / "screens" / f"{name}-{language}-{width}.png"
        seen = _look(browser, html, width, shot)
        where = f"{name} ({language}, {width} px)"
        assert seen["overflow"] <= 0, f"{where}: the page scrolls sideways by {seen['overflow']} px"
        assert seen["band"] is not None, f"{where}: no summary band"
        assert seen["band"]["top"] < SCREEN_HEIGHT, f"{where}: the summary band starts below the first screen"
        assert shot.stat().st_size > 2_000
        broken = [i["alt"] for i in seen["images"] if not (i["complete"] and i["width"] > 0)]
        assert not broken, f"{where}: images not loaded: {broken}"
    assert not [h for h in seen["headers"] if SNAKE.match(h)], seen["headers"]
    assert not [c for c in seen["cells"] if c in ("True", "False")]
    leaks = other_language_words(page_text(html.read_text(encoding="utf-8")), language)
    assert not leaks, f"{name} ({language}): words of the other language: {leaks}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", ["account", "portfolio", "drivers"])
def test_every_page_links_back_to_the_index_and_the_portfolio(browser, pages, name, language):
    html = pages[language][name]
    targets = {"index": pages[language]["index"].resolve(), "portfolio": pages[language]["portfolio"].resolve()}
    context = browser.new_context(viewport={"width": 1280, "height": SCREEN_HEIGHT})
    try:
        page = context.new_page()
        for target in targets.values():
            if target == html.resolve():
                continue  # the page itself is named in its bar, not linked
            page.goto(html.resolve().as_uri(), wait_until="load")
            link = page.locator(f'a[href$="{target.name}"]').first
            with page.expect_navigation():
                link.click()
            assert Path(page.url[len("file://"):]).resolve() == target
    finally:
        context.close()
