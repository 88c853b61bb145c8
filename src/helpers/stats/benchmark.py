"""Benchmark: where one account stands among the portfolio's accounts.

The reference distribution is built from **account-level aggregates only**:
one mean (or NPS) per account, computed inside the database, so no other
account's respondent rows are ever loaded into a report.  The account's own
value is **excluded** from its reference distribution, and a percentile is
given only when at least ``min_accounts`` other accounts contribute.

Quartiles of the reference are summaries of *other* accounts, and with few
accounts they are those accounts' own values (the median of five is one of
them); seen across several reports they would let a reader piece together
individual accounts.  So they are given only from
``min_accounts_for_quartiles`` (10) other accounts, and rounded in the data to
one decimal for means and to whole points for NPS.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from helpers.data import store as st
from helpers.data.instrument import Instrument, load_instrument
from helpers.data.privacy import MIN_GROUP_SIZE

from .scores import mean_interval
from .scores import nps as nps_table

AGGREGATE_COLUMNS = ["account_id", "wave", "side", "measure", "n", "value", "sd", "ci_low", "ci_high"]
BENCHMARK_COLUMNS = ["account_id", "wave", "side", "measure", "n", "value", "ci_low", "ci_high", "n_accounts",
                     "percentile", "pct_low", "pct_high", "ref_p25", "ref_median", "ref_p75", "shown",
                     "quartiles_shown"]
MIN_ACCOUNTS_FOR_QUARTILES = 10
#: Decimals the reference quartiles are rounded to: dimension means, NPS.
QUARTILE_DECIMALS = {"mean": 1, "nps": 0}


def portfolio_aggregates(
    wave: str,
    *,
    store: str | Path | None = None,
    side: str = "client",
    instrument: str | Instrument | None = None,
    min_items: int | None = None,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Per-account dimension means and NPS for one wave, aggregated in the database.

    Parameters
    ----------
    wave : str
        Survey wave, e.g. ``"2026Q3"``.
    store : path, optional
        The store file (default :func:`helpers.data.store.default_store`).
    side : {"client", "staff"}
        Whose answers.
    instrument : path or Instrument, optional
        Item → dimension mapping (default: flamekit).
    min_items : int, optional
        Answered items a respondent needs for a dimension score (default: the
        instrument's ``min_items``), as in :func:`helpers.stats.scores.respondent_scores`.
    ci : float
        Confidence level of each account's own interval.

    Returns
    -------
    DataFrame
        One row per account × measure: account_id, wave, side, measure
        (dimension id or ``"nps"``), n (respondents), value (mean score or
        NPS), sd, ci_low, ci_high.  No respondent rows.

    Notes
    -----
    A respondent's dimension score is the mean of their answered items of
    that dimension, kept when at least ``min_items`` are answered — the rule of
    :func:`helpers.stats.scores.respondent_scores`, written in SQL so that only one
    row per account leaves the database.  Mean CI: x̄ ± t_{(1+ci)/2, n−1}·sd/√n,
    cut to the answer scale.  NPS and its adjusted-Wald CI as :func:`helpers.stats.scores.nps`, from the
    promoter/passive/detractor counts of each account.  Responses superseded
    by a later resubmission are left out, as in
    :func:`helpers.data.store.load_responses`.
    """
    inst = load_instrument(instrument)
    need = inst.min_items if min_items is None else int(min_items)
    carried = st.extract_aggregates(aggregates_setting(wave, side=side, instrument=inst, min_items=need, ci=ci),
                                    store=store)
    if carried is not None:  # an account extract: computed from the full store when it was made
        return carried
    rows = _account_rows(wave, side=side, need=need, item_dimension=inst.item_dimension, store=store)
    is_nps = rows["measure"] == "nps"
    dims = rows.loc[~is_nps, ["account_id", "measure", "n", "value", "sd"]].reset_index(drop=True)
    # DuckDB sums in parallel, so the last bits of a mean depend on thread timing; rounding far below any
    # shown precision makes equal means compare equal (percentile ties) in every run.
    dims[["value", "sd"]] = dims[["value", "sd"]].astype(float).round(12)
    dims["ci_low"], dims["ci_high"] = mean_interval(dims["value"], dims["sd"], dims["n"].astype(float), ci=ci,
                                                    scale=(inst.scale_min, inst.scale_max))
    net = _nps_from_counts(rows.loc[is_nps, ["account_id", "promoters", "passives", "detractors"]], ci=ci)
    order = {d: i for i, d in enumerate([*inst.dimension_ids, "nps"])}
    out = pd.concat([dims, net[["account_id", "measure", "n", "value", "sd", "ci_low", "ci_high"]]],
                    ignore_index=True)
    out = out.assign(wave=wave, side=side)
    out["n"] = out["n"].astype("int64")
    out = out.sort_values(["account_id", "measure"], key=lambda s: s.map(order) if s.name == "measure" else s)
    return out[AGGREGATE_COLUMNS].reset_index(drop=True)


