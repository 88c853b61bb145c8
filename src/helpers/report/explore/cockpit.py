"""The drill-down controls: ipywidgets in JupyterLab, the notebook's parameters under papermill.

:class:`Cockpit` holds the current :class:`.selection.Selection` and the
views that show it.  Each view is a function ``view(explorer, selection)``
from this package; :meth:`Cockpit.show` wraps it in a :class:`LiveView`, an
output area that JupyterLab redraws when a control changes.  Every live view
and the controls also carry their plain HTML for the selection they were
drawn with, which is what a papermill run (no widget frontend) and an
exported page show — so the logic lives in the views and
:meth:`Explorer.select <.data.Explorer.select>`; the widgets only call them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as w

from helpers.report.formatting import count

from .data import Explorer
from .html import Html, as_html, lab_style, paragraph, say_html, words
from .render import report_section
from .selection import (GIVEN, Selection, account_choices, filter_accounts, owner_choices, segment_choices)

__all__ = ["Cockpit", "LiveView", "selection_summary"]

View = Callable[[Explorer, Selection], Any]


def _plain(fragment: str, most: int = 300) -> str:
    """The text of an HTML fragment, for the ``text/plain`` of a widget's output (no widget repr)."""
    fragment = re.sub(r"<style[^>]*>.*?</style>", " ", fragment, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r'src="data:[^"]*"', "", fragment)))
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= most else text[: most - 1] + "…"


class _WithHtml:
    """A widget that also carries the HTML of what it shows: for frontends without widgets, and exported pages."""

    html: str = ""

    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        data = dict(super()._repr_mimebundle_(**kwargs) or {})  # type: ignore[misc]
        data["text/html"] = self.html
        data["text/plain"] = _plain(self.html)
        return data


class LiveView(_WithHtml, w.Output):
    """An output area showing one view of the selection, redrawn by :meth:`refresh`."""

    def __init__(self, build: Callable[[], Any], *, language: str):
        super().__init__()
        self._build = build
        self._language = language
        self.set_html(as_html(build()))

    def set_html(self, fragment: str) -> None:
        """Show ``fragment`` (in JupyterLab at once; in an exported page from the next display)."""
        self.html = fragment
        self.outputs = ({"output_type": "display_data", "data": {"text/html": fragment, "text/plain":
                                                                  _plain(fragment)}, "metadata": {}},)

    def refresh(self) -> None:
        """Draw the view again for the current selection; a failure is shown in the view, not raised."""
        try:
            self.set_html(as_html(self._build()))
        except Exception as exc:  # a control change must not leave the other views half-drawn
            self.set_html(paragraph(say_html("failed", self._language, error=f"{type(exc).__name__}: {exc}")
                                    ).fragment)


class _Controls(_WithHtml, w.VBox):
    pass


class _Panel(_WithHtml, w.VBox):
    pass


def selection_summary(explorer: Explorer, selection: Selection) -> Html:
    """What the notebook looks at, in words (HTML): wave, segment, owner, accounts, the account and why."""
    lang = explorer.language
    seg = (say_html("selection.segment", lang, data={"segment": selection.segment}) if selection.segment
           else say_html("selection.every_segment", lang))
    own = (say_html("selection.owner", lang, data={"owner": selection.owner}) if selection.owner
           else say_html("selection.every_owner", lang))
    line = say_html("selection.line", lang, data={"wave": selection.wave}, markup={"segment": seg, "owner": own},
                    n=count(len(selection.accounts), lang))
    if selection.account_id is None:
        acc = say_html("selection.account_none", lang, data={"wave": selection.wave})
    else:
        acc = say_html(f"selection.account_{selection.account_why}", lang,
                       data={"name": explorer.name(selection.account_id), "account_id": selection.account_id})
    how = say_html("selection.how", lang, codes={"p1": "wave", "p2": "segment", "p3": "owner", "p4": "account_id"})
    return Html(lab_style()) + paragraph(line, acc) + paragraph(how, css_class="fk-note")


