"""Portfolio helpers on small hand-checkable frames, and degenerate portfolios."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Rectangle
from scipy import stats

from helpers.data.instrument import load_instrument
from helpers.report import tables
from helpers.report.drivers import plots as drivers_plots
from helpers.report.drivers import sections
from helpers.report.drivers import setup as drivers_setup
from helpers.report.portfolio import celebrations, plots, risk, summary
from helpers.stats import comparisons, fitting
from helpers.stats.scores import nps as nps_fn

INST = load_instrument()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def scores_frame(cells: dict[tuple[str, str], list[float]], *, side: str = "client", wave: str = "2026Q3"):
    """Respondent scores from {(account, dimension): [scores]}; respondent i of an account answers every dimension."""
    rows = []
    for (acc, dim), values in cells.items():
        for i, v in enumerate(values):
            rows.append({"response_id": f"{side[0]}-{wave}-{acc}-{i}", "account_id": acc, "side": side,
                         "wave": wave, "dimension": dim, "score": v})
    return pd.DataFrame(rows)


def responses_frame(nps_by_account: dict[str, list[int]], *, side: str = "client", wave: str = "2026Q3"):
    rows = [{"response_id": f"{side[0]}-{wave}-{a}-{i}", "account_id": a, "side": side, "wave": wave, "nps": v}
            for a, values in nps_by_account.items() for i, v in enumerate(values)]
    return pd.DataFrame(rows)


def bh(p):
    """Benjamini–Hochberg from statsmodels, an independent implementation."""
    from statsmodels.stats.multitest import multipletests

    return multipletests(np.asarray(p, dtype=float), method="fdr_bh")[1]


# ---------------------------------------------------------------------------
# Heatmap
# ---------------------------------------------------------------------------
HEAT_CELLS = {
    ("A", "care"): [5, 5, 5, 4, 5, 5],
    ("B", "care"): [3, 3, 4, 3, 3, 4],
    ("C", "care"): [3, 4, 3, 3, 4, 3],
    ("D", "care"): [4],  # one respondent: hidden, not tested, and not part of anyone's "rest"
    ("A", "impact"): [3, 4, 3, 4, 3, 4],
    ("B", "impact"): [4, 3, 4, 3, 4, 3],
    ("C", "impact"): [3, 4, 4, 3, 3, 4],
    ("D", "impact"): [3],
}


def test_heatmap_compares_each_account_with_the_rest_by_hand():
    heat = comparisons.dimension_heatmap(scores_frame(HEAT_CELLS))
    a = heat[(heat["account_id"] == "A") & (heat["dimension"] == "care")].iloc[0]
    rest = HEAT_CELLS[("B", "care")] + HEAT_CELLS[("C", "care")]  # D's single answer is hidden: not in the rest
    welch = stats.ttest_ind(HEAT_CELLS[("A", "care")], rest, equal_var=False)
    assert a["n"] == 6 and a["rest_n"] == 12
    assert a["mean"] == pytest.approx(29 / 6)
    assert a["rest_mean"] == pytest.approx(np.mean(rest))
    assert a["t"] == pytest.approx(welch.statistic)
    assert a["p_val"] == pytest.approx(welch.pvalue)
    assert a["diff_low"] < a["diff"] < a["diff_high"]
    pooled = np.sqrt((5 * np.var(HEAT_CELLS[("A", "care")], ddof=1) + 11 * np.var(rest, ddof=1)) / 16)
    j = 1 - 3 / (4 * 18 - 9)  # Hedges' g, as in the gap tables
    assert a["effect_size"] == pytest.approx(j * (a["mean"] - np.mean(rest)) / pooled)
    # column order follows the instrument, rows follow accounts
    assert heat["dimension"].tolist()[:2] == ["impact", "care"]


def test_heatmap_bh_over_the_whole_table_and_flags():
    heat = comparisons.dimension_heatmap(scores_frame(HEAT_CELLS))
    tested = heat["p_val"].notna()
    assert tested.sum() == 6  # D's two single-respondent cells are not tested
    np.testing.assert_allclose(heat.loc[tested, "p_fdr"], bh(heat.loc[tested, "p_val"]))
    d = heat[heat["account_id"] == "D"]
    assert d["p_val"].isna().all() and (~d["significant"]).all() and d["mean"].isna().all() and d["suppressed"].all()
    a_care = heat[(heat["account_id"] == "A") & (heat["dimension"] == "care")].iloc[0]
    assert a_care["significant"] and a_care["direction"] == "above"
    impact = heat[heat["dimension"] == "impact"]
    assert not impact["significant"].any() and (impact["direction"] == "").all()
    # a stricter false discovery rate flags nothing that the looser one did not
    strict = comparisons.dimension_heatmap(scores_frame(HEAT_CELLS), alpha=1e-6)
    assert strict["significant"].sum() <= heat["significant"].sum()


def test_heatmap_keeps_client_side_and_suppresses_small_staff_groups():
    client = scores_frame(HEAT_CELLS)
    staff = scores_frame({("A", "care"): [5, 5, 4], ("B", "care"): [3, 4, 3, 4, 3]}, side="staff")
    both = pd.concat([client, staff])
    assert comparisons.dimension_heatmap(both)["side"].eq("client").all()
    st = comparisons.dimension_heatmap(both, side="staff", min_group_size=5)
    a = st[st["account_id"] == "A"].iloc[0]
    b = st[st["account_id"] == "B"].iloc[0]
    assert a["suppressed"] and np.isnan(a["mean"]) and np.isnan(a["p_val"]) and np.isnan(a["rest_mean"])
    assert a["n"] == 3 and not a["significant"]
    assert not b["suppressed"] and b["mean"] == pytest.approx(3.4)
    # B's "rest" would be A's three answers: the small group stays out of the reference
    assert b["rest_n"] == 0 and np.isnan(b["rest_mean"]) and np.isnan(b["p_val"])
    assert not np.isclose(st.select_dtypes("number").to_numpy(float), 14 / 3).any()


def test_heatmap_does_not_test_a_cell_whose_answers_are_all_the_same():
    """A017 Impact in the sample: four answers of exactly 3 came out "clearly below", p < 0.001."""
    cells = {**HEAT_CELLS, ("E", "impact"): [3.0] * 6, ("E", "care"): [4, 5, 4, 5, 4, 5]}
    heat = comparisons.dimension_heatmap(scores_frame(cells)).set_index(["account_id", "dimension"])
    e = heat.loc[("E", "impact")]
    assert np.isnan(e["p_val"]) and not e["significant"] and e["direction"] == "" and e["untested"] == "no variation"
    assert e["mean"] == pytest.approx(3.0)  # the mean is still shown
    assert np.isfinite(heat.loc[("E", "care"), "p_val"])


def test_heatmap_hides_withheld_cells_and_keeps_them_out_of_the_rest():
    withheld = pd.DataFrame({"account_id": ["B"], "dimension": ["care"]})
    heat = comparisons.dimension_heatmap(scores_frame(HEAT_CELLS), withheld=withheld).set_index(
        ["account_id", "dimension"])
    assert heat.loc[("B", "care"), "suppressed"] and np.isnan(heat.loc[("B", "care"), "mean"])
    assert heat.loc[("A", "care"), "rest_n"] == 6  # only C is left as A's rest
    assert heat.loc[("B", "impact"), "mean"] == pytest.approx(3.5)


def test_plot_heatmap_draws_one_text_per_cell_and_frames_significant_cells():
    heat = comparisons.dimension_heatmap(scores_frame(HEAT_CELLS))
    ax = plots.plot_heatmap(heat, language="fi")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Vaikutus", "Välittäminen"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B", "C", "D"]
    texts = [t.get_text() for t in ax.texts]
    assert len(texts) == 6 and "4,8 (n=6)" in texts  # D's hidden cells carry no value; a Finnish decimal comma
    frames = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(frames) == int(heat["significant"].sum()) >= 1
    bold = [t for t in ax.texts if t.get_fontweight() == "bold"]
    assert len(bold) == len(frames)


def test_plot_heatmap_leaves_suppressed_cells_empty():
    staff = scores_frame({("A", "care"): [5, 5, 4], ("B", "care"): [3, 4, 3, 4, 3], ("C", "care"): [4] * 6},
                         side="staff")
    heat = comparisons.dimension_heatmap(staff, side="staff")
    fig, ax = plt.subplots()
    assert plots.plot_heatmap(heat, ax=ax) is ax
    assert len(ax.texts) == 2  # A (n = 3) is not written
    assert not any(t.get_text().startswith("4.7") for t in ax.texts)


# ---------------------------------------------------------------------------
# Gap map
# ---------------------------------------------------------------------------
def _two_sided(n_staff: dict[str, int]):
    rng = np.random.default_rng(11)
    client, staff = {}, {}
    for i, (acc, k) in enumerate(n_staff.items()):
        for dim in ("impact", "care"):
            client[(acc, dim)] = list(np.round(rng.normal(3.5, 0.5, 12), 2))
            blind = 1.2 if (acc == "A" and dim == "care") else 0.0
            staff[(acc, dim)] = list(np.round(rng.normal(3.6 + blind, 0.4, k), 2))
    return pd.concat([scores_frame(client), scores_frame(staff, side="staff")])


def test_gap_map_suppresses_small_team_groups_and_corrects_over_the_map():
    sc = _two_sided({"A": 8, "B": 6, "C": 3, "D": 4})
    gm = comparisons.gap_map(sc, min_group_size=5)
    small = gm[gm["account_id"].isin(["C", "D"])]
    assert small["suppressed"].all() and small["staff_mean"].isna().all() and small["gap"].isna().all()
    assert small["p_fdr"].isna().all() and not small["significant"].any()
    assert (small["n_staff"] < 5).all()  # the count stays so a reader sees why
    shown = gm[~gm["suppressed"]]
    np.testing.assert_allclose(shown["p_fdr"], bh(shown["p_val"]))  # one family: the whole map
    a_care = gm[(gm["account_id"] == "A") & (gm["dimension"] == "care")].iloc[0]
    assert a_care["gap"] < 0 and a_care["significant"] and a_care["label"] == "blind spot"
    # client − team, by hand
    c = sc[(sc["account_id"] == "B") & (sc["dimension"] == "impact")]
    b_imp = gm[(gm["account_id"] == "B") & (gm["dimension"] == "impact")].iloc[0]
    assert b_imp["gap"] == pytest.approx(c.loc[c["side"] == "client", "score"].mean()
                                         - c.loc[c["side"] == "staff", "score"].mean())


def test_plot_gap_map_never_draws_a_suppressed_team_result():
    sc = _two_sided({"A": 8, "B": 6, "C": 3})
    gm = comparisons.gap_map(sc, min_group_size=5)
    ax = plots.plot_gap_map(gm)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["A", "B"]  # C has no team result to show
    assert len(ax.texts) == 4 and all("/" in t.get_text() for t in ax.texts)
    frames = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(frames) == int(gm["significant"].sum())
    ax2 = plots.plot_gap_map(gm, hide_empty=False)
    assert len(ax2.get_yticklabels()) == 3 and len(ax2.texts) == 4
    nothing = plots.plot_gap_map(comparisons.gap_map(sc, min_group_size=99))
    assert [t.get_text() for t in nothing.texts] == ["Nothing to show: every cell is empty or hidden."]


# ---------------------------------------------------------------------------
# NPS across accounts and waves
# ---------------------------------------------------------------------------
def test_nps_vs_portfolio_by_hand():
    r = responses_frame({"A": [10] * 10, "B": [0, 10] * 5, "C": [5] * 10})
    out = comparisons.nps_vs_portfolio(r)
    a = out[out["account_id"] == "A"].iloc[0]
    assert a["nps"] == 100 and a["n"] == 10 and a["rest_n"] == 20
    assert a["rest_nps"] == pytest.approx(100 * (5 - 15) / 20)
    assert a["diff"] == pytest.approx(150)
    # adjusted-Wald estimate and variance of each side (Rocks 2016), by hand:
    # A: p̃P = 10.75/13, p̃D = 0.75/13; rest: p̃P = 5.75/23, p̃D = 15.75/23
    ea, eb = 10 / 13, -10 / 23
    va = (11.5 / 13 - ea**2) / 13
    vb = (21.5 / 23 - eb**2) / 23
    z = (ea - eb) / np.sqrt(va + vb)
    assert a["p_val"] == pytest.approx(2 * stats.norm.sf(z))
    assert a["diff_low"] == pytest.approx(100 * (ea - eb - 1.959964 * np.sqrt(va + vb)), abs=1e-3)
    np.testing.assert_allclose(out["p_fdr"], bh(out["p_val"]))
    assert a["direction"] == "above" and out.set_index("account_id").loc["C", "direction"] == "below"


def test_nps_vs_portfolio_small_unanimous_account_is_not_decisive():
    # rest of the portfolio at NPS 0; three detractors are −100 raw, but the raw difference over the
    # adjusted-Wald SE would give z ≈ −3.5, the adjusted estimates give z ≈ −1.7
    r = responses_frame({"A": [0, 0, 0], **{f"B{i}": [10, 9, 8, 7, 3, 5] * 4 for i in range(10)}})
    # by default three answers are too few to show at all; with the threshold at 1 the test itself is checked
    assert comparisons.nps_vs_portfolio(r).set_index("account_id").loc["A", "suppressed"]
    a = comparisons.nps_vs_portfolio(r, min_group_size=1).set_index("account_id").loc["A"]
    assert a["nps"] == -100 and a["diff"] == pytest.approx(-100)
    assert not a["significant"] and 0.05 < a["p_val"] < 0.15
    assert a["diff_low"] < 0 < a["diff_high"]


def test_nps_vs_portfolio_suppresses_small_staff_groups():
    r = responses_frame({"A": [10, 9, 9], "B": [5, 6, 7, 8, 9]}, side="staff")
    out = comparisons.nps_vs_portfolio(r, side="staff", min_group_size=5).set_index("account_id")
    assert out.loc["A", "suppressed"] and np.isnan(out.loc["A", "nps"]) and out.loc["A", "n"] == 3
    assert not out.loc["B", "suppressed"] and out.loc["B", "nps"] == pytest.approx(-20)
    assert out.loc["B", "rest_n"] == 0 and np.isnan(out.loc["B", "rest_nps"])  # A's NPS not recoverable


def test_nps_trend_matches_scores_nps_and_bootstrap_brackets_it():
    rng = np.random.default_rng(3)
    frames = []
    for w in ("2026Q1", "2026Q2"):
        frames.append(responses_frame({f"A{i}": list(rng.integers(0 if i % 2 else 6, 11, 15)) for i in range(12)},
                                      wave=w))
    r = pd.concat(frames + [responses_frame({"A0": [9]}, side="staff", wave="2026Q1")])
    tr = comparisons.nps_trend(r, n_boot=500)
    ref = nps_fn(r[r["side"] == "client"], by=["wave"])
    np.testing.assert_allclose(tr["nps"], ref["nps"])
    np.testing.assert_allclose(tr["ci_low"], ref["ci_low"])
    assert tr["n"].tolist() == [180, 180] and tr["n_accounts"].tolist() == [12, 12]
    assert (tr["cluster_low"] <= tr["nps"]).all() and (tr["nps"] <= tr["cluster_high"]).all()
    assert np.isnan(tr["change"].iloc[0]) and tr["change"].iloc[1] == pytest.approx(tr["nps"].diff().iloc[1])
    assert tr["change_low"].iloc[1] < tr["change"].iloc[1] < tr["change_high"].iloc[1]
    # same seed, same interval
    assert comparisons.nps_trend(r, n_boot=500)["cluster_low"].equals(tr["cluster_low"])


def test_headline_interval_is_the_trend_interval_of_its_wave():
    """A wave's bootstrap does not depend on which other waves are loaded: the headline and the trend agree."""
    rng = np.random.default_rng(4)
    r = pd.concat([responses_frame({f"A{i}": list(rng.integers(3, 11, 8)) for i in range(6)}, wave=w)
                   for w in ("2026Q1", "2026Q2", "2026Q3")])
    acc = pd.DataFrame({"account_id": [f"A{i}" for i in range(6)], "status": "active"})
    row = summary.headline(r, acc, wave="2026Q2", n_boot=300).set_index("measure").loc["client NPS (−100…100)"]
    tr = comparisons.nps_trend(r, n_boot=300).set_index("wave").loc["2026Q2"]
    assert (row["ci_low"], row["ci_high"]) == (tr["cluster_low"], tr["cluster_high"])
    assert comparisons.nps_trend(r[r["wave"] == "2026Q2"], n_boot=300)["cluster_low"].iloc[0] == tr["cluster_low"]


