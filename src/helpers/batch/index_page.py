"""The index page's frame: its stylesheet, its one small script and the policy that lets only that script run.

Takes the parts :mod:`.index` built — every one of them already escaped —
and hands on the page.  The script is a constant: it sorts the accounts
table when a header or the sort menu is used and hides the rows the search
box and the owner, segment and flag menus leave out, reading only the
table's cells and ``data-`` attributes (as text: ``getAttribute``,
``textContent``; never ``innerHTML`` or ``eval``).  No value of the data is
ever written into it.  A Content-Security-Policy in the page allows exactly
this script (by its SHA-256) and nothing else to run, nothing to be loaded
but embedded images, and no form to be sent — so even a name that slipped
past the escaping could not run.  Without the script the page still reads
in its own order (the controls stay hidden).
"""

from __future__ import annotations

import base64
import hashlib
import html

from .css import BAND_CSS, NAV_CSS, TABLE_CSS

__all__ = ["SCRIPT", "CSP", "page_html"]

#: The index's script: sorting and filtering of ``table#fk-accounts`` from ``form#fk-filters``.
SCRIPT = r"""
(function () {
  "use strict";
  var form = document.getElementById("fk-filters");
  var table = document.getElementById("fk-accounts");
  if (!form || !table || !table.tHead || !table.tBodies.length) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var lang = document.documentElement.lang || "en";
  var collator = new Intl.Collator(lang, {sensitivity: "base", numeric: true});
  var numbers = new Intl.NumberFormat(lang);
  var output = document.getElementById("fk-count");
  var template = output ? output.getAttribute("data-template") || "" : "";
  var menu = form.elements.sort;
  var state = {col: heads.length - 1, dir: 1};

  function fold(text) {
    return (text || "").normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLocaleLowerCase(lang);
  }

  function show() {
    var q = fold(form.elements.q.value.trim());
    var owner = form.elements.owner.value;
    var segment = form.elements.segment.value;
    var flag = form.elements.flag.value;
    var shown = 0;
    rows.forEach(function (tr) {
      var flags = " " + (tr.getAttribute("data-flags") || "") + " ";
      var keep = (!q || fold(tr.getAttribute("data-search")).indexOf(q) >= 0) &&
        (!owner || tr.getAttribute("data-owner") === owner) &&
        (!segment || tr.getAttribute("data-segment") === segment) &&
        (!flag || flags.indexOf(" " + flag + " ") >= 0);
      tr.hidden = !keep;
      if (keep) { shown += 1; }
    });
    if (output) {
      output.textContent = template.replace("{shown}", numbers.format(shown))
        .replace("{total}", numbers.format(rows.length));
    }
  }

  function sort(col, dir) {
    var type = heads[col].getAttribute("data-type");
    var keyed = rows.map(function (tr, i) {
      return {tr: tr, i: i, v: tr.cells[col].getAttribute("data-sort") || ""};
    });
    keyed.sort(function (a, b) {
      if (!a.v || !b.v) { return a.v === b.v ? a.i - b.i : (a.v ? -1 : 1); }
      var c = type === "number" ? Number(a.v) - Number(b.v) : collator.compare(a.v, b.v);
      return c === 0 ? a.i - b.i : c * dir;
    });
    keyed.forEach(function (k) { body.appendChild(k.tr); });
    heads.forEach(function (th, j) {
      th.setAttribute("aria-sort", j !== col ? "none" : (dir > 0 ? "ascending" : "descending"));
    });
    state = {col: col, dir: dir};
    var value = col + " " + dir;
    if (Array.prototype.some.call(menu.options, function (o) { return o.value === value; })) { menu.value = value; }
  }

  heads.forEach(function (th, col) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "fk-sort";
    while (th.firstChild) { button.appendChild(th.firstChild); }
    th.appendChild(button);
    button.addEventListener("click", function () { sort(col, state.col === col ? -state.dir : 1); });
  });
  form.addEventListener("input", show);
  form.addEventListener("change", function (event) {
    if (event.target === menu) {
      var parts = menu.value.split(" ");
      sort(Number(parts[0]), Number(parts[1]));
    }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  form.hidden = false;
  heads[state.col].setAttribute("aria-sort", "ascending");
  show();
}());
"""

#: Only :data:`SCRIPT` runs; nothing is fetched but embedded images; no form is sent anywhere.
CSP = ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; "
       "base-uri 'none'; form-action 'none'").format(
    digest=base64.b64encode(hashlib.sha256(SCRIPT.encode("utf-8")).digest()).decode("ascii"))

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0 auto 2rem;
  max-width: 72rem; padding: 0 1rem; color: #212529; line-height: 1.45; }
