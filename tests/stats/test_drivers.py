"""Key-driver analysis: published values, independent brute force, planted effects, bootstrap, IPA."""

from __future__ import annotations

import doctest
import warnings
from itertools import permutations
from math import factorial
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from matplotlib.colors import to_rgb

from helpers.report import style
from helpers.report.drivers import plots
from helpers.stats import drivers, model_data
from helpers.stats.diagnostics import ModelWarning

DATA = Path(__file__).parents[1] / "fixtures" / "models"
DIMS = ["excitement", "dare", "professionalism", "impact", "care"]
ATTITUDE = ["complaints", "privileges", "learning", "raises", "critical", "advance"]


@pytest.fixture(scope="module")
def resp(simulation):
    return model_data.respondent_table(model_data.answers_from_wide(simulation.responses), simulation.responses)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        return fn(*args, **kwargs)


def _r2(y, x):
    x = np.column_stack([np.ones(len(y)), x])
    e = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    return 1 - e @ e / ((y - y.mean()) @ (y - y.mean()))


def test_docstring_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [doctest.testmod(m) for m in (drivers, plots)]
    assert sum(r.failed for r in results) == 0 and sum(r.attempted for r in results) > 5


def test_dominance_matches_dominanceanalysis_attitude():
    """R package dominanceanalysis README: lm(rating ~ ., attitude), average contributions (3 decimals)."""
    a = pd.read_csv(DATA / "attitude.csv")
    with pytest.warns(ModelWarning, match="Only 30 observations"):
        res = drivers.dominance(a, outcome="rating", predictors=ATTITUDE, cluster=None, n_boot=0).set_index("term")
    published = {"complaints": 0.371, "privileges": 0.051, "learning": 0.156, "raises": 0.120, "critical": 0.007,
                 "advance": 0.028}
    for t, v in published.items():
        assert res.loc[t, "estimate"] == pytest.approx(v, abs=6e-4)
    assert res["r2"].iloc[0] == pytest.approx(0.733, abs=6e-4)
    assert res.loc["complaints", "rank"] == 1 and res.loc["learning", "rank"] == 2
    cond = drivers.conditional_dominance(a, outcome="rating", predictors=ATTITUDE).set_index(["term", "k"])["increment"]
    assert cond[("complaints", 0)] == pytest.approx(0.681, abs=6e-4)  # R² of complaints alone
    assert cond[("complaints", 5)] == pytest.approx(0.733 - 0.564, abs=1.2e-3)  # last-entered increment
    comp = drivers.complete_dominance(a, outcome="rating", predictors=ATTITUDE).set_index(["term", "other"])["dominates"]
    assert all(comp[("complaints", o)] is True for o in ATTITUDE if o != "complaints")  # README: complete


def test_relative_weights_match_rwa_mtcars():
    """R package rwa README: rwa(mtcars, "mpg", c("cyl", "disp", "hp", "gear"))."""
    m = pd.read_csv(DATA / "mtcars.csv")
    with pytest.warns(ModelWarning, match="Only 32 observations"):
        res = drivers.relative_weights(m, outcome="mpg", predictors=["cyl", "disp", "hp", "gear"], cluster=None,
                                 n_boot=0).set_index("term")
    assert np.allclose(res.loc[["cyl", "disp", "hp", "gear"], "estimate"],
                       [0.2284797, 0.2221469, 0.2321744, 0.0963886], atol=1e-6)
    assert np.allclose(res.loc[["cyl", "disp", "hp", "gear"], "share"] * 100,
                       [29.32274, 28.50999, 29.79691, 12.37037], atol=1e-4)
    assert res["r2"].iloc[0] == pytest.approx(0.7791896, abs=1e-6)


def test_dominance_equals_shapley_by_brute_force(resp):
    """Average the R² increment of each predictor over all 4! orders of entry, each R² from a fresh lstsq."""
    d = resp.dropna()
    preds = ["dare", "professionalism", "impact", "care"]
    y = d["nps"].to_numpy()
    cache = {}

    def r2(s):
        key = frozenset(s)
        if key not in cache:
            cache[key] = _r2(y, d[list(s)].to_numpy()) if s else 0.0
        return cache[key]

    shap = dict.fromkeys(preds, 0.0)
    for order in permutations(preds):
        for i, p in enumerate(order):
            shap[p] += (r2(order[: i + 1]) - r2(order[:i])) / factorial(len(preds))
    res = drivers.dominance(d, predictors=preds, n_boot=0).set_index("term")
    for p in preds:
        assert res.loc[p, "estimate"] == pytest.approx(shap[p], abs=1e-10)
    assert res["r2"].iloc[0] == pytest.approx(r2(preds), abs=1e-10)


