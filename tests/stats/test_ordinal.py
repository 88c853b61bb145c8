"""The ordinal model: published polr results, statsmodels, the derivatives by hand, and its outcome rules.

Reference data in tests/fixtures/models/ (see its README).
"""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special

from helpers.stats import model_data, nps_models, ordinal
from helpers.stats.diagnostics import ModelWarning

DATA = Path(__file__).parents[1] / "fixtures" / "models"
DIMS = ["excitement", "dare", "professionalism", "impact", "care"]
HOUSING_TERMS = ["InflMedium", "InflHigh", "TypeApartment", "TypeAtrium", "TypeTerrace", "ContHigh"]
# MASS::polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing): ?polr example (Venables & Ripley 2002, §7.3)
POLR_COEF = [0.5663937, 1.2888191, -0.5723501, -0.3661866, -1.0910149, 0.3602841]
POLR_SE = [0.1046528, 0.1271561, 0.1192380, 0.1551733, 0.1514860, 0.0955358]
POLR_CUTS, POLR_CUTS_SE = [-0.4961353, 0.6907083], [0.1248472, 0.1254719]


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        return fn(*args, **kwargs)


def _housing() -> pd.DataFrame:
    """The 72 cells of MASS::housing with their counts (Freq), dummies as polr's treatment contrasts."""
    h = pd.read_csv(DATA / "housing.csv")
    h["InflMedium"], h["InflHigh"] = (h["Infl"] == "Medium") * 1.0, (h["Infl"] == "High") * 1.0
    for t in ("Apartment", "Atrium", "Terrace"):
        h[f"Type{t}"] = (h["Type"] == t) * 1.0
    h["ContHigh"] = (h["Cont"] == "High") * 1.0
    return h


@pytest.fixture(scope="module")
def respondents(simulation):
    ans = model_data.answers_from_wide(simulation.responses)
    return model_data.respondent_table(ans, simulation.responses).dropna(subset=["nps", *DIMS])


def test_docstring_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert doctest.testmod(ordinal).failed == 0


# ---------------------------------------------------------------------------
# Published results: MASS::polr on the housing data, weighted, not expanded
# ---------------------------------------------------------------------------
def test_weighted_polr_housing_text_outcome_with_levels():
    res = nps_models.nps_ordinal(_housing(), outcome="Sat", predictors=HOUSING_TERMS, levels=["Low", "Medium", "High"],
                                 weights="Freq", cluster=None).set_index("term")
    cuts = ["threshold Low|Medium", "threshold Medium|High"]
    assert np.allclose(res.loc[HOUSING_TERMS, "coef"], POLR_COEF, atol=1e-6)
    assert np.allclose(res.loc[HOUSING_TERMS, "se"], POLR_SE, atol=1e-6)
    assert np.allclose(res.loc[cuts, "coef"], POLR_CUTS, atol=1e-6)
    assert np.allclose(res.loc[cuts, "se"], POLR_CUTS_SE, atol=1e-6)
    assert res["n"].iloc[0] == 1681 and res.attrs["n_rows"] == 72  # polr: 1681 respondents in 72 cells
    assert res.attrs["levels"] == ["Low", "Medium", "High"]
    assert res.attrs["loglik"] == pytest.approx(-3479.149 / 2, abs=1e-3)  # polr: residual deviance 3479.149
    assert (res["estimator"] == "ordinal logit").all()


def test_weighted_polr_housing_ordered_categorical():
    h = _housing().assign(Sat=lambda d: pd.Categorical(d["Sat"], categories=["Low", "Medium", "High"], ordered=True))
    res = nps_models.nps_ordinal(h, outcome="Sat", predictors=HOUSING_TERMS, weights="Freq", cluster=None)
    assert np.allclose(res.set_index("term").loc[HOUSING_TERMS, "coef"], POLR_COEF, atol=1e-6)


def test_weights_equal_expanded_rows_including_cluster_robust_errors():
    h = _housing()
    wide = h.loc[h.index.repeat(h["Freq"])].reset_index(drop=True)
    kw = {"outcome": "Sat", "predictors": ["InflMedium", "InflHigh", "ContHigh"], "levels": ["Low", "Medium", "High"],
          "cluster": "Type"}
    weighted = quiet(nps_models.nps_ordinal, h, weights="Freq", **kw)
    expanded = quiet(nps_models.nps_ordinal, wide, **kw)
    num = ["coef", "se", "ci_low", "ci_high", "p_val"]
    assert np.allclose(weighted[num], expanded[num], rtol=1e-8, atol=1e-10)
    assert weighted["n"].iloc[0] == expanded["n"].iloc[0] == 1681
    assert weighted.attrs["loglik"] == pytest.approx(expanded.attrs["loglik"])
    assert (weighted["estimator"] == "ordinal logit, cluster-robust").all()


