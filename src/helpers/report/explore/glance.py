"""The portfolio at a glance for a selection: a summary band, client NPS per account, the accounts, the dimensions.

Each view takes the :class:`.data.Explorer` and a :class:`.selection.Selection`
and returns what a notebook cell shows (a band, a chart, a table); the
notebook's controls call the same views again when the selection changes.
Every figure is one a report shows, or pooled from those only
(:mod:`.summary`).
"""

from __future__ import annotations

from helpers.report.band import Tile, arrow
from helpers.report.figures import to_image
from helpers.report.formatting import count, interval, people_table, points
from helpers.words import say

from .data import Explorer, WaveData
from .html import Html, band, bdi, join_names, paragraph, say_html, words
from .plots import plot_account_nps
from .selection import Selection
from .summary import account_rows, selection_dimensions, selection_nps

__all__ = ["glance_band", "nps_chart", "accounts_table", "dimensions_table", "selection_rows"]


def selection_rows(explorer: Explorer, selection: Selection):
    """:func:`.summary.account_rows` of the selection (every account of it, lowest client NPS first)."""
    data = explorer.wave_data(selection.wave)
    return account_rows(explorer.accounts, data.account_nps, data.counts, data.decisions, data.heat,
                        ids=selection.accounts, wave=selection.wave)


def _needs_a_look(rows) -> list[str]:
    """Names of the accounts clearly below the rest of the portfolio on client NPS or on a dimension."""
    flagged = rows[(rows["direction"] == "below") | rows["below"].map(bool)]
    return list(flagged["name"].astype(str))


def _nps_tile(pooled: dict, data: WaveData, language: str) -> Tile:
    label = words("glance.tile_nps", language)
    if not pooled["n"]:
        return Tile(label, "–", detail=words("glance.nps_none", language))
    lo_hi = interval(pooled["ci_low"], pooled["ci_high"], language, 0, sign=True)
    detail = (words("glance.nps_detail", language, n=count(pooled["n"], language), k=pooled["n_accounts"], ci=lo_hi)
              if pooled["n_accounts"] > 1 else words("glance.nps_detail_one", language,
                                                      n=count(pooled["n"], language), ci=lo_hi))
    change, direction = "", ""
    if data.previous and pooled["change"] == pooled["change"]:
        clear = pooled["change_low"] > 0 or pooled["change_high"] < 0
        change = words("glance.change", language, x=points(pooled["change"], language), previous=data.previous)
        direction = arrow(pooled["change"], clear=bool(clear))
    return Tile(label, points(pooled["nps"], language), detail=detail, change=change, direction=direction,
                tone="client")


def glance_band(explorer: Explorer, selection: Selection) -> Html:
    """The selection in a few tiles and sentences: accounts, answers, client NPS and its change, who needs a look.

    Returns
    -------
    Html
        A summary band.  Tiles: accounts, client answers, team answers, client NPS (pooled over the accounts
        whose NPS is shown, with its account-cluster interval and its change), accounts that need a look.
        Sentences: the lowest and the highest client NPS shown, how many accounts' NPS is not shown, who is
        clearly below the rest of the portfolio.
    """
    lang, data = explorer.language, explorer.wave_data(selection.wave)
    rows = selection_rows(explorer, selection)
    answering = rows[(rows["n_client"] + rows["n_staff"]) > 0]
    pooled = selection_nps(data.responses, data.decisions, accounts=selection.accounts, wave=selection.wave,
                           previous=data.previous)
    look = _needs_a_look(rows)
    tiles = [
        Tile(words("glance.tile_accounts", lang), count(len(rows), lang),
             detail=words("glance.accounts_detail", lang, answering=count(len(answering), lang), wave=selection.wave,
                          total=count(len(explorer.accounts), lang))),
        Tile(words("glance.tile_client", lang), count(rows["n_client"].sum(), lang), tone="client",
             detail=words("glance.answers_detail", lang, accounts=count((rows["n_client"] > 0).sum(), lang),
                          wave=selection.wave)),
        Tile(words("glance.tile_team", lang), count(rows["n_staff"].sum(), lang), tone="team",
             detail=words("glance.answers_detail", lang, accounts=count((rows["n_staff"] > 0).sum(), lang),
                          wave=selection.wave)),
        _nps_tile(pooled, data, lang),
        Tile(words("glance.tile_attention", lang), count(len(look), lang),
             detail=words("glance.attention_detail", lang), tone="attention" if look else ""),
    ]
    return band(tiles, _glance_sentences(rows, look, lang, wave=selection.wave))


