"""Discrimination measures checked by brute force from their definitions and against published values.

Harrell's C and its infinitesimal-jackknife standard error; DeLong's paired comparison of two AUCs.
Reference data in tests/fixtures/models/ (see its README).
"""

from __future__ import annotations

import doctest
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.stats import validation

DATA = Path(__file__).parents[1] / "fixtures" / "models"


def test_docstring_examples_run():
    assert doctest.testmod(validation).failed == 0


# ---------------------------------------------------------------------------
# Harrell's C
# ---------------------------------------------------------------------------
# eight accounts with tied times (a churn and a censoring at 3, two churns at 5) and tied risks
HAND = pd.DataFrame({"time": [1, 3, 3, 4, 5, 5, 6, 8], "event": [1, 1, 0, 1, 1, 1, 0, 0],
                     "risk": [2.0, 1.5, 1.5, 0.3, 1.0, 0.2, 0.2, 0.5]})


def _harrell_by_hand(time, event, risk, weight=None):
    """Every ordered pair by its definition: the churner that left first against anyone still there."""
    w = np.ones(len(time)) if weight is None else weight
    num = den = 0.0
    for i, j in itertools.permutations(range(len(time)), 2):
        if event[i] and (time[j] > time[i] or (time[j] == time[i] and not event[j])):
            den += w[i] * w[j]
            num += w[i] * w[j] * (1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0)
    return num / den, den


def test_concordance_equals_a_brute_force_count_of_pairs():
    out = validation.concordance_index(HAND["time"], HAND["event"], HAND["risk"])
    c, pairs = _harrell_by_hand(*HAND.to_numpy().T)
    assert out["c"] == pytest.approx(c) and out["n_pairs"] == pairs
    # by hand: the churn at 1 beats all 7 others; the churn at 3 (risk 1.5) beats 5 and ties the censoring at 3;
    # the churn at 4 (0.3) beats 2 and loses 2; the churns at 5 (1.0 and 0.2; not compared with each other)
    # beat 2, and tie 1 and lose 1 — 16 concordant, 3 discordant, 2 tied of 21 pairs
    assert (out["concordant"], out["discordant"], out["tied_risk"], out["n_pairs"]) == (16, 3, 2, 21)
    assert out["c"] == pytest.approx(17 / 21)
    assert np.isnan(validation.concordance_index([1, 2], [0, 0], [0.3, 0.1])["c"])


def test_concordance_of_a_binary_outcome_without_censoring_is_the_auc():
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 80)
    p = rng.random(80) + 0.3 * y
    # churners "leave" at time 1, the others are still there at time 2
    c = validation.concordance_index(np.where(y == 1, 1.0, 2.0), y, p)["c"]
    assert c == pytest.approx(validation.auc(y, p))


def test_concordance_se_is_the_infinitesimal_jackknife_of_the_weighted_count():
    """SE² = Σ_k (∂C/∂w_k)², the derivatives taken numerically on the brute-force weighted C."""
    time, event, risk = HAND.to_numpy().T
    h = 1e-6
    grads = []
    for k in range(len(time)):
        up, down = np.ones(len(time)), np.ones(len(time))
        up[k], down[k] = 1 + h, 1 - h
        grads.append((_harrell_by_hand(time, event, risk, up)[0] - _harrell_by_hand(time, event, risk, down)[0]) / (2 * h))
    se = validation.concordance_index(time, event, risk)["se"]
    assert se == pytest.approx(np.sqrt(np.sum(np.square(grads))), rel=1e-6)


# ---------------------------------------------------------------------------
# DeLong's paired comparison of two AUCs
# ---------------------------------------------------------------------------
def test_delong_matches_proc_roc_test_on_asah():
    """pROC (tests/testthat/test-roc.test.R): roc.test(r.wfns, r.s100b), (r.wfns, r.ndka), (r.ndka, r.s100b)."""
    a = pd.read_csv(DATA / "asah.csv")
    y = (a["outcome"] == "Poor").astype(int)
    t1 = validation.delong_test(y, a["wfns"], a["s100b"])
    assert t1["z"] == pytest.approx(2.20898359144091, rel=1e-10)
    assert t1["p_val"] == pytest.approx(0.0271757822291882, rel=1e-10)
    assert (t1["ci_low"], t1["ci_high"]) == pytest.approx((0.0104061769564846, 0.174214419249478), rel=1e-10)
    assert (t1["auc_1"], t1["auc_2"]) == pytest.approx((0.8236789, 0.7313686), abs=1e-7)  # print(roc1), print(roc2)
    t2 = validation.delong_test(y, a["wfns"], a["ndka"])
    assert (t2["z"], t2["p_val"]) == pytest.approx((2.79777591868904, 0.00514557970691098), rel=1e-10)
    assert (t2["ci_low"], t2["ci_high"]) == pytest.approx((0.0634011709339876, 0.3600405634833566), rel=1e-10)
    t3 = validation.delong_test(y, a["ndka"], a["s100b"])
    assert (t3["z"], t3["p_val"]) == pytest.approx((-1.39077002573558, 0.164295175223054), rel=1e-10)
    assert (t3["ci_low"], t3["ci_high"]) == pytest.approx((-0.2876917446341914, 0.0488706064228094), rel=1e-10)
    assert (t1["n"], t1["n_events"]) == (113, 41)


