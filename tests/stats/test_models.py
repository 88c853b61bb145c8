"""NPS and retention models: planted effects, published reference results, degenerate inputs.

Reference data live in tests/fixtures/models/ (see its README for sources).
"""

from __future__ import annotations

import doctest
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from helpers.data.sample import simulate
from helpers.report.drivers import plots
from helpers.stats import fitting, model_data, nps_models, retention, validation
from helpers.stats.diagnostics import ModelWarning

DATA = Path(__file__).parents[1] / "fixtures" / "models"
DIMS = ["excitement", "dare", "professionalism", "impact", "care"]


@pytest.fixture(scope="module")
def tables(simulation):
    ans = model_data.answers_from_wide(simulation.responses)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        acct = model_data.account_table(ans, simulation.responses, simulation.accounts)
    return {"answers": ans, "resp": model_data.respondent_table(ans, simulation.responses), "acct": acct}


@pytest.fixture(scope="module")
def big_portfolio():
    """1,500 accounts, one wave, with the default timing rule: only answers given before renewal count.

    The wave is 2025Q4 (answers in December 2025); the sample's renewals fall from January 2026 on, so every
    decided account answered before its renewal, and churn was drawn on the true means of that wave.
    """
    sim = simulate(seed=5, n_accounts=1500, waves=("2025Q4",))
    ans = model_data.answers_from_wide(sim.responses)
    return quiet(model_data.account_table, ans, sim.responses, sim.accounts, min_group_size=1)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ModelWarning)
        return fn(*args, **kwargs)


def test_docstring_examples_run():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = [doctest.testmod(m, optionflags=doctest.ELLIPSIS)
                   for m in (fitting, model_data, nps_models, retention, validation, plots)]
    assert sum(r.failed for r in results) == 0 and sum(r.attempted for r in results) > 10


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------
def test_respondent_table_one_row_per_client_response(tables, simulation):
    rt = tables["resp"]
    n_client = (simulation.responses["side"] == "client").sum()
    assert len(rt) == n_client and rt["response_id"].is_unique
    assert list(rt.columns) == ["response_id", "account_id", "side", "wave", "nps", *DIMS]
    # a respondent's care score is the mean of the care items they answered
    row = simulation.responses.set_index("response_id").loc[rt["response_id"].iloc[0]]
    items = row[["care_1", "care_2", "care_3"]].astype(float)
    assert rt["care"].iloc[0] == pytest.approx(items.mean() if items.notna().sum() >= 2 else np.nan, nan_ok=True)


def test_account_table_columns_gaps_and_outcomes(tables, simulation):
    tab = tables["acct"]
    assert len(tab) == len(simulation.accounts) and tab["account_id"].is_unique
    for d in DIMS:
        diff = tab[f"client_{d}"] - tab[f"staff_{d}"]
        assert np.allclose(tab[f"gap_{d}"].dropna(), diff.dropna())
    status = tab["status"]
    assert (tab["outcome_known"] == status.isin(["renewed", "churned"])).all()
    assert (tab.loc[status == "churned", "churned"] == 1).all()
    assert (tab.loc[status == "renewed", "churned"] == 0).all()
    assert tab.loc[status == "active", "churned"].isna().all()
    # client NPS agrees with a hand count for one account
    a = tab["account_id"].iloc[3]
    s = simulation.responses.query("account_id == @a and side == 'client'")["nps"]
    assert tab.set_index("account_id").loc[a, "client_nps"] == pytest.approx(
        100 * ((s >= 9).mean() - (s <= 6).mean()))
    assert tab.set_index("account_id").loc[a, "n_client"] == len(s)


def test_account_table_hides_small_staff_groups_and_counts_them(tables, simulation):
    with pytest.warns(ModelWarning, match="hidden"):
        tab = model_data.account_table(tables["answers"], simulation.responses, simulation.accounts, waves="2026Q3",
                              min_group_size=8)
    small = tab["n_staff"] < 8
    assert small.any()
    assert tab.loc[small, ["staff_care", "gap_care"]].isna().all().all()
    assert tab.loc[~small, "staff_care"].notna().all()
    assert tab.attrs["n_staff_suppressed"] == int((small & (tab["n_staff"] > 0)).sum())


def _timed_portfolio():
    """Account A churned at its renewal on 2026-03-01; B is active; C renewed but has no renewal date.

    A's client answers: one before renewal (Care 2), three on or after it (Care 5): one submitted after,
    one on the renewal day itself, one with no submission time in a wave whose median (2026-03-15) is after.
    """
    rows = [("a1", "A", "client", "W1", "2026-02-10 09:00", 2.0), ("a2", "A", "client", "W2", "2026-03-15 10:00", 5.0),
            ("a3", "A", "client", "W2", None, 5.0), ("a4", "A", "client", "W2", "2026-03-01 00:00", 5.0),
            ("a5", "A", "staff", "W1", "2026-02-20 12:00", 3.0),
            ("b1", "B", "client", "W2", "2026-03-15 11:00", 4.0), ("b2", "B", "client", "W2", "2026-03-16 11:00", 4.0),
            ("c1", "C", "client", "W2", "2026-03-14 11:00", 3.0)]
    resp = pd.DataFrame(rows, columns=["response_id", "account_id", "side", "wave", "submitted_at", "care_1"])
    resp["submitted_at"] = pd.to_datetime(resp["submitted_at"])
    resp["care_2"] = resp["care_1"]
    resp["nps"] = 7.0
    accounts = pd.DataFrame({"account_id": ["A", "B", "C"], "status": ["churned", "active", "renewed"],
                             "contract_start": pd.Timestamp("2020-01-01"),
                             "renewal_date": pd.to_datetime(["2026-03-01", "2026-03-01", None])})
    return model_data.answers_from_wide(resp), resp, accounts