h1 { font-size: 1.6rem; margin: .75rem 0 .5rem; } h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
a { color: #0B5394; }
""" + BAND_CSS + TABLE_CSS + NAV_CSS + """
.fk-overviews ul { margin: .25rem 0; padding-left: 1.25rem; }
.fk-overviews h2 { font-size: 1rem; margin: .75rem 0 .25rem; }
.fk-filters { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: end; margin: .5rem 0 .75rem;
  font-size: .9rem; }
.fk-filters label { display: flex; flex-direction: column; gap: .15rem; color: #495057; }
.fk-filters input, .fk-filters select { font: inherit; padding: .25rem .4rem; border: 1px solid #ADB5BD;
  border-radius: 4px; max-width: 14rem; color: #212529; background: #FFFFFF; }
.fk-filters output { color: #495057; padding-bottom: .3rem; }
table.fk-index { width: 100%; }
table.fk-index th { text-align: left; vertical-align: bottom; }
table.fk-index td.fk-name { min-width: 12rem; }
table.fk-index td.num, table.fk-index th[data-type="number"] { text-align: right; }
table.fk-index td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.fk-index th:last-child { text-align: left; }
button.fk-sort { font: inherit; font-weight: 600; color: inherit; background: none; border: 0; padding: 0;
  cursor: pointer; text-align: inherit; }
button.fk-sort::after { content: "\\00A0\\2195"; color: #ADB5BD; font-weight: 400; }
th[aria-sort="ascending"] button.fk-sort::after { content: "\\00A0\\25B2"; color: #495057; }
th[aria-sort="descending"] button.fk-sort::after { content: "\\00A0\\25BC"; color: #495057; }
tr.failed td { background: #FFF5F7; }
.fk-id, .fk-small, .fk-ci { color: #6C757D; font-size: .8rem; }
.fk-ci { display: block; }
.fk-up { color: #117733; } .fk-down { color: #882255; font-weight: 600; } .fk-unclear { color: #495057; }
.fk-flag { display: inline-block; margin: 0 .3rem .2rem 0; padding: .05rem .45rem; border-radius: 999px;
  font-size: .8rem; border: 1px solid #868E96; color: #343A40; white-space: nowrap; }
.fk-flag-risk, .fk-flag-failed { background: #882255; border-color: #882255; color: #FFFFFF; }
.fk-flag-blind { border-color: #882255; color: #882255; }
.fk-failed { color: #882255; font-weight: 600; }
.fk-error { font-size: .85rem; color: #495057; } .fk-error .error { font-family: monospace; }
a.fk-pdf { font-size: .8rem; margin-left: .3rem; color: #495057; }
.note { color: #6C757D; font-size: .85rem; }
footer { margin-top: 2rem; padding-top: .5rem; border-top: 1px solid #DEE2E6; color: #6C757D; font-size: .8rem; }
/* On a phone every account is a card: the name, then each figure with its label. */
@media (max-width: 700px) {
  body { padding: 0 .6rem; }
  .fk-tile-value { font-size: 1.35rem; }
  table.fk-index thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.fk-index, table.fk-index tbody, table.fk-index tr, table.fk-index td { display: block; width: auto; }
  table.fk-index tr { border: 1px solid #DEE2E6; border-radius: 6px; margin: 0 0 .6rem; padding: .4rem .6rem; }
  table.fk-index tr[hidden] { display: none; }
  table.fk-index td { border: 0; padding: .1rem 0; text-align: left !important; white-space: normal; }
  table.fk-index td { display: flex; flex-wrap: wrap; gap: .1rem .5rem; align-items: baseline; }
  table.fk-index td::before { content: attr(data-label); flex: 0 0 38%; color: #6C757D; font-size: .8rem; }
  table.fk-index td.fk-name { display: block; min-width: 0; font-size: 1.05rem; font-weight: 600; }
  table.fk-index td.fk-name .fk-id, table.fk-index td.fk-name .fk-pdf { font-weight: 400; }
  table.fk-index td.fk-name::before, table.fk-index td.fk-flags:empty { display: none; }
  .fk-ci { display: inline; margin-left: .4rem; }
  .fk-filters input, .fk-filters select { max-width: 100%; }
}
@media print {
  @page { size: A4; margin: 14mm 12mm; }
  body { max-width: none; padding: 0; font-size: 9.5pt; }
  nav.fk-links, .fk-filters, a.fk-pdf { display: none !important; }
  .fk-band, .fk-tile, tr { break-inside: avoid; page-break-inside: avoid; }
  h1, h2 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  .fk-scroll { overflow: visible; }
  table.fk-index th, table.fk-index td { padding: .2rem .35rem; font-size: 8.5pt; }
  button.fk-sort::after { content: none !important; }
  a { color: inherit; text-decoration: none; }
}
"""


def page_html(*, language: str, title: str, heading: str, navigation: str, band: str, overviews: str,
              accounts: str, footer: str) -> str:
    """The index page from its parts.

    ``title`` is plain text (escaped here); every other part is HTML that
    is already escaped.
    """
    return (f'<!DOCTYPE html>\n<html lang="{html.escape(language, quote=True)}">\n<head>\n<meta charset="utf-8">\n'
            f'<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP, quote=True)}">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            f"{navigation}\n<main>\n<h1>{heading}</h1>\n{band}\n{overviews}\n{accounts}\n</main>\n"
            f"<footer>{footer}</footer>\n<script>{SCRIPT}</script>\n</body>\n</html>\n")