def test_nps_trend_cluster_interval_is_wider_when_accounts_differ():
    # half the accounts all promoters, half all detractors: respondents are not independent
    r = responses_frame({f"A{i}": [10 if i % 2 else 0] * 20 for i in range(20)})
    t = comparisons.nps_trend(r, n_boot=1000).iloc[0]
    assert (t["cluster_high"] - t["cluster_low"]) > 2 * (t["ci_high"] - t["ci_low"])


def test_nps_plots_draw_what_they_say():
    r = responses_frame({"A": [10] * 10, "B": [0, 10] * 5, "C": [5] * 10})
    table = comparisons.nps_vs_portfolio(r)
    ax = plots.plot_nps_distribution(table, portfolio=0.0)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["C (n=10)", "B (n=10)", "A (n=10)"]  # sorted by NPS
    assert len(ax.containers) == 3  # above, below, not distinguishable
    assert len(ax.lines) >= 1
    r2 = pd.concat([r, r.assign(wave="2026Q4")])
    tr = comparisons.nps_trend(r2, n_boot=100)
    ax2 = plots.plot_nps_trend(tr)
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["2026Q3\nn = 30", "2026Q4\nn = 30"]
    assert len(ax2.collections) == 1  # the interval band
    assert [t.get_text() for t in ax2.texts] == ["0", "0"]  # 15 promoters, 15 detractors in each wave