def test_account_table_uses_only_answers_given_before_the_renewal_decision():
    ans, resp, acc = _timed_portfolio()
    with pytest.warns(ModelWarning) as caught:
        tab = model_data.account_table(ans, resp, acc, min_group_size=1).set_index("account_id")
    text = " ".join(str(w.message) for w in caught)
    assert "3 response(s) of 1 account(s) with a known outcome were given on or after the renewal date" in text
    assert "1 response(s) of 1 account(s) with a known outcome have no submission time or no renewal date" in text
    assert tab.loc["A", "n_client"] == 1 and tab.loc["A", "client_care"] == 2.0  # only the answer before renewal
    assert tab.loc["A", "n_staff"] == 1 and tab.loc["A", "staff_care"] == 3.0
    assert tab.loc["B", "n_client"] == 2  # active: every answer counts, even after its (passed) renewal date
    assert tab.loc["C", "n_client"] == 1  # timing cannot be checked: kept, and said
    assert tab.attrs["before_renewal"] is True
    assert tab.attrs["n_after_renewal"] == 3 and tab.attrs["n_accounts_after_renewal"] == 1
    assert tab.attrs["n_no_answers_before_renewal"] == 0 and tab.attrs["n_timing_unknown"] == 1
    # the latest wave is the latest one *before* renewal
    latest = quiet(model_data.account_table, ans, resp, acc, waves="latest", min_group_size=1).set_index("account_id")
    assert latest.loc["A", "client_care"] == 2.0
    # switched off, every answer is pooled again (the old behaviour) and nothing is counted
    pooled = quiet(model_data.account_table, ans, resp, acc, before_renewal=False, min_group_size=1).set_index("account_id")
    assert pooled.loc["A", "n_client"] == 4 and pooled.loc["A", "client_care"] == pytest.approx((2 + 5 + 5 + 5) / 4)
    assert pooled.attrs["before_renewal"] is False and pooled.attrs["n_after_renewal"] == 0
    # an account whose every answer came after the decision keeps its row, with no scores
    late = resp[~resp["response_id"].isin(["a1", "a5"])]
    gone = quiet(model_data.account_table, ans, late, acc, min_group_size=1).set_index("account_id")
    assert gone.loc["A", "n_client"] == 0 and np.isnan(gone.loc["A", "client_care"])
    assert gone.attrs["n_no_answers_before_renewal"] == 1


def test_before_renewal_is_a_keyword_only_option_on_by_default():
    import inspect

    param = inspect.signature(model_data.account_table).parameters["before_renewal"]
    assert param.kind is inspect.Parameter.KEYWORD_ONLY and param.default is True
    assert "submitted_at < renewal_date" in model_data.account_table.__doc__


def test_account_table_waves(tables, simulation):
    resp = simulation.responses
    by = quiet(model_data.account_table, tables["answers"], resp, simulation.accounts, by_wave=True, before_renewal=False)
    assert len(by) == resp.groupby(["account_id", "wave"]).ngroups
    latest = quiet(model_data.account_table, tables["answers"], resp, simulation.accounts, waves="latest",
                   before_renewal=False)
    q3 = quiet(model_data.account_table, tables["answers"], resp, simulation.accounts, waves=["2026Q3"], before_renewal=False)
    pd.testing.assert_series_equal(latest["client_care"], q3["client_care"])
    # with the renewal rule, an account × wave row exists only for waves with answers before a decided renewal
    timed = quiet(model_data.account_table, tables["answers"], resp, simulation.accounts, by_wave=True)
    assert len(timed) < len(by)
    renewal = timed["renewal_date"].where(timed["outcome_known"])
    first = resp.groupby(["account_id", "wave"])["submitted_at"].min()
    starts = first.reindex(pd.MultiIndex.from_frame(timed[["account_id", "wave"]])).to_numpy()
    assert (renewal.isna() | (starts < renewal)).all()
    with pytest.raises(ValueError, match="2019Q1"):
        model_data.account_table(tables["answers"], resp, simulation.accounts, waves="2019Q1")


# ---------------------------------------------------------------------------
# NPS models: planted effects
# ---------------------------------------------------------------------------
def test_nps_models_recover_planted_effects(tables, simulation):
    """Sign and rough size on the default sample (60 accounts, 4 waves, ≈3,500 client answers).

    NPS is rounded and clipped to 0–10 and ≈16% of answers sit at the ceiling, which pulls the linear
    slopes about 10% below the planted 1.5 (care) and 1.0 (impact); hence the lower bounds.  The ratio
    care/impact (1.5) survives proportional attenuation and is checked in all three models, including
    the ordinal one whose coefficients are on the log-odds scale.
    """
    truth = simulation.truth["nps_coefs"]
    res = quiet(nps_models.nps_models, tables["resp"])
    for model in ("ols", "mixed"):
        r = res[res["model"] == model].set_index("term")
        assert 1.15 < r.loc["care", "coef"] <= 1.6
        assert 0.7 < r.loc["impact", "coef"] <= 1.1
        for d in ("excitement", "dare", "professionalism"):
            assert truth[d] == 0 and abs(r.loc[d, "coef"]) < 0.2
        assert (r.loc[["care", "impact"], "p_val"] < 1e-6).all()
    for model in ("ols", "mixed", "ordinal"):
        r = res[res["model"] == model].set_index("term")
        assert r.loc["care", "coef"] / r.loc["impact", "coef"] == pytest.approx(1.5, abs=0.25)
    mixed = res[res["model"] == "mixed"].set_index("term")
    assert mixed.loc["sd(account_id)", "coef"] == pytest.approx(simulation.truth["nps_account_sd"], abs=0.2)
    assert (res["n_dropped"] > 0).all() and (res["n"] + res["n_dropped"] == len(tables["resp"])).all()
    assert res["warnings"].str.contains("left out").all()