def test_relative_weights_sum_to_r2_and_agree_with_dominance(resp):
    d = resp.dropna()
    rw = drivers.relative_weights(d, n_boot=0)
    dom = drivers.dominance(d, n_boot=0)
    full = _r2(d["nps"].to_numpy(), d[DIMS].to_numpy())
    assert rw["estimate"].sum() == pytest.approx(full, abs=1e-10)
    assert dom["estimate"].sum() == pytest.approx(full, abs=1e-10)
    assert np.allclose(rw["estimate"], dom["estimate"], atol=0.01)  # Johnson (2000): a few hundredths at most


def test_planted_drivers_rank_first_and_second_stably(resp):
    """NPS was planted on care (1.5) and impact (1.0) only: care first, impact second in every resample."""
    with pytest.warns(ModelWarning, match="left out"):
        res = drivers.key_drivers(resp, n_boot=200, seed=1)
    r = res.set_index("term")
    assert r.loc["care", "rank"] == 1 and r.loc["impact", "rank"] == 2
    assert r.loc["care", "top_share"] >= 0.95 and r.loc["impact", "rank_share"] >= 0.95
    assert r.loc[["care", "impact"], "share"].sum() > 0.9
    assert (r["ci_low"] <= r["estimate"]).all() and (r["estimate"] <= r["ci_high"]).all()
    assert r["n_boot"].iloc[0] == 200 and r["n_clusters"].iloc[0] == resp["account_id"].nunique()
    assert r["n"].iloc[0] + r["n_dropped"].iloc[0] == len(resp)
    ranks = drivers.rank_stability(res)
    assert np.allclose(ranks.groupby("term")["share"].sum(), 1.0)
    assert np.allclose(ranks.groupby("rank")["share"].sum(), 1.0)
    assert ranks.query("term == 'care' and rank == 1")["share"].iloc[0] == r.loc["care", "top_share"]


def test_bootstrap_is_seeded_and_resamples_accounts(resp):
    d = resp.dropna()
    a = drivers.relative_weights(d, n_boot=50, seed=7)
    b = drivers.relative_weights(d, n_boot=50, seed=7)
    c = drivers.relative_weights(d, n_boot=50, seed=8)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["ci_low"], c["ci_low"])
    # resampling respondents ignores the clustering and gives narrower intervals than resampling accounts
    flat = drivers.relative_weights(d, n_boot=300, seed=7, cluster=None).set_index("term")
    clus = drivers.relative_weights(d, n_boot=300, seed=7).set_index("term")
    def width(r):
        return r.loc["care", "ci_high"] - r.loc["care", "ci_low"]

    assert width(flat) < width(clus)
    # one replicate by hand: resample accounts, recompute the weights from raw rows
    rng = np.random.default_rng(7)
    accts = d["account_id"].unique()
    w = rng.multinomial(len(accts), np.full(len(accts), 1 / len(accts)))
    rows = d.set_index("account_id").loc[np.repeat(pd.factorize(d["account_id"])[1], w)].reset_index()
    by_hand = drivers.relative_weights(rows, n_boot=0, cluster=None)["estimate"].to_numpy()
    assert np.allclose(pd.DataFrame(a.attrs["bootstrap"]).iloc[0].to_numpy(), by_hand, atol=1e-10)


def test_importance_performance_quadrants(resp):
    imp = pd.DataFrame({"term": ["care", "impact", "dare"], "share": [0.5, 0.4, 0.1],
                        "share_ci_low": [0.5, 0.2, 0.0], "share_ci_high": [0.7, 0.4, 0.2]})
    sc = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "care": [3.0, 3.2, 3.4, 3.4],
                       "impact": [4.5, 4.3, 4.2, 4.4], "dare": [4.0, 4.2, 4.0, 4.0]})
    port = drivers.importance_performance(imp, sc).set_index("term")
    # account means: care (3.1, 3.4) → 3.25; impact 4.4, 4.3 → 4.35; dare 4.1, 4.0 → 4.05; cut = mean = 3.883
    assert port.loc["care", "performance"] == pytest.approx(3.25)
    assert port["performance_cut"].iloc[0] == pytest.approx((3.25 + 4.35 + 4.05) / 3)
    assert port["quadrant"].to_dict() == {"care": "concentrate here", "impact": "keep up the good work",
                                          "dare": "possible overkill"}
    acc = drivers.importance_performance(imp, sc, account="B").set_index("term")
    assert acc.loc["care", "performance"] == pytest.approx(3.4) and acc.loc["care", "n"] == 2
    assert acc.loc["care", "performance_cut"] == pytest.approx(3.25)
    assert acc.loc["care", "quadrant"] == "keep up the good work"  # above the portfolio on care
    assert acc.loc["dare", "quadrant"] == "low priority"
    ax = plots.plot_importance_performance(acc)
    assert len([t for t in ax.texts if t.get_gid() == "point"]) == 3
    assert len([t for t in ax.texts if t.get_gid() == "quadrant"]) == 4  # the quadrants are named, no legend
    assert ax.get_legend() is not None  # an account's cut-points differ by dimension: their marker is explained
    plt.close("all")


