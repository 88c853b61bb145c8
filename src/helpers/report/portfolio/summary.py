"""The portfolio page's headline: accounts, answers and client NPS of the wave, and the summary band.

:func:`headline` gives the wave's numbers as a table (for the appendix);
:func:`movers` the accounts whose NPS moved most; :func:`summary_band` the
band of tiles and findings that opens the page, from a
:class:`~.setup.Portfolio`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from helpers.data.privacy import MIN_GROUP_SIZE
from helpers.report.band import SummaryBand, Tile, arrow
from helpers.report.formatting import count, interval, points
from helpers.stats.comparisons import require_waves, nps_trend
from helpers.words import say

from . import loop
from .attention import needs_attention, reason_counts
from .display import Html, band_with_findings, words_with_names
from .risk import SIGNS

if TYPE_CHECKING:
    from .setup import Portfolio

__all__ = [
    "headline",
    "movers",
    "summary_band",
]


# ---------------------------------------------------------------------------
# Headline
# ---------------------------------------------------------------------------
def headline(
    responses: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    wave: str,
    min_group_size: int = MIN_GROUP_SIZE,
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
    language: str = "en",
) -> pd.DataFrame:
    """The portfolio in one table: accounts, respondents and client NPS in one wave.

    Parameters
    ----------
    responses : DataFrame
        One row per response (:func:`helpers.data.store.load_responses`): account_id,
        side, wave, nps.
    accounts : DataFrame
        The account master (:func:`helpers.data.store.load_accounts`) with ``status``.
    wave : str
        The wave to describe.
    min_group_size : int
        Anonymity threshold: counts the accounts whose team result can be shown.
    ci : float
        Confidence level of the NPS intervals.
    n_boot, seed : int
        Account-cluster bootstrap for the portfolio NPS (see :func:`nps_trend`;
        the interval equals that wave's in ``nps_trend`` with the same seed).
    language : str
        Language of ``measure`` and ``note``, "en" or "fi".

    Returns
    -------
    DataFrame
        key (accounts, with_client, with_team, with_team_view, client,
        team, nps), measure, value, ci_low, ci_high, n, note — one row per
        headline number.

    Raises
    ------
    ValueError
        When ``wave`` has no responses (the message lists the waves present).

    Notes
    -----
    Portfolio NPS pools every client respondent of the wave (a large account
    weighs more).  The adjusted-Wald interval (Rocks 2016) treats respondents
    as independent; the account-cluster bootstrap interval also counts that
    respondents of one account answer alike and is the one to quote.

    Examples
    --------
    >>> r = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "side": "client", "wave": "2026Q3",
    ...                   "nps": [10, 9, 3, 8]})
    >>> acc = pd.DataFrame({"account_id": ["A", "B"], "status": ["active", "renewed"]})
    >>> headline(r, acc, wave="2026Q3", n_boot=0).set_index("measure").loc["client NPS (−100…100)", "value"]
    np.float64(25.0)
    """
    require_waves(responses, wave)
    r = responses[responses["wave"] == wave]
    client, staff = r[r["side"] == "client"], r[r["side"] == "staff"]
    status = accounts["status"].fillna("unknown").value_counts()
    trend = nps_trend(client, ci=ci, n_boot=n_boot, seed=seed)
    statuses = ", ".join(f"{_status(k, language)} {count(v, language)}" for k, v in status.items())
    in_wave = say("portfolio.headline.in_wave", language, wave=wave)
    rows = [
        ("accounts", float(len(accounts)), len(accounts), statuses),
        ("with_client", float(client["account_id"].nunique()), len(accounts), in_wave),
        ("with_team", float(staff["account_id"].nunique()), len(accounts), in_wave),
        ("with_team_view", float((staff.groupby("account_id").size() >= min_group_size).sum()), len(accounts),
         say("portfolio.headline.team_view_note", language)),
        ("client", float(len(client)), len(client), in_wave),
        ("team", float(len(staff)), len(staff), in_wave),
    ]
    out = [{"key": k, "measure": say(f"portfolio.headline.{k}", language, k=min_group_size), "value": v, "n": n,
            "note": note} for k, v, n, note in rows]
    if len(trend):
        t = trend.iloc[-1]
        out.append({"key": "nps", "measure": say("portfolio.headline.nps", language), "value": t["nps"],
                    "ci_low": t["cluster_low"], "ci_high": t["cluster_high"], "n": int(t["n"]),
                    "note": say("portfolio.headline.nps_note", language, accounts=count(t["n_accounts"], language),
                                ci=f"{ci:.0%}".replace("%", " %" if language == "fi" else "%"),
                                wald=interval(t["ci_low"], t["ci_high"], language, 0, sign=True))})
    return pd.DataFrame(out, columns=["key", "measure", "value", "ci_low", "ci_high", "n", "note"])


def _status(status: str, language: str) -> str:
    key = f"portfolio.status.{status}"
    from helpers.words import has

    return say(key, language) if has(key, language) else str(status)


def movers(changes: pd.DataFrame, *, top: int = 2, account: str = "account_id") -> pd.DataFrame:
    """The accounts whose client NPS rose most and fell most since the previous wave.

    Parameters
    ----------
    changes : DataFrame
        Published NPS changes (:func:`nps_change_tests` rows whose two NPS
        may be shown): account_id, change, ci_low, ci_high, n_from, n_to,
        significant.
    top : int
        Most rises and most falls to name.

    Returns
    -------
    DataFrame
        The ``top`` largest rises (change > 0, largest first) then the
        ``top`` largest falls (change < 0, largest first), with their columns
        and ``direction`` ("up", "down"; ``arrow`` says "flat" unless clear).
    """
    c = changes.dropna(subset=["change"])
    up = c[c["change"] > 0].sort_values(["change", account], ascending=[False, True]).head(top)
    down = c[c["change"] < 0].sort_values(["change", account], ascending=[True, True]).head(top)
    return pd.concat([up.assign(direction="up"), down.assign(direction="down")], ignore_index=True)


def summary_band(p: Portfolio) -> Html:
    """The band that opens the page: client NPS and its change, accounts needing attention and why, movers, cheers.

    Returns
    -------
    Html
        :class:`~helpers.report.band.SummaryBand` tiles (client NPS with its
        change — an arrow only when the change's interval excludes 0 — and its
        interval and n; accounts needing attention; accounts with a clear
        blind spot; accounts to celebrate; answers) and findings that name
        accounts (isolated as data); a last one on the wave's overdue follow-ups when there are any.
    """
    lang = p.language
    attention = needs_attention(p.at_risk, p.signs, language=lang, previous=p.previous, instrument=p.instrument)
    team_view = p.gaps.loc[~p.gaps["suppressed"].astype(bool), "account_id"].nunique()
    blind = p.gaps.loc[p.gaps["significant"].astype(bool) & (p.gaps["gap"] < 0), "account_id"].nunique()
    tiles = [_nps_tile(p),
             Tile(say("portfolio.band.attention_label", lang), count(len(attention), lang),
                  detail=say("portfolio.band.attention_detail", lang, n=count(len(p.at_risk), lang)),
                  tone="attention" if len(attention) else ""),
             Tile(say("portfolio.band.blind_label", lang), count(blind, lang),
                  detail=say("portfolio.band.blind_detail", lang, n=count(team_view, lang)),
                  tone="attention" if blind else ""),
             Tile(say("portfolio.band.celebrate_label", lang), count(len(p.cheers), lang),
                  detail=(say("portfolio.band.celebrate_more", lang, n=count(p.cheers.attrs.get("n_more", 0), lang))
                          if p.cheers.attrs.get("n_more") else say("portfolio.band.celebrate_detail", lang)),
                  tone="good" if len(p.cheers) else ""),
             Tile(say("portfolio.band.answers_label", lang),
                  say("portfolio.band.answers_value", lang, client=count(p.n_client, lang),
                      team=count(p.n_staff, lang)),
                  detail=say("portfolio.band.answers_detail", lang,
                             accounts=count(p.responses.loc[p.responses["wave"] == p.wave, "account_id"].nunique(),
                                            lang), team_view=count(team_view, lang), k=p.k_team))]
    findings = [_attention_finding(p, attention), _first_finding(p, attention), _movers_finding(p),
                _celebrate_finding(p), loop.band_finding(p)]
    return band_with_findings(SummaryBand(tiles=tiles), findings)


def _nps_tile(p: Portfolio) -> Tile:
    lang = p.language
    row = p.trend[p.trend["wave"] == p.wave]
    if row.empty:
        return Tile(say("portfolio.band.nps_label", lang), "–", tone="client")
    t = row.iloc[-1]
    change, direction = "", ""
    if p.previous is not None and pd.notna(t.get("change", np.nan)):
        clear = bool(t["change_low"] > 0 or t["change_high"] < 0)
        direction = arrow(t["change"], clear=clear)
        change = say("portfolio.band.nps_change", lang, x=points(t["change"], lang), previous=p.previous)
    return Tile(say("portfolio.band.nps_label", lang), points(t["nps"], lang),
                detail=say("portfolio.band.nps_detail", lang,
                           ci=interval(t["cluster_low"], t["cluster_high"], lang, 0, sign=True),
                           n=count(t["n"], lang), accounts=count(t["n_accounts"], lang)),
                change=change, direction=direction, tone="client")


def _attention_finding(p: Portfolio, attention: pd.DataFrame) -> str:
    lang = p.language
    if attention.empty:
        return words_with_names("portfolio.band.attention_none", lang, active=count(len(p.at_risk), lang))
    counts = reason_counts(attention)
    why = ", ".join(say(f"portfolio.band.why.{k}", lang, n=count(counts[k], lang), previous=p.previous or "")
                    for k in SIGNS if counts[k])
    key = "portfolio.band.attention_one" if len(attention) == 1 else "portfolio.band.attention"
    return words_with_names(key, lang, n=count(len(attention), lang), active=count(len(p.at_risk), lang), why=why)


def _first_finding(p: Portfolio, attention: pd.DataFrame, *, top: int = 3) -> str:
    if attention.empty:
        return ""
    return words_with_names("portfolio.band.first", p.language,
                            names={"names": [p.name(a) for a in attention["account_id"].head(top)]})


def _movers_finding(p: Portfolio) -> str:
    lang = p.language
    if p.previous is None:
        return ""
    m = movers(p.changes)
    if m.empty:
        return words_with_names("portfolio.band.no_moves", lang, previous=p.previous)
    items = [words_with_names("portfolio.band.move", lang, names={"name": p.name(r.account_id)},
                              x=points(r.change, lang), n_from=count(r.n_from, lang), n_to=count(r.n_to, lang))
             + (words_with_names("portfolio.band.clear", lang) if r.significant else "")
             for r in m.itertuples()]
    text = words_with_names("portfolio.band.movers", lang, previous=p.previous, moves=Html(", ".join(items)))
    if not m["significant"].astype(bool).any():
        text += " " + words_with_names("portfolio.band.none_clear", lang)
    return text


def _celebrate_finding(p: Portfolio) -> str:
    if p.cheers.empty:
        return words_with_names("portfolio.band.celebrate_none", p.language)
    return words_with_names("portfolio.band.celebrate", p.language,
                            names={"names": [p.name(a) for a in p.cheers["account_id"]]})