@pytest.mark.slow
def test_nps_interval_coverage_over_20_seeds():
    """95% intervals of OLS (CR1) and mixed-model slopes cover the truth at about the stated rate.

    The sample's own NPS is clipped at 10, which biases linear slopes (see the test above), so the
    interval calibration is checked on an outcome rebuilt from the same planted model on the sampled
    dimension scores — account intercept SD 0.4, noise SD 1.1, rounded to integers but not clipped.
    20 seeds × 5 slopes = 100 intervals per model: we need at least 88 (P[X ≤ 87 | 0.95] ≈ 0.3%).
    The clipped sample NPS is also fitted: its care slope must stay below the truth on average.
    """
    coefs = {"excitement": 0.0, "dare": 0.0, "professionalism": 0.0, "impact": 1.0, "care": 1.5}
    centres = {"excitement": 3.6, "dare": 3.3, "professionalism": 4.0, "impact": 3.5, "care": 3.7}
    cover = {"ols": 0, "mixed": 0}
    width = {"ols": [], "mixed": []}
    clipped_care = []
    for seed in range(20):
        sim = simulate(seed=100 + seed, n_accounts=80, waves=("2026Q3",))
        rt = model_data.respondent_table(model_data.answers_from_wide(sim.responses), sim.responses).dropna()
        rng = np.random.default_rng(seed)
        accounts = rt["account_id"].unique()
        u = dict(zip(accounts, rng.normal(0, 0.4, len(accounts))))
        lin = 7.8 + sum(b * (rt[d] - centres[d]) for d, b in coefs.items())
        rt = rt.assign(nps_star=np.rint(lin + rt["account_id"].map(u) + rng.normal(0, 1.1, len(rt))))
        for model, fn in (("ols", nps_models.nps_ols), ("mixed", nps_models.nps_mixed)):
            r = quiet(fn, rt, outcome="nps_star", predictors=DIMS).set_index("term")
            for d, b in coefs.items():
                cover[model] += r.loc[d, "ci_low"] <= b <= r.loc[d, "ci_high"]
            width[model].append(r.loc["care", "ci_high"] - r.loc["care", "ci_low"])
        clipped_care.append(quiet(nps_models.nps_ols, rt, predictors=DIMS).set_index("term").loc["care", "coef"])
    assert cover["ols"] >= 88 and cover["mixed"] >= 88, cover
    # …and not by being uselessly wide: ≈1,100 answers give a care interval of about ±0.1–0.15
    assert np.mean(width["ols"]) < 0.35 and np.mean(width["mixed"]) < 0.3
    assert 1.15 < np.mean(clipped_care) < 1.47


def test_ols_cluster_se_matches_hand_sandwich(tables):
    """CR1 sandwich written out in numpy (Cameron & Miller 2015, eq. 11 with the G/(G−1)·(N−1)/(N−K) factor)."""
    rt = tables["resp"].dropna()
    res = nps_models.nps_ols(rt).set_index("term")
    x = np.column_stack([np.ones(len(rt)), rt[DIMS].to_numpy()])
    y = rt["nps"].to_numpy()
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    e = y - x @ beta
    meat = np.zeros((6, 6))
    for _, idx in rt.groupby("account_id").indices.items():
        s = x[idx].T @ e[idx]
        meat += np.outer(s, s)
    g, n, k = rt["account_id"].nunique(), len(rt), x.shape[1]
    v = bread @ meat @ bread * g / (g - 1) * (n - 1) / (n - k)
    assert np.allclose(res.loc[["Intercept", *DIMS], "coef"], beta)
    assert np.allclose(res.loc[["Intercept", *DIMS], "se"], np.sqrt(np.diag(v)))
    half = stats.t.ppf(0.975, g - 1) * np.sqrt(v[5, 5])
    assert res.loc["care", "ci_high"] - res.loc["care", "coef"] == pytest.approx(half)


# ---------------------------------------------------------------------------
# NPS models: published results
# ---------------------------------------------------------------------------
def _housing() -> pd.DataFrame:
    h = pd.read_csv(DATA / "housing.csv")
    h = h.loc[h.index.repeat(h["Freq"])].reset_index(drop=True)
    h["sat"] = h["Sat"].map({"Low": 0, "Medium": 1, "High": 2})
    h["InflMedium"], h["InflHigh"] = (h["Infl"] == "Medium") * 1.0, (h["Infl"] == "High") * 1.0
    for t in ("Apartment", "Atrium", "Terrace"):
        h[f"Type{t}"] = (h["Type"] == t) * 1.0
    h["ContHigh"] = (h["Cont"] == "High") * 1.0
    return h