def _glance_sentences(rows, look: list[str], language: str, *, wave: str) -> list[str]:
    """The band's findings as HTML: lowest and highest NPS shown, how many are not shown, who needs a look."""
    shown = rows[rows["nps"].notna()]
    with_client = rows[rows["n_client"] > 0]
    if with_client.empty:
        return [say_html("glance.no_accounts", language, data={"wave": wave})]
    out = []
    ends = [("glance.lowest", shown.iloc[0]), ("glance.highest", shown.iloc[-1])] if len(shown) > 1 else \
        [("glance.only", shown.iloc[0])] if len(shown) else []
    for key, r in ends:
        out.append(say_html(key, language, data={"name": r["name"]}, nps=points(r["nps"], language),
                            n=count(r["n_client"], language),
                            ci=interval(r["ci_low"], r["ci_high"], language, 0, sign=True)))
    hidden = len(with_client) - len(shown)
    if hidden:
        out.append(say_html("glance.hidden", language, n=count(hidden, language),
                            total=count(len(with_client), language)))
    if not look:
        out.append(say_html("glance.none_below", language))
    else:
        more = len(look) - 5
        names = join_names(look[:5], language) if more <= 0 else ", ".join(bdi(n) for n in look[:5])
        out.append(say_html("glance.below", language, markup={"names": names}) if more <= 0 else
                   say_html("glance.below_more", language, markup={"names": names}, n=count(more, language)))
    return out


def nps_chart(explorer: Explorer, selection: Selection, *, most: int = 20):
    """Client NPS per account of the selection with its 95% interval, lowest first (the lowest and highest
    ``most // 2`` when there are more than ``most``); a sentence when no account's NPS can be shown."""
    lang = explorer.language
    rows = selection_rows(explorer, selection)
    shown = rows[rows["nps"].notna()]
    if shown.empty:
        return paragraph(say_html("glance.chart_none", lang, wave=selection.wave))
    data = explorer.wave_data(selection.wave)
    pooled = selection_nps(data.responses, data.decisions, accounts=selection.accounts, wave=selection.wave,
                           n_boot=0)  # the value only, for the reference line
    ax = plot_account_nps(shown, language=lang, wave=selection.wave, reference=pooled["nps"], most=most)
    return to_image(ax, alt=words("glance.chart_alt", lang, n=count(min(len(shown), most), lang),
                                  wave=selection.wave))


def _reading(r, language: str, k: int) -> str:
    if isinstance(r["hidden"], str) and r["hidden"]:
        return say(f"explore.glance.reading.{r['hidden']}", language, k=k)
    return say(f"explore.glance.reading.{r['direction'] or 'none'}", language)


def accounts_table(explorer: Explorer, selection: Selection, *, open_up_to: int = 12):
    """Every account of the selection, lowest client NPS first: segment, owner, renewal, answers, client NPS, how it
    compares with the rest of the portfolio and the dimensions clearly below it.

    More than ``open_up_to`` accounts are listed in a folded section (``<details>``) that opens on a click.
    """
    lang = explorer.language
    rows = selection_rows(explorer, selection)
    k = explorer.thresholds.figure_min("client")
    labels = explorer.instrument.labels(lang)
    table = rows.assign(
        nps_ci=[interval(a, b, lang, 0, sign=True) for a, b in zip(rows["ci_low"], rows["ci_high"])],
        reading=[_reading(r, lang, k) for _, r in rows.iterrows()],
        below=[", ".join(labels.get(d, d) for d in dims) or "–" for dims in rows["below"]])
    shown = people_table(table, language=lang, page="explore", verbatim=["name", "segment", "owner"], columns={
        "name": "text", "segment": "text", "owner": "text", "renewal_date": "date", "n_client": "count",
        "n_staff": "count", "nps": "points", "nps_ci": "text", "reading": "text", "below": "text"})
    if len(rows) <= open_up_to:
        return shown
    summary = say_html("glance.table_summary", lang, n=count(len(rows), lang))
    return Html(f"<details><summary>{summary}</summary>{shown.to_html()}</details>")


def dimensions_table(explorer: Explorer, selection: Selection):
    """The selection's client and team mean per dimension, side by side, pooled over the results a report shows."""
    lang, data = explorer.language, explorer.wave_data(selection.wave)
    dims = selection_dimensions(data.scores, data.decisions, accounts=selection.accounts, wave=selection.wave,
                                instrument=explorer.instrument)
    labels = explorer.instrument.labels(lang)
    wide = None
    for side in ("client", "staff"):
        d = dims[dims["side"] == side].set_index("dimension")
        part = d[["mean", "n", "n_accounts"]].rename(columns=lambda c: f"{side}_{c}")
        part[f"{side}_ci"] = [interval(a, b, lang, 2) for a, b in zip(d["ci_low"], d["ci_high"])]
        wide = part if wide is None else wide.join(part)
    wide = wide.reset_index()
    wide["dimension"] = wide["dimension"].map(labels)
    table = people_table(wide, language=lang, page="explore", columns={
        "dimension": "text", "client_mean": "number:2", "client_ci": "text", "client_n": "count",
        "staff_mean": "number:2", "staff_ci": "text", "staff_n": "count"})
    note = say_html("glance.dims_note", lang, client=_span(wide["client_n_accounts"], lang),
                    team=_span(wide["staff_n_accounts"], lang))
    return [table, paragraph(note, css_class="fk-note")]


def _span(counts, language: str) -> str:
    """"36" or "36–38": the fewest and most accounts behind a column of pooled means."""
    lo, hi = int(counts.min()), int(counts.max())
    return count(lo, language) if lo == hi else f"{count(lo, language)}–{count(hi, language)}"