# ---------------------------------------------------------------------------
# statsmodels' OrderedModel, run to a tight tolerance, and today's fit
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("distr", ["logit", "probit"])
def test_matches_statsmodels_ordered_model_cluster_robust(respondents, distr):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    rt = respondents
    levels = np.sort(rt["nps"].unique())
    mod = OrderedModel(pd.Series(pd.Categorical(rt["nps"], categories=levels, ordered=True)),
                       rt[DIMS].to_numpy(dtype=float), distr=distr)
    ref = quiet(mod.fit, method="newton", disp=False, maxiter=200, tol=1e-12, cov_type="cluster",
                cov_kwds={"groups": pd.factorize(rt["account_id"])[0]})
    res = quiet(nps_models.nps_ordinal, rt, distr=distr).set_index("term")
    assert np.allclose(res.loc[DIMS, "coef"], np.asarray(ref.params)[:5], atol=1e-6)
    assert np.allclose(res.loc[DIMS, "se"], np.asarray(ref.bse)[:5], rtol=1e-5)
    a = np.asarray(ref.params)[5:]
    cuts = a[0] + np.concatenate([[0.0], np.cumsum(np.exp(a[1:]))])
    assert np.allclose(res.loc[[t for t in res.index if t.startswith("threshold")], "coef"], cuts, atol=1e-5)
    assert res.attrs["loglik"] == pytest.approx(ref.llf, abs=1e-6)


def test_slopes_agree_with_the_previous_bfgs_fit_to_1e_4(respondents):
    """The kit fitted OrderedModel by BFGS (maxiter 2000) until now; the slopes are unchanged to 1e-4."""
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    rt = respondents
    levels = np.sort(rt["nps"].unique())
    mod = OrderedModel(pd.Series(pd.Categorical(rt["nps"], categories=levels, ordered=True)),
                       rt[DIMS].to_numpy(dtype=float), distr="logit")
    before = quiet(mod.fit, method="bfgs", disp=False, maxiter=2000, cov_type="cluster",
                   cov_kwds={"groups": pd.factorize(rt["account_id"])[0]})
    res = quiet(nps_models.nps_ordinal, rt).set_index("term")
    assert np.allclose(res.loc[DIMS, "coef"], np.asarray(before.params)[:5], atol=1e-4)
    assert np.allclose(res.loc[DIMS, "se"], np.asarray(before.bse)[:5], atol=1e-4)


# ---------------------------------------------------------------------------
# The derivatives and the sandwich by hand
# ---------------------------------------------------------------------------
def _loglik_by_hand(params, y, x, distr):
    p = x.shape[1]
    cuts = np.concatenate([[-np.inf], params[p:], [np.inf]])
    cdf = special.expit if distr == "logit" else special.ndtr
    eta = x @ params[:p]
    return np.log(cdf(cuts[y + 1] - eta) - cdf(cuts[y] - eta))


@pytest.mark.parametrize("distr", ["logit", "probit"])
def test_score_and_hessian_equal_numerical_derivatives(distr):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 2))
    y = np.digitize(x @ [1.0, -0.5] + rng.logistic(size=300), [-1.0, 0.0, 1.5])
    w = rng.integers(1, 4, 300).astype(float)
    lik = ordinal._Likelihood(y, x, w, 4, distr)
    theta = np.array([0.3, -0.2, -0.8, 0.1, 1.2])
    ll, grad, hess, scores = lik.derivatives(theta)
    h = 1e-5
    eye = np.eye(len(theta))
    num_rows = np.column_stack([(_loglik_by_hand(theta + h * e, y, x, distr) - _loglik_by_hand(theta - h * e, y, x, distr))
                                / (2 * h) for e in eye])
    assert np.allclose(scores, num_rows, atol=1e-7)
    assert ll == pytest.approx(w @ _loglik_by_hand(theta, y, x, distr))
    num_hess = np.column_stack([(lik.derivatives(theta + h * e)[1] - lik.derivatives(theta - h * e)[1]) / (2 * h)
                                for e in eye])
    assert np.allclose(hess, num_hess, rtol=1e-6, atol=1e-5)
    assert np.allclose(grad, w @ num_rows, atol=1e-5)


def test_fit_is_a_maximum_and_cluster_sandwich_matches_a_hand_loop():
    rng = np.random.default_rng(8)
    g = np.repeat(np.arange(25), 12)
    x = rng.normal(size=(300, 2)) + rng.normal(size=(25, 1))[g]
    y = np.digitize(x @ [0.8, 0.4] + rng.normal(size=25)[g] + rng.logistic(size=300), [-1.0, 0.5, 2.0])
    fit = ordinal.fit_ordinal(y, x, n_levels=4)
    assert fit["converged"] and fit["max_score"] < 1e-8
    v = ordinal.cluster_covariance(fit, g)
    meat = np.zeros((5, 5))
    for c in range(25):
        s = fit["scores"][g == c].sum(axis=0)
        meat += np.outer(s, s)
    hand = fit["cov"] @ meat @ fit["cov"] * 25 / 24 * 299 / 295
    assert np.allclose(v, hand)