def test_ordinal_matches_mass_polr_housing():
    """MASS::polr(Sat ~ Infl + Type + Cont, weights = Freq, data = housing) (Venables & Ripley 2002, §7.3)."""
    terms = ["InflMedium", "InflHigh", "TypeApartment", "TypeAtrium", "TypeTerrace", "ContHigh"]
    res = nps_models.nps_ordinal(_housing(), outcome="sat", predictors=terms, cluster=None).set_index("term")
    coef = [0.5663937, 1.2888191, -0.5723501, -0.3661866, -1.0910149, 0.3602841]
    se = [0.1046528, 0.1271561, 0.1192380, 0.1551733, 0.1514860, 0.0955358]
    assert np.allclose(res.loc[terms, "coef"], coef, atol=2e-4)
    assert np.allclose(res.loc[terms, "se"], se, rtol=1e-3)
    assert np.allclose(res.loc[["threshold 0|1", "threshold 1|2"], "coef"], [-0.4961353, 0.6907083], atol=2e-4)
    assert np.allclose(res.loc[["threshold 0|1", "threshold 1|2"], "se"], [0.1248472, 0.1254719], rtol=1e-3)


def test_mixed_matches_lme4_sleepstudy():
    """lme4: lmer(Reaction ~ Days + (1 | Subject), sleepstudy), REML."""
    s = pd.read_csv(DATA / "sleepstudy.csv")
    res = nps_models.nps_mixed(s, outcome="Reaction", predictors=["Days"], group="Subject").set_index("term")
    assert res.loc["Intercept", "coef"] == pytest.approx(251.40510, abs=1e-3)
    assert res.loc["Days", "coef"] == pytest.approx(10.46729, abs=1e-4)
    assert res.loc["Intercept", "se"] == pytest.approx(9.7467163, rel=1e-3)
    assert res.loc["Days", "se"] == pytest.approx(0.8042214, rel=1e-3)
    assert res.loc["sd(Subject)", "coef"] == pytest.approx(37.12383, rel=1e-3)
    assert res.loc["sd(residual)", "coef"] == pytest.approx(30.99123, rel=1e-3)


# ---------------------------------------------------------------------------
# Logistic regression: Firth, ML, separation
# ---------------------------------------------------------------------------
def _endometrial() -> pd.DataFrame:
    return pd.read_csv(DATA / "endometrial.csv").assign(outcome_known=True)


def test_firth_matches_heinze_schemper_endometrial():
    """Endometrial data (Heinze & Schemper 2002): NV separates, Firth estimates as printed by brglm2."""
    with pytest.warns(ModelWarning, match="separation"):
        res = retention.retention_logit(_endometrial(), predictors=["NV", "PI", "EH"], outcome="HG")
    r = res.set_index("term")
    assert (res["estimator"] == "logistic Firth").all()
    assert np.allclose(r.loc[["Intercept", "NV", "PI", "EH"], "coef"], [3.775, 2.929, -0.035, -2.604], atol=1.5e-3)
    assert np.allclose(r.loc[["Intercept", "NV", "PI", "EH"], "se"], [1.489, 1.551, 0.040, 0.776], atol=1.5e-3)
    assert "NV" in res["warnings"].iloc[0] and "separation" in res["warnings"].iloc[0]


def test_ml_on_separated_data_warns_and_other_terms_match_mle():
    """With NV → ∞ the ML estimates of the other terms converge to 4.305 (1.637), −0.042 (0.044), −2.903 (0.846)."""
    with pytest.warns(ModelWarning, match="infinite"):
        r = retention.retention_logit(_endometrial(), predictors=["NV", "PI", "EH"], outcome="HG", method="ml")
    r = r.set_index("term")
    assert r.loc["NV", "coef"] > 15
    assert np.allclose(r.loc[["Intercept", "PI", "EH"], "coef"], [4.305, -0.042, -2.903], atol=2e-3)
    assert np.allclose(r.loc[["Intercept", "PI", "EH"], "se"], [1.637, 0.044, 0.846], atol=2e-3)


def test_firth_two_by_two_equals_haldane_correction():
    """For one binary predictor Firth's estimate is the log odds ratio with ½ added to every cell."""
    a, b, c, d = 7, 2, 3, 0  # x=1: 7 events, 2 non-events; x=0: 3 events, 0 non-events (ML infinite)
    x = np.r_[np.ones(a + b), np.zeros(c + d)]
    y = np.r_[np.ones(a), np.zeros(b), np.ones(c), np.zeros(d)]
    fit = retention.firth_logit(np.column_stack([np.ones_like(x), x]), y)
    assert fit["converged"]
    assert fit["coef"][0] == pytest.approx(np.log((c + 0.5) / (d + 0.5)), abs=1e-7)
    assert fit["coef"][1] == pytest.approx(np.log((a + 0.5) * (d + 0.5) / ((b + 0.5) * (c + 0.5))), abs=1e-7)


def test_ml_logit_agrees_with_score_equations():
    rng = np.random.default_rng(4)
    x = np.column_stack([np.ones(400), rng.normal(size=(400, 2))])
    y = (rng.random(400) < special.expit(x @ [-0.5, 1.0, -0.7])).astype(float)
    tab = pd.DataFrame({"churned": y, "a": x[:, 1], "b": x[:, 2]})
    r = retention.retention_logit(tab, predictors=["a", "b"]).set_index("term")
    assert r["estimator"].iloc[0] == "logistic ML"
    beta = r.loc[["Intercept", "a", "b"], "coef"].to_numpy()
    assert np.allclose(x.T @ (y - special.expit(x @ beta)), 0, atol=1e-6)  # ML score is zero


