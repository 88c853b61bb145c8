"""A selection of accounts summarised from what the reports show, and nothing they hold back.

A figure for several accounts together (the selection's client NPS, its
dimension means) pools only the answers behind results a report publishes
(:func:`helpers.data.disclosure.publication`): then no selection, however
narrow, and no two selections taken together, give back a result a report
holds back.  Each function takes tidy frames and returns one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from helpers.data.disclosure import DIFFERENCE
from helpers.data.instrument import Instrument, load_instrument
from helpers.stats.comparisons import nps_trend
from helpers.stats.scores import nps_change, scale_of, summarise

__all__ = ["shown_results", "selection_nps", "selection_dimensions", "account_rows", "HIDDEN_FEW",
           "HIDDEN_DIFFERENCE", "NO_ANSWERS"]

#: Why an account's client NPS is not shown (the ``hidden`` column of :func:`account_rows`).
HIDDEN_FEW = "few"
HIDDEN_DIFFERENCE = "difference"
NO_ANSWERS = "no_answers"


def shown_results(decisions: pd.DataFrame, *, side: str, measures: Iterable[str] | None = None) -> pd.DataFrame:
    """The account × wave × measure results of ``side`` that a report shows.

    Parameters
    ----------
    decisions : DataFrame
        :func:`helpers.data.disclosure.publication` (account_id, side, measure, wave, n, shown, reason).
    side : str
        "client" or "staff".
    measures : iterable of str, optional
        Only these measures ("nps", dimension ids).

    Returns
    -------
    DataFrame
        account_id, wave, measure — one row per shown result.
    """
    d = decisions[(decisions["side"] == side) & decisions["shown"].astype(bool)]
    if measures is not None:
        d = d[d["measure"].isin(list(measures))]
    return d[["account_id", "wave", "measure"]].drop_duplicates().reset_index(drop=True)


def selection_nps(responses: pd.DataFrame, decisions: pd.DataFrame, *, accounts: Sequence[str], wave: str,
                  previous: str | None = None, n_boot: int = 2000, seed: int = 0) -> dict:
    """The client NPS of a selection of accounts, pooled over the accounts whose NPS a report shows.

    Parameters
    ----------
    responses : DataFrame
        One row per response (account_id, side, wave, nps), every wave needed.
    decisions : DataFrame
        :func:`helpers.data.disclosure.publication` for those waves.
    accounts : sequence of str
        The selection.
    wave, previous : str
        The wave, and the one to give the change from (None: no change).
    n_boot, seed : int
        The account-cluster bootstrap of :func:`helpers.stats.comparisons.nps_trend`.

    Returns
    -------
    dict
        n (answers pooled), n_accounts (accounts pooled), n_selection (accounts of the selection with client
        answers in the wave), nps, ci_low, ci_high (95% account-cluster bootstrap; from one account, its
        adjusted-Wald interval),
        change, change_low, change_high (from ``previous``, each wave pooled over its own shown accounts;
        NaN without one).

    Notes
    -----
    NPS = %promoters − %detractors over every pooled answer, so larger accounts weigh more.  The interval
    resamples whole accounts (answers of one account are alike), as the portfolio page's does; a wave of one
    account has the adjusted-Wald intervals of its report (Rocks 2016) instead, for the NPS and the change.
    """
    waves = [w for w in (previous, wave) if w]
    client = responses[(responses["side"] == "client") & responses["wave"].isin(waves)
                       & responses["account_id"].isin(set(accounts)) & responses["nps"].notna()]
    shown = shown_results(decisions, side="client", measures=["nps"])
    pooled = client.merge(shown[["account_id", "wave"]], on=["account_id", "wave"])
    now = client[client["wave"] == wave]
    out = {"n": 0, "n_accounts": 0, "n_selection": int(now["account_id"].nunique()), "nps": np.nan,
           "ci_low": np.nan, "ci_high": np.nan, "change": np.nan, "change_low": np.nan, "change_high": np.nan}
    if pooled.empty or not (pooled["wave"] == wave).any():
        return out
    trend = nps_trend(pooled[["account_id", "wave", "side", "nps"]], n_boot=n_boot, seed=seed).set_index("wave")
    row = trend.loc[wave]
    one = int(row["n_accounts"]) == 1  # one account: its own adjusted-Wald interval, as its report shows
    out.update(n=int(row["n"]), n_accounts=int(row["n_accounts"]), nps=float(row["nps"]),
               ci_low=float(row["ci_low" if one else "cluster_low"]),
               ci_high=float(row["ci_high" if one else "cluster_high"]))
    if previous in trend.index:
        out.update(change=float(row["change"]), change_low=float(row["change_low"]),
                   change_high=float(row["change_high"]))
        if np.isnan(out["change_low"]):  # one account in a wave: no account resampling, the two waves' answers
            ch = nps_change(pooled, by=[], order=[previous, wave]).iloc[0]
            out.update(change_low=float(ch["ci_low"]), change_high=float(ch["ci_high"]))
    return out


def selection_dimensions(scores: pd.DataFrame, decisions: pd.DataFrame, *, accounts: Sequence[str], wave: str,
                         instrument: str | Instrument | None = None) -> pd.DataFrame:
    """Client and team means per dimension for a selection, pooled over the results a report shows.

    Parameters
    ----------
    scores : DataFrame
        Respondent dimension scores (:func:`helpers.stats.scores.respondent_scores`).
    decisions : DataFrame
        :func:`helpers.data.disclosure.publication`.
    accounts : sequence of str
    wave : str
    instrument : path or Instrument, optional

    Returns
    -------
    DataFrame
        side, dimension, n, n_accounts, mean, ci_low, ci_high — one row per side × dimension in instrument
        order (client first); n = 0 and blank values where no account's result is shown.

    Notes
    -----
    An account's answers on one dimension and side enter only when its report shows that result.  The
    interval is Student's t over the pooled respondents (:func:`helpers.stats.scores.summarise`), which treats
    them as independent: answers of one account are alike, so it is narrower than it should be for a group of
    accounts — read it as a lower bound of the uncertainty.
    """
    inst = load_instrument(instrument)
    now = scores[(scores["wave"] == wave) & scores["account_id"].isin(set(accounts))].dropna(subset=["score"])
    parts = []
    for side in ("client", "staff"):
        shown = shown_results(decisions, side=side, measures=inst.dimension_ids)
        shown = shown[shown["wave"] == wave].rename(columns={"measure": "dimension"})
        parts.append(now[now["side"] == side].merge(shown[["account_id", "dimension"]], on=["account_id",
                                                                                            "dimension"]))
    pooled = pd.concat(parts, ignore_index=True)
    grid = pd.MultiIndex.from_product([["client", "staff"], inst.dimension_ids], names=["side", "dimension"])
    cols = ["side", "dimension", "n", "n_accounts", "mean", "ci_low", "ci_high"]
    if pooled.empty:
        out = pd.DataFrame(index=grid).reset_index().assign(n=0, n_accounts=0, mean=np.nan, ci_low=np.nan,
                                                            ci_high=np.nan)
        return out[cols]
    summ = summarise(pooled, by=["side", "dimension"], scale=scale_of(inst)).set_index(["side", "dimension"])
    summ["n_accounts"] = pooled.groupby(["side", "dimension"])["account_id"].nunique()
    out = summ.reindex(grid).reset_index()
    out[["n", "n_accounts"]] = out[["n", "n_accounts"]].fillna(0).astype("int64")
    return out[cols]


def account_rows(accounts: pd.DataFrame, account_nps: pd.DataFrame, counts: pd.DataFrame, decisions: pd.DataFrame,
                 heat: pd.DataFrame, *, ids: Sequence[str], wave: str) -> pd.DataFrame:
    """One row per account of a selection: who, how many answered, its client NPS as the reports show it.

    Parameters
    ----------
    accounts : DataFrame
        The account master (account_id, name, segment, owner, renewal_date, status).
    account_nps : DataFrame
        :func:`helpers.stats.comparisons.nps_vs_portfolio` of the wave (blank where not shown).
    counts : DataFrame
        account_id, n_client, n_staff.
    decisions : DataFrame
        :func:`helpers.data.disclosure.publication`, for why an NPS is not shown.
    heat : DataFrame
        :func:`helpers.stats.comparisons.dimension_heatmap` of the wave (client), for dimensions clearly below
        the rest of the portfolio.
    ids : sequence of str
        The selection.
    wave : str

    Returns
    -------
    DataFrame
        account_id, name, segment, owner, renewal_date, status, n_client, n_staff, nps, ci_low, ci_high,
        direction ("above"/"below"/""), hidden (None, :data:`HIDDEN_FEW`, :data:`HIDDEN_DIFFERENCE`,
        :data:`NO_ANSWERS`), below (dimension ids clearly below the rest of the portfolio, a list) — sorted
        with the lowest NPS shown first, then the accounts whose NPS is not shown, by name.
    """
    base = accounts[accounts["account_id"].isin(set(ids))][
        ["account_id", "name", "segment", "owner", "renewal_date", "status"]]
    nps_cols = ["account_id", "nps", "ci_low", "ci_high", "direction"]
    out = (base.merge(counts, on="account_id", how="left")
           .merge(account_nps[nps_cols] if len(account_nps) else pd.DataFrame(columns=nps_cols),
                  on="account_id", how="left"))
    out[["n_client", "n_staff"]] = out[["n_client", "n_staff"]].fillna(0).astype("int64")
    out["direction"] = out["direction"].fillna("").astype(str)
    why = decisions[(decisions["side"] == "client") & (decisions["measure"] == "nps") & (decisions["wave"] == wave)]
    why = why.set_index("account_id")["reason"]
    out["hidden"] = pd.Series([_hidden(r.nps, r.n_client, why.get(r.account_id)) for r in out.itertuples()],
                              index=out.index, dtype=object)
    below = heat[heat["direction"] == "below"].groupby("account_id")["dimension"].agg(list) if len(heat) else {}
    out["below"] = [list(below.get(a, [])) for a in out["account_id"]]
    out = out.assign(_shown=out["nps"].isna(), _name=out["name"].astype(str).str.casefold())
    out = out.sort_values(["_shown", "nps", "_name"], kind="mergesort", na_position="last")
    return out.drop(columns=["_shown", "_name"]).reset_index(drop=True)


def _hidden(nps: float, n_client: int, reason: str | None) -> str | None:
    """Why an account's client NPS is blank: no answers, too few, or held back for differencing."""
    if n_client == 0:
        return NO_ANSWERS
    if pd.notna(nps):
        return None
    return HIDDEN_DIFFERENCE if reason == DIFFERENCE else HIDDEN_FEW
