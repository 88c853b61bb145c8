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
    """The wave's index page: self-contained, every value escaped, links percent-encoded."""
    from helpers.data.privacy import escape_text as e

    t = TEXT[language]
    current = [r for r in reports if r.action != "kept"]
    n_failed = sum(r.status == "failed" for r in current)
    ok = sum(r.status == "ok" for r in reports)

    def link(r: ReportResult) -> str:
        label = e(r.name if r.kind == "account" else (r.title or r.name))
        if r.status == "ok":
            return f'<a href="{e(quote(r.slug + ".html"))}">{label}</a>'
        return label

    def status(r: ReportResult) -> str:
        if r.status == "ok":
            return (f'<span class="ok">{e(t["ok"])}</span> · '
                    f'<a class="nb" href="{e(quote(r.slug + ".ipynb"))}">{e(t["notebook"])}</a>')
        partial = (f' · <a class="nb" href="{e(quote(r.slug + ".failed.ipynb"))}">{e(t["partial"])}</a>'
                   if r.failed_ipynb else "")
        return f'<span class="failed">{e(t["failed"])}</span>: <span class="error">{e(r.error)}</span>{partial}'

    overviews = [r for r in reports if r.kind != "account"]
    accounts = [r for r in reports if r.kind == "account"]
    parts = []
    if overviews:
        rows = "\n".join(f"<tr><td>{link(r)}</td><td>{status(r)}</td></tr>" for r in overviews)
        parts.append(f'<h2>{e(t["overview"])}</h2>\n<table>\n<thead><tr><th>{e(t["report"])}</th>'
                     f'<th>{e(t["status"])}</th></tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>')
    if accounts:
        rows = []
        for r in accounts:
            h = r.headline or {}
            n_client = "–" if h.get("n_client") is None else str(int(h["n_client"]))
            n_staff = "–" if h.get("n_staff") is None else str(int(h["n_staff"]))
            rows.append(f'<tr class="{e(r.status)}"><td>{e(r.account_id)}</td><td>{link(r)}</td>'
                        f'<td class="num">{n_client}</td><td class="num">{n_staff}</td>'
                        f'<td class="num">{e(_fmt_nps(h, language))}</td><td>{status(r)}</td></tr>')
        parts.append(
            f'<h2>{e(t["accounts"])}</h2>\n<table>\n<thead><tr><th>id</th><th>{e(t["account"])}</th>'
            f'<th>{e(t["n_client"])}</th><th>{e(t["n_staff"])}</th><th>{e(t["nps"])}</th>'
            f'<th>{e(t["status"])}</th></tr></thead>\n<tbody>\n' + "\n".join(rows) + "\n</tbody>\n</table>\n"
            f'<p class="note">{e(t["nps_note"])}</p>')
    title = t["index_title"].format(wave=wave)
    intro = t["index_intro"].format(wave=wave, data_hash=data_hash, ok=ok, total=len(reports),
                                    failed=t["failed_note"].format(n=n_failed) if n_failed else "")
    body = "\n".join(parts)
    return f"""<!DOCTYPE html>
<html lang="{e(language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)}</title>
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
<h1>{e(title)}</h1>
<p>{e(intro)}</p>
{body}
</body>
</html>
"""