def test_ridge_shrinks_towards_zero():
    rng = np.random.default_rng(5)
    x = np.column_stack([np.ones(60), rng.normal(size=60)])
    y = (rng.random(60) < special.expit(2 * x[:, 1])).astype(float)
    ml = retention.firth_logit(x, y)["coef"][1]
    strong = retention.ridge_logit(x, y, prior_sd=0.1)["coef"][1]
    weak = retention.ridge_logit(x, y, prior_sd=100)["coef"][1]
    assert 0 < strong < weak and abs(strong) < abs(ml)
    tab = pd.DataFrame({"churned": y, "x": x[:, 1]})
    with pytest.warns(ModelWarning, match="ridge prior"):
        assert retention.retention_logit(tab, predictors=["x"], method="ridge")["estimator"].iloc[0] == "logistic ridge"


@pytest.mark.slow
def test_retention_effects_in_planted_direction(big_portfolio):
    """Churn logit = −1.5 − 1.5·(client care − 3.7) + 1.5·(staff care − client care − 0.25) on latent means.

    In the (client care, gap = client − staff) parametrisation both true slopes are −1.5.  Observed account
    means carry sampling error (staff means from 2–15 answers), which attenuates the estimates (about −0.9 and
    −0.5 here): direction is recoverable, size is not, so only signs and "clearly not zero" are asserted.
    """
    assert big_portfolio.attrs["before_renewal"] and big_portfolio.attrs["n_no_answers_before_renewal"] == 0
    r = quiet(retention.retention_logit, big_portfolio, predictors=["client_care", "gap_care"]).set_index("term")
    assert r["estimator"].iloc[0] == "logistic ML"
    assert r.loc["client_care", "ci_high"] < 0 and r.loc["gap_care", "ci_high"] < 0
    assert -1.5 < r.loc["client_care", "coef"] < -0.4
    other = quiet(retention.retention_logit, big_portfolio, predictors=["client_care", "staff_care"]).set_index("term")
    assert other.loc["client_care", "coef"] < 0 < other.loc["staff_care", "coef"]
    cox = quiet(retention.retention_cox, big_portfolio, predictors=["client_care", "gap_care"]).set_index("term")
    assert cox.loc["client_care", "ci_high"] < 0 and cox.loc["gap_care", "ci_high"] < 0
    # placebo: dare has no planted effect
    placebo = quiet(retention.retention_logit, big_portfolio, predictors=["client_care", "client_dare"]).set_index("term")
    assert placebo.loc["client_dare", "ci_low"] < 0 < placebo.loc["client_dare", "ci_high"]


def test_retention_on_default_sample_is_firth_with_plain_warnings(tables):
    with pytest.warns(ModelWarning):
        r = retention.retention_logit(tables["acct"])
    assert list(r["term"]) == ["Intercept"] + [f"client_{d}" for d in DIMS] + [f"gap_{d}" for d in DIMS]
    assert (r["estimator"] == "logistic Firth").all()
    text = r["warnings"].iloc[0]
    assert "per predictor" in text and "still active" in text
    known = tables["acct"]["outcome_known"].sum()
    assert r["n"].iloc[0] + r["n_dropped"].iloc[0] == known
    # accounts with a hidden team view (or no answers before their renewal) are dropped, not counted as events
    used = tables["acct"][tables["acct"]["outcome_known"]].dropna(
        subset=[f"{s}_{d}" for s in ("client", "gap") for d in DIMS])
    assert r["n"].iloc[0] == len(used) and r["n_events"].iloc[0] == used["churned"].sum()


# ---------------------------------------------------------------------------
# Cox
# ---------------------------------------------------------------------------
def test_cox_matches_survival_ovarian():
    """survival package, tests/ovarian.Rout.save: coxph(Surv(futime, fustat) ~ age + rx + ecog.ps)."""
    o = pd.read_csv(DATA / "ovarian.csv")
    with pytest.warns(ModelWarning, match="churn events"):
        r = retention.retention_cox(o, predictors=["age", "rx", "ecog_ps"], time="futime", event="fustat")
    r = r.set_index("term")
    assert np.allclose(r.loc[["age", "rx", "ecog_ps"], "coef"], [0.147, -0.815, 0.103], atol=1.5e-3)
    assert np.allclose(r.loc[["age", "rx", "ecog_ps"], "se"], [0.0463, 0.6342, 0.6064], atol=2e-4)
    assert r["n_events"].iloc[0] == 12 and r["n"].iloc[0] == 26
    one = retention.retention_cox(o, predictors=["age"], time="futime", event="fustat").set_index("term")
    assert one.loc["age", "coef"] == pytest.approx(0.162, abs=1e-3)
    assert one.loc["age", "se"] == pytest.approx(0.0497, abs=1e-4)


ROSSI = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]