class Cockpit:
    """Drill-down controls and the live views that follow them.

    Parameters
    ----------
    explorer : Explorer
    selection : Selection
        The start (from the notebook's parameters, :meth:`Explorer.select`).

    Examples
    --------
    >>> cockpit = Cockpit(explorer, explorer.select(segment="Energy"))   # doctest: +SKIP
    >>> cockpit.controls()                                              # doctest: +SKIP
    >>> cockpit.show(glance_band)                                       # doctest: +SKIP
    """

    def __init__(self, explorer: Explorer, selection: Selection):
        self.explorer = explorer
        self.selection = selection
        self.views: list[LiveView] = []
        self.widgets: dict[str, w.Dropdown] = {}
        self._summary: LiveView | None = None
        self._controls: _Controls | None = None
        self._busy = False

    # -- views ---------------------------------------------------------------------------------------
    def show(self, view: View) -> LiveView:
        """``view`` of the current selection, redrawn whenever the controls change it."""
        live = LiveView(lambda: view(self.explorer, self.selection), language=self.explorer.language)
        self.views.append(live)
        return live

    def choose(self, *, wave: str | None = None, segment: str | None = None, owner: str | None = None,
               account_id: str | None = None) -> Selection:
        """A new selection from the current one (what each control calls), and every view redrawn.

        An owner without an account in the new segment is reset to every owner, and an account outside the new
        selection (or without answers in the new wave) to the selection's default.
        """
        cur = self.selection
        wave = cur.wave if wave is None else wave
        segment = cur.segment if segment is None else segment
        owner = cur.owner if owner is None else owner
        if owner and owner not in owner_choices(self.explorer.accounts, segment=segment):
            owner = ""
        if account_id is None:
            account_id = cur.account_id if cur.account_why == GIVEN else ""
        ids = set(filter_accounts(self.explorer.accounts, segment=segment, owner=owner)["account_id"].astype(str))
        if account_id and (account_id not in ids or account_id not in self.explorer.wave_data(wave).answering):
            account_id = ""
        self.selection = self.explorer.select(wave=wave, segment=segment, owner=owner, account_id=account_id or "")
        self._sync()
        for live in self.views:
            live.refresh()
        return self.selection

    # -- widgets -------------------------------------------------------------------------------------
    def controls(self) -> _Controls:
        """Dropdowns for wave, segment, owner and account, above a line saying what is looked at."""
        lang = self.explorer.language
        layout = w.Layout(width="min(100%, 26rem)")
        style = {"description_width": "7rem"}
        for key in ("wave", "segment", "owner", "account"):
            self.widgets[key] = w.Dropdown(description=words(f"control.{key}", lang), layout=layout, style=style)
        self._summary = LiveView(lambda: selection_summary(self.explorer, self.selection), language=lang)
        self._sync()
        for key, name in (("wave", "wave"), ("segment", "segment"), ("owner", "owner"), ("account", "account_id")):
            self.widgets[key].observe(self._on_change(name), names="value")
        self._controls = _Controls([*self.widgets.values(), self._summary])
        self._controls.html = self._summary.html
        return self._controls

    def _on_change(self, name: str) -> Callable[[dict], None]:
        def handler(change: dict) -> None:
            if not self._busy:
                self.choose(**{name: change["new"]})
        return handler

    def _sync(self) -> None:
        """Set the dropdowns' options and values to the current selection (without firing their handlers)."""
        if not self.widgets:
            return
        ex, sel, lang = self.explorer, self.selection, self.explorer.language
        answering = ex.wave_data(sel.wave).answering
        chosen = filter_accounts(ex.accounts, segment=sel.segment, owner=sel.owner)
        options = {
            "wave": [(x, x) for x in reversed(ex.waves)],
            "segment": [(words("control.all_segments", lang), "")] + [(s, s) for s in segment_choices(ex.accounts)],
            "owner": [(words("control.all_owners", lang), "")]
            + [(o, o) for o in owner_choices(ex.accounts, segment=sel.segment)],
            "account": account_choices(chosen, answering=answering) or [("–", "")],
        }
        values = {"wave": sel.wave, "segment": sel.segment, "owner": sel.owner, "account": sel.account_id or ""}
        self._busy = True
        try:
            for key, dd in self.widgets.items():
                dd.options = options[key]
                dd.value = values[key]
        finally:
            self._busy = False
        if self._summary is not None and self._controls is not None:
            self._summary.refresh()
            self._controls.html = self._summary.html

    def report(self, *, render: bool = False, out_root: str | Path | None = None) -> _Panel:
        """The last section: a button that writes the chosen account's report with the batch, and the link.

        ``render`` writes it at once (a papermill run's ``render_report``); otherwise the panel says how to.
        """
        lang = self.explorer.language
        first = [render]  # write at once only when the notebook runs; a control change just says how

        def build(ex: Explorer, sel: Selection) -> Any:
            now, first[0] = first[0], False
            return report_section(ex, sel, render=now, out_root=out_root)

        live = self.show(build)
        button = w.Button(description=words("control.render", lang), icon="file-text",
                          layout=w.Layout(width="fit-content"))

        def write(_: Any) -> None:
            live.set_html(paragraph(say_html("render.running", lang)).fragment)
            live.set_html(as_html(report_section(self.explorer, self.selection, render=True, out_root=out_root)))
            panel.html = live.html

        button.on_click(write)
        panel = _Panel([button, live])
        panel.html = live.html
        return panel
