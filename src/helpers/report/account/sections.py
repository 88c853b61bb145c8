"""The account report's sections as data: the 360° view, client groups, gaps, trend, benchmark, comments.

Each takes the :class:`helpers.report.account.load.AccountData` and hands on
a tidy frame (team results below the threshold already blank);
:func:`account_report_data` runs every section in plain Python.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from helpers.data.disclosure import (COMPLEMENT, apply_publishable, complementary_suppression, publishable,
                                     withheld)
from helpers.data.instrument import Instrument, tag_frame
from helpers.data.privacy import assert_single_account
from helpers.report import comments as cm
from helpers.stats import benchmark as bm
from helpers.stats import gaps as gp
from helpers.stats.scores import nps, nps_change, rwg, scale_of, summarise

from .load import CI, FDR, AccountData


# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------
def _dimension_order(frame: pd.DataFrame, inst: Instrument, *cols: str,
                     waves: Sequence[str] = ()) -> pd.DataFrame:
    """Sort by ``cols``: dimensions in instrument order, the client before the team, waves as in ``waves``.

    The frame is tagged with the instrument (:func:`helpers.data.instrument.tag_frame`), whose labels its
    tables and charts then use.
    """
    order = {d: i for i, d in enumerate(inst.dimension_ids)}
    side = {"client": 0, "staff": 1}
    wave = {w: i for i, w in enumerate(waves)}

    def key(s: pd.Series) -> pd.Series:
        if s.name == "dimension":
            return s.map(order)
        if s.name == "side":
            return s.map(side)
        if s.name == "wave" and wave:
            return s.map(wave)
        return s
    return tag_frame(frame.sort_values(list(cols), key=key, kind="mergesort").reset_index(drop=True), inst)


def _publish(account: AccountData, frame: pd.DataFrame, *, figure: str, columns: Sequence[str],
             measure: str | None = None) -> pd.DataFrame:
    """``frame`` with the results the report may not publish blanked (threshold, reliable minimum, differencing).

    Rows are matched to :attr:`AccountData.publication` by side, wave and measure: the ``dimension`` column, or
    ``measure`` for every row (e.g. "nps"); the held-back rows are counted in the report's audit under ``figure``.
    """
    data = frame.assign(_measure=frame["dimension"] if measure is None else measure)
    decisions = account.publication.rename(columns={"measure": "_measure"})
    out = apply_publishable(data, decisions, on=["side", "wave", "_measure"], columns=columns,
                            audit=account.audit, figure=figure)
    return out.drop(columns="_measure")


def view_360(account: AccountData) -> pd.DataFrame:
    """The 360° table: client and team mean per dimension in the report's wave.

    Returns
    -------
    DataFrame
        account_id, wave, side, dimension, n, mean, sd, se, ci_low, ci_high,
        rwg, suppressed, reason — one row per side × dimension (n = 0 when
        nobody answered).  A side's row is blank when the report may not
        publish it (:func:`helpers.data.disclosure.publishable`: below its
        threshold or the reliable minimum, or giving away the people who
        joined or left since an earlier wave), with the reason; r_wg is blank
        for either side below ``min_group_size``.

    Notes
    -----
    Means with Student-t intervals cut to the answer scale (:func:`helpers.stats.scores.summarise`);
    r_wg(J) within-group agreement per side (:func:`helpers.stats.scores.rwg`).  r_wg
    of a handful of people says little (three raters who happen to agree give
    a high value), so it is shown only from ``min_group_size`` answers, and
    :func:`privacy_notes` says it is unstable below ``RWG_STABLE_N`` (10).
    """
    inst = account.instrument
    sc = account.in_wave(account.scores)
    summ = summarise(sc, by=["side", "dimension"], ci=CI, scale=scale_of(inst)) if len(sc) else pd.DataFrame(
        columns=["side", "dimension", "n", "mean", "sd", "se", "ci_low", "ci_high"])
    grid = pd.MultiIndex.from_product([["client", "staff"], inst.dimension_ids], names=["side", "dimension"])
    out = summ.set_index(["side", "dimension"]).reindex(grid).reset_index()
    out["n"] = out["n"].fillna(0).astype("int64")
    ans = account.in_wave(account.answers)
    if len(ans):
        agree = rwg(ans, instrument=inst, by=["side"])[["side", "dimension", "rwg"]]
        out = out.merge(agree, on=["side", "dimension"], how="left")
    else:
        out["rwg"] = np.nan
    out.loc[out["n"] < account.min_group_size, "rwg"] = np.nan
    out = out.assign(account_id=account.account_id, wave=account.wave)
    out = _publish(account, out, figure="360° view", columns=["mean", "sd", "se", "ci_low", "ci_high", "rwg"])
    cols = ["account_id", "wave", "side", "dimension", "n", "mean", "sd", "se", "ci_low", "ci_high", "rwg",
            "suppressed", "reason"]
    return _dimension_order(out[cols], inst, "side", "dimension")


def client_groups(account: AccountData, *, by: str = "role") -> pd.DataFrame:
    """Client means per sub-group (e.g. decision-makers vs users), small groups hidden.

    Parameters
    ----------
    account : AccountData
    by : str
        The respondent column that defines the groups (``role`` or ``team``).

    Returns
    -------
    DataFrame
        account_id, wave, <by>, dimension, n, mean, ci_low, ci_high, suppressed, reason.

    Notes
    -----
    A group is blanked when it has fewer answers than the client threshold
    (or the reliable minimum), when its people differ from an earlier
    published wave's by fewer than the threshold, or when the account's own
    client result is blanked.  Because the account's client total is shown,
    one hidden group could be worked out from the total and the other groups;
    so when the hidden groups of a dimension add up to fewer than the
    threshold, the smallest shown groups are hidden too until they do
    (:func:`helpers.data.disclosure.complementary_suppression`, the rule of
    the comment tables' roles).
    """
    sc = account.scores[account.scores["side"] == "client"]
    cols = ["account_id", "wave", by, "dimension", "n", "mean", "ci_low", "ci_high", "suppressed", "reason"]
    if account.in_wave(sc).empty:
        return pd.DataFrame(columns=cols)
    sc = sc.assign(**{by: sc[by].fillna("–")})
    values = ["mean", "sd", "se", "ci_low", "ci_high"]
    s = summarise(account.in_wave(sc), by=[by, "dimension"], ci=CI, scale=scale_of(account.instrument))
    s = s.assign(account_id=account.account_id, wave=account.wave, side="client")
    s = apply_publishable(s, _group_decisions(account, sc, by=by), on=[by, "dimension"], columns=values)
    s = _publish(account, s, figure=f"client groups by {by}", columns=values)  # the account's total itself
    k = account.figure_min("client")
    for _, g in s.groupby("dimension"):  # and the groups that would give a hidden one away
        hide = complementary_suppression(g.set_index(by)["n"], min_group_size=k,
                                         hidden=g.loc[g["suppressed"], by])
        rows = g.index[g[by].isin(hide) & ~g["suppressed"]]
        s.loc[rows, values] = np.nan
        s.loc[rows, ["suppressed", "reason"]] = [True, COMPLEMENT]
    account.audit.record(f"client groups by {by}", s[s["reason"] == COMPLEMENT])
    return _dimension_order(s[cols], account.instrument, by, "dimension")


def _group_decisions(account: AccountData, client_scores: pd.DataFrame, *, by: str) -> pd.DataFrame:
    """Which client sub-groups (``by``) × dimension may be published in the report's wave, over all its waves."""
    rows = client_scores[["response_id", "wave", "dimension", by]].rename(columns={"dimension": "measure"})
    rows = rows.merge(account.responses[["response_id", "respondent_id"]], on="response_id", how="left")
    rows = rows.assign(account_id=account.account_id, side="client")
    dec = publishable(rows, thresholds=account.thresholds, waves=list(account.waves),
                      group=("account_id", "side", by))
    dec = dec[dec["wave"] == account.wave].rename(columns={"measure": "dimension"})
    return dec[[by, "dimension", "reason"]]


def gaps_section(account: AccountData) -> pd.DataFrame:
    """Perception gaps of the report's wave: :func:`helpers.stats.gaps.perception_gaps`, BH within this report.

    Returns
    -------
    DataFrame
        As :func:`helpers.stats.gaps.perception_gaps`, one row per dimension of the
        instrument: a dimension nobody has a score on in the wave (which
        perception_gaps leaves out) is listed with n = 0 and the team view
        suppressed.
    """
    sc = account.in_wave(account.scores)
    held = withheld(account.publication)
    g = gp.perception_gaps(sc.assign(account_id=account.account_id, wave=account.wave),
                           min_group_size=account.figure_min("staff"),
                           min_client_group_size=account.figure_min("client"), ci=CI, fdr=FDR,
                           withheld=held[held["wave"] == account.wave], instrument=account.instrument)
    now = account.publication[account.publication["wave"] == account.wave]
    why = now[now["reason"].notna()].drop_duplicates("measure").set_index("measure")["reason"]
    account.audit.record("perception gaps", g.assign(reason=g["dimension"].map(why).where(g["suppressed"])))
    present = set(g["dimension"])
    missing = [d for d in account.instrument.dimension_ids if d not in present]
    if missing:  # perception_gaps lists a dimension only when someone has a score on it
        extra = pd.DataFrame({"account_id": account.account_id, "wave": account.wave, "dimension": missing,
                              "n_client": 0, "n_staff": 0, "client_mean": np.nan})
        extra["suppressed"] = extra["n_staff"] < account.min_group_size
        extra["evidence"] = np.where(extra["suppressed"], gp.SUPPRESSED, gp.TOO_FEW)
        extra["label"] = None
        g = pd.concat([g, extra], ignore_index=True) if len(g) else extra.reindex(columns=g.columns)
        g = g.reindex(columns=["account_id", "wave", *gp.GAP_COLUMNS])
        g["suppressed"] = g["suppressed"].astype(bool)
        g["label"] = g["label"].astype(object).where(g["label"].notna(), None)
        g = _dimension_order(g, account.instrument, "dimension")
    return tag_frame(g, account.instrument)


def trend_section(account: AccountData) -> dict[str, pd.DataFrame]:
    """Dimension means and NPS per wave, for the report's wave and the ones before it.

    Returns
    -------
    dict
        ``dimensions``: account_id, wave, side, dimension, n, mean, sd, se,
        ci_low, ci_high, suppressed; ``nps``: account_id, wave, side, n, …,
        nps, ci_low, ci_high, suppressed (as :func:`helpers.stats.scores.nps`);
        ``changes``: client NPS change between consecutive waves
        (:func:`helpers.stats.scores.nps_change`), only between waves whose
        NPS is published.  A wave's row is blank (with its ``reason``) when
        the report may not publish it — the same rule in every wave, so a
        newcomer's answer cannot be read off the difference of two waves.
        Waves are in time order (:attr:`AccountData.waves`), oldest first.
    """
    sc = account.scores
    dims = summarise(sc, by=["account_id", "wave", "side", "dimension"], ci=CI, scale=scale_of(account.instrument)) \
        if len(sc) else pd.DataFrame(columns=["account_id", "wave", "side", "dimension", "n", "mean", "sd", "se",
                                              "ci_low", "ci_high"])
    dims = _publish(account, dims, figure="trend", columns=["mean", "sd", "se", "ci_low", "ci_high"])
    net = nps(account.responses, by=["account_id", "wave", "side"], ci=CI)
    net = _publish(account, net, figure="trend", measure="nps", columns=[
        c for c in net.columns if c not in ("account_id", "wave", "side", "n")])
    client = account.responses[account.responses["side"] == "client"]
    changes = nps_change(client, order=account.waves, by=["account_id", "side"], ci=CI)
    shown = set(net.loc[(net["side"] == "client") & ~net["suppressed"], "wave"])
    changes = changes[changes["wave_from"].isin(shown) & changes["wave_to"].isin(shown)].reset_index(drop=True)
    return {"dimensions": _dimension_order(dims, account.instrument, "wave", "side", "dimension",
                                           waves=account.waves),
            "nps": _dimension_order(net, account.instrument, "wave", "side", waves=account.waves),
            "changes": changes}


def benchmark_section(account: AccountData) -> pd.DataFrame:
    """The account's percentile among the other accounts in the wave (client side).

    Returns
    -------
    DataFrame
        As :func:`helpers.stats.benchmark.benchmark`: this account's rows only, one
        per dimension and NPS.  ``shown`` is False (percentile blank) when
        fewer than the client threshold of other accounts with at least that
        many client answers contribute, or when the account itself has fewer
        answers than that or its figure may not be published (then its own
        value is blank too); ``quartiles_shown`` is False (portfolio quartiles
        blank) below ``benchmark.MIN_ACCOUNTS_FOR_QUARTILES`` (10).
    """
    agg = bm.portfolio_aggregates(account.wave, store=account.store, side="client",
                                  instrument=account.instrument, ci=CI)
    if not (agg["account_id"] == account.account_id).any():  # no client of the account answered in the wave
        return tag_frame(pd.DataFrame(columns=bm.BENCHMARK_COLUMNS), account.instrument)
    k = account.figure_min("client")
    out = bm.benchmark(agg, account.account_id, min_accounts=k, min_respondents=k)
    out = _publish(account, out.assign(side="client", wave=account.wave, dimension=out["measure"]),
                   figure="benchmark", columns=["value", "ci_low", "ci_high", "percentile", "pct_low", "pct_high"])
    out["shown"] = out["shown"].astype(bool) & ~out["suppressed"].astype(bool)
    out = out[[*bm.BENCHMARK_COLUMNS, "reason"]]
    return tag_frame(assert_single_account(out, account.account_id), account.instrument)


def comments_section(account: AccountData) -> dict[str, Any]:
    """Voice of the client for the report's wave (:func:`helpers.report.comments.voice_of_client`).

    Every comment is scrubbed of contacts, respondent and response ids, the
    people the data names (account owners) and common "First Last" names.  A
    client's role is shown next to their score only when at least the client
    threshold of clients answered in that role; with fewer client answers in
    the wave than the threshold, the comments are listed without scores,
    roles or grouping (see :func:`helpers.report.comments.visible_roles`).
    """
    ids = [str(v) for c in ("response_id", "respondent_id") if c in account.responses
           for v in account.responses[c].dropna().unique()]
    return cm.voice_of_client(account.in_wave(account.responses),
                              min_comment_group_size=account.min_comment_group_size,
                              min_group_size=account.figure_min("client"), names=account.people, ids=ids)