def aggregates_setting(wave: str, *, side: str, instrument: Instrument, min_items: int, ci: float) -> str:
    """What a frame of :func:`portfolio_aggregates` was computed for, as one string (the key an account
    extract files it under)."""
    import hashlib
    import json

    items = hashlib.sha256(json.dumps(sorted(instrument.item_dimension.items())).encode()).hexdigest()[:12]
    return f"wave {wave}, {side} side, items {items}, min_items {int(min_items)}, ci {float(ci):g}"


def _account_rows(wave: str, *, side: str, need: int, item_dimension: dict[str, str], store) -> pd.DataFrame:
    """One query (one connection): each account's dimension aggregates, then its NPS group counts.

    Columns account_id, measure, n, value, sd, promoters, passives,
    detractors; a dimension row has no counts and an NPS row no mean.
    """
    pairs = list(item_dimension.items())
    values = ", ".join("(?, ?)" for _ in pairs)
    params: list = [v for pair in pairs for v in pair] + [wave, side, need, wave, side]
    return st.query(
        f"""
        WITH dims(item, dimension) AS (VALUES {values}),
        resp AS (
            SELECT r.account_id, r.response_id, d.dimension, avg(a.value) AS score, count(a.value) AS n_items
            FROM answers a JOIN responses r ON a.response_id = r.response_id JOIN dims d ON a.item = d.item
            WHERE r.wave = ? AND r.side = ? AND r.superseded_by IS NULL
            GROUP BY r.account_id, r.response_id, d.dimension
        )
        SELECT account_id, dimension AS measure, count(score) AS n, avg(score) AS value,
               stddev_samp(score) AS sd, NULL AS promoters, NULL AS passives, NULL AS detractors
        FROM resp WHERE n_items >= ? GROUP BY account_id, dimension
        UNION ALL
        SELECT account_id, 'nps' AS measure, count(nps) AS n, NULL AS value, NULL AS sd,
               count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps BETWEEN 7 AND 8),
               count(*) FILTER (WHERE nps <= 6)
        FROM responses WHERE wave = ? AND side = ? AND nps IS NOT NULL AND superseded_by IS NULL
        GROUP BY account_id
        """,
        params,
        store=store,
    )


def _nps_from_counts(counts: pd.DataFrame, *, ci: float) -> pd.DataFrame:
    """Each account's NPS and interval from its promoter, passive and detractor counts, as rows of measure "nps".

    :func:`helpers.stats.scores.nps` works on answers, so the three counts are
    expanded into 10/7/0 pseudo-answers: the NPS and its interval come from
    the one implementation.
    """
    if not len(counts):
        return pd.DataFrame(columns=["account_id", "measure", "n", "value", "sd", "ci_low", "ci_high"])
    long = counts.reset_index(drop=True).melt(id_vars="account_id", value_vars=["promoters", "passives", "detractors"],
                                              var_name="group", value_name="k")
    long["nps"] = long["group"].map({"promoters": 10, "passives": 7, "detractors": 0})
    pseudo = long.loc[long.index.repeat(long["k"].astype(int)), ["account_id", "nps"]]
    net = nps_table(pseudo, by=["account_id"], ci=ci)
    return net.rename(columns={"nps": "value"}).assign(measure="nps", sd=np.nan)


def percentile_rank(value: float, reference: Sequence[float] | np.ndarray) -> float:
    """Percent of the reference below ``value``, counting ties as half (mid-rank).

    Parameters
    ----------
    value : float
    reference : array-like of float
        Other accounts' values (NaN ignored).

    Returns
    -------
    float
        100 · (#{r < value} + ½·#{r = value}) / N; NaN when ``value`` is NaN or
        the reference is empty.  Same as ``scipy.stats.percentileofscore(...,
        kind="mean")``.

    Examples
    --------
    >>> percentile_rank(3.0, [1, 2, 3, 4])
    62.5
    """
    ref = np.asarray(reference, dtype=float)
    ref = ref[np.isfinite(ref)]
    if not np.isfinite(value) or len(ref) == 0:
        return np.nan
    return float(100 * ((ref < value).sum() + 0.5 * (ref == value).sum()) / len(ref))


