"""Collinearity, separation, influence and the plain-language trust warnings."""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers.report.drivers import plots
from helpers.stats import diagnostics

DATA = Path(__file__).parents[1] / "fixtures" / "models"


@pytest.fixture(scope="module")
def duncan():
    return pd.read_csv(DATA / "duncan.csv")


def test_docstring_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert all(doctest.testmod(m).failed == 0 for m in (diagnostics, plots))


def test_vif_matches_car_documentation_duncan(duncan):
    """car::vif(lm(prestige ~ income + education, data = Duncan)) prints 2.104900 for both."""
    v = diagnostics.vif(duncan, predictors=["income", "education"])
    assert np.allclose(v["vif"], 2.104900, atol=1e-6)
    assert not v["flag"].any()


def test_vif_equals_one_over_one_minus_r2_by_regression():
    rng = np.random.default_rng(0)
    d = pd.DataFrame(rng.normal(size=(100, 3)), columns=["a", "b", "c"])
    d["c"] += 2 * d["a"]
    v = diagnostics.vif(d, predictors=["a", "b", "c"]).set_index("term")
    x = np.column_stack([np.ones(100), d[["a", "b"]]])
    e = d["c"] - x @ np.linalg.lstsq(x, d["c"], rcond=None)[0]
    r2 = 1 - e @ e / ((d["c"] - d["c"].mean()) ** 2).sum()
    assert v.loc["c", "vif"] == pytest.approx(1 / (1 - r2))
    d["e"] = d["a"] + d["b"]  # exact dependency
    assert np.isinf(diagnostics.vif(d, predictors=["a", "b", "e"])["vif"]).all()
    assert np.isinf(diagnostics.vif(d.assign(k=1.0), predictors=["a", "k"]).set_index("term").loc["k", "vif"])


def test_condition_number_by_eigenvalues_and_longley():
    rng = np.random.default_rng(1)
    d = pd.DataFrame(rng.normal(5, 2, size=(40, 3)), columns=["a", "b", "c"])
    x = np.column_stack([np.ones(40), d])
    xs = x / np.sqrt((x**2).sum(axis=0))
    ev = np.linalg.eigvalsh(xs.T @ xs)
    assert diagnostics.condition_number(d, predictors=["a", "b", "c"]) == pytest.approx(np.sqrt(ev.max() / ev.min()))
    # unit-free: rescaling a column does not change it
    assert diagnostics.condition_number(d.assign(a=d["a"] * 1000), predictors=["a", "b", "c"]) == pytest.approx(
        diagnostics.condition_number(d, predictors=["a", "b", "c"]))


def test_longley_collinearity_is_flagged_in_words():
    """Longley (1967) is the textbook collinear regression: every check should object."""
    lon = pd.DataFrame({
        "Employed": [60.323, 61.122, 60.171, 61.187, 63.221, 63.639, 64.989, 63.761, 66.019, 67.857, 68.169,
                     66.513, 68.655, 69.564, 69.331, 70.551],
        "GNP": [234.289, 259.426, 258.054, 284.599, 328.975, 346.999, 365.385, 363.112, 397.469, 419.18,
                442.769, 444.546, 482.704, 502.601, 518.173, 554.894],
        "Population": [107.608, 108.632, 109.773, 110.929, 112.075, 113.27, 115.094, 116.219, 117.388, 118.734,
                       120.445, 121.95, 123.366, 125.368, 127.852, 130.081],
        "Year": list(range(1947, 1963)),
    })
    msgs = diagnostics.trust_warnings(lon, outcome="Employed", predictors=["GNP", "Population", "Year"])
    text = " ".join(msgs)
    assert "VIF" in text and "condition number" in text and "Only 16 observations" in text
    checks = diagnostics.trust_checks(lon, outcome="Employed", predictors=["GNP", "Population", "Year"]).set_index("check")
    assert checks.loc["vif", "value"] > 100 and checks.loc["condition_number", "value"] > 1000


def test_influence_matches_leave_one_out_refits(duncan):
    """Cook's D_i = ‖X(b − b₍ᵢ₎)‖² / (p·s²) from n explicit refits; hat values from the projection matrix."""
    tab = diagnostics.influence_table(duncan, outcome="prestige", predictors=["income", "education"], id="occupation")
    x = np.column_stack([np.ones(len(duncan)), duncan[["income", "education"]]])
    y = duncan["prestige"].to_numpy(dtype=float)
    b = np.linalg.lstsq(x, y, rcond=None)[0]
    e = y - x @ b
    n, p = x.shape
    s2 = e @ e / (n - p)
    hat = np.diag(x @ np.linalg.inv(x.T @ x) @ x.T)
    cooks = []
    for i in range(n):
        keep = np.arange(n) != i
        bi = np.linalg.lstsq(x[keep], y[keep], rcond=None)[0]
        cooks.append(np.sum((x @ (b - bi)) ** 2) / (p * s2))
    t = tab.set_index("id").loc[duncan["occupation"]]
    assert np.allclose(t["cooks_d"], cooks) and np.allclose(t["leverage"], hat)
    # the famous outliers of this example (Fox & Weisberg, An R Companion to Applied Regression)
    assert tab["id"].iloc[0] == "minister" and tab["id"].iloc[1] == "conductor"
    assert tab.set_index("id").loc["minister", "flag"]
    ax = plots.plot_influence(duncan, outcome="prestige", predictors=["income", "education"], id="occupation")
    assert [t.get_text() for t in ax.texts][:2] == ["minister", "conductor"]
    ax = plots.plot_residuals(duncan, outcome="prestige", predictors=["income", "education"])
    assert len(ax.collections) == 1 and len(ax.lines) == 2  # points, zero line + LOWESS
    fig = plots.plot_diagnostics(duncan, outcome="prestige", predictors=["income", "education"], id="occupation")
    assert len(fig.axes) == 4
    plt.close("all")