def test_cox_and_its_concordance_match_lifelines_rossi():
    """lifelines' CoxPHFitter on the Rossi recidivism data (lifelines/datasets/rossi.csv).

    Efron ties: coefficients −0.379, −0.057, 0.314, −0.150, −0.434, −0.085, 0.091 and "Concordance = 0.640"
    (docs/jupyter_notebooks/Proportional hazard assumption.ipynb); Breslow ties, as lifelines printed them in
    2017 (docs/Survival Regression.rst at d7eba48): −0.3790 (0.1914), −0.0572 (0.0220), 0.3141 (0.3080),
    −0.1511 (0.2121), −0.4328 (0.3818), −0.0850 (0.1957), 0.0911 (0.0286), "Concordance = 0.640".
    """
    r = pd.read_csv(DATA / "rossi.csv")
    efron = retention.retention_cox(r, predictors=ROSSI, time="week", event="arrest")
    assert np.allclose(efron.set_index("term").loc[ROSSI, "coef"], [-0.379, -0.057, 0.314, -0.150, -0.434, -0.085, 0.091],
                       atol=5e-4)
    assert efron.attrs["concordance"] == pytest.approx(0.640, abs=5e-4)
    breslow = retention.retention_cox(r, predictors=ROSSI, time="week", event="arrest", ties="breslow").set_index("term")
    assert np.allclose(breslow.loc[ROSSI, "coef"], [-0.3790, -0.0572, 0.3141, -0.1511, -0.4328, -0.0850, 0.0911],
                       atol=5e-5)
    assert np.allclose(breslow.loc[ROSSI, "se"], [0.1914, 0.0220, 0.3080, 0.2121, 0.3818, 0.1957, 0.0286], atol=5e-5)
    assert breslow.attrs["concordance"] == pytest.approx(0.640, abs=5e-4)
    # 114 arrests; every pair in which the earlier week ended in an arrest is comparable
    week, arrest = r["week"].to_numpy(), r["arrest"].to_numpy()
    pairs = sum(((week > w) | ((week == w) & (arrest == 0))).sum() for w in week[arrest == 1])
    assert efron.attrs["concordance_pairs"] == pairs
    assert 0.02 < efron.attrs["concordance_se"] < 0.035


def test_time_to_churn_rules():
    t = pd.DataFrame({"contract_start": ["2020-01-01", "2020-01-01", "2020-01-01", None],
                      "renewal_date": ["2022-01-01", "2022-01-01", "2027-01-01", "2022-01-01"],
                      "status": ["churned", "renewed", "active", "churned"]})
    out = retention.time_to_churn(t, cutoff="2026-01-01")
    assert out["event"].tolist() == [1, 0, 0]
    assert out["time_days"].tolist() == [731.0, 2192.0, 2192.0]
    assert out.attrs["n_dropped"] == 1
    assert retention.time_to_churn(t).attrs["cutoff"] == pd.Timestamp("2022-01-01")


# ---------------------------------------------------------------------------
# Prediction quality
# ---------------------------------------------------------------------------
def test_auc_and_brier_against_independent_formulas():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 200).astype(float)
    p = np.clip(0.3 * y + rng.random(200) * 0.7, 0, 1)
    u = stats.mannwhitneyu(p[y == 1], p[y == 0]).statistic
    assert validation.auc(y, p) == pytest.approx(u / ((y == 1).sum() * (y == 0).sum()))
    assert validation.auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == 0.5
    assert np.isnan(validation.auc([1, 1], [0.2, 0.3]))
    assert validation.brier([0, 0, 1], [0.0, 0.5, 0.5]) == pytest.approx((0 + 0.25 + 0.25) / 3)


def test_cv_beats_noise_baseline_and_is_reproducible():
    rng = np.random.default_rng(1)
    tab = pd.DataFrame({"account_id": [f"A{i}" for i in range(200)], "x": rng.normal(size=200),
                        "client_nps": rng.normal(size=200), "outcome_known": True})
    tab["churned"] = (rng.random(200) < special.expit(-1 + 2 * tab["x"])).astype(float)
    res = validation.retention_cv(tab, predictors=["x"], repeats=5, seed=3).set_index(["model", "metric"])
    again = validation.retention_cv(tab, predictors=["x"], repeats=5, seed=3).set_index(["model", "metric"])
    pd.testing.assert_frame_equal(res, again)
    both = pd.concat([res.reset_index(), again.reset_index()])  # results concatenate (attrs are plain data)
    assert len(both) == 8
    assert len(validation.calibration_table(res.attrs["predictions"])) == 10
    assert res.loc[("model", "auc"), "estimate"] > 0.75
    assert 0.35 < res.loc[("baseline", "auc"), "estimate"] < 0.65
    assert res.loc[("model", "auc"), "ci_low"] > res.loc[("baseline", "auc"), "ci_high"]
    assert res.loc[("model", "brier"), "estimate"] < res.loc[("baseline", "brier"), "estimate"]
    pred = validation.cv_predictions(tab, predictors=["x"], repeats=2, seed=3)
    assert pred.groupby(["model", "repeat"])["account_id"].nunique().eq(200).all()  # each account once per repeat
    assert set(pred["fold"].unique()) == set(range(5))
    # stratified: every fold holds 1/5 of the churners (± 1)
    churners = pred[(pred["repeat"] == 0) & (pred["model"] == "model") & (pred["churned"] == 1)]
    sizes = churners.groupby("fold").size()
    assert sizes.max() - sizes.min() <= 1


def test_calibration_table_and_plot():
    import matplotlib.pyplot as plt

    rng = np.random.default_rng(2)
    p = rng.random(500)
    pred = pd.DataFrame({"account_id": range(500), "model": "model", "repeat": 0, "predicted": p,
                         "churned": (rng.random(500) < p).astype(float)})
    cal = validation.calibration_table(pred, bins=5)
    assert cal["n"].tolist() == [100] * 5
    assert np.allclose(cal["observed"], cal["mean_predicted"], atol=0.12)  # calibrated by construction
    assert ((cal["ci_low"] <= cal["observed"]) & (cal["observed"] <= cal["ci_high"])).all()
    ax = plots.plot_calibration(cal)
    assert len(ax.lines) >= 2 and ax.get_xlabel().startswith("Predicted")
    plt.close("all")


