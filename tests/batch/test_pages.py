"""Every exported page: the bar back to the index and on to the overviews, the summary band before the
contents, the appendix on a sheet of its own in print."""

from __future__ import annotations

import re

import nbformat
import pytest

from helpers.batch import html as batch_html
from helpers.batch.navigation import navigation_html
from helpers.report.band import SummaryBand, Tile
from helpers.words import LANGUAGES, say
from language import other_language_words, page_text


@pytest.mark.parametrize("language", LANGUAGES)
def test_navigation_links_the_wave_pages_in_the_page_language(language):
    bar = navigation_html(language, current="portfolio")
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', bar)
    assert links == [("index.html", say("pages.nav.index", language)),
                     ("drivers.html", say("pages.nav.drivers", language))]
    assert f'<span aria-current="page">{say("pages.nav.portfolio", language)}</span>' in bar
    assert f'aria-label="{say("pages.nav.label", language)}"' in bar
    assert other_language_words(page_text(bar), language) == []
    assert "drivers.html" not in navigation_html(language, pages=["index", "portfolio"])


def _notebook(language="en", *, pages=None, band=True):
    md = nbformat.v4.new_markdown_cell
    cells = [md("# Partnership report")]
    if band:
        out = SummaryBand(tiles=[Tile(label="Client NPS", value="+12")], sentences=["Up."]).to_html()
        cells.append(nbformat.v4.new_code_cell("band", execution_count=1, outputs=[nbformat.v4.new_output(
            "display_data", data={"text/html": out, "text/plain": "band"})]))
    cells += [md("## The 360° view\n\nText."), md("### Detail"), md("## Perception gaps"),
              md(f"## {say('pages.appendix', language)}\n\nTests and models.")]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    if pages is not None:
        nb.metadata["flamekit"] = {"pages": pages}
    return nb


@pytest.mark.parametrize("language", LANGUAGES)
def test_page_opens_with_navigation_then_the_band_then_compact_contents(language):
    page = batch_html.to_html(_notebook(language, pages=["index", "portfolio", "drivers"]), title="t",
                              language=language)
    main = page.index("<main>")
    nav, band, toc = page.index('<nav class="fk-links"'), page.index('class="fk-band"'), page.index('class="fk-toc"')
    assert main < nav < page.index(">Partnership report<") < band < toc < page.index('id="The-360')
    contents = re.search(r'<nav class="fk-toc".*?</nav>', page, re.S).group(0)
    assert re.findall(r"<li[^>]*><a", contents) and "Detail" not in contents  # sections only: one line
    assert contents.count("<li") == 3 and '<li class="fk-toc-appendix">' in contents
    assert say("pages.contents", language) in contents
    appendix = re.search(r"<h2[^>]*>" + re.escape(say("pages.appendix", language)), page).group(0)
    assert 'class="fk-appendix"' in appendix
    assert "nav.fk-toc, nav.fk-links { display: none !important; }" in page  # not on paper
    assert "h2.fk-appendix { break-before: page;" in page and "@page { size: A4;" in page


def test_without_a_band_the_contents_open_the_first_section_and_a_lone_page_has_no_navigation():
    page = batch_html.to_html(_notebook(band=False), title="t")
    assert 'class="fk-links"' not in page  # rendered on its own: no index beside it to link to
    toc = page.index('class="fk-toc"')
    assert page.index(">Partnership report<") < toc < page.index('id="The-360')
    one = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T\n\n## Only section")])
    assert 'class="fk-toc"' not in batch_html.to_html(one, title="t")  # one section needs no contents


def test_navigation_marks_the_page_itself():
    nb = _notebook(pages=["index", "portfolio"])
    nb.metadata["flamekit"]["page"] = "portfolio"
    bar = re.search(r'<nav class="fk-links".*?</nav>', batch_html.to_html(nb, title="t"), re.S).group(0)
    assert 'href="index.html"' in bar and 'href="portfolio.html"' not in bar and "aria-current" in bar