def test_separation_detection():
    e = pd.read_csv(DATA / "endometrial.csv")
    x = np.column_stack([np.ones(len(e)), e[["NV", "PI", "EH"]]])
    sep = diagnostics.detect_separation(x, e["HG"].to_numpy(), names=["const", "NV", "PI", "EH"])
    assert sep["separated"] and sep["terms"] == ["NV"]  # quasi-complete: NV = 1 only among high grade
    no = diagnostics.detect_separation(np.column_stack([np.ones(len(e)), e[["PI", "EH"]]]), e["HG"].to_numpy())
    assert not no["separated"]
    x2 = np.column_stack([np.ones(6), [1, 2, 3, 4, 5, 6]])
    assert not diagnostics.detect_separation(x2, np.array([0, 1, 0, 1, 0, 1]))["separated"]


def test_trust_checks_events_clusters_and_constants():
    rng = np.random.default_rng(2)
    d = pd.DataFrame({"y": (rng.random(50) < 0.1).astype(float), "a": rng.normal(size=50), "b": rng.normal(size=50),
                      "k": 1.0, "acct": rng.integers(0, 8, 50)})
    checks = diagnostics.trust_checks(d, outcome="y", predictors=["a", "b", "k"], kind="logistic").set_index("check")
    assert not checks.loc["events_per_variable", "passed"] and not checks.loc["constant", "passed"]
    assert "k has the same value" in checks.loc["constant", "message"]
    lin = diagnostics.trust_warnings(d.assign(y=rng.normal(size=50)), outcome="y", predictors=["a", "b"], cluster="acct")
    assert any("Only 8 accounts" in m for m in lin)
    ok = diagnostics.trust_warnings(pd.DataFrame({"y": rng.normal(size=500), "a": rng.normal(size=500),
                                         "b": rng.normal(size=500)}), outcome="y", predictors=["a", "b"])
    assert ok == []
    cox = diagnostics.trust_checks(d.assign(t=rng.uniform(1, 5, 50)), outcome="t", predictors=["a", "b"], kind="cox",
                          event="y").set_index("check")
    assert "churn events" in cox.loc["events_per_variable", "message"]


def test_model_warnings_point_at_the_callers_line():
    """Each model states its warnings where it was called, not inside the kit."""
    from helpers.stats import congruence, drivers, model_data, nps_models, retention, validation

    rng = np.random.default_rng(4)
    resp = pd.DataFrame({"account_id": rng.integers(0, 3, 40).astype(str), "nps": rng.integers(0, 11, 40),
                         "care": rng.uniform(1, 5, 40), "dare": 3.0})
    tab = pd.DataFrame({"churned": [0, 1] * 6, "outcome_known": True, "client_care": rng.uniform(1, 5, 12),
                        "staff_care": rng.uniform(1, 5, 12), "client_nps": rng.normal(size=12)})
    calls = [lambda: nps_models.nps_ols(resp, predictors=["care", "dare"]),
             lambda: nps_models.nps_mixed(resp, predictors=["care", "dare"]),
             lambda: drivers.dominance(resp, predictors=["care", "dare"], n_boot=5),
             lambda: drivers.conditional_dominance(resp, predictors=["care", "dare"]),
             lambda: retention.retention_logit(tab, predictors=["client_care"]),
             lambda: congruence.congruence(tab, dimensions=["care"], outcome="client_nps"),
             lambda: validation.cv_predictions(tab.head(5), predictors=["client_care"]),
             lambda: model_data.account_table(
                 pd.DataFrame({"response_id": ["r1"], "item": ["care_1"], "value": [4.0]}),
                 pd.DataFrame({"response_id": ["r1"], "account_id": ["A"], "side": ["staff"], "wave": ["w"],
                               "nps": [9]}),
                 pd.DataFrame({"account_id": ["A"], "status": ["active"]}), before_renewal=False)]
    for call in calls:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        model = [w for w in caught if issubclass(w.category, diagnostics.ModelWarning)]
        assert model and all(w.filename == __file__ for w in model), [(w.filename, str(w.message)) for w in model]


def test_collected_warnings_and_quiet_fits():
    from helpers.stats.fitting import _quiet_fit

    def fit():
        warnings.warn("a sentence for the page", diagnostics.ModelWarning)
        warnings.warn("Maximum Likelihood optimization failed to converge.", RuntimeWarning)
        out = pd.DataFrame()
        out.attrs["warnings"] = ["its own"]
        return out

    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        res, caught = diagnostics.collect_warnings(fit)
        assert caught == ["a sentence for the page"]
        assert diagnostics.fit_with_warnings(fit).attrs["warnings"] == ["its own", "a sentence for the page"]
        assert _quiet_fit(fit)[1] is True
        assert _quiet_fit(lambda: 1) == (1, False)
    assert not [w for w in escaped if issubclass(w.category, diagnostics.ModelWarning)]
