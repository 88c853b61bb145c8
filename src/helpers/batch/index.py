"""The wave's index: a front page — how many accounts need attention and why — then every account.

Takes the batch's report results (each account's headline JSON, exactly as
its report published it), the store's account facts and the at-risk list
(:mod:`.attention`); hands on one self-contained HTML page: a summary band,
links to the overviews, and the accounts sorted by the attention they need
(flags first, then the largest fall in client NPS, then the nearest renewal)
with owner, segment, renewal date, client NPS and its change, answers per
side and flags.  A small inline script (:mod:`.index_page`) sorts and filters
the table offline; it reads only the table's cells and ``data-`` attributes,
and the data never enter it as code.  Words from the catalogue
(``index.*``), numbers and dates by locale (:mod:`helpers.report.formatting`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import quote

from helpers.words import say

from .index_page import page_html
from .navigation import navigation_html
from .results import ReportResult

__all__ = ["INDEX", "AccountRow", "account_rows"]

INDEX = "index.html"


def _store_headlines(store: Path, wave: str, accounts: Sequence[str]) -> dict[str, dict[str, Any]]:
    """Answers per side of these accounts in the wave, from the store: the index's fallback for a report
    that gave no headline (e.g. one that failed).

    Only the counts: every figure computed from the answers (NPS and its
    interval) is left to the report, which knows what its privacy rules
    allow it to publish.
    """
    from helpers.data.store import load_responses

    resp = load_responses(account=list(accounts), wave=wave, store=store)
    counts = resp.groupby(["account_id", "side"]).size()
    return {str(a): {"account_id": a, "wave": wave, "n_client": int(counts.get((a, "client"), 0)),
                     "n_staff": int(counts.get((a, "staff"), 0))}
            for a in resp["account_id"].unique()}


# ---------------------------------------------------------------------------
# One row per account
# ---------------------------------------------------------------------------
@dataclass
class AccountRow:
    """What the index shows of one account (None = not known or not published: shown as "–").

    ``reasons`` are the attention reasons — "risk", "blind", "down",
    "failed" — and ``flags`` everything the flag filter knows (the reasons,
    "attention" when there is any, and "few").
    """

    report: ReportResult
    owner: str | None = None
    segment: str | None = None
    renewal: str | None = None
    status: str | None = None
    n_client: int | None = None
    n_staff: int | None = None
    nps: float | None = None
    nps_low: float | None = None
    nps_high: float | None = None
    change: float | None = None
    change_clear: bool = False
    blind: list[str] = field(default_factory=list)
    at_risk: bool = False
    few: bool = False
    reasons: list[str] = field(default_factory=list)

    @property
    def flags(self) -> list[str]:
        return [*self.reasons, *(["attention"] if self.reasons else []), *(["few"] if self.few else [])]


def _number(value: Any) -> float | None:
    """A finite number from the headline, else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if x == x and abs(x) != float("inf") else None


def _first(head: Mapping[str, Any], *keys: str) -> Any:
    """The first of ``keys`` the headline has (older headlines name some figures differently)."""
    for k in keys:
        if k in head:
            return head[k]
    return None