def test_headline_counts_and_nps():
    r = pd.concat([responses_frame({"A": [10] * 6, "B": [0] * 4}),
                   responses_frame({"A": [9] * 5}, side="staff"),
                   responses_frame({"A": [3] * 3}, wave="2026Q2")])
    acc = pd.DataFrame({"account_id": ["A", "B", "C"], "status": ["active", "renewed", "churned"]})
    h = summary.headline(r, acc, wave="2026Q3", n_boot=200).set_index("measure")
    assert h.loc["accounts in the portfolio", "value"] == 3
    assert h.loc["accounts with client answers", "value"] == 2
    assert h.loc["client respondents", "value"] == 10 and h.loc["team respondents", "value"] == 5
    assert h.loc["accounts with ≥ 5 team answers", "value"] == 1
    assert summary.headline(r, acc, wave="2026Q3", min_group_size=6, n_boot=0).set_index("measure").loc[
        "accounts with ≥ 6 team answers", "value"] == 0
    nps_row = h.loc["client NPS (−100…100)"]
    assert nps_row["value"] == pytest.approx(20) and nps_row["n"] == 10
    assert nps_row["ci_low"] <= 20 <= nps_row["ci_high"]


# ---------------------------------------------------------------------------
# Change and celebrate
# ---------------------------------------------------------------------------
def test_score_change_by_hand():
    before = scores_frame({("A", "care"): [3, 3, 4, 3, 3], ("B", "care"): [4, 4, 3, 4, 4]}, wave="2026Q2")
    after = scores_frame({("A", "care"): [5, 5, 4, 5, 5], ("B", "care"): [4, 3, 4, 4, 4]}, wave="2026Q3")
    ch = comparisons.score_change(pd.concat([before, after]), wave_from="2026Q2", wave_to="2026Q3").set_index("account_id")
    ref = stats.ttest_ind([5, 5, 4, 5, 5], [3, 3, 4, 3, 3], equal_var=False)
    assert ch.loc["A", "change"] == pytest.approx(1.6)
    assert ch.loc["A", "p_val"] == pytest.approx(ref.pvalue)
    np.testing.assert_allclose(ch["p_fdr"], bh(ch["p_val"]))
    assert ch.loc["A", "significant"] and not ch.loc["B", "significant"]


