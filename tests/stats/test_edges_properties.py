"""Honest at the edges, over many small random accounts (property-based: hypothesis draws the accounts).

Whatever the answers, a figure never lies outside its scale, no label or flag comes from a group below the
threshold or without variation, labels agree with the intervals drawn beside them, and no account below the
threshold gets a percentile.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers.data.disclosure import differencing_suppression
from helpers.stats import benchmark as bm
from helpers.stats import comparisons
from helpers.stats import gaps as gp
from helpers.stats.scores import nps, summarise

K = 5          # the default threshold and reliable minimum
SCALE = (1.0, 5.0)
MARGIN = 0.5   # the default equivalence margin on a 1–5 scale
# A respondent's dimension score is the mean of three 1–5 answers: a multiple of 1/3 between 1 and 5.
SCORE = st.integers(min_value=3, max_value=15).map(lambda s: s / 3)
SIDE_SCORES = st.lists(SCORE, min_size=0, max_size=12)
FLAT_OR_NOT = st.one_of(SIDE_SCORES, st.tuples(SCORE, st.integers(0, 12)).map(lambda t: [t[0]] * t[1]))
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _frame(client: list[float], staff: list[float], dimension: str = "care") -> pd.DataFrame:
    rows = [{"side": side, "dimension": dimension, "score": v}
            for side, values in (("client", client), ("staff", staff)) for v in values]
    return pd.DataFrame(rows, columns=["side", "dimension", "score"])


@SETTINGS
@given(values=st.lists(SCORE, min_size=1, max_size=15))
def test_every_mean_interval_stays_inside_the_scale(values):
    s = summarise(pd.DataFrame({"g": "x", "score": values}), by=["g"], scale=SCALE).iloc[0]
    if len(values) >= 2:
        assert SCALE[0] <= s["ci_low"] <= s["mean"] <= s["ci_high"] <= SCALE[1]


@SETTINGS
@given(answers=st.lists(st.integers(0, 10), min_size=1, max_size=30))
def test_every_nps_interval_stays_inside_minus_100_to_100(answers):
    r = nps(pd.DataFrame({"nps": answers}), by=None).iloc[0]
    assert -100 <= r["ci_low"] <= r["ci_high"] <= 100 and -100 <= r["nps"] <= 100


@SETTINGS
@given(client=FLAT_OR_NOT, staff=FLAT_OR_NOT)
def test_gap_labels_agree_with_their_interval_and_need_enough_varied_answers(client, staff):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        g = gp.perception_gaps(_frame(client, staff), by=()).iloc[0] if client or staff else None
    if g is None:
        return
    label, lo, hi = g["label"], g["ci_low"], g["ci_high"]
    small = len(client) < K or len(staff) < K
    flat = any(len(v) >= 2 and np.std(v, ddof=1) < gp.NO_VARIATION_SHARE * 4 for v in (client, staff))
    if small or flat:  # no label, no test, no p-value from a small or flat group
        assert label is None and np.isnan(g["p_val"])
        return
    if label in gp.BLIND_SPOTS:
        assert hi < 0
    elif label in gp.HIDDEN_STRENGTHS:
        assert lo > 0
    elif label in (gp.ALIGNED_STRONG, gp.ALIGNED_WEAK):
        assert -MARGIN <= lo and hi <= MARGIN
    else:
        assert label == gp.NO_CLEAR_GAP and lo <= 0 <= hi and not (-MARGIN <= lo and hi <= MARGIN)
    if label in (gp.BLIND_SPOT, gp.HIDDEN_STRENGTH):  # clear: holds after the correction (a family of one here)
        assert g["p_fdr"] < 0.05


@SETTINGS
@given(accounts=st.lists(FLAT_OR_NOT, min_size=2, max_size=8))
def test_no_heatmap_flag_from_a_small_or_flat_cell(accounts):
    rows = [{"account_id": f"A{i}", "dimension": "care", "score": v} for i, vals in enumerate(accounts)
            for v in vals]
    if not rows:
        return
    heat = comparisons.dimension_heatmap(pd.DataFrame(rows), side=None)
    for r in heat.itertuples():
        vals = accounts[int(r.account_id[1:])]
        if len(vals) < K:
            assert r.suppressed and np.isnan(r.mean) and not r.significant and r.direction == ""
        elif np.std(vals, ddof=1) < gp.NO_VARIATION_SHARE * 4:
            assert np.isnan(r.p_val) and not r.significant and r.direction == ""
        if pd.notna(r.ci_low):
            assert SCALE[0] <= r.ci_low <= r.ci_high <= SCALE[1]


@SETTINGS
@given(sizes=st.lists(st.integers(1, 30), min_size=2, max_size=8))
def test_no_account_below_the_threshold_gets_a_percentile(sizes):
    agg = pd.DataFrame({"account_id": [f"A{i}" for i in range(len(sizes))], "measure": "care", "n": sizes,
                        "value": np.linspace(2, 4, len(sizes)), "ci_low": 1.5, "ci_high": 4.5})
    for i, n in enumerate(sizes):
        b = bm.benchmark(agg, f"A{i}", min_accounts=K, min_respondents=K).iloc[0]
        if n < K:
            assert not b["shown"] and np.isnan(b["percentile"]) and np.isnan(b["value"])


@SETTINGS
@given(sizes=st.lists(st.integers(0, 25), min_size=1, max_size=8))
def test_no_two_published_waves_of_a_small_group_reveal_fewer_than_the_threshold(sizes):
    out = differencing_suppression([(i, n, None) for i, n in enumerate(sizes)], min_group_size=K)
    shown = [n for i, n in enumerate(sizes) if out[i] is None]
    assert all(n >= K for n in shown)
    for i, a in enumerate(shown):
        for b in shown[i + 1:]:
            if min(a, b) < 2 * K:
                assert a == b or abs(a - b) >= K