def test_importance_performance_on_sample_and_plots(resp):
    imp = drivers.dominance(resp.dropna(), n_boot=30)
    ipa = drivers.importance_performance(imp, resp)
    assert set(ipa["quadrant"]) <= set(drivers.QUADRANTS.values())
    assert ipa.set_index("term").loc["care", "quadrant"] in ("concentrate here", "keep up the good work")
    ax = plots.plot_drivers(imp)
    assert len(ax.patches) == 5 and "explain" in ax.get_title(loc="left")
    plt.close("all")


def test_constant_dimension_and_tiny_data_warn_without_crashing(resp):
    d = resp.dropna().assign(dare=4.0)
    with pytest.warns(ModelWarning, match="dare has the same value"):
        res = drivers.dominance(d, n_boot=20).set_index("term")
    assert np.isnan(res.loc["dare", "estimate"]) and res.loc["care", "rank"] == 1
    tiny = resp.dropna().head(4)
    with pytest.warns(ModelWarning, match="too few"):
        out = drivers.relative_weights(tiny)
    assert out["estimate"].isna().all()
    three = resp.dropna().groupby("account_id").head(20)
    three = three[three["account_id"].isin(three["account_id"].unique()[:3])]
    with pytest.warns(ModelWarning, match="Only 3 accounts"):
        out = drivers.relative_weights(three, n_boot=50)
    assert out["estimate"].notna().all()
    with pytest.raises(ValueError, match="n_boot > 0"):
        drivers.rank_stability(drivers.relative_weights(resp.dropna(), n_boot=0))


# ---------------------------------------------------------------------------
# Plots and labels
# ---------------------------------------------------------------------------
def test_plot_drivers_draws_intervals_that_exclude_the_estimate():
    """A percentile interval of a share near zero can lie wholly above the share: drawn as it is, no crash."""
    imp = pd.DataFrame({"method": "dominance", "outcome": "churned", "term": ["care", "gap_dare"],
                        "share": [0.9, 0.003], "share_ci_low": [0.8, 0.005], "share_ci_high": [0.95, 0.3],
                        "r2": 0.4, "n": 41})
    ax = plots.plot_drivers(imp)
    assert len(ax.patches) == 2 and len(ax.collections) == 1  # two bars, one set of interval lines
    segments = ax.collections[0].get_segments()
    assert sorted(tuple(np.round(seg[:, 0], 6)) for seg in segments) == [(0.5, 30.0), (80.0, 95.0)]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Dare (gap, client − team)", "Care"]
    title = ax.get_title(loc="left").replace("\n", " ")
    assert title.startswith("Churn:") and "explain 40% of the variation; n = 41 accounts" in title
    assert "churn" in ax.get_xlabel()
    assert [t.get_text() for t in ax.texts] == ["0%", "90%"]  # each bar's share written beside it
    assert [p.get_facecolor()[:3] for p in ax.patches] == [to_rgb(style.NEUTRAL), to_rgb(style.CLIENT)]
    plt.close("all")
    fi = plots.plot_drivers(imp, language="fi", side="staff")
    assert [t.get_text() for t in fi.get_yticklabels()] == ["Uskallus (ero, asiakas − tiimi)", "Välittäminen"]
    assert fi.patches[1].get_facecolor()[:3] == to_rgb(style.TEAM)  # the team's own ratings: the team's colour
    fi.figure.canvas.draw()
    assert [t.get_text() for t in fi.get_xticklabels()][:2] == ["0\u00a0%", "20\u00a0%"]
    assert "Osuus selitetystä vaihtelusta" in fi.get_xlabel() and "n = 41 asiakkuutta" in fi.get_title(loc="left").replace("\n", " ")
    plt.close("all")
    empty = plots.plot_drivers(imp.assign(share=np.nan))
    assert len(empty.patches) == 0
    plt.close("all")