def benchmark(
    aggregates: pd.DataFrame,
    account_id: str,
    *,
    min_accounts: int = MIN_GROUP_SIZE,
    min_respondents: int = MIN_GROUP_SIZE,
    min_accounts_for_quartiles: int = MIN_ACCOUNTS_FOR_QUARTILES,
) -> pd.DataFrame:
    """The account's percentile among the other accounts, per measure.

    Parameters
    ----------
    aggregates : DataFrame
        Account-level aggregates, one row per account × measure, as from
        :func:`portfolio_aggregates`: account_id, measure, n, value
        (+ ci_low, ci_high, wave, side).  Respondent-level rows are refused.
    account_id : str
        The account to place.
    min_accounts : int
        A percentile is given only when at least this many *other* accounts
        contribute to the measure (default 5).
    min_respondents : int
        An account contributes to the reference only with at least this many
        respondents on the measure (a mean of two people is not a benchmark),
        and gets a percentile itself only with as many: below it its own
        value and percentile are NaN and ``shown`` is False.
    min_accounts_for_quartiles : int
        The reference's quartiles are given only when at least this many other
        accounts contribute (default 10); below it they would be individual
        accounts' values.

    Returns
    -------
    DataFrame
        One row per measure, only for ``account_id``: account_id, wave, side,
        measure, n, value, ci_low, ci_high (the account's own), n_accounts
        (reference size), percentile, pct_low, pct_high (percentile of the
        account's CI ends), ref_p25, ref_median, ref_p75 (reference
        quartiles, rounded to one decimal for means and whole points for NPS),
        shown (False when the reference is too small or the account has too
        few answers; the percentile is then NaN), quartiles_shown (False when fewer than
        ``min_accounts_for_quartiles`` accounts contribute; the quartiles are
        then NaN).

    Notes
    -----
    percentile = 100 · (#{r < x} + ½ #{r = x}) / N over the N other accounts'
    values r (mid-rank percentile rank; see :func:`percentile_rank`).  The
    account itself is left out of its reference so that it is not compared
    with itself.  pct_low/pct_high place the ends of the account's own CI in
    the same reference: a wide span means the position is uncertain.
    Quartiles use linear interpolation between order statistics
    (``numpy.percentile``) and are rounded *in the data*, not only for display:
    rounding is part of the disclosure control.

    Examples
    --------
    >>> agg = pd.DataFrame({"account_id": ["A", "B", "C", "D", "E", "F"], "measure": "care",
    ...                     "n": 10, "value": [3.0, 2.0, 2.5, 3.5, 4.0, 3.0]})
    >>> benchmark(agg, "A")[["measure", "n_accounts", "percentile", "quartiles_shown"]].to_dict("records")
    [{'measure': 'care', 'n_accounts': 5, 'percentile': 50.0, 'quartiles_shown': False}]
    """
    need = {"account_id", "measure", "n", "value"}
    missing = sorted(need - set(aggregates.columns))
    if missing:
        raise ValueError(f"benchmark needs account-level aggregates with columns {sorted(need)}; missing {missing}.")
    dup = aggregates.duplicated(["account_id", "measure"])
    if dup.any():
        raise ValueError(
            "benchmark needs account-level aggregates (one row per account and measure), but some accounts have "
            f"several rows (e.g. {aggregates.loc[dup, 'account_id'].iloc[0]!r}). Pass portfolio_aggregates(...), "
            "not respondent rows.")
    account_id = str(account_id)
    agg = aggregates.assign(account_id=aggregates["account_id"].astype(str))
    own = agg[agg["account_id"] == account_id]
    if own.empty:
        raise ValueError(f"Account {account_id!r} has no aggregates in this wave.")
    rows = []
    for _, r in own.iterrows():
        ref = agg[(agg["measure"] == r["measure"]) & (agg["account_id"] != account_id)
                  & (agg["n"] >= min_respondents)]["value"].to_numpy(dtype=float)
        ref = ref[np.isfinite(ref)]
        # no percentile (and no own figure) for an account with fewer answers than the reference accounts need
        own_enough = r["n"] >= min_respondents
        shown = len(ref) >= min_accounts and own_enough
        quartiles = len(ref) >= min_accounts and len(ref) >= min_accounts_for_quartiles
        digits = QUARTILE_DECIMALS["nps" if r["measure"] == "nps" else "mean"]

        def quartile(q: float) -> float:
            return round(float(np.percentile(ref, q)), digits) if quartiles else np.nan

        lo, hi = (r.get("ci_low", np.nan), r.get("ci_high", np.nan)) if own_enough else (np.nan, np.nan)
        rows.append({
            "account_id": account_id, "wave": r.get("wave"), "side": r.get("side"), "measure": r["measure"],
            "n": int(r["n"]), "value": r["value"] if own_enough else np.nan, "ci_low": lo, "ci_high": hi,
            "n_accounts": len(ref),
            "percentile": percentile_rank(r["value"], ref) if shown else np.nan,
            "pct_low": percentile_rank(lo, ref) if shown and pd.notna(lo) else np.nan,
            "pct_high": percentile_rank(hi, ref) if shown and pd.notna(hi) else np.nan,
            "ref_p25": quartile(25), "ref_median": quartile(50), "ref_p75": quartile(75),
            "shown": shown, "quartiles_shown": quartiles,
        })
    return pd.DataFrame(rows, columns=BENCHMARK_COLUMNS)