def _celebrate_portfolio():
    rng = np.random.default_rng(7)
    sc, rs = [], []
    for w in ("2026Q2", "2026Q3"):
        cells, npss = {}, {}
        for i in range(8):
            acc = f"A{i}"
            lift = 1.2 if (acc == "A0" and w == "2026Q3") else 0.0
            cells[(acc, "care")] = list(np.clip(rng.normal(3.4 + lift, 0.4, 10), 1, 5))
            npss[acc] = list(rng.integers(9, 11, 10)) if (acc == "A0" and w == "2026Q3") else list(
                rng.integers(4, 10, 10))
        sc.append(scores_frame(cells, wave=w))
        rs.append(responses_frame(npss, wave=w))
    return pd.concat(sc), pd.concat(rs)


def test_celebrate_finds_the_planted_improvement_with_evidence():
    sc, rs = _celebrate_portfolio()
    acc = pd.DataFrame({"account_id": [f"A{i}" for i in range(8)], "name": [f"Oy <{i}> & Co" for i in range(8)]})
    ev = celebrations.celebrate(sc, rs, wave="2026Q3", accounts=acc)
    a0 = ev[ev["account_id"] == "A0"]
    assert {"NPS up", "score up", "NPS above portfolio", "score above portfolio"} <= set(a0["evidence"])
    assert (a0["ci_low"] > 0).all() and (a0["p_fdr"] <= 0.05).all() and (a0["n"] == 10).all()
    assert a0["name"].iloc[0] == "Oy <0> & Co"
    assert "Care" in a0.loc[a0["evidence"] == "score up", "detail"].iloc[0]
    assert ev["account_id"].iloc[0] == "A0"  # most evidence first
    one = celebrations.celebrate(sc, rs, wave="2026Q3", by_account=True)
    assert one.set_index("account_id").loc["A0", "improved"] and one["account_id"].is_unique


def test_celebrate_empty_and_first_wave():
    sc = scores_frame({("A", "care"): [3, 4, 3], ("B", "care"): [3, 4, 4]})
    rs = responses_frame({"A": [7, 8, 7], "B": [8, 7, 8]})
    ev = celebrations.celebrate(sc, rs, wave="2026Q3")
    assert ev.empty and {"account_id", "evidence", "estimate", "ci_low", "ci_high", "n", "detail"} <= set(ev)
    assert celebrations.celebrate(sc, rs, wave="2026Q3", by_account=True).empty


def test_unknown_wave_is_named_not_shown_as_an_empty_portfolio():
    sc, rs = _celebrate_portfolio()
    acc = pd.DataFrame({"account_id": [f"A{i}" for i in range(8)], "status": "active"})
    with pytest.raises(ValueError, match=r"\['2026Q4'\].*'2026Q2', '2026Q3'"):
        summary.headline(rs, acc, wave="2026Q4", n_boot=0)
    with pytest.raises(ValueError, match="2026Q4"):
        celebrations.celebrate(sc, rs, wave="2026Q4")
    with pytest.raises(ValueError, match="2025Q1"):
        celebrations.celebrate(sc, rs, wave="2026Q3", previous="2025Q1")


def test_methods_table_lists_hash_versions_and_parameters(sample_store):
    m = tables.methods_table(store=sample_store, parameters={"wave": "2026Q3", "store": ""}).set_index("item")
    assert len(m.loc["data hash", "value"]) == 16
    assert m.loc["parameter store", "value"] == "(default)"
    assert {"pandas", "statsmodels", "flamekit"} <= set(m.index)


# ---------------------------------------------------------------------------
# Accounts at risk
# ---------------------------------------------------------------------------
def account_rows(status: list[str], care: list[float], *, value: float = 100_000.0) -> pd.DataFrame:
    """An account_table-shaped frame: churn goes with low client Care."""
    n = len(status)
    dims = INST.dimension_ids
    tab = pd.DataFrame({"account_id": [f"A{i:02d}" for i in range(n)], "name": [f"Oy {i} & Co" for i in range(n)],
                        "status": status, "renewal_date": pd.Timestamp("2027-01-01"),
                        "n_client": 12, "n_staff": 6, "annual_value": value})
    tab["outcome_known"] = tab["status"].isin(["renewed", "churned"])
    tab["churned"] = np.where(tab["status"] == "churned", 1.0, np.where(tab["status"] == "renewed", 0.0, np.nan))
    tab["client_nps"] = 10.0
    for d in dims:
        tab[f"client_{d}"] = 3.5
        tab[f"gap_{d}"] = -0.2
    tab["client_care"] = care
    return tab