def test_importance_performance_names_the_outcome_and_speaks_finnish(resp):
    imp = quiet(drivers.dominance, resp.dropna(), n_boot=20)
    assert (imp["outcome"] == "nps").all()
    ipa = drivers.importance_performance(imp, resp, language="fi")
    assert "Välittäminen" in set(ipa["label"]) and (ipa["outcome"] == "nps").all()
    assert plots.plot_importance_performance(ipa).get_xlabel() == \
        "Importance: share of the explained variation in NPS"
    assert plots.plot_importance_performance(ipa.assign(outcome="churned")).get_xlabel() == \
        "Importance: share of the explained variation in churn"
    assert plots.plot_importance_performance(ipa, outcome="team NPS").get_xlabel() == \
        "Importance: share of the explained variation in team NPS"
    assert plots.plot_importance_performance(ipa.drop(columns="outcome")).get_xlabel() == \
        "Importance: share of the explained variation"
    assert plots.plot_importance_performance(ipa).get_ylabel() == "Rating: mean of the account means"
    fi = plots.plot_importance_performance(ipa, language="fi")
    assert fi.get_xlabel() == "Tärkeys: osuus selitetystä vaihtelusta (NPS)"
    assert {t.get_text().replace("\n", " ") for t in fi.texts if t.get_gid() == "quadrant"} == {
        "Keskity tähän", "Jatka samaan malliin", "Mahdollista ylipanostusta", "Ei kiireellinen"}
    fi.figure.canvas.draw()
    assert any("," in t.get_text() for t in fi.get_yticklabels())  # 3,5 — decimal comma on the axis
    plt.close("all")


def test_plot_importance_performance_draws_intervals_that_exclude_the_estimate():
    tab = pd.DataFrame({"scope": "A1", "term": ["care", "dare"], "label": ["Care", "Dare"], "importance": [0.6, 0.01],
                        "importance_ci_low": [0.5, 0.02], "importance_ci_high": [0.7, 0.2], "performance": [3.4, 4.0],
                        "performance_ci_low": [3.2, 3.8], "performance_ci_high": [3.6, 4.2], "importance_cut": 0.5,
                        "performance_cut": [3.6, 3.9], "quadrant": ["concentrate here", "possible overkill"]})
    ax = plots.plot_importance_performance(tab)
    horizontal = [seg for c in ax.collections if hasattr(c, "get_segments") for seg in c.get_segments()
                  if seg[0, 1] == seg[1, 1]]
    assert sorted(tuple(np.round(seg[:, 0], 6)) for seg in horizontal) == [(0.02, 0.2), (0.5, 0.7)]
    assert len([t for t in ax.texts if t.get_gid() == "point"]) == 2 and ax.get_ylabel() == "Rating: mean score"
    plt.close("all")


def test_dominance_limits_the_number_of_predictors_wherever_it_fits_every_subset():
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(60, 14)), columns=["nps", *[f"dimension_{i}" for i in range(13)]])
    many = [f"dimension_{i}" for i in range(13)]
    with pytest.raises(ValueError, match="relative_weights"):
        quiet(drivers.dominance, wide, predictors=many, cluster=None, n_boot=0)
    for fn in (drivers.conditional_dominance, drivers.complete_dominance):
        with pytest.raises(ValueError, match="relative_weights"):
            quiet(fn, wide, predictors=many)
    # the cluster column is required, not silently replaced by resampling respondents
    with pytest.raises(KeyError, match="account_id"):
        drivers.relative_weights(wide, predictors=many[:3])
    # one predictor named by a (long) string is one predictor, not one per character
    one = quiet(drivers.dominance, wide.rename(columns={"dimension_0": "professionalism"}), predictors="professionalism",
                cluster=None, n_boot=0)
    assert one["term"].tolist() == ["professionalism"]


def test_general_dominance_is_the_mean_of_conditional_dominance_over_k(resp):
    d = resp.dropna()
    general = drivers.dominance(d, n_boot=0, cluster=None).set_index("term")["estimate"]
    conditional = drivers.conditional_dominance(d).groupby("term")["increment"].mean()
    assert np.allclose(conditional[general.index], general, atol=1e-12)
