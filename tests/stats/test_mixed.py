"""The mixed model: lme4's published sleepstudy fits, statsmodels' MixedLM, the boundary and the random slope.

Reference data in tests/fixtures/models/ (see its README).
"""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers.stats import mixed, model_data, nps_models
from helpers.stats.diagnostics import ModelWarning

DATA = Path(__file__).parents[1] / "fixtures" / "models"
DIMS = ["excitement", "dare", "professionalism", "impact", "care"]


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def respondents(simulation):
    ans = model_data.answers_from_wide(simulation.responses)
    return model_data.respondent_table(ans, simulation.responses).dropna(subset=["nps", *DIMS])


def test_docstring_examples_run():
    assert doctest.testmod(mixed).failed == 0


def test_random_intercept_matches_lme4_sleepstudy_to_the_printed_digits():
    """lmer(Reaction ~ Days + (1 | Subject), sleepstudy): 251.40510 (9.7467163), 10.46729 (0.8042214), 37.12383, 30.99123."""
    s = pd.read_csv(DATA / "sleepstudy.csv")
    x = np.column_stack([np.ones(len(s)), s["Days"]])
    fit = mixed.fit_random_intercept(s["Reaction"].to_numpy(), x, s["Subject"].to_numpy())
    assert fit["beta"] == pytest.approx([251.40510, 10.46729], abs=1e-5)
    assert np.sqrt(np.diag(fit["cov_conditional"])) == pytest.approx([9.7467163, 0.8042214], abs=1e-6)
    assert np.sqrt(fit["tau2"]) == pytest.approx(37.12383, abs=1e-5)
    assert np.sqrt(fit["sigma2"]) == pytest.approx(30.99123, abs=1e-5)
    res = nps_models.nps_mixed(s, outcome="Reaction", predictors=["Days"], group="Subject").set_index("term")
    assert res.attrs["icc"] == pytest.approx(37.12383**2 / (37.12383**2 + 30.99123**2), abs=1e-6)


def test_random_slope_matches_lme4_sleepstudy():
    """lmer(Reaction ~ Days + (Days | Subject), sleepstudy), REML (lme4's documentation)."""
    s = pd.read_csv(DATA / "sleepstudy.csv")
    res = nps_models.nps_mixed(s, outcome="Reaction", predictors=["Days"], group="Subject",
                               random_slope="Days").set_index("term")
    assert res.loc[["Intercept", "Days"], "coef"].tolist() == pytest.approx([251.405, 10.467], abs=1e-3)
    assert res.loc[["Intercept", "Days"], "se"].tolist() == pytest.approx([6.825, 1.546], abs=1e-3)
    assert res.loc["sd(Subject)", "coef"] == pytest.approx(24.741, abs=1e-3)
    assert res.loc["sd(Days | Subject)", "coef"] == pytest.approx(5.922, abs=1e-3)
    assert res.loc["cor(Intercept, Days | Subject)", "coef"] == pytest.approx(0.066, abs=1e-3)
    assert res.loc["sd(residual)", "coef"] == pytest.approx(25.592, abs=1e-3)
    assert np.isnan(res.loc["sd(Subject)", "se"]) and res["estimator"].iloc[0] == "mixed, random Days slope, REML"
    assert 0 < res.attrs["icc"] < 1 and res.attrs["n_fixed"] == 2


@pytest.mark.parametrize("reml", [True, False])
def test_random_intercept_matches_statsmodels_mixedlm(respondents, reml):
    import statsmodels.api as sm

    rt = respondents
    x = np.column_stack([np.ones(len(rt)), rt[DIMS].to_numpy(dtype=float)])
    ref = quiet(sm.MixedLM(rt["nps"].to_numpy(dtype=float), x, groups=pd.factorize(rt["account_id"])[0]).fit,
                reml=reml, method="bfgs", gtol=1e-10)
    res = nps_models.nps_mixed(rt, reml=reml).set_index("term")
    fixed = ["Intercept", *DIMS]
    assert np.allclose(res.loc[fixed, "coef"], ref.fe_params, atol=1e-6)
    assert np.allclose(res.loc[fixed, "se"], ref.bse_fe, atol=1e-6)
    assert res.loc["sd(account_id)", "coef"] == pytest.approx(np.sqrt(float(np.asarray(ref.cov_re)[0, 0])), abs=1e-6)
    assert res.loc["sd(residual)", "coef"] == pytest.approx(np.sqrt(ref.scale), abs=1e-6)
    assert res["estimator"].iloc[0] == ("mixed, REML" if reml else "mixed, ML")


def test_no_account_variance_is_said_and_reduces_to_ols():
    rng = np.random.default_rng(4)
    d = pd.DataFrame({"account_id": np.repeat([f"A{i}" for i in range(30)], 8), "care": rng.normal(3.5, 0.8, 240)})
    d["nps"] = 2 + 1.2 * d["care"] + rng.normal(0, 1, 240)
    d["nps"] -= d.groupby("account_id")["nps"].transform("mean") - d["nps"].mean()  # no account differences at all
    with pytest.warns(ModelWarning, match="between-account variance is zero"):
        res = nps_models.nps_mixed(d, predictors=["care"])
    r = res.set_index("term")
    assert r.loc["sd(account_id)", "coef"] == 0 and res.attrs["icc"] == 0
    ols = np.polyfit(d["care"], d["nps"], 1)
    assert r.loc["care", "coef"] == pytest.approx(ols[0])


def test_random_slope_must_be_a_varying_predictor(respondents):
    with pytest.raises(ValueError, match="random_slope must be one of the predictors"):
        nps_models.nps_mixed(respondents, random_slope="warmth")
    flat = respondents.assign(care=3.0)
    with pytest.warns(ModelWarning, match="care has one value throughout"):
        res = nps_models.nps_mixed(flat, random_slope="care")
    assert res["coef"].iloc[-3:-1].isna().all() and np.isfinite(res.set_index("term").loc["sd(account_id)", "coef"])