def account_rows(reports: Sequence[ReportResult], *, accounts: Mapping[str, Mapping[str, Any]] | None = None,
                 at_risk: set[str] | None = None, min_client: int = 5,
                 today: date | None = None) -> list[AccountRow]:
    """The account reports as index rows, in the order of attention.

    Parameters
    ----------
    reports : sequence of ReportResult
        The batch's results; overviews are skipped.
    accounts : mapping, optional
        account_id → owner, segment, renewal_date (ISO), status
        (:class:`helpers.batch.attention.FrontPageFacts`).
    at_risk : set of str, optional
        Ids of the accounts at risk (None: not known).
    min_client : int
        Client answers a figure needs: fewer is "few answers" when the
        headline has no ``few_answers``.
    today : date, optional
        For "nearest renewal" (default: today).

    Returns
    -------
    list of AccountRow
        Sorted: most attention reasons first, then the largest fall in client
        NPS, then the nearest renewal still ahead, then the name.

    Notes
    -----
    Every figure comes from the report's headline — a figure its report held
    back is null there and stays "–" here.  The headline keys read:
    ``n_client``, ``n_staff``, ``nps``, ``nps_ci_low``, ``nps_ci_high``,
    ``nps_change`` (or ``change``), ``nps_change_ci_low``/``_high`` (or
    ``change_ci_low``/``_high``), ``nps_change_clear`` (or ``change_clear``;
    else worked out from the interval), ``blind_spots`` (dimension ids),
    ``few_answers``.  A change is "clearly down" only when it is clear.
    """
    accounts = accounts or {}
    rows = []
    for r in reports:
        if r.kind != "account":
            continue
        h = r.headline or {}
        facts = accounts.get(str(r.account_id), {})
        row = AccountRow(report=r, owner=facts.get("owner"), segment=facts.get("segment"),
                         renewal=facts.get("renewal_date"), status=facts.get("status"))
        n_client, n_staff = _number(h.get("n_client")), _number(h.get("n_staff"))
        row.n_client = None if n_client is None else int(n_client)
        row.n_staff = None if n_staff is None else int(n_staff)
        row.nps, row.nps_low, row.nps_high = (_number(h.get(k)) for k in ("nps", "nps_ci_low", "nps_ci_high"))
        row.change = _number(_first(h, "nps_change", "change"))
        low = _number(_first(h, "nps_change_ci_low", "change_ci_low"))
        high = _number(_first(h, "nps_change_ci_high", "change_ci_high"))
        clear = _first(h, "nps_change_clear", "change_clear")
        if clear is None and low is not None and high is not None:
            clear = low > 0 or high < 0
        row.change_clear = bool(clear) and row.change is not None
        blind = h.get("blind_spots")
        row.blind = [str(d) for d in blind] if isinstance(blind, (list, tuple)) else []
        few = h.get("few_answers")
        row.few = bool(few) if isinstance(few, bool) else (row.n_client is not None and row.n_client < min_client)
        row.at_risk = bool(at_risk) and str(r.account_id) in at_risk
        row.reasons = [k for k, on in (("failed", r.status == "failed" and r.action != "kept"),
                                       ("risk", row.at_risk), ("blind", bool(row.blind)),
                                       ("down", row.change_clear and row.change < 0)) if on]
        rows.append(row)
    today_iso = (today or date.today()).isoformat()

    def key(row: AccountRow) -> tuple:
        ahead = row.renewal if row.renewal and row.renewal >= today_iso and row.status in (None, "active") else None
        return (-len(row.reasons), row.change if row.change is not None else float("inf"),
                ahead or "9999-12-31", (row.report.name or "").casefold(), row.report.slug)

    return sorted(rows, key=key)


