"""The loop's statistics: hand-checkable frames, an independent Wilson check, and planted effects."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.stats.loop import CAVEAT, later_nps_change, loop_summary, touchpoint_loop, wilson_interval

T0 = pd.Timestamp("2026-09-01 07:00")
H = pd.Timedelta(hours=1)
NOW = pd.Timestamp("2026-09-20")


def _items():
    """Six items, two accounts: contacted in 5 h and 60 h (SLA 48 h), one open and overdue, one not yet due,
    a touchpoint item (no wave) contacted in 10 h, and one contacted only after its later no-answer."""
    return pd.DataFrame({
        "item_id": list("abcdef"), "source": ["survey"] * 4 + ["touchpoint", "survey"],
        "account_id": ["A1", "A1", "A1", "A2", "A2", "A2"], "owner": ["Aino", "Aino", "Aino", "Jussi", "Jussi", "Jussi"],
        "wave": ["2026Q3", "2026Q3", "2026Q3", "2026Q3", None, "2026Q3"],
        "answered_at_utc": [T0, T0, T0, NOW - 10 * H, T0, T0],
        "due_at_utc": [T0 + 48 * H, T0 + 48 * H, T0 + 48 * H, NOW + 38 * H, T0 + 48 * H, T0 + 48 * H],
        "contacted_at_utc": [T0 + 5 * H, T0 + 60 * H, pd.NaT, pd.NaT, T0 + 10 * H, T0 + 30 * H],
        "timezone": "Europe/Helsinki",
    })


def test_loop_summary_by_account_and_wave_by_hand():
    s = loop_summary(_items(), now=NOW).set_index(["account_id", "wave"], drop=False)
    a1 = s.loc[("A1", "2026Q3")]
    assert (a1["n_items"], a1["n_open"], a1["n_overdue"], a1["n_contacted"], a1["n_due"], a1["n_in_sla"]) == \
        (3, 1, 1, 2, 3, 1)
    assert a1["share_in_sla"] == pytest.approx(1 / 3) and a1["median_hours_to_contact"] == pytest.approx(32.5)
    a2 = s[(s["account_id"] == "A2") & (s["wave"] == "2026Q3")].iloc[0]
    assert (a2["n_items"], a2["n_open"], a2["n_overdue"], a2["n_due"], a2["n_in_sla"]) == (2, 1, 0, 1, 1)
    tp = s[(s["account_id"] == "A2") & s["wave"].isna()].iloc[0]  # the touchpoint item: its own group, not dropped
    assert (tp["n_items"], tp["n_in_sla"], tp["median_hours_to_contact"]) == (1, 1, 10.0)


def test_loop_summary_per_owner_and_overall():
    by_owner = loop_summary(_items(), by=("owner",), now=NOW).set_index("owner")
    assert by_owner.loc["Aino", "n_items"] == 3 and by_owner.loc["Jussi", "n_in_sla"] == 2
    total = loop_summary(_items(), by=(), now=NOW)
    assert len(total) == 1 and total["n_items"].iloc[0] == 6 and total["n_due"].iloc[0] == 5
    assert total["median_hours_to_contact"].iloc[0] == pytest.approx(20.0)  # 5, 10, 30, 60 h
    assert list(total.columns[:3]) == ["n_items", "n_open", "n_overdue"]


def test_loop_summary_of_nothing():
    empty = _items().iloc[:0]
    assert loop_summary(empty, now=NOW).empty
    total = loop_summary(empty, by=(), now=NOW)
    assert total["n_items"].tolist() == [0] and np.isnan(total["share_in_sla"].iloc[0])


def test_wilson_against_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(1, 3), (0, 7), (7, 7), (17, 485), (55, 60)]:
        lo, hi = wilson_interval(k, n)
        elo, ehi = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (float(lo), float(hi)) == pytest.approx((elo, ehi), abs=1e-12)


def _followed_world(*, n=600, effect=2.0, selection=False, seed=7):
    """Detractors answering again a quarter later: next = 5 + 0.5·(score − 5) + effect·followed + noise
    (regression to the mean is built in).  ``selection``: the lower the score, the likelier the call."""
    rng = np.random.default_rng(seed)
    score = rng.integers(0, 7, n)
    p = 0.8 - 0.1 * score if selection else np.full(n, 0.5)
    followed = rng.random(n) < p
    nxt = np.clip(np.rint(5 + 0.5 * (score - 5) + effect * followed + rng.normal(0, 1.2, n)), 0, 10)
    ids = [f"P{i}" for i in range(n)]
    t0 = pd.Timestamp("2026-06-10 07:00")
    items = pd.DataFrame({"item_id": [f"I{i}" for i in range(n)], "source": "survey", "account_id": "A1",
                          "respondent_id": ids, "score": score, "answered_at_utc": t0,
                          "contacted_at_utc": np.where(followed, t0 + pd.Timedelta(hours=20), pd.NaT)})
    items["contacted_at_utc"] = pd.to_datetime(items["contacted_at_utc"])
    responses = pd.DataFrame({"account_id": "A1", "respondent_id": ids * 2,
                              "nps": np.concatenate([score, nxt]),
                              "submitted_at": [pd.Timestamp("2026-06-10 10:00")] * n
                              + [pd.Timestamp("2026-09-10 10:00")] * n})
    return items, responses


def test_a_planted_effect_of_following_up_is_recovered():
    items, responses = _followed_world(effect=2.0)
    r = later_nps_change(items, responses).set_index("estimate")
    assert r.loc["difference", "n"] == 600
    assert r.loc["followed_up", "n"] + r.loc["not_followed_up", "n"] == 600
    for row in ("difference", "difference_adjusted"):
        assert r.loc[row, "ci_low"] < 2.0 < r.loc[row, "ci_high"], row
        assert r.loc[row, "ci_low"] > 0.5, row
    assert r.attrs["caveat"] == CAVEAT and r.attrs["n_linked"] == 600


def test_without_an_effect_selection_on_low_scores_fools_the_raw_difference_not_the_adjusted_one():
    items, responses = _followed_world(effect=0.0, selection=True, n=1500)
    r = later_nps_change(items, responses).set_index("estimate")
    assert r.loc["followed_up", "baseline"] < r.loc["not_followed_up", "baseline"]
    assert r.loc["difference", "ci_low"] > 0  # regression to the mean looks like an effect
    assert r.loc["difference_adjusted", "ci_low"] < 0 < r.loc["difference_adjusted", "ci_high"]


def test_linking_rules():
    t0 = pd.Timestamp("2026-06-10 07:00")
    items = pd.DataFrame({
        "item_id": ["a", "b", "c", "d"], "source": ["survey", "survey", "survey", "touchpoint"],
        "account_id": "A1", "respondent_id": ["P1", "P2", None, None], "score": [3, 4, 2, 1],
        "answered_at_utc": t0,
        "contacted_at_utc": [t0 + pd.Timedelta(days=200), t0 + pd.Timedelta(hours=5), t0, pd.NaT]})
    responses = pd.DataFrame({"account_id": "A1", "respondent_id": ["P1", "P1", "P1", "P2"],
                              "nps": [3, 8, 10, 9],
                              "submitted_at": pd.to_datetime(["2026-06-10 10:00", "2026-09-10 10:00",
                                                              "2026-12-10 10:00", "2026-09-10 10:00"])})
    r = later_nps_change(items, responses).set_index("estimate")
    # P1: contacted only after answering again → not followed up; change 8 − 3 (the next answer, not the last)
    assert r.loc["not_followed_up", "n"] == 1 and r.loc["not_followed_up", "mean"] == 5
    assert r.loc["followed_up", "n"] == 1 and r.loc["followed_up", "mean"] == 5  # P2: 9 − 4
    assert r.attrs["n_items"] == 3 and r.attrs["n_linked"] == 2  # c has no respondent id; d is a touchpoint
    assert np.isnan(r.loc["difference", "ci_low"])  # one each: no interval


def test_touchpoint_loop_by_month():
    tps = pd.DataFrame({"account_id": "A1", "score": [10, 9, 3, 8, 2],
                        "answered_at": pd.to_datetime(["2026-08-30 10:00", "2026-08-31 23:30", "2026-08-31 23:45",
                                                       "2026-09-02 10:00", "2026-09-03 10:00"])})
    items = pd.DataFrame({
        "item_id": ["x", "y"], "source": "touchpoint", "account_id": "A1",
        # 31 Aug 23:45 in Helsinki is 20:45 UTC: still August; 3 Sep 10:00 is 07:00 UTC
        "answered_at_utc": pd.to_datetime(["2026-08-31 20:45", "2026-09-03 07:00"]),
        "due_at_utc": pd.to_datetime(["2026-09-02 20:45", "2026-09-05 07:00"]),
        "contacted_at_utc": pd.to_datetime(["2026-09-01 09:00", pd.NaT]), "timezone": "Europe/Helsinki"})
    t = touchpoint_loop(tps, items, now=NOW).set_index("period")
    assert t.loc["2026-08", "n"] == 3 and t.loc["2026-08", "nps"] == pytest.approx(100 * (2 - 1) / 3)
    assert (t.loc["2026-08", "n_items"], t.loc["2026-08", "n_in_sla"]) == (1, 1)
    assert (t.loc["2026-09", "n_items"], t.loc["2026-09", "n_in_sla"], t.loc["2026-09", "n_due"]) == (1, 0, 1)