def test_at_risk_lists_only_active_accounts_trained_on_known_outcomes():
    rng = np.random.default_rng(5)
    known_care = np.r_[rng.normal(3.0, 0.3, 8), rng.normal(4.0, 0.3, 16)]
    status = ["churned"] * 8 + ["renewed"] * 16 + ["active"] * 4
    care = list(known_care) + [2.8, 3.4, 3.9, np.nan]
    tab = account_rows(status, care)
    out = risk.accounts_at_risk(tab, predictors=["client_care"])
    assert set(out["account_id"]) == {"A24", "A25", "A26", "A27"}
    assert out["account_id"].iloc[0] == "A24"  # lowest Care, highest risk
    assert out["risk_rank"].tolist()[:3] == [1.0, 2.0, 3.0]
    finite = out.dropna(subset=["p_churn"])
    assert len(finite) == 3 and np.isnan(out.set_index("account_id").loc["A27", "p_churn"])  # a missing score
    assert ((finite["ci_low"] <= finite["p_churn"]) & (finite["p_churn"] <= finite["ci_high"])).all()
    assert finite["p_churn"].is_monotonic_decreasing
    np.testing.assert_allclose(finite["value_at_risk"], finite["p_churn"] * 100_000)
    assert "Care" in out["drivers"].iloc[0]
    assert out.attrs["n_known"] == 24 and out.attrs["n_events"] == 8 and out.attrs["n_active"] == 4
    # the model never saw the active accounts' (unknown) outcome: changing it changes nothing
    other = tab.assign(churned=np.where(tab["status"] == "active", 1.0, tab["churned"]))
    again = risk.accounts_at_risk(other, predictors=["client_care"])
    np.testing.assert_allclose(again["p_churn"], out["p_churn"])


@pytest.mark.parametrize("status,expected", [
    (["renewed", "renewed", "active"], "None of the 2 accounts with a known outcome churned"),
    (["churned", "renewed", "active"], "Only 1 churned and 1 renewed"),
    (["active", "active", "active"], "No account has a known outcome"),
    (["renewed"] * 11 + ["active"], "None of the 11"),
    (["churned"] + ["renewed"] * 10 + ["active"] * 2, "Only 1 churned and 10 renewed"),
])
def test_at_risk_degenerate_portfolios_warn_and_do_not_crash(status, expected):
    tab = account_rows(status, list(np.linspace(2.5, 4.5, len(status))))
    with pytest.warns(risk.PortfolioWarning, match=expected):
        out = risk.accounts_at_risk(tab, predictors=["client_care"])
    assert set(out["account_id"]) == set(tab.loc[tab["status"] == "active", "account_id"])
    assert expected in " ".join(out.attrs["warnings"])
    assert out.attrs["summary"]
    assert out["p_churn"].isna().all() or out["p_churn"].between(0, 1).all()


def test_at_risk_with_no_active_account_warns():
    tab = account_rows(["churned"] * 6 + ["renewed"] * 6, list(np.linspace(2.5, 4.5, 12)))
    with pytest.warns(risk.PortfolioWarning, match="No account is active"):
        out = risk.accounts_at_risk(tab, predictors=["client_care"])
    assert out.empty and "p_churn" in out


def test_at_risk_says_how_many_answers_the_renewal_rule_left_out():
    tab = account_rows(["churned"] * 6 + ["renewed"] * 6 + ["active"], list(np.linspace(2.5, 4.5, 13)))
    tab.attrs.update(n_after_renewal=7, n_no_answers_before_renewal=2)
    with pytest.warns(risk.PortfolioWarning, match="7 answer"):
        out = risk.accounts_at_risk(tab, predictors=["client_care"])
    assert any("before each decision" in m and "2 decided account(s)" in m for m in out.attrs["warnings"])


