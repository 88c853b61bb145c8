"""The loop's state in the batch's keys: a queue run, a new outcome or an item falling overdue renders the pages
that show the loop again; reports without follow-ups keep their keys."""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.data.followups import item_id, loop_state
from helpers.data.ingest import ingest

NOW = pd.Timestamp("2026-12-01 09:00")
I1 = item_id("survey", "R1")


@pytest.fixture
def queued(tiny_store, tmp_path):
    """R1 (A1, detractor) and R2 (A2, detractor) queued; R3 (A2, a promoter) never enters."""
    from helpers.followup import run_followup

    store = tiny_store([{"response_id": "R1", "nps": 3, "submitted_at": "2026-09-10 10:00"},
                        {"response_id": "R2", "nps": 2, "account_id": "A2", "submitted_at": "2026-09-11 10:00"},
                        {"response_id": "R3", "nps": 10, "account_id": "A3", "submitted_at": "2026-09-11 10:00"}])
    run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    return store


def _outcome(tmp_path, store, when="2026-09-11 09:30", status="contacted"):
    p = tmp_path / f"outcome-{status}-{when[:10]}.csv"
    pd.DataFrame([{"item_id": I1, "status": status, "outcome_at": when, "note": None}]).to_csv(p, index=False)
    return ingest(p, kind="followups", store=store)


def test_a_new_outcome_changes_the_loop_hash_of_its_account_and_the_whole(queued, tmp_path):
    before = loop_state(store=queued, now=NOW)
    assert set(before) == {"", "A1", "A2"}  # A3 has no item
    assert _outcome(tmp_path, queued).rows_stored == 1
    after = loop_state(store=queued, now=NOW)
    assert after["A1"] != before["A1"] and after[""] != before[""]
    assert after["A2"] == before["A2"]
    # the same file again stores nothing and changes nothing
    _outcome(tmp_path, queued)
    assert loop_state(store=queued, now=NOW) == after
    # a later step (resolved) changes the status, so the hash again
    _outcome(tmp_path, queued, when="2026-09-20 10:00", status="resolved")
    assert loop_state(store=queued, now=NOW)["A1"] != after["A1"]


def test_an_item_falling_overdue_changes_the_hash_and_nothing_else_does(queued):
    early = pd.Timestamp("2026-09-11 12:00")  # R1 due 12 Sep 07:00 UTC, not yet overdue
    assert loop_state(store=queued, now=early)["A1"] != loop_state(store=queued, now=NOW)["A1"]
    assert loop_state(store=queued, now=NOW) == loop_state(store=queued, now=NOW + pd.Timedelta(days=30))


def test_a_queue_run_that_adds_items_changes_the_hash(queued, tmp_path):
    from helpers.followup import run_followup

    before = loop_state(store=queued, now=NOW)
    more = tmp_path / "more.csv"
    from conftest import client_rows  # tests/followup/conftest.py

    client_rows([{"response_id": "R4", "nps": 1, "account_id": "A2", "submitted_at": "2026-09-15 10:00"}]
                ).to_csv(more, index=False)
    ingest(more, kind="client", wave="2026Q3", store=queued)
    run_followup(store=queued, out=tmp_path / "q", since="2026-09-01", now=NOW)
    after = loop_state(store=queued, now=NOW)
    assert after["A2"] != before["A2"] and after["A1"] == before["A1"]


def test_the_portfolio_and_the_accounts_keys_follow_the_loop(tiny_store, tmp_path):
    """A queue run changes no file in the store's data hash, yet the portfolio's and the followed-up accounts'
    keys change; an account without follow-ups and the drivers page keep theirs."""
    from helpers.batch.plan import plan_batch
    from helpers.followup import run_followup

    store = tiny_store([{"response_id": "R1", "nps": 3, "submitted_at": "2026-09-10 10:00"},
                        {"response_id": "R3", "nps": 10, "account_id": "A3", "submitted_at": "2026-09-11 10:00"}])

    def keys():
        plan = plan_batch("2026Q3", store=store, out_root=tmp_path / "reports")
        return plan.data_hash, {t["kind"] if t["kind"] != "account" else t["account_id"]: t["key"]
                                for t in plan.tasks}

    data_before, before = keys()
    run_followup(store=store, out=tmp_path / "q", since="2026-09-01", now=NOW)
    data_after, after = keys()
    assert data_after == data_before
    assert after["portfolio"] != before["portfolio"] and after["A1"] != before["A1"]
    assert after["A3"] == before["A3"] and after["drivers"] == before["drivers"]
    # the outcome file changes the data hash, so every key; the loop's part changes with it
    _outcome(tmp_path, store)
    assert keys()[1]["portfolio"] != after["portfolio"]
