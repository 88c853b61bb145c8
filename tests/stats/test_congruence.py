"""Polynomial regression and response-surface analysis of client–team agreement."""

from __future__ import annotations

import doctest
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from helpers.report.drivers import plots
from helpers.stats import congruence, model_data
from helpers.stats.diagnostics import ModelWarning


def _surface_data(n=400, seed=0, noise=0.3):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"x": rng.uniform(1, 5, n), "y": rng.uniform(1, 5, n)})
    return d, rng, noise


def test_docstring_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [doctest.testmod(m) for m in (congruence, plots)]
    assert sum(r.failed for r in results) == 0 and sum(r.attempted for r in results) >= 3


def test_exact_polynomial_is_recovered_with_the_a_combinations():
    d, _, _ = _surface_data()
    X, Y = d["x"] - 3, d["y"] - 3
    b = [7.0, 0.4, -0.2, -0.3, 0.5, 0.1]
    d["z"] = b[0] + b[1] * X + b[2] * Y + b[3] * X**2 + b[4] * X * Y + b[5] * Y**2
    r = congruence.response_surface(d, x="x", y="y", outcome="z").set_index("term")
    assert np.allclose(r.loc[["b0", "b1", "b2", "b3", "b4", "b5"], "coef"], b, atol=1e-9)
    assert r.loc["a1", "coef"] == pytest.approx(b[1] + b[2])
    assert r.loc["a2", "coef"] == pytest.approx(b[3] + b[4] + b[5])
    assert r.loc["a3", "coef"] == pytest.approx(b[1] - b[2])
    assert r.loc["a4", "coef"] == pytest.approx(b[3] - b[4] + b[5])


def test_a_standard_errors_match_hand_covariance():
    """SE(a) = √(c'Vc) with V = s²(X'X)⁻¹ written out in numpy (Edwards & Parry 1993; Shanock et al. 2010)."""
    d, rng, noise = _surface_data(n=1000, seed=1)
    d["z"] = 6 + 0.5 * (d["x"] - 3) - 0.4 * (d["x"] - d["y"]) ** 2 + rng.normal(0, 1, len(d))
    r = congruence.response_surface(d, x="x", y="y", outcome="z").set_index("term")
    X, Y = d["x"] - 3, d["y"] - 3
    design = np.column_stack([np.ones(len(d)), X, Y, X**2, X * Y, Y**2])
    beta = np.linalg.lstsq(design, d["z"], rcond=None)[0]
    e = d["z"] - design @ beta
    v = (e @ e) / (len(d) - 6) * np.linalg.inv(design.T @ design)
    combos = {"a1": [0, 1, 1, 0, 0, 0], "a2": [0, 0, 0, 1, 1, 1], "a3": [0, 1, -1, 0, 0, 0],
              "a4": [0, 0, 0, 1, -1, 1]}
    for term, c in combos.items():
        c = np.array(c, dtype=float)
        assert r.loc[term, "coef"] == pytest.approx(c @ beta)
        assert r.loc[term, "se"] == pytest.approx(np.sqrt(c @ v @ c))
        t = (c @ beta) / np.sqrt(c @ v @ c)
        assert r.loc[term, "p_val"] == pytest.approx(2 * stats.t.sf(abs(t), len(d) - 6))
    # planted: −0.4(X−Y)² → a4 = −0.4·(1 + 2 + 1) = −1.6, a2 = 0, a1 = 0.5, a3 = 0.5
    for term, true in {"a1": 0.5, "a2": 0.0, "a3": 0.5, "a4": -1.6}.items():
        assert r.loc[term, "ci_low"] < true < r.loc[term, "ci_high"]
    assert r.loc["a4", "ci_high"] < 0  # disagreement hurts, clearly


def test_logistic_surface_recovers_a_planted_congruence_effect():
    """P(churn) = expit(−1.5 + 0.6·(X − Y)²): a4 = 0.6·4 = 2.4, a2 = 0 (Firth/ML switch handled inside)."""
    d, rng, _ = _surface_data(n=3000, seed=2)
    p = special.expit(-1.5 + 0.6 * (d["x"] - d["y"]) ** 2)
    d["churned"] = (rng.random(len(d)) < p).astype(float)
    r = congruence.response_surface(d, x="x", y="y", outcome="churned")
    assert r["model"].iloc[0] == "response surface, logistic" and r["estimator"].iloc[0] == "logistic ML"
    r = r.set_index("term")
    assert r.loc["a4", "ci_low"] < 2.4 < r.loc["a4", "ci_high"] and r.loc["a4", "ci_low"] > 0
    assert r.loc["a2", "ci_low"] < 0 < r.loc["a2", "ci_high"]
    assert r.loc["b0", "n_events"] == d["churned"].sum()


def test_congruence_runs_every_dimension_on_an_account_table(simulation):
    ans = model_data.answers_from_wide(simulation.responses)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        tab = model_data.account_table(ans, simulation.responses, simulation.accounts)
    res = congruence.congruence(tab)
    assert res.groupby("dimension").size().to_dict() == {d: 10 for d in
                                                        ["care", "dare", "excitement", "impact", "professionalism"]}
    assert (res["n"] + res["n_dropped"] == len(tab)).all()
    with pytest.warns(ModelWarning, match="Firth"):
        churn = congruence.congruence(tab, dimensions=["care"], outcome="churned")
    used = tab[tab["outcome_known"]].dropna(subset=["client_care", "staff_care"])  # small teams are hidden
    assert churn["n"].iloc[0] == len(used) and churn["n"].iloc[0] + churn["n_dropped"].iloc[0] == \
        tab["outcome_known"].sum()
    assert churn["n_events"].iloc[0] == used["churned"].sum()
    small = tab.head(30)
    with pytest.warns(ModelWarning, match=r"care: Only (29|30) units for a six-term surface"):
        congruence.congruence(small, dimensions=["care"])
    ax = plots.plot_response_surface(churn, data=tab, x="client_care", y="staff_care")
    assert len(ax.lines) == 2 and "care" in ax.get_title(loc="left")
    plt.close("all")


def test_degenerate_inputs_warn_without_crashing():
    d, _, _ = _surface_data(n=5)
    d["z"] = 1.0
    with pytest.warns(ModelWarning, match="Only 5 usable rows"):
        r = congruence.response_surface(d, x="x", y="y", outcome="z")
    assert r["coef"].isna().all()
    d, _, _ = _surface_data(n=40)
    d["churned"] = 0.0
    with pytest.warns(ModelWarning, match="same outcome"):
        assert congruence.response_surface(d, x="x", y="y", outcome="churned", family="logistic")["coef"].isna().all()
    d["y"] = 3.0  # constant team rating: Y and Y² collapse onto the intercept
    d["z"] = d["x"]
    with pytest.warns(ModelWarning, match="cannot be estimated"):
        assert congruence.response_surface(d, x="x", y="y", outcome="z")["coef"].isna().all()
    with pytest.raises(KeyError):
        congruence.response_surface(d, x="x", y="nope", outcome="z")