def test_at_risk_end_to_end_on_a_small_simulated_portfolio():
    """Three accounts from the simulator through models.account_table: a clear warning, no crash."""
    from helpers.data.sample import simulate
    from helpers.stats import model_data

    sim = simulate(seed=3, n_accounts=3, waves=("2026Q3",))
    accounts = sim.accounts.assign(status=["renewed", "churned", "active"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        table = model_data.account_table(model_data.answers_from_wide(sim.responses), sim.responses, accounts)
    with pytest.warns(risk.PortfolioWarning, match="Only 1 churned and 1 renewed"):
        out = risk.accounts_at_risk(table)
    assert out["account_id"].tolist() == ["A003"]
    assert out.attrs["warnings"]


def test_risk_signals_collect_corrected_shortfalls_blind_spots_and_low_nps():
    heat = comparisons.dimension_heatmap(scores_frame(HEAT_CELLS))
    sc = _two_sided({"A": 8, "B": 6, "C": 3})
    gaps = comparisons.gap_map(sc)
    nps_tab = comparisons.nps_vs_portfolio(responses_frame({"A": [10] * 10, "B": [0, 10] * 5, "C": [5] * 10}))
    sig = risk.risk_signals(heat, gaps, nps_tab, language="fi").set_index("account_id")
    below = heat.loc[heat["direction"] == "below", "account_id"]
    assert set(below) <= set(sig.index)
    assert "sokea piste, Välittäminen: asiakas 3,2, tiimi 4,8 (n = 12/8)" in sig.loc["A", "signals"]  # planted
    assert sig.loc["C", "signals"] == "NPS −100, muu salkku +50 (n = 10)"
    english = risk.risk_signals(heat, gaps, nps_tab).set_index("account_id")
    assert "blind spot on Care: client 3.2, team 4.8 (n = 12/8)" in english.loc["A", "signals"]
    assert english["n_signals"].equals(sig["n_signals"])
    assert (sig["n_signals"] >= 1).all()
    assert "C" not in set(gaps.loc[gaps["significant"], "account_id"])  # team of 3 never signals
    empty = risk.risk_signals(heat.assign(direction=""))
    assert empty.empty and list(empty.columns) == ["account_id", "n_signals", "signals"]


def test_baseline_verdict_says_better_only_with_evidence():
    def cv(model_auc, lo, brier_m):
        return pd.DataFrame({
            "model": ["model", "model", "baseline", "baseline"], "metric": ["auc", "brier"] * 2,
            "estimate": [model_auc, brier_m, 0.6, 0.2], "ci_low": [lo, 0.1, 0.45, 0.15],
            "ci_high": [0.95, 0.3, 0.75, 0.25], "n": 40, "n_events": 12})
    assert "better than NPS alone." in risk.baseline_verdict(cv(0.85, 0.7, 0.15))
    assert "no clear evidence" in risk.baseline_verdict(cv(0.7, 0.55, 0.15))
    assert "no clear evidence" in risk.baseline_verdict(cv(0.85, 0.7, 0.25))
    assert "could not" in risk.baseline_verdict(pd.DataFrame())


def test_notes_markdown_escapes_and_skips_empty():
    assert tables.notes_markdown([]) is None
    md = tables.notes_markdown(["a <b> & c", "a <b> & c", ""], heading="Read with care")
    assert md.data.count("- ") == 1 and "&lt;b&gt; &amp; c" in md.data and md.data.startswith("**Read")


def test_display_table_escapes_and_labels():
    t = pd.DataFrame({"name": ["Metsä & Meri <Oy>"], "dimension": ["care"], "mean": [3.14159]})
    html = tables.display_table(t, language="fi", uuid="t1").to_html()
    assert "Metsä &amp; Meri &lt;Oy&gt;" in html and "Välittäminen" in html and "3.14" in html
    assert "3.1416" not in html and "T_t1" in html


def test_escaped_styler_escapes_cells_and_headers_and_aligns_text_left():
    t = pd.DataFrame({"Nimi <b>": ["Metsä & Meri <Oy>"], "n": ["12"]})
    html = tables.escaped_styler(t, left=["Nimi <b>"], uuid="t2").to_html()
    assert "Metsä &amp; Meri &lt;Oy&gt;" in html and "Nimi &lt;b&gt;" in html and "<b>" not in html
    assert "T_t2" in html and "text-align: left" in html and "row0_col0" in html
    assert 'class="row_heading' not in html  # no index column


def test_language_is_checked_the_same_way_everywhere():
    from helpers.report import comments as cm
    from helpers.report.account import plots as account_plots
    from helpers.report.formatting import check_language

    assert check_language("fi") == "fi"
    for call in (lambda: check_language("sv"),
                 lambda: cm.comments_table(pd.DataFrame({"comment": ["x"]}), language="sv"),
                 lambda: account_plots.trend_plot(pd.DataFrame({"wave": ["W1"], "dimension": ["care"],
                                                                "mean": [3.0]}), language="sv")):
        with pytest.raises(ValueError, match=r"language must be one of \['en', 'fi'\], not 'sv'"):
            call()


def test_hidden_staff_cells_are_not_part_of_the_multiple_test_family():
    big = {(f"A{i}", "care"): list(np.linspace(3.0 + i / 10, 4.0 + i / 10, 6)) for i in range(4)}
    small = {("S", "care"): [1.0, 1.0, 1.2]}  # would be a striking, tiny p-value
    with_small = comparisons.dimension_heatmap(scores_frame({**big, **small}, side="staff"), side="staff")
    without = comparisons.dimension_heatmap(scores_frame(big, side="staff"), side="staff")
    a = with_small[with_small["account_id"] != "S"].reset_index(drop=True)
    np.testing.assert_allclose(a["p_fdr"], without["p_fdr"])
    np.testing.assert_allclose(a["rest_mean"], without["rest_mean"])


# ---------------------------------------------------------------------------
# The drivers page
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def small_portfolio():
    """A simulated portfolio in store shape: answers, responses, accounts (30 accounts, four waves)."""
    from helpers.data.sample import simulate
    from helpers.stats.model_data import answers_from_wide

    sim = simulate(seed=5, n_accounts=30)
    return answers_from_wide(sim.responses), sim.responses, sim.accounts


def test_term_label_reads_the_instrument():
    assert fitting.term_label("care") == "Care"
    assert fitting.term_label("gap_care") == "Care (gap, client − team)"
    assert fitting.term_label("staff_impact", language="fi") == "Vaikutus (tiimi)"
    assert fitting.term_label("client_dare", language="fi") == "Uskallus (asiakas)"
    assert fitting.term_label("threshold 1|2") == "threshold 1|2" and fitting.term_label("sd(account_id)") == "sd(account id)"
    labelled = sections.label_terms(pd.DataFrame({"term": ["care", "gap_dare"], "label": ["x", "y"]}))
    assert labelled["term"].tolist() == ["Care", "Dare (gap, client − team)"] and labelled["label"].equals(
        labelled["term"])


@pytest.mark.parametrize("outcome,side,level,predictors", [
    ("nps", "client", "respondent", ["excitement", "dare", "professionalism", "impact", "care"]),
    ("nps", "staff", "respondent", ["excitement", "dare", "professionalism", "impact", "care"]),
    ("nps", "both", "respondent", ["care", "staff_care"]),
    ("retention", "client", "account", ["client_care"]),
    ("retention", "staff", "account", ["staff_care"]),
    ("retention", "both", "account", ["client_care", "gap_care"]),
])
def test_driver_setup_for_each_outcome_and_side(small_portfolio, outcome, side, level, predictors):
    answers, responses, accounts = small_portfolio
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        setup = drivers_setup.driver_setup(answers, responses, accounts, outcome=outcome, side=side)
    assert setup.level == level and set(predictors) <= set(setup.predictors)
    assert set(setup.predictors) <= set(setup.data.columns) and setup.outcome in setup.data
    assert setup.description and len(setup.table) == 30
    if outcome == "nps":
        expected_side = "staff" if side == "staff" else "client"
        assert (setup.data["side"] == expected_side).all() and setup.cluster == "account_id"
    else:
        assert setup.data["outcome_known"].all() and set(setup.data["churned"].unique()) <= {0.0, 1.0}
        assert setup.cluster is None
    if side != "client" and outcome == "retention":
        # team means of small pooled groups are blanked before any model sees them
        small = setup.table["n_staff"] < 5
        assert setup.table.loc[small, [f"staff_{d}" for d in INST.dimension_ids]].isna().all().all()


def test_driver_setup_rejects_unknown_parameters(small_portfolio):
    answers, responses, accounts = small_portfolio
    with pytest.raises(ValueError, match="outcome must be one of"):
        drivers_setup.driver_setup(answers, responses, accounts, outcome="renewal")
    with pytest.raises(ValueError, match="side must be one of"):
        drivers_setup.driver_setup(answers, responses, accounts, side="team")


def test_driver_models_importance_and_baseline(small_portfolio):
    answers, responses, accounts = small_portfolio
    setup = drivers_setup.driver_setup(answers, responses, accounts, outcome="nps", side="client")
    fits = sections.driver_models(setup)
    assert list(fits) == ["OLS, clustered by account", "ordinal logit", "mixed model, random account intercept"]
    ols = fits["OLS, clustered by account"].set_index("term")
    assert ols.loc["care", "ci_low"] > 0 and ols.loc["care", "coef"] > ols.loc["dare", "coef"]  # planted driver
    imp = sections.driver_importance(setup, n_boot=50)
    assert imp.sort_values("rank")["term"].iloc[0] == "care" and imp["share"].sum() == pytest.approx(1)
    assert imp.attrs["bootstrap"] is not None
    assert sections.baseline_comparison(setup).attrs["not_applicable"]
    assert "applies to the retention models" in risk.baseline_verdict(sections.baseline_comparison(setup))
    ipa = sections.driver_ipa(setup, imp, language="fi")
    assert "Välittäminen" in set(ipa["label"]) and ipa["quadrant"].notna().all()
    assert ipa["outcome"].eq("nps").all()  # the chart's axis names the outcome (tests/test_drivers.py)


def test_retention_models_and_baseline_on_known_outcomes(small_portfolio):
    answers, responses, accounts = small_portfolio
    setup = drivers_setup.driver_setup(answers, responses, accounts, outcome="retention", side="client")
    fits = sections.driver_models(setup)
    assert list(fits) == ["logistic", "Cox"]
    n_known = int(setup.table["outcome_known"].sum())
    assert fits["logistic"]["n"].iloc[0] <= n_known < fits["Cox"]["n"].iloc[0]  # Cox keeps active accounts
    assert all(isinstance(f.attrs["warnings"], list) for f in fits.values())
    cv = sections.baseline_comparison(setup, repeats=3)
    assert set(cv["model"]) == {"model", "baseline"} and "NPS alone" in risk.baseline_verdict(cv)
    assert drivers_plots.plot_model_check(setup, baseline=cv) is not None


def test_congruence_summary_corrects_within_each_outcome(small_portfolio):
    answers, responses, accounts = small_portfolio
    setup = drivers_setup.driver_setup(answers, responses, accounts, outcome="retention", side="both")
    summary = sections.congruence_summary(setup.table, outcomes=("churned", "client_nps_mean"))
    assert set(summary["term"]) == {"a1", "a2", "a3", "a4"}
    for _, grp in summary.groupby("outcome"):
        ok = grp["p_val"].notna()
        np.testing.assert_allclose(grp.loc[ok, "p_fdr"], bh(grp.loc[ok, "p_val"]))
    verdict = sections.congruence_verdict(summary)
    assert len(verdict) == 2 and verdict[0].startswith("Churn (")
    ax = drivers_plots.plot_congruence(setup.table, summary)
    # one point per account with a team mean (small teams are blanked, not drawn)
    d = INST.dimension_ids[0]
    shown = setup.table[setup.table["outcome_known"]].dropna(subset=[f"client_{d}", f"staff_{d}"])
    assert 0 < len(shown) < setup.table["outcome_known"].sum()
    assert len(ax.collections[-1].get_offsets()) == len(shown)


def test_display_table_formats_p_values_and_dates():
    t = pd.DataFrame({"term": ["gap_care"], "p_val": [1e-9], "p_fdr": [0.01234],
                      "renewal_date": pd.to_datetime(["2027-01-01"])})
    html = tables.display_table(t).to_html()
    assert "&lt;0.001" in html and "0.012" in html and "2027-01-01" in html and "00:00:00" not in html
    assert "Care (gap, client − team)" in html
    head = sections.model_heading("OLS <x>", pd.DataFrame({"estimator": ["ols"], "n": [10], "n_groups": [3],
                                                     "n_events": [np.nan]}))
    assert head.data.startswith("**OLS &lt;x&gt;**") and "accounts = 3" in head.data


def test_waves_are_ordered_like_the_store_not_by_label():
    r = pd.concat([responses_frame({"A": [10, 9], "B": [3, 8]}, wave=w).assign(submitted_at=pd.Timestamp(t))
                   for w, t in (("W10", "2026-06-01"), ("W9", "2026-03-01"), ("Syksy", "2026-09-01"))])
    assert comparisons.nps_trend(r, n_boot=0)["wave"].tolist() == ["W9", "W10", "Syksy"]
    sc = pd.concat([scores_frame({("A", "care"): [3, 3, 3, 3, 3.5]}, wave="W9"),
                    scores_frame({("A", "care"): [4, 4.5, 4, 4.5, 4]}, wave="W10")])
    ev = celebrations.celebrate(sc, r[r["wave"] != "Syksy"], wave="W10")
    assert "from W9 to W10" in " ".join(ev["detail"]) or ev.empty


# ---------------------------------------------------------------------------
# Honest at the edges: the at-risk ranking and a selective celebrate list
# ---------------------------------------------------------------------------
def _active_table() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": ["A", "B", "C", "D"], "name": list("ABCD"), "status": "active", "outcome_known": False,
        "churned": np.nan, "n_client": [40, 40, 40, 40], "n_staff": 8,
        "renewal_date": ["2027-06-01", "2027-01-15", "2027-03-01", "2027-01-15"],
        "annual_value": [100_000, 50_000, 80_000, 200_000]})


