"""Disclosure control: thresholds, complementary suppression, differencing across waves, the audit."""

from __future__ import annotations

import doctest

import numpy as np
import pandas as pd
import pytest

from helpers.data import disclosure
from helpers.data.disclosure import (BELOW_THRESHOLD, COMPLEMENT, DIFFERENCE, TOO_FEW_FOR_A_FIGURE, Audit,
                                     Thresholds, apply_publishable, complementary_suppression, contributors,
                                     differencing_suppression, publishable, thresholds_from)


def test_docstring_examples_run():
    result = doctest.testmod(disclosure)
    assert result.failed == 0 and result.attempted >= 6


def test_a_team_of_five_then_six_does_not_expose_the_newcomer():
    """The team NPS 0 (n = 5) then −17 (n = 6) case: the second wave is held back."""
    w1 = pd.DataFrame({"account_id": "A1", "side": "staff", "wave": "W1", "measure": "nps",
                       "nps": [10, 0, 8, 7, 7]})
    w2 = pd.concat([w1.assign(wave="W2"), w1.iloc[[0]].assign(wave="W2", nps=0)])
    dec = publishable(pd.concat([w1, w2]), thresholds=Thresholds(), waves=["W1", "W2"])
    assert dec.set_index("wave")["shown"].to_dict() == {"W1": True, "W2": False}
    assert dec.set_index("wave").loc["W2", "reason"] == DIFFERENCE


@pytest.mark.parametrize("sizes, shown", [
    ([5, 6], [True, False]),            # one more person
    ([5, 10], [True, True]),            # five more: no smaller group revealed
    ([8, 8, 9, 13], [True, True, False, True]),   # 9 differs from 8 by one; 13 from 8 by five
    ([12, 14, 9], [True, True, False]),  # 12 and 14 are large enough; 9 is small and differs from 12 by 3
    ([4, 6, 7], [False, True, False]),  # below the threshold first, then 6 is the reference
    ([6, 5], [True, False]),            # one person left: as revealing as one joining
])
def test_differencing_without_ids_uses_the_sizes(sizes, shown):
    out = differencing_suppression([(f"W{i}", n, None) for i, n in enumerate(sizes)], min_group_size=5)
    assert [reason is None for reason in out.values()] == shown


def test_differencing_with_respondent_ids_counts_the_people_who_differ():
    same = frozenset(f"P{i}" for i in range(7))
    two_new = same | {"P7", "P8"}
    turnover = (same - {"P0", "P1", "P2"}) | {"X0", "X1", "X2"}  # three left, three joined: six differ
    out = differencing_suppression([("W1", 7, same), ("W2", 9, two_new), ("W3", 7, turnover)], min_group_size=5)
    assert out == {"W1": None, "W2": DIFFERENCE, "W3": None}
    # two waves of at least twice the threshold are not compared: one person's step is blurred there
    big = frozenset(f"P{i}" for i in range(12))
    assert differencing_suppression([("W1", 12, big), ("W2", 14, big | {"N1", "N2"})],
                                    min_group_size=5) == {"W1": None, "W2": None}
    # by counts alone W3 (12) would look like W1 (12): equal sizes are never held back
    assert differencing_suppression([("W1", 12, None), ("W3", 12, None)], min_group_size=5) == {"W1": None,
                                                                                                  "W3": None}


def test_publishable_per_measure_and_side_threshold():
    rows = []
    for wave, n in (("W1", 4), ("W2", 5)):
        rows += [{"account_id": "A", "side": "client", "wave": wave, "measure": "care", "respondent_id": f"P{i}"}
                 for i in range(n)]
    rows += [{"account_id": "A", "side": "staff", "wave": "W2", "measure": "care", "respondent_id": np.nan}] * 3
    dec = publishable(pd.DataFrame(rows), thresholds=Thresholds(client=4, team=3, reliable=3), waves=["W1", "W2"])
    got = dec.set_index(["side", "wave"])
    assert got.loc[("client", "W1"), ["n", "shown"]].tolist() == [4, True]
    assert pd.isna(got.loc[("client", "W1"), "reason"])
    assert got.loc[("client", "W2"), ["n", "shown", "reason"]].tolist() == [5, False, DIFFERENCE]  # P4 joined: 1 < 4
    assert got.loc[("staff", "W2"), ["n", "shown"]].tolist() == [3, True]
    with pytest.raises(ValueError, match="not in the wave order"):
        publishable(pd.DataFrame(rows), thresholds=Thresholds(), waves=["W1"])


