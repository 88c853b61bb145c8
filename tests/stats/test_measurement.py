"""Do clients and staff read the items alike?  Hand calculations and planted failures."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from helpers.stats import measurement as Me
from helpers.stats import model_data
from helpers.stats.scores import cronbach_alpha

DIMS = ["excitement", "dare", "professionalism", "impact", "care"]


@pytest.fixture(scope="module")
def answers(simulation):
    return model_data.answers_from_wide(simulation.responses)


def test_docstring_examples_run():
    assert doctest.testmod(Me).failed == 0


def test_corrected_item_total_matches_covariance_formula():
    """r(i, T−i) = (cov(i,T) − var(i)) / √(var(i)·(var(T) − 2cov(i,T) + var(i))) (Nunnally & Bernstein 1994)."""
    rng = np.random.default_rng(0)
    x = rng.integers(1, 6, size=(50, 4)).astype(float) + rng.normal(0, 1, (50, 1))
    t = x.sum(axis=1)
    expected = []
    for i in range(4):
        c = np.cov(x[:, i], t)
        cov_it, var_i, var_t = c[0, 1], c[0, 0], c[1, 1]
        expected.append((cov_it - var_i) / np.sqrt(var_i * (var_t - 2 * cov_it + var_i)))
    assert np.allclose(Me.corrected_item_total(x), expected)


def test_item_total_agrees_with_cronbach_alpha_identity(answers):
    """α = k/(k−1)·(1 − Σs²_i/s²_T): recompute alpha from the same listwise items the checker uses."""
    st = Me.item_statistics(answers)
    care = st[(st["dimension"] == "care") & (st["side"] == "client")]
    wide = (answers[(answers["side"] == "client") & answers["item"].str.startswith("care")]
            .pivot_table(index="response_id", columns="item", values="value").dropna())
    assert care["n"].iloc[0] == len(wide)
    x = wide.to_numpy()
    alpha = 3 / 2 * (1 - x.var(axis=0, ddof=1).sum() / x.sum(axis=1).var(ddof=1))
    ref = cronbach_alpha(answers[answers["side"] == "client"], by=()).set_index("dimension")
    assert ref.loc["care", "alpha"] == pytest.approx(alpha)
    assert np.allclose(care["item_total_r"], Me.corrected_item_total(x))


def test_tucker_congruence_by_hand_and_edge_cases():
    a, b = [0.7, 0.8, 0.6], [0.5, 0.9, 0.7]
    num = 0.7 * 0.5 + 0.8 * 0.9 + 0.6 * 0.7
    den = np.sqrt((0.49 + 0.64 + 0.36) * (0.25 + 0.81 + 0.49))
    assert Me.tucker_congruence(a, b) == pytest.approx(num / den)
    assert Me.tucker_congruence(a, [2 * v for v in a]) == pytest.approx(1.0)  # blind to a common rescaling
    assert Me.tucker_congruence(a, [-v for v in a]) == pytest.approx(-1.0)
    assert np.isnan(Me.tucker_congruence([0, 0, 0], a))


def test_principal_axis_three_items_closed_form():
    """One factor, three items: λ₁² = r₁₂r₁₃/r₂₃ etc. (exactly identified)."""
    lam = np.array([0.8, 0.6, 0.5])
    r = np.outer(lam, lam)
    np.fill_diagonal(r, 1.0)
    res = Me.principal_axis(r)
    assert res["converged"] and not res["heywood"]
    assert np.allclose(res["loadings"], lam, atol=1e-5)
    r12, r13, r23 = r[0, 1], r[0, 2], r[1, 2]
    assert res["loadings"][0] == pytest.approx(np.sqrt(r12 * r13 / r23), abs=1e-5)
    # a Heywood case (implied loading above 1) is capped and flagged
    bad = np.array([[1, 0.9, 0.8], [0.9, 1, 0.5], [0.8, 0.5, 1]])
    assert Me.principal_axis(bad)["heywood"]
    # four items, one factor: loadings recovered from an exactly one-factor matrix
    lam4 = np.array([0.7, 0.6, 0.8, 0.5])
    r4 = np.outer(lam4, lam4)
    np.fill_diagonal(r4, 1.0)
    assert np.allclose(Me.principal_axis(r4)["loadings"], lam4, atol=1e-4)


def test_sample_data_passes_every_dimension(answers):
    mc = Me.measurement_check(answers)
    assert mc["dimension"].tolist() == DIMS
    assert (mc["flag"] == Me.OK).all() and mc["configural"].all() and mc["metric"].all()
    assert (mc["congruence"] > 0.95).all() and (mc["max_loading_diff"] < 0.2).all()
    assert mc.set_index("dimension").loc["care", "message"].startswith("Care: clients and staff read the items alike")
    fi = Me.measurement_check(answers, language="fi")
    assert fi.set_index("dimension").loc["care", "message"].startswith("Välittäminen")


def _with_staff_item(answers, item, fn):
    out = answers.copy()
    mask = (out["side"] == "staff") & (out["item"] == item)
    out.loc[mask, "value"] = fn(out.loc[mask, "value"])
    return out


def test_reverse_read_staff_item_is_not_comparable(answers):
    """Staff read care_2 the other way round (as if negatively worded): configural failure."""
    bad = _with_staff_item(answers, "care_2", lambda v: 6 - v)
    row = Me.measurement_check(bad).set_index("dimension").loc["care"]
    assert row["flag"] == Me.NOT_COMPARABLE and not row["configural"]
    assert "care_2 (staff)" in row["weak_items"] and "care_2 (staff)" in row["message"]
    assert "compare item by item" in row["message"]
    others = Me.measurement_check(bad).set_index("dimension").drop(index="care")
    assert (others["flag"] == Me.OK).all()


def test_partly_different_reading_is_a_caution(answers):
    """Staff answer care_3 one answer in five at random: the loading drops by ≈0.3 but stays above 0.4."""
    rng = np.random.default_rng(3)
    bad = _with_staff_item(answers, "care_3",
                           lambda v: np.where(rng.random(len(v)) < 0.2, rng.integers(1, 6, len(v)), v))
    row = Me.measurement_check(bad).set_index("dimension").loc["care"]
    assert row["flag"] == Me.CAUTION, row.to_dict()
    assert row["configural"] and not row["metric"] and row["max_loading_diff"] > 0.2
    assert "care_3" in row["message"]


def test_too_few_answers_gives_a_verdict_not_a_crash(answers):
    few = answers[answers["response_id"].isin(answers["response_id"].unique()[:40])]
    mc = Me.measurement_check(few)
    assert (mc["flag"] == Me.TOO_FEW).all()
    assert "too few complete answers" in mc["message"].iloc[0]
    one_side = answers[answers["side"] == "client"]
    assert (Me.measurement_check(one_side)["flag"] == Me.TOO_FEW).all()


def test_bad_arguments_get_a_readable_error(answers):
    with pytest.raises(KeyError, match="side"):
        Me.measurement_check(answers.drop(columns="side"))
    with pytest.raises(ValueError, match="two sides"):
        Me.measurement_check(answers, sides=("client",))
    with pytest.raises(ValueError, match="language must be one of"):
        Me.measurement_check(answers, language="sv")
