"""Benchmark: percentiles by hand, own value excluded, thresholds, and only account-level aggregates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.data import store as st
from helpers.data.instrument import load_instrument
from helpers.stats import benchmark as bm
from helpers.stats.scores import nps, respondent_scores, summarise


def agg(values: dict[str, float], n: dict[str, int] | None = None, measure: str = "care") -> pd.DataFrame:
    n = n or {}
    return pd.DataFrame({"account_id": list(values), "measure": measure, "value": list(values.values()),
                         "n": [n.get(a, 10) for a in values]})


def test_percentile_rank_by_hand_and_against_scipy():
    ref = [1, 2, 3, 3, 4]
    # below 3: two values; equal: two values → (2 + ½·2)/5 = 60 %
    assert bm.percentile_rank(3, ref) == pytest.approx(60.0)
    assert bm.percentile_rank(0.5, ref) == 0.0
    assert bm.percentile_rank(9, ref) == 100.0
    assert bm.percentile_rank(3, [1, np.nan, 5]) == pytest.approx(50.0)  # NaN ignored
    assert np.isnan(bm.percentile_rank(np.nan, ref)) and np.isnan(bm.percentile_rank(1, []))
    rng = np.random.default_rng(0)
    x = rng.normal(size=30)
    for v in (-1.0, 0.0, x[3]):
        assert bm.percentile_rank(v, x) == pytest.approx(stats.percentileofscore(x, v, kind="mean"))


def test_benchmark_excludes_the_account_from_its_reference():
    a = agg({"A": 3.0, "B": 2.0, "C": 2.5, "D": 3.5, "E": 4.0, "F": 3.0})
    r = bm.benchmark(a, "A").iloc[0]
    # reference = B..F = 2.0, 2.5, 3.5, 4.0, 3.0: two below 3.0, one equal → (2 + 0.5)/5 = 50 %
    assert r["n_accounts"] == 5 and r["percentile"] == pytest.approx(50.0)
    assert bool(r["shown"]) and r["account_id"] == "A"
    loose = bm.benchmark(a, "A", min_accounts_for_quartiles=5).iloc[0]
    assert loose["ref_median"] == pytest.approx(3.0)
    assert loose["ref_p25"] == pytest.approx(np.percentile([2.0, 2.5, 3.5, 4.0, 3.0], 25))
    assert loose["ref_p75"] == pytest.approx(3.5)
    # the top account: 100 % of the others are below it; with itself in the reference it would be (5 + ½)/6
    top = bm.benchmark(agg({"A": 5.0, "B": 2.0, "C": 2.5, "D": 3.5, "E": 4.0, "F": 3.0}), "A").iloc[0]
    assert top["percentile"] == 100.0


def test_benchmark_needs_enough_accounts_and_respondents():
    four = agg({"A": 3.0, "B": 2.0, "C": 2.5, "D": 3.5, "E": 4.0})
    r = bm.benchmark(four, "A").iloc[0]
    assert r["n_accounts"] == 4 and not r["shown"] and not r["quartiles_shown"]
    assert np.isnan(r["percentile"]) and np.isnan(r["ref_median"]) and np.isnan(r["ref_p25"])
    assert bm.benchmark(four, "A", min_accounts=4).iloc[0]["shown"]
    thin = agg({"A": 3.0, "B": 2.0, "C": 2.5, "D": 3.5, "E": 4.0, "F": 3.0}, n={"B": 2})
    r = bm.benchmark(thin, "A").iloc[0]
    assert r["n_accounts"] == 4 and not r["shown"]  # B has two respondents: not a benchmark
    assert bm.benchmark(thin, "A", min_respondents=2).iloc[0]["n_accounts"] == 5


def test_quartiles_need_ten_accounts():
    """With five others the median *is* one account's value; quartiles wait for ten accounts."""
    five = agg({"A": 3.0, "B": 2.0, "C": 2.5, "D": 3.5, "E": 4.0, "F": 3.0})
    r = bm.benchmark(five, "A").iloc[0]
    assert r["shown"] and r["percentile"] == pytest.approx(50.0)  # the percentile band stays
    assert not r["quartiles_shown"]
    assert np.isnan(r["ref_p25"]) and np.isnan(r["ref_median"]) and np.isnan(r["ref_p75"])
    others = {f"B{i:02d}": 2.0 + i / 10 for i in range(9)}
    nine = bm.benchmark(agg({"A": 3.0, **others}), "A").iloc[0]
    assert nine["n_accounts"] == 9 and nine["shown"] and not nine["quartiles_shown"]
    ten = bm.benchmark(agg({"A": 3.0, **others, "B09": 2.9}), "A").iloc[0]
    assert ten["n_accounts"] == 10 and ten["quartiles_shown"] and np.isfinite(ten["ref_median"])
    assert bm.benchmark(agg({"A": 3.0, **others}), "A", min_accounts_for_quartiles=9).iloc[0]["quartiles_shown"]


def test_quartiles_are_rounded_in_the_data():
    rng = np.random.default_rng(7)
    values = {f"X{i:02d}": float(v) for i, v in enumerate(rng.uniform(2, 5, 14).round(4))}
    means = bm.benchmark(agg({"A": 3.0, **values}), "A").iloc[0]
    ref = np.array(list(values.values()))
    for col, q in (("ref_p25", 25), ("ref_median", 50), ("ref_p75", 75)):
        assert means[col] == round(float(np.percentile(ref, q)), 1)  # one decimal
        assert means[col] != pytest.approx(float(np.percentile(ref, q)), abs=1e-6)  # not an account's exact value
        assert not np.isin(means[col], ref).any()
    nps_values = {k: float(v) for k, v in zip(values, rng.uniform(-60, 80, 14).round(2))}
    net = bm.benchmark(agg({"A": 10.0, **nps_values}, measure="nps"), "A").iloc[0]
    assert net["ref_median"] == round(float(np.median(list(nps_values.values()))))  # NPS: whole points
    assert float(net["ref_p25"]).is_integer() and float(net["ref_p75"]).is_integer()


