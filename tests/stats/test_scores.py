"""Scores checked by hand, against published values and against simulated ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.stats.scores import (
    classify_nps,
    cronbach_alpha,
    dimension_summary,
    feldt_ci,
    nps,
    nps_change,
    respondent_scores,
    rwg,
    summarise,
    touchpoint_nps,
)

# mtcars columns cyl, gear, carb, hp (R datasets::mtcars, public domain, Henderson & Velleman 1981).
MTCARS = np.array([
    [6, 4, 4, 110], [6, 4, 4, 110], [4, 4, 1, 93], [6, 3, 1, 110], [8, 3, 2, 175], [6, 3, 1, 105],
    [8, 3, 4, 245], [4, 4, 2, 62], [4, 4, 2, 95], [6, 4, 4, 123], [6, 4, 4, 123], [8, 3, 3, 180],
    [8, 3, 3, 180], [8, 3, 3, 180], [8, 3, 4, 205], [8, 3, 4, 215], [8, 3, 4, 230], [4, 4, 1, 66],
    [4, 4, 2, 52], [4, 4, 1, 65], [4, 3, 1, 97], [8, 3, 2, 150], [8, 3, 2, 150], [8, 3, 4, 245],
    [8, 3, 2, 175], [4, 4, 1, 66], [4, 5, 2, 91], [4, 5, 2, 113], [8, 5, 4, 264], [6, 5, 6, 175],
    [8, 5, 8, 335], [4, 4, 2, 109]], dtype=float)
# 8 respondents × 4 items; alpha 0.409 from R psych::alpha (as quoted in the precis package's tests).
SMALL = np.array([[3, 4, 3, 3], [5, 4, 4, 3], [1, 3, 4, 5], [4, 5, 4, 2], [1, 3, 4, 1], [3, 3, 3, 1],
                  [3, 4, 5, 1], [1, 2, 1, 3]], dtype=float)


def _long(matrix: np.ndarray, items: list[str], **extra) -> pd.DataFrame:
    n, k = matrix.shape
    return pd.DataFrame({"response_id": np.repeat([f"r{i}" for i in range(n)], k),
                         "item": items * n, "value": matrix.ravel(), **extra})


def test_mtcars_sanity():
    assert MTCARS.mean(axis=0).tolist() == [6.1875, 3.6875, 2.8125, 146.6875]


@pytest.mark.parametrize("matrix,published", [(MTCARS, 0.09463206), (SMALL, 0.409)])
def test_cronbach_alpha_published_values(matrix, published):
    ans = _long(matrix, ["care_1", "care_2", "care_3", "impact_1"][: matrix.shape[1]])
    ans["item"] = ans["item"].str.replace("impact_1", "care_4")
    import pathlib
    import tempfile

    import yaml

    from helpers.data.instrument import load_instrument
    # a one-dimension, four-item instrument on a wide scale (the published data are not 1–5 items)
    doc = {"name": "four", "scale": {"min": 0, "max": 400}, "min_items": 1,
           "dimensions": [{"id": "care", "label": {"en": "Care"},
                           "items": [{"id": f"care_{i}"} for i in range(1, 5)]}]}
    path = pathlib.Path(tempfile.mkdtemp()) / "four.yml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    res = cronbach_alpha(ans.assign(side="client"), instrument=load_instrument(path))
    assert res["alpha"].iloc[0] == pytest.approx(published, abs=1e-3)
    assert res["n"].iloc[0] == matrix.shape[0] and res["k"].iloc[0] == 4


FIXTURES = Path(__file__).parents[1] / "fixtures" / "models"


def test_cronbach_alpha_listwise_and_pairwise_match_psych_as_published_by_pingouin():
    """pingouin's cronbach_alpha docs on its cronbach_wide_missing data (12 respondents × 11 binary items):
    psych::alpha(data, use="pairwise") 0.732660835214447, use="complete.obs" 0.8016949152542373."""
    data = pd.read_csv(FIXTURES / "cronbach_wide_missing.csv")
    pairwise = cronbach_alpha(data, missing="pairwise").iloc[0]
    listwise = cronbach_alpha(data).iloc[0]
    assert pairwise["alpha"] == pytest.approx(0.732660835214447, abs=1e-12)
    assert listwise["alpha"] == pytest.approx(0.8016949152542373, abs=1e-12)
    assert (listwise["n"], listwise["n_complete"], listwise["n_dropped"], listwise["k"]) == (9, 9, 3, 11)
    assert (pairwise["n"], pairwise["n_complete"], pairwise["n_dropped"]) == (12, 9, 0)
    assert pairwise["missing"] == "pairwise" and "dimension" not in cronbach_alpha(data).columns


def test_standardised_alpha_matches_psych_on_holzinger_swineford():
    """psych::alpha on lavaan's HolzingerSwineford1939 (README of the R package lavaanExtra): raw_alpha and
    std.alpha 0.63 and 0.63 (visual, x1–x3), 0.88 and 0.88 (textual), 0.69 and 0.69 (speed), Feldt 95% limits
    0.55–0.69, 0.86–0.90, 0.62–0.74; dropping x4 (x6) from textual leaves raw 0.83 (0.84), std 0.84 (0.85)."""
    hs = pd.read_csv(FIXTURES / "holzinger_swineford.csv")
    published = {("x1", "x2", "x3"): (0.63, 0.63, 0.55, 0.69), ("x4", "x5", "x6"): (0.88, 0.88, 0.86, 0.90),
                 ("x7", "x8", "x9"): (0.69, 0.69, 0.62, 0.74), ("x5", "x6"): (0.83, 0.84, None, None),
                 ("x4", "x5"): (0.84, 0.85, None, None)}
    for cols, (raw, std, lo, hi) in published.items():
        r = cronbach_alpha(hs, items=list(cols)).iloc[0]
        assert round(r["alpha"], 2) == raw and round(r["alpha_std"], 2) == std, cols
        if lo is not None:
            assert (round(r["ci_low"], 2), round(r["ci_high"], 2)) == (lo, hi)
        assert r["n"] == 301


def test_cronbach_alpha_raw_standardised_and_pairwise_by_hand():
    x = np.array([[1, 2, 4.0], [2, 2, 5], [3, 4, 4], [4, 5, 6], [5, 4, 8]])
    r = cronbach_alpha(pd.DataFrame(x, columns=["a", "b", "c"])).iloc[0]
    # item variances 2.5, 1.8, 2.8; totals 7, 9, 11, 15, 17 → variance 68.8/4 = 17.2
    assert r["alpha"] == pytest.approx(3 / 2 * (1 - (2.5 + 1.8 + 2.8) / 17.2))
    corr = np.corrcoef(x, rowvar=False)
    r_bar = (corr[0, 1] + corr[0, 2] + corr[1, 2]) / 3
    assert r["alpha_std"] == pytest.approx(3 * r_bar / (1 + 2 * r_bar))
    # pairwise: each covariance from the respondents who answered both items, each variance from all answers
    y = x.copy()
    y[0, 2], y[3, 0] = np.nan, np.nan
    pair = cronbach_alpha(pd.DataFrame(y, columns=["a", "b", "c"]), missing="pairwise").iloc[0]
    cov = np.empty((3, 3))
    for i in range(3):
        for j in range(3):
            both = ~np.isnan(y[:, i]) & ~np.isnan(y[:, j])
            cov[i, j] = np.cov(y[both, i], y[both, j])[0, 1]
    assert pair["alpha"] == pytest.approx(3 / 2 * (1 - np.trace(cov) / cov.sum()))
    assert (pair["n"], pair["n_complete"], pair["n_dropped"]) == (5, 3, 0)
    listwise = cronbach_alpha(pd.DataFrame(y, columns=["a", "b", "c"])).iloc[0]
    assert (listwise["n"], listwise["n_dropped"]) == (3, 2)
    assert listwise["alpha"] == pytest.approx(3 / 2 * (1 - np.var(x[[1, 2, 4]], axis=0, ddof=1).sum()
                                                       / x[[1, 2, 4]].sum(axis=1).var(ddof=1)))


def test_cronbach_alpha_long_answers_count_who_was_left_out():
    ans = _long(SMALL[:, :3], ["care_1", "care_2", "care_3"], side="client")
    ans.loc[ans.index[:2], "value"] = np.nan  # r0 skipped two of the three items
    res = cronbach_alpha(ans).iloc[0]
    assert (res["side"], res["dimension"], res["n"], res["n_dropped"], res["k"]) == ("client", "care", 7, 1, 3)
    with pytest.raises(ValueError, match="missing must be"):
        cronbach_alpha(ans, missing="mean")
    with pytest.raises(ValueError, match=r"Item columns \['who'\] are not numeric"):
        cronbach_alpha(pd.DataFrame({"a": [1, 2], "b": [2, 3], "who": ["x", "y"]}))


def test_feldt_ci_by_hand():
    # alpha .80, n = 50, k = 3: df1 = 49, df2 = 98
    lo, hi = feldt_ci(0.80, 50, 3)
    assert lo == pytest.approx(1 - 0.2 * stats.f.ppf(0.975, 49, 98))
    assert hi == pytest.approx(1 - 0.2 * stats.f.ppf(0.025, 49, 98))
    assert lo < 0.80 < hi
    # F(.975; 49, 98) ≈ 1.599 (F tables) → lower ≈ 1 − .2 · 1.599 = .680
    assert lo == pytest.approx(0.680, abs=0.002)
    assert feldt_ci(0.8, 2, 3) == (pytest.approx(np.nan, nan_ok=True), pytest.approx(np.nan, nan_ok=True))


def test_respondent_scores_min_items_rule():
    ans = pd.DataFrame({"response_id": ["a"] * 6, "item": ["care_1", "care_2", "care_3", "dare_1", "dare_2", "dare_3"],
                        "value": [4, 5, np.nan, 2, np.nan, np.nan]})
    out = respondent_scores(ans, keep=()).set_index("dimension")
    assert out.loc["care", "score"] == 4.5 and out.loc["care", "n_items"] == 2
    assert np.isnan(out.loc["dare", "score"]) and out.loc["dare", "n_items"] == 1
    assert respondent_scores(ans, keep=(), min_items=1).set_index("dimension").loc["dare", "score"] == 2.0
    with pytest.raises(ValueError, match="not in the instrument"):
        respondent_scores(ans.assign(item="bogus"), keep=())


def test_summarise_t_interval_by_hand():
    d = pd.DataFrame({"g": ["x"] * 4 + ["y"], "score": [2.0, 4.0, 4.0, 6.0, 3.0]})
    out = summarise(d, by=["g"]).set_index("g")
    # mean 4, sd = sqrt(8/3), se = sd/2, t(.975, 3) = 3.182446
    sd = np.sqrt(8 / 3)
    assert out.loc["x", "mean"] == 4 and out.loc["x", "sd"] == pytest.approx(sd)
    assert out.loc["x", "ci_low"] == pytest.approx(4 - 3.182446 * sd / 2, abs=1e-5)
    assert out.loc["y", "n"] == 1 and np.isnan(out.loc["y", "ci_low"])


def test_nps_by_hand():
    # 36 answers: 15 promoters, 13 passives, 8 detractors
    scores = [10] * 9 + [9] * 6 + [8] * 7 + [7] * 6 + [6] * 3 + [3] * 5
    out = nps(pd.DataFrame({"nps": scores}), by=None).iloc[0]
    assert (out["n"], out["promoters"], out["passives"], out["detractors"]) == (36, 15, 13, 8)
    assert out["nps"] == pytest.approx(100 * (15 - 8) / 36)
    # adjusted Wald: p̃P = 15.75/39, p̃D = 8.75/39, var = (p̃P + p̃D − (p̃P − p̃D)²)/39
    pp, pd_ = 15.75 / 39, 8.75 / 39
    half = 1.959964 * np.sqrt((pp + pd_ - (pp - pd_) ** 2) / 39)
    assert out["ci_low"] == pytest.approx(100 * (pp - pd_ - half), abs=1e-4)
    assert out["ci_high"] == pytest.approx(100 * (pp - pd_ + half), abs=1e-4)
    # numerically: p̃P − p̃D = .1795, var = (.6282 − .0322)/39 = .01528, half = 1.96 · .1236 = .2423
    assert out["ci_low"] == pytest.approx(-6.28, abs=0.02) and out["ci_high"] == pytest.approx(42.18, abs=0.02)
    # plain Wald on the raw proportions and n = 36
    w = 1.959964 * np.sqrt((23 / 36 - (7 / 36) ** 2) / 36)
    assert out["wald_low"] == pytest.approx(100 * (7 / 36 - w), abs=1e-4)


def test_nps_extremes_and_classification():
    out = nps(pd.DataFrame({"nps": [10, 10, 9]}), by=None).iloc[0]
    assert out["nps"] == 100 and out["ci_high"] <= 100 and out["ci_low"] < 100
    # plain Wald collapses to a zero-width interval here: exactly why it is not the headline
    assert out["wald_low"] == out["wald_high"] == 100
    assert classify_nps(pd.Series([0, 6, 7, 8, 9, 10, np.nan])).tolist()[:6] == \
        ["detractor", "detractor", "passive", "passive", "promoter", "promoter"]


def test_nps_refuses_answers_that_are_not_whole_numbers_0_to_10():
    """11 used to count as a promoter, −1 and 5.5 as detractors: now the column, values and rows are named."""
    d = pd.DataFrame({"nps": [10, 11, 7, -1, 5.5, np.nan]}, index=[10, 11, 12, 13, 14, 15])
    with pytest.raises(ValueError, match=r"Column 'nps' has answers that are not whole numbers on the 0–10 NPS "
                                         r"scale: 11, -1, 5.5 \(rows 11, 13, 14\)"):
        nps(d, by=None)
    with pytest.raises(ValueError, match=r"Column 'q' .* 11 \(row 11\)"):
        classify_nps(pd.Series([10, 11], index=[10, 11], name="q"))
    # missing answers are still allowed, and not counted
    ok = nps(pd.DataFrame({"nps": pd.array([10, None, 3, 9], dtype="Int64")}), by=None).iloc[0]
    assert (ok["n"], ok["promoters"], ok["detractors"]) == (3, 2, 1)


def test_nps_text_answers_count_only_when_they_read_as_whole_numbers_0_to_10():
    """Exports sometimes hold answers as text: "9" is 9 and a blank is missing; any other text is an error."""
    out = nps(pd.DataFrame({"nps": ["9", " 10", "7.0", "", None, "3"]}), by=None).iloc[0]
    assert (out["n"], out["promoters"], out["passives"], out["detractors"]) == (4, 2, 1, 1)
    assert out["nps"] == pytest.approx(25.0)
    for bad, shown in ((["9", "nine"], "'nine'"), (["9.5", "8"], "'9.5'"), (["11", "8"], "'11'"), ([True, 9], "True")):
        with pytest.raises(ValueError, match=f"not whole numbers on the 0–10 NPS scale: {shown}"):
            nps(pd.DataFrame({"nps": bad}), by=None)
    assert classify_nps(pd.Series(["10", "6", None])).tolist() == ["promoter", "detractor", pd.NA]


def test_adjusted_wald_coverage_on_trinomial_samples():
    """Ground truth: with n = 20 the adjusted-Wald interval covers the true NPS about 95% of the time."""
    rng = np.random.default_rng(7)
    p = np.array([0.45, 0.35, 0.20])  # promoter, passive, detractor → true NPS 25
    n, sims = 20, 3000
    draws = rng.multinomial(n, p, size=sims)
    scores = np.repeat([[10, 8, 3]], sims, axis=0)
    frames = pd.DataFrame({"sim": np.repeat(np.arange(sims), n),
                           "nps": np.concatenate([np.repeat(scores[i], draws[i]) for i in range(sims)])})
    res = nps(frames, by=["sim"])
    cover = ((res["ci_low"] <= 25) & (res["ci_high"] >= 25)).mean()
    wald = ((res["wald_low"] <= 25) & (res["wald_high"] >= 25)).mean()
    assert 0.93 <= cover <= 0.975
    assert wald < cover


def test_nps_change_by_hand():
    d = pd.DataFrame({"account_id": "A", "side": "client", "wave": ["w1"] * 4 + ["w2"] * 4,
                      "nps": [10, 9, 5, 5, 10, 10, 9, 5]})
    out = nps_change(d).iloc[0]
    assert (out["wave_from"], out["wave_to"], out["nps_from"], out["nps_to"], out["change"]) == ("w1", "w2", 0, 50, 50)
    v1 = ((2.75 / 7) + (2.75 / 7) - 0) / 7
    v2 = ((3.75 / 7) + (1.75 / 7) - (2 / 7) ** 2) / 7
    assert out["change_adjusted"] == pytest.approx(100 * (2 / 7 - 0))
    assert out["ci_high"] - out["change_adjusted"] == pytest.approx(100 * 1.959964 * np.sqrt(v1 + v2), abs=1e-3)
    assert out["ci_low"] < 0 < out["ci_high"]  # n = 4 per wave: not a clear change


def test_nps_change_is_the_difference_of_the_adjusted_estimates_of_nps():
    d = pd.DataFrame({"wave": ["w1"] * 5 + ["w2"] * 6, "nps": [10, 9, 7, 3, 0, 10, 10, 9, 8, 6, 9]})
    per = nps(d, by=["wave"]).set_index("wave")
    out = nps_change(d, by=[]).iloc[0]
    assert out["change_adjusted"] == pytest.approx(per.loc["w2", "nps_adjusted"] - per.loc["w1", "nps_adjusted"])


def test_nps_change_two_answers_is_never_clear():
    d = pd.DataFrame({"wave": ["w1", "w1", "w2", "w2"], "nps": [0, 0, 10, 10]})
    out = nps_change(d, by=[]).iloc[0]
    assert out["change"] == 200
    assert out["ci_low"] == pytest.approx(-11.1, abs=0.1) and out["ci_high"] == pytest.approx(171.1, abs=0.1)


def test_nps_change_wave_order():
    d = pd.DataFrame({"wave": ["W9"] * 2 + ["W10"] * 2, "nps": [0, 0, 10, 10]})
    out = nps_change(d, by=[]).iloc[0]
    assert (out["wave_from"], out["wave_to"]) == ("W9", "W10")  # natural order, not text order
    d = pd.DataFrame({"wave": ["Syksy 2025"] * 2 + ["Kevät 2026"] * 2, "nps": [0, 0, 10, 10]})
    out = nps_change(d, by=[], order=["Syksy 2025", "Kevät 2026"]).iloc[0]
    assert (out["wave_from"], out["wave_to"]) == ("Syksy 2025", "Kevät 2026")
    with pytest.raises(ValueError, match="not in the given order"):
        nps_change(d, by=[], order=["Syksy 2025"])


def test_rwg_by_hand():
    # three raters, perfect agreement on care, maximal disagreement on dare
    rows = []
    for r, (c, d) in enumerate([(4, 1), (4, 5), (4, 1)]):
        for i in (1, 2, 3):
            rows += [{"response_id": f"s{r}", "account_id": "A", "wave": "w", "item": f"care_{i}", "value": c},
                     {"response_id": f"s{r}", "account_id": "A", "wave": "w", "item": f"dare_{i}", "value": d}]
    out = rwg(pd.DataFrame(rows)).set_index("dimension")
    assert out.loc["care", "rwg"] == 1.0
    assert out.loc["dare", "mean_item_var"] == pytest.approx(np.var([1, 5, 1], ddof=1))
    assert out.loc["dare", "rwg"] == 0.0  # observed variance 5.33 > uniform-null variance 2
    # moderate case by hand: values 3,4,4 on every item → s² = 1/3, σ²EU = 2, J = 3
    rows = [{"response_id": f"s{r}", "account_id": "A", "wave": "w", "item": f"care_{i}", "value": v}
            for r, v in enumerate([3, 4, 4]) for i in (1, 2, 3)]
    ratio = (1 / 3) / 2
    expected = 3 * (1 - ratio) / (3 * (1 - ratio) + ratio)
    assert rwg(pd.DataFrame(rows))["rwg"].iloc[0] == pytest.approx(expected)


def test_touchpoint_nps_per_month():
    tp = pd.DataFrame({"account_id": ["A", "A", "A", "B"],
                       "answered_at": pd.to_datetime(["2026-01-05", "2026-01-20", "2026-02-01", "2026-01-03"]),
                       "score": [10, 3, 9, 8]})
    out = touchpoint_nps(tp).set_index(["account_id", "period"])
    assert out.loc[("A", "2026-01"), "nps"] == 0 and out.loc[("A", "2026-01"), "n"] == 2
    assert out.loc[("A", "2026-02"), "nps"] == 100 and out.loc[("B", "2026-01"), "nps"] == 0


def test_planted_effects_show_in_descriptive_tables(simulation):
    """The sample generator's documented effects are visible without any model."""
    resp = simulation.responses
    items = [c for c in resp.columns if c[:-2] in {"excitement", "dare", "professionalism", "impact", "care"}]
    long = resp.melt(id_vars=["response_id", "account_id", "side", "wave"], value_vars=items,
                     var_name="item", value_name="value")
    sc = respondent_scores(long).pivot_table(index="response_id", columns="dimension", values="score")
    client = resp[resp["side"] == "client"].set_index("response_id")
    corr = sc.loc[client.index].corrwith(client["nps"])
    # Care and Impact drive NPS: the two strongest correlations
    assert set(corr.sort_values().index[-2:]) == {"care", "impact"}
    # Staff rate themselves higher on every dimension (self-image bias)
    summ = dimension_summary(long, by=["side", "dimension"]).pivot(index="dimension", columns="side", values="mean")
    assert (summ["staff"] > summ["client"]).all()
    # Blind-spot accounts have a larger staff-minus-client Care gap
    acc = dimension_summary(long[long["item"].str.startswith("care")], by=["account_id", "side"])
    gap = acc.pivot(index="account_id", columns="side", values="mean").eval("staff - client")
    blind = gap.index.isin(simulation.truth["blind_spot_accounts"])
    assert gap[blind].mean() > gap[~blind].mean() + 0.4
    # Churned accounts had lower client Care than renewed ones
    care = acc[acc["side"] == "client"].set_index("account_id")["mean"]
    status = simulation.accounts.set_index("account_id")["status"]
    assert care[status == "churned"].mean() < care[status == "renewed"].mean()


def test_mean_interval_matches_scipy_on_raw_data():
    import doctest

    from scipy import stats as st_

    import helpers.stats.scores as S

    x = np.array([3.0, 4.0, 4.0, 5.0, 2.0, 4.0])
    low, high = S.mean_interval(x.mean(), x.std(ddof=1), len(x))
    ref = st_.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=st_.sem(x))
    assert (low, high) == pytest.approx(ref)
    lo, hi = S.mean_interval(pd.Series([4.0, 3.0]), pd.Series([1.0, 0.5]), pd.Series([1, 3]))
    assert np.isnan(lo.iloc[0]) and np.isnan(hi.iloc[0]) and lo.iloc[1] < 3.0 < hi.iloc[1]
    assert doctest.testmod(S).failed == 0
