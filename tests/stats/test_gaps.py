"""Perception gaps: Welch, Hedges' g and Benjamini–Hochberg against hand and published values; the label rule."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.data import store as st
from helpers.data.instrument import load_instrument
from helpers.stats import gaps as gp
from helpers.stats.scores import respondent_scores

DIMS = load_instrument().dimension_ids


def frame(client: dict[str, list[float]], staff: dict[str, list[float]], **extra) -> pd.DataFrame:
    """Respondent scores: one row per side × dimension × score."""
    rows = [{"side": side, "dimension": d, "score": v, **extra}
            for side, data in (("client", client), ("staff", staff)) for d, vals in data.items() for v in vals]
    return pd.DataFrame(rows)


# --- Welch and Hedges by hand -------------------------------------------------
def test_welch_test_matches_hand_calculation():
    # x = 4,5,4,5: mean 4.5, s² = 1/3; y = 3,4,3: mean 10/3, s² = 1/3.
    r = gp.welch_test([4, 5, 4, 5], [3, 4, 3])
    v1, v2 = (1 / 3) / 4, (1 / 3) / 3                       # s²/n per side
    se = np.sqrt(v1 + v2)                                    # √(0.19444) = 0.44096
    df = (v1 + v2) ** 2 / (v1**2 / 3 + v2**2 / 2)            # 4.4545
    assert r["diff"] == pytest.approx(7 / 6)
    assert r["se"] == pytest.approx(0.440959, abs=1e-6)
    assert r["df"] == pytest.approx(4.454545, abs=1e-6)
    assert r["t"] == pytest.approx((7 / 6) / se)
    assert r["t"] == pytest.approx(2.645751, abs=1e-6)
    half = stats.t.ppf(0.975, df) * se
    assert r["ci_low"] == pytest.approx(7 / 6 - half)
    assert r["ci_high"] == pytest.approx(7 / 6 + half)
    # Hedges' g: s_p = √((3·⅓ + 2·⅓)/5) = √⅓; d = (7/6)/√⅓ = 2.0207; J = 1 − 3/19
    assert r["effect_size"] == pytest.approx((1 - 3 / 19) * (7 / 6) / np.sqrt(1 / 3))
    assert r["effect_size"] == pytest.approx(1.701664, abs=1e-6)


def test_welch_p_value_agrees_with_scipy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(3.5, 0.6, 12), rng.normal(4.0, 0.9, 7)
    r = gp.welch_test(x, y)
    ref = stats.ttest_ind(x, y, equal_var=False)
    assert r["t"] == pytest.approx(ref.statistic)
    assert r["p_val"] == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval(0.95)
    assert (r["ci_low"], r["ci_high"]) == pytest.approx((ci.low, ci.high))


def test_welch_test_without_enough_data_gives_nan():
    r = gp.welch_test([4.0], [3, 4, 5])
    assert r["n_x"] == 1 and np.isnan(r["p_val"]) and np.isnan(r["effect_size"])
    flat = gp.welch_test([4, 4, 4], [4, 4, 4])
    assert np.isnan(flat["p_val"]) and flat["diff"] == 0


def test_heatmap_and_welch_test_give_the_same_welch_test():
    """dimension_heatmap tests from summary statistics what welch_test tests from the samples."""
    from helpers.stats.comparisons import dimension_heatmap

    a, rest = [5, 4, 5, 4.5], [3, 2.5, 4, 3.5, 3, 2]
    s = pd.DataFrame({"account_id": ["A"] * 4 + ["B"] * 3 + ["C"] * 3, "dimension": "care", "score": a + rest})
    cell = dimension_heatmap(s, side=None, min_group_size=1).set_index("account_id").loc["A"]
    r = gp.welch_test(a, rest)
    for heat, welch in (("diff", "diff"), ("t", "t"), ("df", "df"), ("p_val", "p_val"), ("diff_low", "ci_low"),
                        ("diff_high", "ci_high")):
        assert cell[heat] == pytest.approx(r[welch], rel=1e-9)


# --- Benjamini–Hochberg ---------------------------------------------------------
BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719,
           0.6528, 0.7590, 1.0000]


def test_bh_reproduces_the_1995_paper_example():
    # Benjamini & Hochberg (1995), section 4: at q = 0.05 the first four hypotheses are rejected
    # (p_(4) = 0.0095 ≤ 4·0.05/15 = 0.0133, while p_(5) = 0.0201 > 5·0.05/15 = 0.0167 and no later one passes).
    adj = gp.benjamini_hochberg(BH_1995)
    assert (adj < 0.05).sum() == 4
    # adjusted p̃_(i) = min_{j ≥ i} 15·p_(j)/j, by hand:
    assert adj[0] == pytest.approx(0.0015)     # 15 · 0.0001 / 1
    assert adj[3] == pytest.approx(0.035625)   # 15 · 0.0095 / 4
    assert adj[4] == pytest.approx(0.0603)     # 15 · 0.0201 / 5 (smaller than every later ratio)
    assert adj[-1] == pytest.approx(1.0)


def test_bh_agrees_with_scipy_and_keeps_order_and_nan():
    rng = np.random.default_rng(7)
    p = rng.uniform(0, 0.2, 12)
    np.testing.assert_allclose(gp.benjamini_hochberg(p), stats.false_discovery_control(p, method="bh"))
    shuffled = np.array(BH_1995)[::-1]
    np.testing.assert_allclose(gp.benjamini_hochberg(shuffled), gp.benjamini_hochberg(BH_1995)[::-1])
    out = gp.benjamini_hochberg([0.01, np.nan, 0.04])
    assert np.isnan(out[1])
    assert out[[0, 2]] == pytest.approx([0.02, 0.04])  # the NaN is not a test: m = 2
    with pytest.raises(ValueError):
        gp.benjamini_hochberg([0.5, 1.5])


# --- the label rule ------------------------------------------------------------------
LOW = [2.7, 3.0, 3.3, 3.0, 2.7, 3.3, 3.0, 3.0]      # mean 3.0
HIGH = [4.0, 4.3, 4.7, 4.3, 4.0, 4.7, 4.3, 4.3]     # mean 4.325


def test_blind_spot_and_hidden_strength_are_clear():
    sc = frame({"care": LOW, "dare": HIGH}, {"care": HIGH, "dare": LOW})
    g = gp.perception_gaps(sc, by=()).set_index("dimension")
    assert g.loc["care", "label"] == gp.BLIND_SPOT and g.loc["care", "evidence"] == gp.CLEAR
    assert g.loc["care", "gap"] == pytest.approx(3.0 - 4.325)
    assert g.loc["dare", "label"] == gp.HIDDEN_STRENGTH and g.loc["dare", "evidence"] == gp.CLEAR
    assert g.loc["care", "effect_size"] < 0 < g.loc["dare", "effect_size"]
    assert list(g.index) == ["dare", "care"]  # instrument order


def test_aligned_strong_and_weak_with_equivalence():
    rng = np.random.default_rng(3)
    strong = list(np.clip(rng.normal(4.3, 0.3, 40), 1, 5))
    weak = list(np.clip(rng.normal(3.2, 0.3, 40), 1, 5))
    sc = frame({"professionalism": strong, "dare": weak}, {"professionalism": strong[::-1], "dare": weak[::-1]})
    g = gp.perception_gaps(sc, by=()).set_index("dimension")
    assert g.loc["professionalism", "label"] == gp.ALIGNED_STRONG
    assert g.loc["dare", "label"] == gp.ALIGNED_WEAK
    # identical samples: gap 0, CI well inside ±0.5 → alignment is "clear"
    assert (g["gap"].abs() < 1e-12).all() and (g["evidence"] == gp.CLEAR).all()


def test_wide_interval_without_gap_is_unclear():
    sc = frame({"care": [2, 5, 3, 4, 5, 2]}, {"care": [5, 2, 4, 3, 2, 5]})
    g = gp.perception_gaps(sc, by=())
    # no gap shown, but the interval is too wide to call the views aligned
    assert g["label"].iloc[0] == gp.NO_CLEAR_GAP
    assert g["evidence"].iloc[0] == gp.UNCLEAR


def test_gap_not_confirmed_after_bh_is_a_possible_gap():
    # one dimension with p ≈ 0.02 among five tests; the others show nothing: 5·p > 0.05 after BH.
    client = {d: [3.0, 3.5, 4.0, 3.5, 3.0, 4.0, 3.5, 3.5] for d in DIMS}
    staff = {d: [3.0, 3.5, 4.0, 3.5, 3.0, 4.0, 3.5, 3.5] for d in DIMS}
    staff["care"] = [3.5, 4.0, 4.5, 4.0, 3.5, 4.5, 4.0, 3.5]
    g = gp.perception_gaps(frame(client, staff), by=()).set_index("dimension")
    care = g.loc["care"]
    assert care["p_val"] < 0.05 <= care["p_fdr"]
    assert care["ci_high"] < 0  # the unadjusted CI excludes 0 ...
    # ... so the label says "possible blind spot", never "aligned" beside an interval that excludes 0
    assert care["label"] == gp.POSSIBLE_BLIND_SPOT and care["evidence"] == gp.POSSIBLE
    # the same test alone (a family of one) is a clear blind spot
    alone = gp.perception_gaps(frame({"care": client["care"]}, {"care": staff["care"]}), by=())
    assert alone["label"].iloc[0] == gp.BLIND_SPOT


def test_family_parameter_changes_the_adjustment():
    client = {d: LOW for d in ("care", "dare")}
    staff = {"care": HIGH, "dare": [3.1, 2.9, 3.4, 3.0, 2.8, 3.2, 3.1, 2.9]}
    sc = pd.concat([frame(client, staff, account_id="A"), frame(client, staff, account_id="B")])
    per_group = gp.perception_gaps(sc, by=("account_id",))
    everything = gp.perception_gaps(sc, by=("account_id",), family="all")
    manual = stats.false_discovery_control(per_group["p_val"].to_numpy(), method="bh")
    np.testing.assert_allclose(everything["p_fdr"], manual)
    for _, grp in per_group.groupby("account_id"):
        np.testing.assert_allclose(grp["p_fdr"], stats.false_discovery_control(grp["p_val"].to_numpy()))
    by_dim = gp.perception_gaps(sc, by=("account_id",), family=["dimension"])
    assert len(by_dim) == 4
    with pytest.raises(ValueError, match="family"):
        gp.perception_gaps(sc, by=("account_id",), family="wave")
    with pytest.raises(ValueError, match="family columns"):
        gp.perception_gaps(sc, by=("account_id",), family=["nope"])


def test_small_team_is_suppressed_and_blanked():
    sc = frame({"care": LOW}, {"care": HIGH[:4]})
    g = gp.perception_gaps(sc, by=()).iloc[0]
    assert bool(g["suppressed"]) and g["n_staff"] == 4
    assert g["evidence"] == gp.SUPPRESSED and g["label"] is None
    for col in ("staff_mean", "staff_sd", "gap", "se", "df", "t", "ci_low", "ci_high", "p_val", "p_fdr",
                "effect_size"):
        assert np.isnan(g[col]), col
    assert g["client_mean"] == pytest.approx(3.0)  # the client side stays


def test_small_client_group_is_hidden_and_not_labelled():
    sc = frame({"care": [2.0, 2.3, 2.0]}, {"care": HIGH})
    g = gp.perception_gaps(sc, by=()).iloc[0]
    # a big gap even with three clients is not over-claimed: below the client threshold it is hidden
    assert g["label"] is None and g["evidence"] == gp.SUPPRESSED and bool(g["suppressed"])
    assert np.isnan(g["client_mean"]) and np.isnan(g["gap"]) and np.isnan(g["p_val"]) and g["n_client"] == 3
    # with a client threshold of 1 (clients who agreed to be identified) it is tested, and one answer is too few
    shown = gp.perception_gaps(sc, by=(), min_client_group_size=1).iloc[0]
    assert shown["p_val"] < 0.05 and shown["label"] == gp.BLIND_SPOT
    lone = gp.perception_gaps(frame({"care": [3.0]}, {"care": HIGH}), by=(), min_client_group_size=1).iloc[0]
    assert lone["evidence"] == gp.TOO_FEW and np.isnan(lone["p_val"]) and lone["label"] is None


def test_no_test_when_one_side_gives_the_same_answer_every_time():
    """Four clients all answering 3 against a varied team: Welch would claim p < 0.001 from a zero variance."""
    sc = frame({"care": [3.0] * 6}, {"care": HIGH})
    g = gp.perception_gaps(sc, by=()).iloc[0]
    assert g["evidence"] == gp.NO_TEST and g["label"] is None
    assert np.isnan(g["p_val"]) and np.isnan(g["ci_low"]) and np.isfinite(g["gap"])
    # a real spread on both sides is tested as usual
    assert np.isfinite(gp.perception_gaps(frame({"care": LOW}, {"care": HIGH}), by=())["p_val"].iloc[0])


def test_min_group_size_is_a_parameter():
    sc = frame({"care": LOW}, {"care": HIGH[:4]})
    g = gp.perception_gaps(sc, by=(), min_group_size=3).iloc[0]
    assert not g["suppressed"] and np.isfinite(g["staff_mean"])


def test_thresholds_are_parameters():
    sc = frame({"care": [3.6, 3.8, 3.7, 3.9, 3.6, 3.8]}, {"care": [3.7, 3.8, 3.6, 3.9, 3.7, 3.8]})
    assert gp.perception_gaps(sc, by=())["label"].iloc[0] == gp.ALIGNED_WEAK
    assert gp.perception_gaps(sc, by=(), strong_at=3.5)["label"].iloc[0] == gp.ALIGNED_STRONG
    assert gp.perception_gaps(sc, by=(), margin=0.01)["evidence"].iloc[0] == gp.UNCLEAR


def test_columns_and_validation():
    g = gp.perception_gaps(frame({"care": LOW}, {"care": HIGH}, account_id="A", wave="W"))
    assert list(g.columns) == ["account_id", "wave", *gp.GAP_COLUMNS]
    with pytest.raises(ValueError, match="needs the columns"):
        gp.perception_gaps(pd.DataFrame({"side": ["client"], "score": [3.0]}), by=())
    with pytest.raises(ValueError, match="side"):
        gp.perception_gaps(pd.DataFrame({"side": ["boss"], "dimension": ["care"], "score": [3.0]}), by=())
    with pytest.raises(ValueError, match="between 0 and 1"):
        gp.perception_gaps(frame({"care": LOW}, {"care": HIGH}), by=(), fdr=5)


def test_planted_care_blind_spot_is_recovered(sample_store, tmp_path_factory):
    """Sample data: staff rate Care 0.25 higher everywhere, and 0.8 higher still in the planted accounts."""
    truth = json.loads((sample_store.parent / "exports" / "truth.json").read_text())
    planted = set(truth["blind_spot_accounts"])
    sc = respondent_scores(st.load_answers(store=sample_store))
    g = gp.perception_gaps(sc)
    care = g[(g["dimension"] == "care") & ~g["suppressed"]]
    blind = care[care["account_id"].isin(planted)]
    other = care[~care["account_id"].isin(planted)]
    assert len(blind) >= 5 and len(other) >= 30
    assert other["gap"].mean() == pytest.approx(-0.25, abs=0.15)
    assert blind["gap"].mean() - other["gap"].mean() == pytest.approx(-0.8, abs=0.3)
    assert (blind["label"] != gp.HIDDEN_STRENGTH).all()
    assert (care.loc[care["label"] == gp.BLIND_SPOT, "account_id"].isin(planted)).mean() >= 0.5
    assert set(g["label"].dropna()) <= set(gp.LABELS)
    assert set(g["evidence"]) <= set(gp.EVIDENCE)
