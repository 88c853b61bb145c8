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
