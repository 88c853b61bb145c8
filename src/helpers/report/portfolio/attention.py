"""Which accounts need attention and why, and the whole portfolio in one list sorted by attention.

Takes the at-risk list (:func:`.risk.accounts_at_risk`, in its stated order)
and the warning signs (:func:`.risk.warning_signs`); hands on the accounts
that need attention — an open renewal and at least one clear warning sign —
with their reasons, the number of accounts per kind of reason, and the full
list of every account for the page's folded table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.report.formatting import number, points
from helpers.words import say

from .risk import SIGNS

__all__ = ["needs_attention", "reason_counts", "portfolio_list", "reasons_text", "evidence_text"]


def _item(kind_is_nps: bool, dimension, value: float, labels: dict[str, str], language: str) -> str:
    """"NPS −31" or "Care −0.8": what and by how much, signed, by locale."""
    if kind_is_nps:
        return f"NPS {points(value, language)}"
    return f"{labels.get(dimension, dimension)} {number(value, language, 1, sign=True)}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def reasons_text(signs: pd.DataFrame, *, language: str = "en", previous: str | None = None,
                 instrument: str | Instrument | None = None, account: str = "account_id") -> pd.Series:
    """Each account's warning signs in one short line, grouped: below the rest, blind spots, a fall in NPS.

    Parameters
    ----------
    signs : DataFrame
        :func:`.risk.warning_signs` (account_id, sign, dimension, value).
    language : str
        "en" or "fi".
    previous : str, optional
        The earlier wave, named with a fall.

    Returns
    -------
    Series
        Text per account id, e.g. "Below the rest of the portfolio: NPS −31,
        Dare −0.9; clear blind spot: Care −0.8 (client − team)".
    """
    labels = load_instrument(instrument).labels(language)
    out = {}
    for acc, g in signs.groupby(account, sort=False):
        parts = []
        below = g[g["sign"].isin(["nps below", "dimension below"])]
        if len(below):
            items = [_item(k == "nps below", d, v, labels, language)
                     for k, d, v in zip(below["sign"], below["dimension"], below["value"])]
            parts.append(say("portfolio.reason.below", language, items=", ".join(items)))
        blind = g[g["sign"] == "blind spot"]
        if len(blind):
            items = [_item(False, d, v, labels, language) for d, v in zip(blind["dimension"], blind["value"])]
            parts.append(say("portfolio.reason.blind", language, items=", ".join(items)))
        for v in g.loc[g["sign"] == "nps fall", "value"]:
            parts.append(say("portfolio.reason.fall", language, x=number(abs(v), language, 0), previous=previous or ""))
        out[acc] = _capital("; ".join(parts))
    return pd.Series(out, dtype=object)


def evidence_text(evidence: pd.DataFrame, *, language: str = "en", previous: str | None = None,
                  instrument: str | Instrument | None = None, account: str = "account_id") -> pd.Series:
    """Each account's evidence of something going well in one short line: what rose, what is above the rest.

    Parameters
    ----------
    evidence : DataFrame
        :func:`.celebrations.celebrate` (one row per piece: account_id,
        evidence, dimension, estimate).

    Returns
    -------
    Series
        Text per account id, e.g. "Up since 2026Q2: NPS +34; above the rest
        of the portfolio: NPS +65, Dare +0.9".
    """
    labels = load_instrument(instrument).labels(language)
    out = {}
    for acc, g in evidence.groupby(account, sort=False):
        parts = []
        for kinds, key in ((("NPS up", "score up"), "portfolio.reason.up"),
                           (("NPS above portfolio", "score above portfolio"), "portfolio.reason.above")):
            rows = g[g["evidence"].isin(kinds)]
            if len(rows):
                items = [_item(k.startswith("NPS"), d, v, labels, language)
                         for k, d, v in zip(rows["evidence"], rows["dimension"], rows["estimate"])]
                parts.append(say(key, language, items=", ".join(items), previous=previous or ""))
        out[acc] = _capital("; ".join(parts))
    return pd.Series(out, dtype=object)


def needs_attention(at_risk: pd.DataFrame, signs: pd.DataFrame, *, language: str = "en", previous: str | None = None,
                    instrument: str | Instrument | None = None, account: str = "account_id") -> pd.DataFrame:
    """The accounts on the at-risk list with at least one warning sign, in the list's order.

    Parameters
    ----------
    at_risk : DataFrame
        :func:`.risk.accounts_at_risk` (active accounts, ranked).
    signs : DataFrame
        :func:`.risk.warning_signs` (account_id, sign, dimension, text),
        including a clear fall in NPS when the page has an earlier wave.
    language, previous, instrument
        For the reasons in words (:func:`reasons_text`).

    Returns
    -------
    DataFrame
        The at-risk columns of those accounts, plus n_reasons, reasons (one
        short line, :func:`reasons_text`) and kinds (the distinct kinds, in
        the order of :data:`.risk.SIGNS`, ", "-separated), in the at-risk
        list's order.
    """
    if signs.empty:
        return at_risk.iloc[0:0].assign(n_reasons=pd.Series(dtype=int), reasons=pd.Series(dtype=object),
                                        kinds=pd.Series(dtype=object))
    g = signs.groupby(account, sort=False)
    why = pd.DataFrame({
        "n_reasons": g.size(),
        "reasons": reasons_text(signs, language=language, previous=previous, instrument=instrument,
                                account=account),
        "kinds": g["sign"].agg(lambda s: ", ".join(k for k in SIGNS if k in set(s))),
    })
    out = at_risk[at_risk[account].isin(why.index)]
    return out.join(why, on=account).reset_index(drop=True)


def reason_counts(attention: pd.DataFrame) -> dict[str, int]:
    """How many accounts needing attention have each kind of warning sign (an account can count under several)."""
    kinds = attention["kinds"].fillna("").str.split(", ") if len(attention) else pd.Series(dtype=object)
    return {k: int(sum(k in ks for ks in kinds)) for k in SIGNS}


def portfolio_list(
    accounts: pd.DataFrame,
    *,
    account_nps: pd.DataFrame,
    current: pd.DataFrame,
    signs: pd.DataFrame,
    at_risk: pd.DataFrame,
    celebrated: pd.Series | list[str] = (),
    n_staff: pd.Series | None = None,
    language: str = "en",
    previous: str | None = None,
    instrument: str | Instrument | None = None,
    account: str = "account_id",
) -> pd.DataFrame:
    """Every account of the portfolio in one list, the ones needing attention first.

    Parameters
    ----------
    accounts : DataFrame
        The account master (account_id, name, status, renewal_date).
    account_nps : DataFrame
        :func:`nps_vs_portfolio` of the wave: client answers (n) and NPS.
    current : DataFrame
        :func:`.risk.current_nps`: NPS change since the previous wave.
    signs : DataFrame
        :func:`.risk.warning_signs`.
    at_risk : DataFrame
        The at-risk list in its order.
    celebrated : sequence of str
        Accounts on the celebrate list.
    n_staff : Series, optional
        Team answers per account in the wave.
    language, previous, instrument
        For the reasons in words (:func:`reasons_text`).

    Returns
    -------
    DataFrame
        account_id, name, status, renewal_date, n_client, n_staff, nps,
        nps_change, n_reasons, reasons, attention (bool: an open renewal and a
        warning sign), celebrated (bool) — first the accounts needing
        attention in the at-risk list's order, then every other account by
        the same rule (most warning signs, lowest NPS, largest fall, soonest
        renewal), accounts without an NPS last.
    """
    words = {"language": language, "previous": previous, "instrument": instrument, "account": account}
    attention = needs_attention(at_risk, signs, **words)
    why = pd.DataFrame({"n_reasons": signs.groupby(account, sort=False).size(),
                        "reasons": reasons_text(signs, **words)})
    keep = [c for c in (account, "name", "status", "renewal_date") if c in accounts]
    out = accounts[keep].copy()
    out["n_client"] = out[account].map(account_nps.set_index(account)["n"]).fillna(0).astype(int)
    out["n_staff"] = (out[account].map(n_staff).fillna(0).astype(int) if n_staff is not None else np.nan)
    out["nps"] = out[account].map(current.set_index(account)["nps"])
    out["nps_change"] = out[account].map(current.set_index(account)["nps_change"])
    out = out.join(why, on=account)
    out["n_reasons"] = out["n_reasons"].fillna(0).astype(int)
    out["reasons"] = out["reasons"].fillna("")
    out["attention"] = out[account].isin(attention[account])
    out["celebrated"] = out[account].isin(list(celebrated))
    rank = dict(zip(attention[account], range(len(attention))))
    out["_rank"] = out[account].map(rank)
    renewal = pd.to_datetime(out["renewal_date"], errors="coerce") if "renewal_date" in out else pd.NaT
    out = out.assign(_renewal=renewal).sort_values(
        ["_rank", "n_reasons", "nps", "nps_change", "_renewal", account],
        ascending=[True, False, True, True, True, True], na_position="last", kind="mergesort")
    return out.drop(columns=["_rank", "_renewal"]).reset_index(drop=True)