def test_calibration_limits_stay_within_0_1_around_the_rate_and_the_plot_draws_them():
    """Wilson limits at an observed rate of 0 (bins of 6) or 1 (bins of 10) can round to 3e-17 or 1 − 1e-16."""
    import matplotlib.pyplot as plt

    for n, rate in ((6, 0.0), (10, 1.0)):
        pred = pd.DataFrame({"account_id": range(2 * n), "model": "model", "repeat": 0,
                             "predicted": np.linspace(0.05, 0.95, 2 * n), "churned": rate})
        cal = validation.calibration_table(pred, bins=2)
        assert (cal["ci_low"] >= 0).all() and (cal["ci_high"] <= 1).all()
        assert ((cal["ci_low"] <= cal["observed"]) & (cal["observed"] <= cal["ci_high"])).all()
        assert (cal["ci_low"] == 0.0).all() if rate == 0 else (cal["ci_high"] == 1.0).all()
        ax = plots.plot_calibration(cal)
        assert len(ax.lines) >= 2
        plt.close("all")
    # a table from elsewhere whose limits miss the rate draws zero-length bars rather than failing
    odd = pd.DataFrame({"model": "m", "bin": [1, 2], "n": [6, 6], "mean_predicted": [.1, .8], "observed": [0.0, 1.0],
                        "ci_low": [5e-17, 0.6], "ci_high": [0.4, 1 - 1e-16]})
    ax = plots.plot_calibration(odd)
    assert len(ax.lines) >= 2
    plt.close("all")


def test_predict_risk_names_drivers_in_finnish(tables):
    en = quiet(retention.predict_risk, tables["acct"], predictors=["client_care", "gap_care"])
    fi = quiet(retention.predict_risk, tables["acct"], predictors=["client_care", "gap_care"], language="fi")
    assert en["drivers"].str.contains("Care").any()
    expected = [d.replace("Care (gap, client − team)", "Välittäminen (ero, asiakas − tiimi)")
                .replace("Care (client)", "Välittäminen (asiakas)") for d in en["drivers"]]
    assert fi["drivers"].tolist() == expected and "Care" not in " ".join(fi["drivers"])
    assert fitting.term_label("client_nps", language="fi") == "asiakkaiden NPS" and fitting.term_label("churned") == "churn"
    with pytest.raises(ValueError, match="language must be one of"):
        retention.predict_risk(tables["acct"], predictors=["client_care"], language="sv")


def test_predict_risk_lists_every_account_with_interval_and_drivers(tables):
    with pytest.warns(ModelWarning):
        risk = retention.predict_risk(tables["acct"], predictors=["client_care", "gap_care"])
    assert len(risk) == len(tables["acct"]) and set(risk["status"]) >= {"active", "churned", "renewed"}
    ok = risk["p_churn"].notna()
    inside = (risk["ci_low"] <= risk["p_churn"]) & (risk["p_churn"] <= risk["ci_high"])
    assert inside[ok].all()
    # highest risk first; accounts without scores (no answers before their renewal) last, without a probability
    assert risk["p_churn"].dropna().is_monotonic_decreasing and ok.iloc[: ok.sum()].all()
    assert (risk.loc[~ok, "drivers"] == "").all()
    assert risk["risk_rank"].iloc[0] == 1
    top = risk.iloc[0]
    assert "Care" in top["drivers"]
    # the contributions reproduce the logit difference from an average account
    coef = quiet(retention.retention_logit, tables["acct"], predictors=["client_care", "gap_care"]).set_index("term")["coef"]
    known = tables["acct"][tables["acct"]["outcome_known"]]
    eta_mean = coef["Intercept"] + (coef[["client_care", "gap_care"]] * known[["client_care", "gap_care"]].mean()).sum()
    contrib = top["contrib_client_care"] + top["contrib_gap_care"]
    assert special.logit(top["p_churn"]) - eta_mean == pytest.approx(contrib)


# ---------------------------------------------------------------------------
# Tiny or degenerate inputs: a clear warning, no crash
# ---------------------------------------------------------------------------
def _tiny(n=12, churn=None, seed=0):
    rng = np.random.default_rng(seed)
    tab = pd.DataFrame({"account_id": [f"A{i}" for i in range(n)], "status": "renewed", "outcome_known": True,
                        "client_care": rng.uniform(2, 5, n), "gap_care": rng.normal(0, 0.3, n),
                        "client_nps": rng.uniform(-50, 80, n),
                        "contract_start": pd.Timestamp("2020-01-01"), "renewal_date": pd.Timestamp("2025-06-01")})
    tab["churned"] = 0.0
    if churn is not None:
        tab.loc[churn, ["churned", "status"]] = [1.0, "churned"]
    return tab


def test_all_renewed_gives_clear_warning_everywhere():
    tab = _tiny()
    pred = ["client_care", "gap_care"]
    with pytest.warns(ModelWarning, match="no account churned"):
        r = retention.retention_logit(tab, predictors=pred)
    assert r["coef"].isna().all() and r["n_events"].iloc[0] == 0
    with pytest.warns(ModelWarning, match="0 churn"):
        assert retention.retention_cox(tab, predictors=pred)["coef"].isna().all()
    with pytest.warns(ModelWarning, match="at least 2 churned"):
        assert validation.retention_cv(tab, predictors=pred).empty
    with pytest.warns(ModelWarning):
        risk = retention.predict_risk(tab, predictors=pred)
    assert risk["p_churn"].isna().all() and "no account churned" in risk["warnings"].iloc[0]


