"""The summary band that opens every page: a few tiles (a number, its direction, its n) and a few sentences.

A tile is one figure a reader takes in at a glance — "Client NPS +12 ▲ 8
(n = 14; 95% CI −9 to 31)".  The band is plain, escaped HTML with classes
the page stylesheet lays out as a row of tiles (one column on a phone); in
JupyterLab it reads as a list.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Tile", "SummaryBand", "arrow"]

#: Direction marks: up, down, no clear change.
ARROWS = {"up": "▲", "down": "▼", "flat": "▬"}


def arrow(change: float | None, *, clear: bool) -> str:
    """The direction of a change: "up"/"down" only when it is clear (its interval excludes 0), else "flat"."""
    if change is None or change != change or not clear or change == 0:
        return "flat"
    return "up" if change > 0 else "down"


@dataclass(frozen=True)
class Tile:
    """One figure of a summary band.

    Attributes
    ----------
    label : str
        What it is ("Client NPS").
    value : str
        The figure, already formatted ("+12").
    detail : str
        Small print: n and the interval ("n = 14; 95% CI −9 to 31").
    change : str
        The change, already formatted with its sign ("+8 since 2026Q2"), or "".
    direction : str
        "up", "down" or "flat" (no clear change); drawn as an arrow.
    tone : str
        "good", "attention" or "" — the tile's accent colour.
    """

    label: str
    value: str
    detail: str = ""
    change: str = ""
    direction: str = ""
    tone: str = ""

    def to_html(self) -> str:
        e = html.escape
        tone = f" fk-{self.tone}" if self.tone else ""
        parts = [f'<div class="fk-tile{tone}">', f'<div class="fk-tile-label">{e(self.label)}</div>',
                 f'<div class="fk-tile-value">{e(self.value)}</div>']
        if self.change or self.direction:
            mark = ARROWS.get(self.direction, "")
            parts.append(f'<div class="fk-tile-change fk-{e(self.direction or "flat")}">'
                         f'<span class="fk-arrow">{mark}</span> {e(self.change)}</div>')
        if self.detail:
            parts.append(f'<div class="fk-tile-detail">{e(self.detail)}</div>')
        parts.append("</div>")
        return "".join(parts)


@dataclass(frozen=True)
class SummaryBand:
    """Tiles and sentences that open a page (everything escaped).

    Attributes
    ----------
    tiles : sequence of Tile
    sentences : sequence of str
        Two or three findings written from the data, plain text.
    heading : str
        Optional line above the tiles (e.g. the focus for the next meeting).
    focus : str
        Optional closing line, shown emphasised.
    """

    tiles: Sequence[Tile]
    sentences: Sequence[str] = field(default_factory=tuple)
    heading: str = ""
    focus: str = ""

    def to_html(self) -> str:
        e = html.escape
        out = ['<div class="fk-band">']
        if self.heading:
            out.append(f'<p class="fk-band-heading">{e(self.heading)}</p>')
        out.append('<div class="fk-tiles">' + "".join(t.to_html() for t in self.tiles) + "</div>")
        if self.sentences:
            out.append('<ul class="fk-findings">' + "".join(f"<li>{e(s)}</li>" for s in self.sentences) + "</ul>")
        if self.focus:
            out.append(f'<p class="fk-focus"><strong>{e(self.focus)}</strong></p>')
        out.append("</div>")
        return "".join(out)

    def _repr_html_(self) -> str:
        return self.to_html()
