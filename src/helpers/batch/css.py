"""The stylesheet parts every page of a wave shares: the summary band, tables for people, the navigation bar.

The exported notebook pages (:mod:`.html`) and the index (:mod:`.index_page`)
both include these, so a tile, a table and the links look the same on every
page; the colours are the ones of :mod:`helpers.report.style` (attention wine,
celebrate green, client vermillion, team blue, neutral grey).
"""

#: The summary band (:class:`helpers.report.band.SummaryBand`): tiles in a row that wrap on a narrow screen.
BAND_CSS = """/* The summary band: tiles in a row, one column on a phone. */
.fk-band { margin: .5rem 0 1.5rem; font-family: var(--jp-ui-font-family, system-ui, sans-serif); }
.fk-band-heading { font-size: 1.05rem; margin: 0 0 .5rem; }
.fk-tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(10.5rem, 1fr)); gap: .6rem; }
.fk-tile { border: 1px solid #DEE2E6; border-top: 4px solid #868E96; border-radius: 4px; padding: .5rem .75rem;
  background: #FFFFFF; }
.fk-tile.fk-good { border-top-color: #117733; } .fk-tile.fk-attention { border-top-color: #882255; }
.fk-tile.fk-client { border-top-color: #D55E00; } .fk-tile.fk-team { border-top-color: #0072B2; }
.fk-tile-label { font-size: .85rem; color: #495057; }
.fk-tile-value { font-size: 1.6rem; font-weight: 600; line-height: 1.2; font-variant-numeric: tabular-nums; }
.fk-tile-change { font-size: .9rem; } .fk-tile-change.fk-up { color: #117733; }
.fk-tile-change.fk-down { color: #882255; } .fk-tile-change.fk-flat { color: #495057; }
.fk-tile-detail { font-size: .8rem; color: #495057; margin-top: .15rem; }
.fk-findings { margin: .75rem 0 .25rem; padding-left: 1.25rem; font-size: 1.02rem; }
.fk-findings li { margin: .2rem 0; }
.fk-focus { margin: .5rem 0 0; }
"""

#: Tables for people (:func:`helpers.report.formatting.people_table`): text left, numbers right; a wide table
#: scrolls in its own box.
TABLE_CSS = """/* Tables for people: text left, numbers right; wide tables scroll in their own box. */
.fk-scroll { overflow-x: auto; max-width: 100%; }
table.fk-table { border-collapse: collapse; font-size: .92rem; }
table.fk-table th, table.fk-table td { padding: .3rem .6rem; border-bottom: 1px solid #DEE2E6; vertical-align: top; }
table.fk-table th { background: #F8F9FA; font-weight: 600; }
table.fk-table caption { caption-side: top; text-align: left; color: #495057; padding: .25rem 0; }
"""

#: The bar of links at the top of every page (:mod:`.navigation`).
NAV_CSS = """/* The links back to the index and on to the overviews, at the top of every page. */
nav.fk-links { display: flex; flex-wrap: wrap; gap: .2rem 1.25rem; margin: .5rem 0 .25rem;
  padding: .35rem 0; border-bottom: 1px solid #DEE2E6;
  font-family: var(--jp-ui-font-family, system-ui, sans-serif); font-size: .92rem; }
nav.fk-links a { color: #0B5394; }
nav.fk-links [aria-current] { font-weight: 600; color: #343A40; }
"""