def test_at_risk_is_ranked_by_the_stated_rule_when_the_model_is_not_better():
    signals = pd.DataFrame({"account_id": ["C"], "n_signals": [2], "signals": ["Care below the rest"]})
    current = pd.DataFrame({"account_id": ["A", "B", "C", "D"], "nps": [10.0, -20.0, 30.0, -20.0],
                            "nps_change": [0.0, -15.0, 5.0, -15.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", risk.PortfolioWarning)
        out = risk.accounts_at_risk(_active_table(), signals=signals, current=current, today="2026-12-01")
    # C has the signals; then B and D share the lowest NPS and fall and renew on the same day: D is bigger
    assert out["account_id"].tolist() == ["C", "D", "B", "A"] and out["risk_rank"].tolist() == [1, 2, 3, 4]
    assert out.attrs["ranking"] == "rule" and "warning signals" in out.attrs["rule"]
    assert out.loc[out["account_id"] == "B", "days_to_renewal"].iloc[0] == 45


def test_ranking_decision_needs_credible_evidence_against_nps_alone():
    def cv(lo, hi):
        return pd.DataFrame({"model": ["model", "baseline", "difference"], "metric": "auc",
                             "estimate": [0.70, 0.62, 0.08], "ci_low": [0.6, 0.5, lo], "ci_high": [0.8, 0.74, hi]})
    ok, why = risk.ranking_decision(cv(0.01, 0.15))
    assert ok and "credibly better" in why
    no, why = risk.ranking_decision(cv(-0.05, 0.21))
    assert not no and "not yet better than NPS alone" in why and "warning signals" in why
    assert risk.ranking_decision(None) == (False, risk.ranking_decision(pd.DataFrame())[1])
    # the sample: AUC 0.50 for the model against 0.61 for NPS alone never ranks
    old = pd.DataFrame({"model": ["model", "baseline"], "metric": "auc", "estimate": [0.50, 0.61],
                        "ci_low": [0.35, 0.48], "ci_high": [0.65, 0.74]})
    assert not risk.ranking_decision(old)[0]


def test_celebrate_is_a_short_list_of_sizeable_clear_evidence_and_names_accounts_also_at_risk():
    sc, rs = _celebrate_portfolio()
    at_risk = pd.DataFrame({"account_id": ["A0"], "signals": ["blind spot on Care"]})
    short = celebrations.celebrate(sc, rs, wave="2026Q3", by_account=True, top=1, at_risk=at_risk)
    assert short["account_id"].tolist() == ["A0"] and short.attrs["n_more"] >= 0
    assert short.loc[0, "also_at_risk"] == "blind spot on Care"
    # a rise that passes the test but is smaller than the step that matters is not celebrated
    small = celebrations.celebrate(sc, rs, wave="2026Q3", min_score_step=5.0, min_nps_step=500)
    assert small.empty


def test_ranking_decision_prefers_deLong_paired_comparison_from_retention_cv():
    # unpaired intervals overlap (would not rank), but the paired difference is credibly above 0
    cv = pd.DataFrame({"model": ["model", "baseline"], "metric": "auc", "estimate": [0.72, 0.66],
                       "ci_low": [0.62, 0.55], "ci_high": [0.82, 0.77]})
    cv.attrs["auc_difference"] = {"difference": 0.06, "ci_low": 0.02, "ci_high": 0.10, "model_better": True}
    ok, why = risk.ranking_decision(cv)
    assert ok and "DeLong" in why and "+0.06" in why
    cv.attrs["auc_difference"] = {"difference": 0.06, "ci_low": -0.01, "ci_high": 0.13, "model_better": False}
    assert not risk.ranking_decision(cv)[0]


# ---------------------------------------------------------------------------
# The same results in the page's language
# ---------------------------------------------------------------------------
def test_current_nps_holds_back_a_change_only_for_the_clients_own_held_back_nps():
    r = pd.concat([responses_frame({"A": [10] * 6 + [0] * 2, "B": [8] * 8}, wave="2026Q2"),
                   responses_frame({"A": [10] * 8, "B": [0] * 8}, wave="2026Q3")])
    acc = comparisons.nps_vs_portfolio(r[r["wave"] == "2026Q3"])
    team_held = pd.DataFrame({"account_id": ["A"], "side": ["staff"], "wave": ["2026Q2"], "dimension": ["nps"]})
    out = risk.current_nps(acc, r, wave="2026Q3", previous="2026Q2", withheld=team_held).set_index("account_id")
    assert out.loc["A", "nps_change"] == pytest.approx(100 - 50) and out.loc["B", "nps_change"] == -100
    client_held = team_held.assign(side="client")
    out = risk.current_nps(acc, r, wave="2026Q3", previous="2026Q2", withheld=client_held).set_index("account_id")
    assert np.isnan(out.loc["A", "nps_change"]) and out.loc["B", "nps_change"] == -100
    no_side = team_held.drop(columns="side")  # a frame without sides counts every row, as before
    assert np.isnan(risk.current_nps(acc, r, wave="2026Q3", previous="2026Q2", withheld=no_side).set_index(
        "account_id").loc["A", "nps_change"])


def test_warning_signs_are_tidy_and_include_a_clear_fall():
    heat = comparisons.dimension_heatmap(scores_frame(HEAT_CELLS))
    changes = pd.DataFrame({"account_id": ["B", "C"], "change": [-40.0, -30.0], "significant": [True, False],
                            "n_from": [20, 20], "n_to": [18, 18]})
    signs = risk.warning_signs(heat, changes=changes, previous="2026Q2", language="fi")
    assert list(signs.columns) == ["account_id", "sign", "dimension", "value", "text"]
    fall = signs[signs["sign"] == "nps fall"]
    assert fall["account_id"].tolist() == ["B"] and fall["value"].tolist() == [-40.0]
    assert fall["text"].iloc[0] == "NPS laskenut 40 pistettä kierroksen 2026Q2 jälkeen (n = 20 → 18)"
    below = signs[signs["sign"] == "dimension below"]
    assert set(below["account_id"]) == set(heat.loc[heat["direction"] == "below", "account_id"])
    # risk_signals (the at-risk rule's count) does not count the fall
    assert "laskenut" not in " ".join(risk.risk_signals(heat, language="fi")["signals"])


def test_ranking_and_verdict_in_finnish_keep_their_numbers():
    cv = pd.DataFrame({"model": ["model", "model", "baseline", "baseline"], "metric": ["auc", "brier"] * 2,
                       "estimate": [0.5, 0.29, 0.61, 0.22], "ci_low": [0.31, 0.2, 0.42, 0.16],
                       "ci_high": [0.70, 0.39, 0.80, 0.28], "n": 39, "n_events": 13})
    cv.attrs["auc_difference"] = {"difference": -0.11, "ci_low": -0.34, "ci_high": 0.12}
    ok, why = risk.ranking_decision(cv, language="fi")
    assert not ok and "−0,11 [−0,34, +0,12]" in why and "DeLongin parivertailu" in why and risk.rule("fi") in why
    verdict = risk.baseline_verdict(cv, language="fi")
    assert "mallin AUC 0,50 [0,31, 0,70], pelkän NPS:n 0,61 [0,42, 0,80]" in verdict and "Ei ole selvää" in verdict
    assert risk.RULE == risk.rule("en") and "warning signals" in risk.RULE


def test_headline_and_celebrate_in_finnish():
    r = pd.concat([responses_frame({"A": [10] * 6, "B": [0] * 4}), responses_frame({"A": [9] * 5}, side="staff")])
    acc = pd.DataFrame({"account_id": ["A", "B", "C"], "status": ["active", "renewed", "churned"]})
    h = summary.headline(r, acc, wave="2026Q3", n_boot=0, language="fi").set_index("key")
    assert h.loc["with_team_view", "measure"] == "asiakkuuksia, joissa vähintään 5 tiimin vastausta"
    assert h.loc["accounts", "note"] == "auki 1, jatkui 1, päättyi 1"
    sc, rs = _celebrate_portfolio()
    ev = celebrations.celebrate(sc, rs, wave="2026Q3", language="fi")
    a0 = ev[(ev["account_id"] == "A0") & (ev["evidence"] == "score up")]["detail"].iloc[0]
    assert a0.startswith("Välittäminen ") and "kierroksesta 2026Q2 kierrokseen 2026Q3" in a0 and "," in a0