# ---------------------------------------------------------------------------
# Outcome rules, weights, warnings
# ---------------------------------------------------------------------------
def _small() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    lev = np.array(["low", "mid", "high"])
    return pd.DataFrame({"sat": lev[np.digitize(x + rng.logistic(size=60), [-0.5, 0.8])], "x": x,
                         "account_id": np.repeat([f"A{i}" for i in range(12)], 5)})


def test_text_without_levels_is_an_error_naming_the_column():
    with pytest.raises(ValueError, match=r"Column 'sat' holds text .*'(low|mid|high)'.*levels="):
        nps_models.nps_ordinal(_small(), outcome="sat", predictors=["x"])
    unordered = _small().assign(sat=lambda d: pd.Categorical(d["sat"]))
    with pytest.raises(ValueError, match="Column 'sat' holds text"):
        nps_models.nps_ordinal(unordered, outcome="sat", predictors=["x"])


def test_answers_outside_the_levels_are_named_with_their_rows():
    d = _small()
    d.loc[[4, 9], "sat"] = "very high"
    with pytest.raises(ValueError, match=r"Column 'sat' has answers that are not among levels .*'very high' \(rows 4, 9\)"):
        nps_models.nps_ordinal(d, outcome="sat", predictors=["x"], levels=["low", "mid", "high"])


def test_text_and_categorical_codes_give_the_same_fit_as_numbers():
    d = _small()
    num = d.assign(sat=d["sat"].map({"low": 0, "mid": 1, "high": 2}))
    a = quiet(nps_models.nps_ordinal, d, outcome="sat", predictors=["x"], levels=["low", "mid", "high"])
    b = quiet(nps_models.nps_ordinal, num, outcome="sat", predictors=["x"])
    c = quiet(nps_models.nps_ordinal, num.assign(sat=num["sat"].astype(str)), outcome="sat", predictors=["x"])
    assert np.allclose(a["coef"], b["coef"]) and np.allclose(b["coef"], c["coef"])
    assert a["term"].tolist() == ["x", "threshold low|mid", "threshold mid|high"]
    assert b["term"].tolist() == c["term"].tolist() == ["x", "threshold 0|1", "threshold 1|2"]


def test_an_empty_declared_level_is_left_out_with_a_warning():
    with pytest.warns(ModelWarning, match="No complete response of sat is top"):
        res = nps_models.nps_ordinal(_small(), outcome="sat", predictors=["x"], levels=["low", "mid", "high", "top"])
    assert res.attrs["levels"] == ["low", "mid", "high"] and res["term"].iloc[-1] == "threshold mid|high"


def test_weight_rules():
    d = _small().assign(w=2.0)
    d.loc[3, "w"] = np.nan
    with pytest.warns(ModelWarning, match="1 of 60 rows were left out because sat, w or a predictor was missing"):
        res = nps_models.nps_ordinal(d, outcome="sat", predictors=["x"], levels=["low", "mid", "high"], weights="w")
    assert res["n"].iloc[0] == 118 and res["n_dropped"].iloc[0] == 1 and res.attrs["n_rows"] == 59
    d.loc[[5, 7], "w"] = [-1.0, np.inf]
    with pytest.raises(ValueError, match=r"Column 'w' must hold case weights .*\(rows 5, 7\)"):
        nps_models.nps_ordinal(d, outcome="sat", predictors=["x"], levels=["low", "mid", "high"], weights="w")
    with pytest.raises(ValueError, match="distr must be"):
        nps_models.nps_ordinal(d, outcome="sat", predictors=["x"], distr="cauchit")


def test_separation_gives_a_clear_non_convergence_warning():
    d = pd.DataFrame({"y": [0, 0, 0, 1, 1, 1, 2, 2, 2, 0, 1, 2], "x": [1, 2, 3, 11, 12, 13, 21, 22, 23, 2, 12, 22.],
                      "z": np.arange(12.0)})
    with pytest.warns(ModelWarning, match=r"did not converge: 12 answer\(s\) are predicted with certainty"):
        nps_models.nps_ordinal(d, outcome="y", predictors=["x", "z"], cluster=None)
    fit = ordinal.fit_ordinal(d["y"].to_numpy(), d[["x", "z"]].to_numpy(), n_levels=3, max_iter=2)
    assert not fit["converged"] and fit["iterations"] == 2