def test_benchmark_places_the_ends_of_the_accounts_interval():
    a = agg({"A": 3.0, "B": 2.0, "C": 2.5, "D": 3.5, "E": 4.0, "F": 3.2}).assign(
        ci_low=[2.4, np.nan, np.nan, np.nan, np.nan, np.nan], ci_high=[3.6, np.nan, np.nan, np.nan, np.nan, np.nan])
    r = bm.benchmark(a, "A").iloc[0]
    assert r["pct_low"] == pytest.approx(20.0)   # 2.4: one of five below
    assert r["pct_high"] == pytest.approx(80.0)  # 3.6: four of five below


def test_benchmark_refuses_respondent_rows_and_unknown_accounts():
    rows = pd.DataFrame({"account_id": ["A", "A", "B"], "measure": "care", "value": [3, 4, 5], "n": 1})
    with pytest.raises(ValueError, match="account-level aggregates"):
        bm.benchmark(rows, "A")
    with pytest.raises(ValueError, match="missing"):
        bm.benchmark(rows.drop(columns="n"), "A")
    with pytest.raises(ValueError, match="no aggregates"):
        bm.benchmark(agg({"B": 3.0}), "A")


def test_portfolio_aggregates_match_the_respondent_level_calculation(sample_store):
    """The SQL aggregate equals scores.respondent_scores + summarise on the account's own rows."""
    inst = load_instrument()
    agg_ = bm.portfolio_aggregates("2026Q3", store=sample_store)
    assert list(agg_.columns) == bm.AGGREGATE_COLUMNS
    assert not agg_.duplicated(["account_id", "measure"]).any()  # one row per account × measure
    assert set(agg_["measure"]) == {*inst.dimension_ids, "nps"}
    assert agg_["account_id"].nunique() == 60
    for account in ("A001", "A017"):
        ans = st.load_answers(account=account, wave="2026Q3", side="client", store=sample_store)
        own = summarise(respondent_scores(ans), by=["dimension"]).set_index("dimension")
        mine = agg_[agg_["account_id"] == account].set_index("measure")
        for d in inst.dimension_ids:
            assert mine.loc[d, "n"] == own.loc[d, "n"]
            assert mine.loc[d, "value"] == pytest.approx(own.loc[d, "mean"])
            assert mine.loc[d, "ci_low"] == pytest.approx(own.loc[d, "ci_low"])
        resp = st.load_responses(account=account, wave="2026Q3", side="client", store=sample_store)
        net = nps(resp, by=None).iloc[0]
        assert mine.loc["nps", "value"] == pytest.approx(net["nps"])
        assert mine.loc["nps", "n"] == net["n"]
        assert (mine.loc["nps", "ci_low"], mine.loc["nps", "ci_high"]) == pytest.approx((net["ci_low"],
                                                                                           net["ci_high"]))


def test_no_respondent_rows_of_other_accounts_are_loaded(sample_store, monkeypatch):
    """The benchmark reads aggregates only: every store query returns at most one row per account × measure."""
    seen = []
    real_query = st.query

    def spy(sql, params=None, *, store=None):
        out = real_query(sql, params, store=store)
        seen.append(out)
        return out

    def refuse(*args, **kwargs):
        raise AssertionError("the benchmark must not load respondent rows")

    monkeypatch.setattr(st, "query", spy)
    monkeypatch.setattr(st, "load_answers", refuse)
    monkeypatch.setattr(st, "load_responses", refuse)
    agg_ = bm.portfolio_aggregates("2026Q3", store=sample_store)
    assert seen and all("response_id" not in f.columns for f in seen)
    assert all(not f.duplicated([c for c in ("account_id", "measure") if c in f]).any() for f in seen)
    out = bm.benchmark(agg_, "A001")
    assert set(out["account_id"]) == {"A001"} and len(out) == 6
    assert list(out.columns) == bm.BENCHMARK_COLUMNS


def test_superseded_responses_are_left_out_as_in_the_loaders(sample_store, tmp_path):
    """A resubmission counts once: the aggregates match the store loaders, which skip superseded responses."""
    import shutil

    import duckdb

    path = tmp_path / "resubmitted.duckdb"
    shutil.copy(sample_store, path)
    con = duckdb.connect(str(path))
    old = con.execute("SELECT response_id FROM responses WHERE account_id = 'A001' AND wave = '2026Q3' "
                      "AND side = 'client' ORDER BY response_id LIMIT 2").fetchall()
    for (rid,) in old:
        con.execute("UPDATE responses SET superseded_by = 'later' WHERE response_id = ?", [rid])
    con.close()
    mine = bm.portfolio_aggregates("2026Q3", store=path).query("account_id == 'A001'").set_index("measure")
    resp = st.load_responses(account="A001", wave="2026Q3", side="client", store=path)
    assert len(resp) == 8  # ten clients, two superseded
    net = nps(resp, by=None).iloc[0]
    assert mine.loc["nps", "n"] == net["n"] and mine.loc["nps", "value"] == pytest.approx(net["nps"])
    own = summarise(respondent_scores(st.load_answers(account="A001", wave="2026Q3", side="client", store=path)),
                    by=["dimension"]).set_index("dimension")
    for d in load_instrument().dimension_ids:
        assert mine.loc[d, "n"] == own.loc[d, "n"]
        assert mine.loc[d, "value"] == pytest.approx(own.loc[d, "mean"])