def test_a_figure_needs_the_reliable_minimum_even_when_privacy_allows_fewer():
    rows = pd.DataFrame({"account_id": "A", "side": "client", "measure": "nps", "wave": ["W1"] * 3 + ["W2"] * 9,
                         "respondent_id": [f"P{i}" for i in range(3)] + [f"P{i}" for i in range(9)]})
    dec = publishable(rows, thresholds=Thresholds(client=1), waves=["W1", "W2"]).set_index("wave")
    assert dec.loc["W1", "reason"] == TOO_FEW_FOR_A_FIGURE and not dec.loc["W1", "shown"]
    # a wave that was not shown is no reference: W2's six new people against W1's three does not matter
    assert dec.loc["W2", "shown"]
    assert differencing_suppression([("W1", 4, None)], min_group_size=5, min_n=5) == {"W1": BELOW_THRESHOLD}


def test_contributors_of_nps_and_dimensions():
    responses = pd.DataFrame({"response_id": ["R1", "R2", "R3"], "account_id": "A", "side": ["client", "client", "staff"],
                              "wave": "W1", "nps": [9, np.nan, 7], "respondent_id": ["P1", "P2", np.nan]})
    scores = pd.DataFrame({"response_id": ["R1", "R2"], "account_id": "A", "side": "client", "wave": "W1",
                           "dimension": ["care", "care"], "score": [4.0, 3.0]})
    c = contributors(responses, scores)
    assert sorted(c.loc[c["measure"] == "nps", "respondent_id"].dropna()) == ["P1"]
    assert sorted(c.loc[c["measure"] == "care", "respondent_id"]) == ["P1", "P2"]
    assert c.loc[(c["side"] == "staff"), "respondent_id"].isna().all()


def test_apply_publishable_blanks_results_keeps_n_and_records_the_audit():
    data = pd.DataFrame({"account_id": "A", "side": "staff", "wave": ["W1", "W2"], "measure": "nps",
                         "n": [5, 6], "nps": [0.0, -16.7], "ci_low": [-60.0, -60.0]})
    dec = publishable(pd.DataFrame({"account_id": "A", "side": "staff", "measure": "nps",
                                    "wave": ["W1"] * 5 + ["W2"] * 6}), thresholds=Thresholds(), waves=["W1", "W2"])
    audit = Audit()
    out = apply_publishable(data, dec, on=["account_id", "side", "wave", "measure"], columns=["nps", "ci_low"],
                            audit=audit, figure="trend")
    assert out["nps"].tolist()[0] == 0.0 and np.isnan(out["nps"].iloc[1]) and out["n"].tolist() == [5, 6]
    assert out["suppressed"].tolist() == [False, True]
    assert pd.isna(out["reason"].iloc[0]) and out["reason"].iloc[1] == DIFFERENCE
    assert audit.summary() == [{"figure": "trend", "reason": DIFFERENCE, "results": 1}]
    assert "-16.7" not in repr(audit.summary())  # counts and reasons only, never values


def test_complementary_suppression():
    assert complementary_suppression(pd.Series({"dm": 2, "user": 8, "other": 9}), min_group_size=5) == {"dm", "user"}
    assert complementary_suppression(pd.Series({"dm": 5, "user": 8}), min_group_size=5) == set()
    assert complementary_suppression(pd.Series({"dm": 2, "user": 3, "x": 9}), min_group_size=5) == {"dm", "user"}
    assert complementary_suppression(pd.Series({"dm": 1, "user": 6}), min_group_size=5) == {"dm", "user"}


@pytest.mark.parametrize("kw, message", [({"team": 0}, "team threshold"), ({"client": 2.5}, "client threshold"),
                                         ({"team": 6, "comments": 5}, "comments threshold"),
                                         ({"team": True}, "team threshold")])
def test_bad_thresholds_name_the_setting(kw, message):
    with pytest.raises(ValueError, match=message):
        Thresholds(**kw)


def test_thresholds_from_notebook_parameters():
    t = thresholds_from({"min_group_size": 6, "min_client_group_size": 1})
    assert (t.team, t.client, t.comments, t.reliable) == (6, 1, 10, 5)
    assert Thresholds().for_side("client") == 5 and BELOW_THRESHOLD and COMPLEMENT
    with pytest.raises(ValueError, match="side"):
        Thresholds().for_side("team")