# ---------------------------------------------------------------------------
# The page
# ---------------------------------------------------------------------------
def _index_html(reports: Sequence[ReportResult], *, wave: str, language: str, data_hash: str,
                accounts: Mapping[str, Mapping[str, Any]] | None = None, at_risk: set[str] | None = None,
                min_client: int = 5, today: date | None = None) -> str:
    """The wave's index page: self-contained, every value escaped, links percent-encoded.

    Account names, owners, segments and the wave label are set apart from the
    page's words — names in ``<bdi>`` (a name written right to left, or one
    that still carries a direction override from an older store, cannot
    reorder the text around it), data cells marked ``fk-data``.
    """
    from helpers.report.band import SummaryBand, Tile
    from helpers.report.formatting import count

    def t(key: str, **fields: Any) -> str:
        return say(f"index.{key}", language, **fields)

    current = [r for r in reports if r.action != "kept"]
    n_failed = sum(r.status == "failed" for r in current)
    ok = sum(r.status == "ok" for r in reports)
    overviews = [r for r in reports if r.kind != "account"]
    rows = account_rows(reports, accounts=accounts, at_risk=at_risk, min_client=min_client, today=today)
    n = len(rows)
    tally = {k: sum(k in r.reasons for r in rows) for k in ("risk", "blind", "down", "failed")}
    attention = sum(bool(set(r.reasons) - {"failed"}) for r in rows)
    few = sum(r.few for r in rows)
    # a figure no report gave (an older account notebook) is unknown, not zero
    heads = [r.report.headline or {} for r in rows]
    known = {"risk": at_risk is not None, "blind": any("blind_spots" in h for h in heads),
             "down": any("nps_change" in h or "change" in h for h in heads)}

    def tile(label: str, value: int | None, detail: str, *, alarm: bool = True) -> Tile:
        tone = "" if value is None or not alarm else ("attention" if value else "good")
        return Tile(label=label, value=count(value, language), detail=detail, tone=tone)

    tiles = [Tile(label=t("tile.accounts"), value=count(n, language),
                  detail=t("tile.accounts_failed", ok=ok, total=len(reports), failed=n_failed) if n_failed
                  else t("tile.accounts_detail", ok=ok, total=len(reports))),
             tile(t("tile.attention"), attention, t("tile.attention_detail")),
             tile(t("tile.at_risk"), tally["risk"] if known["risk"] else None,
                  t("tile.at_risk_detail") if known["risk"] else t("tile.at_risk_unknown")),
             tile(t("tile.blind"), tally["blind"] if known["blind"] else None,
                  t("tile.blind_detail") if known["blind"] else t("tile.unknown")),
             tile(t("tile.down"), tally["down"] if known["down"] else None,
                  t("tile.down_detail") if known["down"] else t("tile.unknown")),
             tile(t("tile.few"), few, t("tile.few_detail", k=min_client), alarm=False)]
    reasons = [t(f"reason.{k}", n=count(tally[k], language)) for k in ("risk", "blind", "down") if tally[k]]
    sentences = ([t("sentence.attention", n=count(attention, language), total=count(n, language),
                    reasons=", ".join(reasons)), t("sentence.order")] if attention else [t("sentence.none")])
    if tally["failed"]:
        sentences.append(t("sentence.failed", n=count(tally["failed"], language)))
    band = SummaryBand(tiles=tiles, sentences=sentences).to_html() if n else ""
    pages = ["index", *(r.slug for r in overviews if r.status == "ok")]
    footer = (_e(t("footer", wave="\0", data_hash=data_hash, ok=ok, total=len(reports),
                   failed=t("failed_note", n=n_failed) if n_failed else "")).replace("\0", _bdi(wave))
              + f' {_e(t("footer_files"))} <a href="manifest.json">manifest.json</a>.')
    return page_html(
        language=language, title=t("title", wave=wave),
        heading=_e(t("title", wave="\0")).replace("\0", _bdi(wave)),
        navigation=navigation_html(language, current="index", pages=pages),
        band=band, overviews=_overviews_list(overviews, language) if overviews else "",
        accounts=_accounts_section(rows, language) if rows else "", footer=footer)


def _overviews_list(overviews: Sequence[ReportResult], language: str) -> str:
    """The overviews (portfolio, drivers, …): each linked, with its PDF, or failed with the error."""
    items = "\n".join(f"<li>{_report_cell(r, language)}</li>" for r in overviews)
    return (f'<section class="fk-overviews" aria-label="{_e(say("index.overviews", language))}">'
            f'<h2>{_e(say("index.overviews", language))}</h2>\n<ul>\n{items}\n</ul></section>')