def _delong_by_definition(y, p1, p2):
    """DeLong et al. (1988) written out: ψ over every churned × other pair, structural components, their covariance."""
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    m, n = len(pos), len(neg)

    def psi(a, b):
        return 1.0 if a > b else 0.5 if a == b else 0.0

    v10 = np.array([[sum(psi(p[i], p[j]) for j in neg) / n for i in pos] for p in (p1, p2)])
    v01 = np.array([[sum(psi(p[i], p[j]) for i in pos) / m for j in neg] for p in (p1, p2)])
    theta = v10.mean(axis=1)
    s10 = (v10 - theta[:, None]) @ (v10 - theta[:, None]).T / (m - 1)
    s01 = (v01 - theta[:, None]) @ (v01 - theta[:, None]).T / (n - 1)
    var = (s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / m + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / n
    return theta, var


def test_delong_variance_equals_its_definition_with_ties():
    rng = np.random.default_rng(11)
    y = rng.integers(0, 2, 40)
    p1 = np.round(rng.random(40) + 0.4 * y, 1)  # rounded: plenty of ties within and across outcomes
    p2 = np.round(rng.random(40) + 0.2 * y, 1)
    theta, var = _delong_by_definition(y, p1, p2)
    out = validation.delong_test(y, p1, p2)
    assert (out["auc_1"], out["auc_2"]) == pytest.approx(tuple(theta))
    assert out["auc_1"] == pytest.approx(validation.auc(y, p1))
    assert out["se"] == pytest.approx(np.sqrt(var))
    assert out["ci_high"] - out["difference"] == pytest.approx(1.959964 * np.sqrt(var), rel=1e-6)
    assert np.isnan(validation.delong_test([1, 1, 1], [0.1, 0.2, 0.3], [0.3, 0.2, 0.1])["difference"])


def _cv_table(n=200, effect=2.0, seed=1):
    from scipy import special

    rng = np.random.default_rng(seed)
    tab = pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "x": rng.normal(size=n),
                        "client_nps": rng.normal(size=n), "outcome_known": True})
    tab["churned"] = (rng.random(n) < special.expit(-1 + effect * tab["x"])).astype(float)
    return tab


def test_cv_reports_the_paired_difference_model_minus_nps_alone():
    res = validation.retention_cv(_cv_table(), predictors=["x"], repeats=5, seed=3)
    diff = res.attrs["auc_difference"]
    m = res.set_index(["model", "metric"])
    assert diff["difference"] == pytest.approx(m.loc[("model", "auc"), "estimate"] - m.loc[("baseline", "auc"), "estimate"])
    assert diff["ci_low"] > 0 and diff["model_better"] and diff["repeats"] == 5 and diff["n"] == 200
    # one repeat: exactly DeLong's test on that repeat's out-of-fold predictions
    pred = pd.DataFrame(res.attrs["predictions"])
    one = pred[pred["repeat"] == 0]
    wide = one.pivot(index="account_id", columns="model", values="predicted")
    y = one.groupby("account_id")["churned"].first().reindex(wide.index)
    ref = validation.delong_test(y, wide["model"], wide["baseline"])
    row = validation.cv_auc_difference(one).iloc[0]
    assert (row["difference"], row["se"], row["p_val"]) == pytest.approx((ref["difference"], ref["se"], ref["p_val"]))


def test_cv_difference_of_a_useless_model_is_not_called_better():
    tab = _cv_table(effect=0.0, seed=4)
    res = validation.retention_cv(tab, predictors=["x"], repeats=3, seed=1)
    diff = res.attrs["auc_difference"]
    assert diff["ci_low"] < 0 < diff["ci_high"] and not diff["model_better"]
    assert validation.cv_auc_difference(pd.DataFrame(columns=["account_id", "repeat", "model", "predicted",
                                                              "churned"])).empty