def test_one_churner_uses_firth_and_says_so():
    tab = _tiny(churn=[3])
    with pytest.warns(ModelWarning, match="Firth"):
        r = retention.retention_logit(tab, predictors=["client_care", "gap_care"])
    assert np.isfinite(r["coef"]).all() and r["n_events"].iloc[0] == 1
    with pytest.warns(ModelWarning, match="at least 2 churned"):
        validation.retention_cv(tab, predictors=["client_care", "gap_care"])
    with pytest.warns(ModelWarning, match="churn events"):
        cox = retention.retention_cox(tab, predictors=["client_care", "gap_care"])
    assert cox["n_events"].iloc[0] == 1


def test_three_accounts_do_not_crash():
    tab = _tiny(n=3, churn=[0])
    with pytest.warns(ModelWarning, match="cannot be fitted"):
        r = retention.retention_logit(tab, predictors=["client_care", "gap_care"])
    assert r["coef"].isna().all()
    with pytest.warns(ModelWarning):
        retention.predict_risk(tab, predictors=["client_care", "gap_care"])
    rt = pd.DataFrame({"account_id": ["A", "B", "C"], "nps": [7.0, 9, 4], "care": [3.0, 4, 2], "impact": [3.0, 5, 2]})
    for fn in (nps_models.nps_ols, nps_models.nps_ordinal, nps_models.nps_mixed):
        with pytest.warns(ModelWarning, match="too few|Only 3"):
            out = fn(rt, predictors=["care", "impact"])
        assert out["coef"].isna().all()


def test_constant_dimension_is_left_out_with_a_warning(tables):
    rt = tables["resp"].dropna(subset=["nps", *DIMS]).assign(dare=3.0)
    with pytest.warns(ModelWarning, match="dare has the same value"):
        res = nps_models.nps_ols(rt)
    r = res.set_index("term")
    assert np.isnan(r.loc["dare", "coef"]) and np.isfinite(r.loc["care", "coef"])
    with pytest.warns(ModelWarning, match="dare has the same value"):
        assert np.isnan(nps_models.nps_mixed(rt).set_index("term").loc["dare", "coef"])
    with pytest.warns(ModelWarning, match="dare has the same value"):
        assert np.isnan(nps_models.nps_ordinal(rt).set_index("term").loc["dare", "coef"])
    tab = _tiny(n=40, churn=list(range(8))).assign(client_dare=3.0)
    with pytest.warns(ModelWarning, match="client_dare has the same value"):
        lr = retention.retention_logit(tab, predictors=["client_care", "client_dare"])
    assert np.isnan(lr.set_index("term").loc["client_dare", "coef"])


def test_missing_columns_raise_a_readable_error(tables):
    with pytest.raises(KeyError, match="warmth"):
        nps_models.nps_ols(tables["resp"], predictors=["care", "warmth"])


def test_tables_from_the_store_loaders(sample_store):
    """The store's loaders feed the tables directly (dates, nullable NPS and all)."""
    from helpers.data.store import load_accounts, load_answers, load_responses

    ans, resp = load_answers(store=sample_store), load_responses(store=sample_store)
    acc = load_accounts(store=sample_store)
    tab = quiet(model_data.account_table, ans, resp, acc)
    pooled = quiet(model_data.account_table, ans, resp, acc, before_renewal=False)
    assert len(tab) == len(acc) and pooled["n_client"].sum() == (resp["side"] == "client").sum()
    # every response is either used or counted as given after its account's renewal
    assert tab["n_client"].sum() + tab["n_staff"].sum() + tab.attrs["n_after_renewal"] == len(resp)
    assert tab.attrs["n_timing_unknown"] == 0
    assert pd.api.types.is_datetime64_any_dtype(tab["renewal_date"])
    rt = model_data.respondent_table(ans, resp)
    assert len(rt) == (resp["side"] == "client").sum()
    res = quiet(nps_models.nps_ols, rt).set_index("term")
    assert res.loc["care", "coef"] > 1.0
    assert quiet(retention.time_to_churn, tab)["event"].sum() == (tab["status"] == "churned").sum()


def test_cluster_and_group_columns_are_required_and_rows_without_them_counted(tables):
    rt = tables["resp"].dropna(subset=["nps", *DIMS]).reset_index(drop=True)
    with pytest.raises(KeyError, match="account_id"):
        nps_models.nps_ols(rt.drop(columns="account_id"))
    with pytest.raises(KeyError, match="account_id"):
        nps_models.nps_mixed(rt.drop(columns="account_id"))
    assert np.isfinite(quiet(nps_models.nps_ols, rt.drop(columns="account_id"), cluster=None)["coef"]).all()
    gappy = rt.assign(account_id=rt["account_id"].mask(rt.index < 7))
    for fn in (nps_models.nps_ols, nps_models.nps_ordinal, nps_models.nps_mixed):
        with pytest.warns(ModelWarning, match="7 of .* rows were left out because nps, account_id or a predictor"):
            out = fn(gappy)
        assert (out["n_dropped"] == 7).all() and (out["n"] == len(rt) - 7).all()
