"""The wave's index page: every report with its headline figures and a link.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .results import ReportResult

INDEX = "index.html"

TEXT = {
    "en": {
        "contents": "Contents",
        "index_title": "Reports {wave}",
        "index_intro": "Survey wave {wave}. Data {data_hash}. {ok} of {total} reports rendered{failed}.",
        "failed_note": ", {n} failed",
        "overview": "Overviews",
        "accounts": "Accounts",
        "account": "Account",
        "report": "Report",
        "n_client": "Client answers",
        "n_staff": "Team answers",
        "nps": "Client NPS [95% CI]",
        "status": "Status",
        "ok": "ok",
        "failed": "failed",
        "partial": "partial notebook",
        "notebook": "executed notebook",
        "nps_note": "NPS on the −100…100 scale with its adjusted-Wald 95% interval; – = no answers.",
    },
    "fi": {
        "contents": "Sisällys",
        "index_title": "Raportit {wave}",
        "index_intro": "Kyselykierros {wave}. Aineisto {data_hash}. {ok}/{total} raporttia valmiina{failed}.",
        "failed_note": ", {n} epäonnistui",
        "overview": "Yleiskuvat",
        "accounts": "Asiakkuudet",
        "account": "Asiakkuus",
        "report": "Raportti",
        "n_client": "Asiakasvastauksia",
        "n_staff": "Tiimin vastauksia",
        "nps": "Asiakkaiden NPS [95 %:n LV]",
        "status": "Tila",
        "ok": "ok",
        "failed": "epäonnistui",
        "partial": "keskeneräinen muistio",
        "notebook": "ajettu muistio",
        "nps_note": "NPS asteikolla −100…100 ja sen 95 %:n luottamusväli (adjusted Wald); – = ei vastauksia.",
    },
}


def _store_headlines(store: Path, wave: str, accounts: Sequence[str]) -> dict[str, dict[str, Any]]:
    """n per side and client NPS of these accounts in the wave, straight from the store (the index's fallback)."""
    from helpers.stats.scores import nps
    from helpers.data.store import load_responses

    resp = load_responses(account=list(accounts), wave=wave, store=store)
    out: dict[str, dict[str, Any]] = {}
    counts = resp.groupby(["account_id", "side"]).size()
    client = resp[resp["side"] == "client"]
    net = nps(client, by=["account_id"]).set_index("account_id") if len(client) else None
    for account_id in resp["account_id"].unique():
        row = {"account_id": account_id, "wave": wave,
               "n_client": int(counts.get((account_id, "client"), 0)),
               "n_staff": int(counts.get((account_id, "staff"), 0)),
               "nps": None, "nps_ci_low": None, "nps_ci_high": None}
        if net is not None and account_id in net.index and net.loc[account_id, "n"] > 0:
            for k_out, k_in in (("nps", "nps"), ("nps_ci_low", "ci_low"), ("nps_ci_high", "ci_high")):
                row[k_out] = round(float(net.loc[account_id, k_in]), 6)
        out[str(account_id)] = row
    return out


def _fmt_nps(head: Mapping[str, Any] | None, language: str) -> str:
    if not head or head.get("nps") is None:
        return "–"

    def f(v: Any) -> str:
        v = round(float(v))
        return "0" if v == 0 else f"{v:+d}".replace("-", "−")

    out = f(head["nps"])
    if head.get("nps_ci_low") is not None and head.get("nps_ci_high") is not None:
        sep = " … " if language == "fi" else " to "
        out += f" [{f(head['nps_ci_low'])}{sep}{f(head['nps_ci_high'])}]"
    return out


def _index_html(reports: Sequence[ReportResult], *, wave: str, language: str, data_hash: str) -> str:
    """The wave's index page: self-contained, every value escaped, links percent-encoded.

    Account names and the wave label are set in ``<bdi>``, so a name written
    right to left, or one that still carries a direction override from an
    older store, cannot reorder the text around it.
    """
    t = TEXT[language]
    current = [r for r in reports if r.action != "kept"]
    n_failed = sum(r.status == "failed" for r in current)
    ok = sum(r.status == "ok" for r in reports)
    overviews = [r for r in reports if r.kind != "account"]
    accounts = [r for r in reports if r.kind == "account"]
    parts = []
    if overviews:
        parts.append(_overviews_table(overviews, t))
    if accounts:
        parts.append(_accounts_table(accounts, t, language))
    title = t["index_title"].format(wave=wave)
    heading = _e(t["index_title"]).format(wave=_bdi(wave))
    intro = _e(t["index_intro"]).format(wave=_bdi(wave), data_hash=_e(data_hash), ok=ok, total=len(reports),
                                        failed=_e(t["failed_note"].format(n=n_failed)) if n_failed else "")
    return _INDEX_PAGE.format(language=_e(language), title=_e(title), heading=heading, intro=intro,
                              body="\n".join(parts))


def _overviews_table(overviews: Sequence[ReportResult], t: Mapping[str, str]) -> str:
    """The overviews (portfolio, drivers, …): a link and a status each."""
    rows = "\n".join(f"<tr><td>{_link(r)}</td><td>{_status(r, t)}</td></tr>" for r in overviews)
    return (f'<h2>{_e(t["overview"])}</h2>\n<table>\n<thead><tr><th>{_e(t["report"])}</th>'
            f'<th>{_e(t["status"])}</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>')


def _accounts_table(accounts: Sequence[ReportResult], t: Mapping[str, str], language: str) -> str:
    """The accounts: id, link, answers per side, client NPS with its interval, and status; a note on NPS."""
    rows = []
    for r in accounts:
        h = r.headline or {}
        n_client = "–" if h.get("n_client") is None else str(int(h["n_client"]))
        n_staff = "–" if h.get("n_staff") is None else str(int(h["n_staff"]))
        rows.append(f'<tr class="{_e(r.status)}"><td>{_e(r.account_id)}</td><td>{_link(r)}</td>'
                    f'<td class="num">{n_client}</td><td class="num">{n_staff}</td>'
                    f'<td class="num">{_e(_fmt_nps(h, language))}</td><td>{_status(r, t)}</td></tr>')
    return (f'<h2>{_e(t["accounts"])}</h2>\n<table>\n<thead><tr><th>id</th><th>{_e(t["account"])}</th>'
            f'<th>{_e(t["n_client"])}</th><th>{_e(t["n_staff"])}</th><th>{_e(t["nps"])}</th>'
            f'<th>{_e(t["status"])}</th></tr></thead>\n<tbody>\n' + "\n".join(rows) + "\n</tbody>\n</table>\n"
            f'<p class="note">{_e(t["nps_note"])}</p>')


def _link(r: ReportResult) -> str:
    """The report's name, linked to its page when it rendered."""
    label = _bdi(r.name) if r.kind == "account" else _e(r.title or r.name)
    if r.status == "ok":
        return f'<a href="{_e(quote(r.slug + ".html"))}">{label}</a>'
    return label


def _status(r: ReportResult, t: Mapping[str, str]) -> str:
    """ok with a link to the executed notebook, or failed with the error and the partial notebook."""
    if r.status == "ok":
        return (f'<span class="ok">{_e(t["ok"])}</span> · '
                f'<a class="nb" href="{_e(quote(r.slug + ".ipynb"))}">{_e(t["notebook"])}</a>')
    partial = (f' · <a class="nb" href="{_e(quote(r.slug + ".failed.ipynb"))}">{_e(t["partial"])}</a>'
               if r.failed_ipynb else "")
    return f'<span class="failed">{_e(t["failed"])}</span>: <span class="error">{_e(r.error)}</span>{partial}'


def _bdi(value: Any) -> str:
    """``value`` escaped and isolated from the text around it (``<bdi>``): user text of either direction."""
    return f"<bdi>{_e(value)}</bdi>"


def _e(value: Any) -> str:
    """``value`` escaped for HTML text and attributes (:func:`helpers.data.privacy.escape_text`)."""
    from helpers.data.privacy import escape_text  # here: importing the batch must not import pandas

    return escape_text(value)


_INDEX_PAGE = """<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2rem auto;
  max-width: 72rem; padding: 0 1rem; color: #212529; }}
h1 {{ font-size: 1.6rem; }} h2 {{ font-size: 1.2rem; margin-top: 2rem; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #dee2e6; vertical-align: top; }}
th {{ background: #f8f9fa; }} td.num {{ text-align: right; font-variant-numeric: tabular-nums; }}
tr.failed td {{ background: #fff5f5; }} span.failed {{ color: #c92a2a; font-weight: 600; }}
span.ok {{ color: #2b8a3e; }} a.nb {{ color: #868e96; font-size: .9em; }} .error {{ font-family: monospace; }}
.note {{ color: #868e96; font-size: .9em; }}
</style>
</head>
<body>
<h1>{heading}</h1>
<p>{intro}</p>
{body}
</body>
</html>
"""