def _report_cell(r: ReportResult, language: str) -> str:
    """The report's name, linked to its page and PDF; or, when it failed, the error and the partial notebook."""
    label = _bdi(r.name) if r.kind == "account" else _e(r.title or r.name)
    if r.status == "ok":
        out = f'<a href="{_e(quote(r.slug + ".html"))}">{label}</a>'
        if getattr(r, "pdf", None):
            out += f' <a class="fk-pdf" href="{_e(quote(r.slug + ".pdf"))}">{_e(say("index.pdf", language))}</a>'
        return out
    partial = (f' · <a class="nb" href="{_e(quote(r.slug + ".failed.ipynb"))}">{_e(say("index.partial", language))}'
               "</a>" if r.failed_ipynb else "")
    return (f'{label} <span class="fk-failed">{_e(say("index.failed", language))}</span>'
            f'<div class="fk-error"><span class="error">{_e(r.error)}</span>{partial}</div>')


_COLUMNS = (("account", "text"), ("owner", "text"), ("segment", "text"), ("renewal", "date"), ("nps", "number"),
            ("change", "number"), ("answers", "number"), ("flags", "number"))
#: The sort menu: option → (column, direction); the first is the page's own order.
_SORTS = (("attention", 7, 1), ("name", 0, 1), ("renewal", 3, 1), ("nps", 4, 1), ("change", 5, 1))


def _accounts_section(rows: Sequence[AccountRow], language: str) -> str:
    """The accounts: the filter bar (shown by the script), the table and the note on NPS."""
    def t(key: str, **fields: Any) -> str:
        return say(f"index.{key}", language, **fields)

    head = "".join(f'<th scope="col" data-type="{kind}" aria-sort="none">{_e(t(f"header.{col}"))}</th>'
                   for col, kind in _COLUMNS)
    body = "\n".join(_account_row(i, row, language) for i, row in enumerate(rows))
    return (f'<section class="fk-accounts"><h2 id="accounts">{_e(t("accounts"))}</h2>\n'
            f"{_filters(rows, language)}\n"
            f'<div class="fk-scroll"><table class="fk-table fk-index" id="fk-accounts">'
            f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody></table></div>\n"
            f'<p class="note">{_e(t("note"))}</p></section>')


def _filters(rows: Sequence[AccountRow], language: str) -> str:
    """Search, owner, segment, flag and sort controls; hidden until the script shows them (they need it)."""
    def t(key: str, **fields: Any) -> str:
        return say(f"index.{key}", language, **fields)

    def options(values: set[str], every: str) -> str:
        return f'<option value="">{_e(every)}</option>' + "".join(
            f'<option class="fk-data" value="{_e(v)}">{_e(v)}</option>' for v in sorted(values, key=str.casefold))

    owners = {r.owner for r in rows if r.owner}
    segments = {r.segment for r in rows if r.segment}
    present = {f for r in rows for f in r.flags}
    flags = "".join(f'<option value="{k}">{_e(t(f"flag.{k}"))}</option>'
                    for k in ("attention", "risk", "blind", "down", "few", "failed") if k in present)
    sorts = "".join(f'<option value="{col} {direction}">{_e(t(f"sort.{k}"))}</option>' for k, col, direction in _SORTS)
    shown = _e(t("filter.shown", shown="{shown}", total="{total}"))
    return (f'<form class="fk-filters" id="fk-filters" role="search" aria-label="{_e(t("filter.label"))}" hidden>'
            f'<label>{_e(t("filter.search"))} <input type="search" name="q" autocomplete="off" '
            f'placeholder="{_e(t("filter.search_hint"))}"></label>'
            f'<label>{_e(t("filter.owner"))} <select name="owner">{options(owners, t("filter.all_owners"))}'
            f"</select></label>"
            f'<label>{_e(t("filter.segment"))} <select name="segment">'
            f'{options(segments, t("filter.all_segments"))}</select></label>'
            f'<label>{_e(t("filter.flag"))} <select name="flag"><option value="">{_e(t("filter.all_flags"))}'
            f"</option>{flags}</select></label>"
            f'<label>{_e(t("filter.sort"))} <select name="sort">{sorts}</select></label>'
            f'<output id="fk-count" aria-live="polite" data-template="{shown}"></output></form>')


