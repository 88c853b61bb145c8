"""Choosing what the explore notebook looks at: segment, owner, account; and summing up a selection."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data.disclosure import DIFFERENCE, Thresholds, publication
from helpers.report.explore.selection import (FIRST_BY_NAME, LOWEST_NPS, NONE, account_choices, check_choice,
                                              choose_account, filter_accounts, owner_choices, segment_choices)
from helpers.report.explore.summary import (HIDDEN_DIFFERENCE, HIDDEN_FEW, NO_ANSWERS, account_rows,
                                            selection_dimensions, selection_nps, shown_results)
from helpers.stats.scores import nps

ACCOUNTS = pd.DataFrame({
    "account_id": ["A1", "A2", "A3", "A4"],
    "name": ["Öljy Oy", "Alfa", "beta", "Gamma"],
    "segment": ["Energy", "Energy", "Retail", "Retail"],
    "owner": ["Aino", "Jussi", "Aino", None],
    "renewal_date": pd.to_datetime(["2026-01-01", "2026-06-01", "2027-01-01", None]),
    "status": ["active", "renewed", "active", "churned"],
})


def test_filters_keep_the_segment_and_owner_sorted_by_name():
    assert filter_accounts(ACCOUNTS)["account_id"].tolist() == ["A2", "A3", "A4", "A1"]  # Ö after G (casefold)
    assert filter_accounts(ACCOUNTS, segment="Energy")["account_id"].tolist() == ["A2", "A1"]
    assert filter_accounts(ACCOUNTS, owner="Aino")["account_id"].tolist() == ["A3", "A1"]
    assert filter_accounts(ACCOUNTS, segment="Retail", owner="Aino")["account_id"].tolist() == ["A3"]
    assert filter_accounts(ACCOUNTS, segment="Retail", owner="Jussi").empty


def test_choices_come_from_the_data():
    assert segment_choices(ACCOUNTS) == ["Energy", "Retail"]
    assert owner_choices(ACCOUNTS) == ["Aino", "Jussi"]  # a missing owner is no choice
    assert owner_choices(ACCOUNTS, segment="Retail") == ["Aino"]
    assert account_choices(ACCOUNTS, answering=["A1", "A3"]) == [("beta (A3)", "A3"), ("Öljy Oy (A1)", "A1")]


def test_an_unknown_choice_names_itself_and_the_choices():
    assert check_choice("", ["Energy"], name="segment") == ""
    with pytest.raises(ValueError, match=r"segment 'Energi' is not in the store; choose one of 'Energy', 'Retail'"):
        check_choice("Energi", ["Energy", "Retail"], name="segment")
    many = [f"A{i:03d}" for i in range(30)]
    with pytest.raises(ValueError, match="and 18 more"):
        check_choice("B1", many, name="account_id")


def test_the_default_account_is_the_lowest_nps_shown_else_the_first_by_name():
    account_nps = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "nps": [-10.0, np.nan, -10.0]})
    assert choose_account(["A1", "A2", "A3"], account_nps, names=ACCOUNTS) == ("A3", LOWEST_NPS)  # tie: by name
    assert choose_account(["A2"], account_nps, names=ACCOUNTS) == ("A2", FIRST_BY_NAME)
    assert choose_account([], account_nps, names=ACCOUNTS) == (None, NONE)


def _responses(spec: dict[tuple[str, str], list[int]]) -> pd.DataFrame:
    """Client answers: (account, wave) → NPS scores, each answer its own respondent."""
    rows = [{"response_id": f"{a}-{w}-{i}", "respondent_id": f"{a}-{w}-{i}", "account_id": a, "side": "client",
             "wave": w, "nps": s} for (a, w), scores in spec.items() for i, s in enumerate(scores)]
    return pd.DataFrame(rows)


def test_a_selection_pools_only_the_accounts_whose_nps_is_shown():
    # A1: 10 answers (shown), A2: 3 answers (hidden, below 5): the selection's NPS is A1's alone.
    r = _responses({("A1", "W2"): [10] * 6 + [0] * 4, ("A2", "W2"): [0, 0, 0]})
    dec = publication(r, thresholds=Thresholds(), waves=["W2"])
    assert shown_results(dec, side="client")[["account_id", "measure"]].values.tolist() == [["A1", "nps"]]
    out = selection_nps(r, dec, accounts=["A1", "A2"], wave="W2", n_boot=200)
    own = nps(r[r["account_id"] == "A1"], by=None).iloc[0]
    assert out["n"] == 10 and out["n_accounts"] == 1 and out["n_selection"] == 2
    assert out["nps"] == pytest.approx(20.0)
    # one account: its report's adjusted-Wald interval, not a bootstrap over one account
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((own["ci_low"], own["ci_high"]))
    hidden_only = selection_nps(r, dec, accounts=["A2"], wave="W2", n_boot=200)
    assert hidden_only["n"] == 0 and np.isnan(hidden_only["nps"]) and hidden_only["n_selection"] == 1


def test_the_selection_nps_change_is_between_the_shown_accounts_of_each_wave():
    r = _responses({("A1", "W1"): [10] * 5 + [0] * 5, ("A1", "W2"): [10] * 9 + [0],
                    ("A2", "W1"): [10] * 8, ("A2", "W2"): [10] * 8})
    dec = publication(r, thresholds=Thresholds(), waves=["W1", "W2"])
    out = selection_nps(r, dec, accounts=["A1", "A2"], wave="W2", previous="W1", n_boot=300)
    assert out["nps"] == pytest.approx(100 * (17 - 1) / 18)
    assert out["change"] == pytest.approx(100 * (17 - 1) / 18 - 100 * (13 - 5) / 18)
    assert out["change_low"] < out["change"] < out["change_high"]


def test_a_held_back_wave_is_left_out_of_the_pooled_nps():
    # A team of 5 that becomes 6 in W2 would give away the newcomer: W2 is held back, so nothing is pooled.
    r = _responses({("A1", "W1"): [10] * 5, ("A1", "W2"): [10] * 5 + [0]})
    r.loc[r["wave"] == "W2", "respondent_id"] = [*r.loc[r["wave"] == "W1", "respondent_id"], "new"]
    dec = publication(r, thresholds=Thresholds(), waves=["W1", "W2"])
    assert dec.loc[dec["wave"] == "W2", "reason"].tolist() == [DIFFERENCE]
    assert selection_nps(r, dec, accounts=["A1"], wave="W2", previous="W1", n_boot=0)["n"] == 0


def test_selection_dimensions_pool_only_shown_cells():
    scores = pd.DataFrame({
        "account_id": ["A1"] * 6 + ["A2"] * 2 + ["A1"] * 5,
        "side": ["client"] * 8 + ["staff"] * 5,
        "wave": "W1", "dimension": "care",
        "score": [4, 4, 5, 5, 3, 3, 1, 1, 2, 2, 2, 2, 2],
        "response_id": [f"r{i}" for i in range(13)],
    })
    responses = scores.drop_duplicates("response_id").assign(nps=np.nan, respondent_id=scores["response_id"])
    dec = publication(responses, scores, thresholds=Thresholds(), waves=["W1"])
    out = selection_dimensions(scores, dec, accounts=["A1", "A2"], wave="W1")
    care = out[out["dimension"] == "care"].set_index("side")
    assert care.loc["client", "n"] == 6 and care.loc["client", "n_accounts"] == 1  # A2's 2 answers stay out
    assert care.loc["client", "mean"] == pytest.approx(4.0)
    assert care.loc["staff", "n"] == 5 and care.loc["staff", "mean"] == pytest.approx(2.0)
    assert len(out) == 10 and out.loc[out["dimension"] == "dare", "n"].eq(0).all()


def test_account_rows_say_why_an_nps_is_not_shown_and_put_the_lowest_first():
    account_nps = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "nps": [30.0, np.nan, -5.0],
                                "ci_low": [0.0, np.nan, -40.0], "ci_high": [55.0, np.nan, 30.0],
                                "direction": ["", "", "below"]})
    counts = pd.DataFrame({"account_id": ["A1", "A2", "A3", "A4"], "n_client": [12, 3, 9, 0],
                           "n_staff": [5, 2, 0, 4]})
    decisions = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "side": "client", "measure": "nps", "wave": "W1",
                              "n": [12, 3, 9], "shown": [True, False, True],
                              "reason": [None, "fewer answers than the threshold", None]})
    heat = pd.DataFrame({"account_id": ["A3", "A3"], "dimension": ["care", "dare"], "direction": ["below", ""]})
    rows = account_rows(ACCOUNTS, account_nps, counts, decisions, heat, ids=["A1", "A2", "A3", "A4"], wave="W1")
    assert rows["account_id"].tolist() == ["A3", "A1", "A2", "A4"]
    assert rows["hidden"].tolist()[1:] == [None, HIDDEN_FEW, NO_ANSWERS]
    assert rows["below"].tolist() == [["care"], [], [], []]
    held = decisions.assign(reason=[None, DIFFERENCE, None])
    rows = account_rows(ACCOUNTS, account_nps, counts, held, heat, ids=["A2"], wave="W1")
    assert rows["hidden"].tolist() == [HIDDEN_DIFFERENCE]
