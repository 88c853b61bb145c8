"""The summary band: escaped, with arrows only for clear changes."""

from __future__ import annotations

from helpers.batch.html import sanitize_html
from helpers.report.band import SummaryBand, Tile, arrow


def test_arrow_only_for_a_clear_change():
    assert arrow(8, clear=True) == "up" and arrow(-3, clear=True) == "down"
    assert arrow(8, clear=False) == "flat" and arrow(None, clear=True) == "flat"
    assert arrow(float("nan"), clear=True) == "flat"


def test_band_is_escaped_and_survives_the_page_sanitiser():
    band = SummaryBand(tiles=[Tile("Client NPS", "+12", detail="n = 14", change="+8", direction="up",
                                   tone="good"),
                              Tile("<script>alert(1)</script>", "4.1")],
                       sentences=["Metsä & Meri <b>"], focus="Care")
    html = band.to_html()
    assert "<script>" not in html and "&lt;script&gt;" in html and "Metsä &amp; Meri &lt;b&gt;" in html
    assert html.count('class="fk-tile"') + html.count('class="fk-tile fk-') == 2 and "▲" in html and "fk-good" in html
    assert sanitize_html(html) == html  # nothing the exported page would strip