def _account_row(rank: int, row: AccountRow, language: str) -> str:
    """One account as a table row: every cell with its label (the phone layout) and sort key, every value
    escaped."""
    from helpers.report.band import ARROWS, arrow
    from helpers.report.formatting import MISSING, count, date as fmt_date, interval, points

    def t(key: str, **fields: Any) -> str:
        return say(f"index.{key}", language, **fields)

    def cell(col: str, content: str, sort: Any, css: str = "") -> str:
        key = "" if sort is None else str(sort)
        cls = f' class="{css}"' if css else ""
        return f'<td{cls} data-label="{_e(t(f"header.{col}"))}" data-sort="{_e(key)}">{content}</td>'

    r = row.report
    name = cell("account", f'{_report_cell(r, language)} <span class="fk-id fk-data">{_e(r.account_id)}</span>',
                (r.name or "").casefold(), "fk-name")
    owner = cell("owner", _e(row.owner or MISSING), row.owner, "fk-data")
    segment = cell("segment", _e(row.segment or MISSING), row.segment, "fk-data")
    renewal = _e(fmt_date(row.renewal, language)) if row.renewal else MISSING
    if row.renewal and row.status in ("renewed", "churned"):
        renewal += f' <span class="fk-small">{_e(t(f"status.{row.status}"))}</span>'
    nps = _e(points(row.nps, language))
    if row.nps is not None and row.nps_low is not None and row.nps_high is not None:
        nps += f'<span class="fk-small fk-ci">{_e(interval(row.nps_low, row.nps_high, language, 0, sign=True))}</span>'
    direction = arrow(row.change, clear=row.change_clear)
    change = _e(points(row.change, language))
    if direction in ("up", "down"):
        change = f'<span class="fk-{direction}"><span class="fk-arrow" aria-hidden="true">{ARROWS[direction]}</span> ' \
                 f"{change}</span>"
    elif row.change is not None:
        change = f'<span class="fk-unclear">{change}</span>'
    answers = f"{_e(count(row.n_client, language))} / {_e(count(row.n_staff, language))}"
    chips = []
    if row.at_risk:
        chips.append(("risk", t("flag.risk")))
    if row.blind:
        chips.append(("blind", t("flag.blind_on", dims=", ".join(_dimension_label(d, language) for d in row.blind))))
    if row.few:
        chips.append(("few", t("flag.few")))
    if "failed" in row.reasons:
        chips.append(("failed", t("flag.failed")))
    flags = "".join(f'<span class="fk-flag fk-flag-{k}">{_e(text)}</span>' for k, text in chips)
    search = f"{r.name or ''} {r.account_id or ''}"
    attrs = (f' data-search="{_e(search)}" data-owner="{_e(row.owner or "")}"'
             f' data-segment="{_e(row.segment or "")}" data-flags="{_e(" ".join(row.flags))}"')
    return (f'<tr class="{_e(r.status)}"{attrs}>{name}{owner}{segment}'
            f'{cell("renewal", renewal, row.renewal)}{cell("nps", nps, _sortable(row.nps), "num")}'
            f'{cell("change", change, _sortable(row.change), "num")}'
            f'{cell("answers", answers, row.n_client, "num")}{cell("flags", flags, rank, "fk-flags")}</tr>')


def _sortable(x: float | None) -> str | None:
    return None if x is None else f"{x:.6g}"


def _dimension_label(dimension: str, language: str) -> str:
    """A dimension's name in the page's language (the id itself when the instrument does not know it)."""
    from helpers.data.instrument import load_instrument

    try:
        return load_instrument().labels(language).get(dimension, dimension)
    except Exception:  # an instrument that cannot be read: the id still says which dimension
        return dimension


def _bdi(value: Any) -> str:
    """``value`` escaped and isolated from the text around it (``<bdi>``): user text of either direction."""
    return f"<bdi>{_e(value)}</bdi>"


def _e(value: Any) -> str:
    """``value`` escaped for HTML text and attributes (:func:`helpers.data.privacy.escape_text`)."""
    from helpers.data.privacy import escape_text  # here: importing the batch must not import pandas

    return escape_text(value)
