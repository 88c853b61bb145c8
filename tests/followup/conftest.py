"""Stores for the follow-up tests: a tiny hand-made one, and a small sample with the whole loop run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from helpers.data.ingest import ingest
from helpers.data.sample import build_sample_store

#: The run's "now" in the tests: well after every sample answer (naive UTC).
NOW = pd.Timestamp("2026-12-01 09:00")
CONSENT = "May we contact you about your answers?"


def client_rows(rows: list[dict]) -> pd.DataFrame:
    """A client export from short row dicts (response_id, account_id, submitted_at, nps, comment, consent, …);
    every item answered 4."""
    from helpers_data import ITEMS as items

    out = []
    for r in rows:
        row = {"response_id": r["response_id"], "account_id": r.get("account_id", "A1"),
               "submitted_at": r.get("submitted_at", "2026-09-10 10:00"), "role": "user",
               "respondent_id": r.get("respondent_id")}
        row.update({item: "4" for item in items})
        row["nps"] = str(r.get("nps", 8))
        row["comment"] = r.get("comment")
        row[CONSENT] = r.get("consent")
        row["Your name"] = r.get("name")
        row["Your e-mail address"] = r.get("email")
        row["Your phone number"] = r.get("phone")
        out.append(row)
    return pd.DataFrame(out)


@pytest.fixture
def tiny_store(tmp_path):
    """A function: accounts (A1 Aino Mäkelä, A2 Jussi Härkönen, A3 without owner) and the given client rows and
    touchpoints, ingested into a fresh store; returns the store path."""

    def make(rows: list[dict], *, touchpoints: list[dict] | None = None, wave: str = "2026Q3",
             accounts: pd.DataFrame | None = None) -> Path:
        store = tmp_path / "loop.duckdb"
        acc = accounts if accounts is not None else pd.DataFrame({
            "account_id": ["A1", "A2", "A3"], "name": ["Mäkelä Oy", "Åbo Logistik Ab", "Öljy & Sähkö"],
            "owner": ["Aino Mäkelä", "Jussi Härkönen", None]})
        acc.to_csv(tmp_path / "accounts.csv", index=False)
        ingest(tmp_path / "accounts.csv", kind="accounts", store=store)
        if rows:
            client_rows(rows).to_csv(tmp_path / "client.csv", index=False)
            ingest(tmp_path / "client.csv", kind="client", wave=wave, store=store)
        if touchpoints:
            pd.DataFrame(touchpoints).to_csv(tmp_path / "tp.csv", index=False)
            ingest(tmp_path / "tp.csv", kind="touchpoints", store=store)
        return store

    return make


@pytest.fixture(scope="session")
def loop_sample(tmp_path_factory) -> dict:
    """A small sample (12 accounts) with the loop run as `make demo` runs it: queue since 2026Q2, the owners'
    outcomes ingested, the queue again.  Read it; copy the store (``loop_copy``) to write."""
    from helpers.followup import run_followup

    base = tmp_path_factory.mktemp("loop")
    store = base / "store.duckdb"
    build_sample_store(store, out=base / "exports", n_accounts=12)
    first = run_followup(store=store, out=base / "queue", since="2026Q2", now=NOW)
    outcomes = ingest(base / "exports" / "followup_outcomes.xlsx", kind="followups", store=store)
    second = run_followup(store=store, out=base / "queue", since="2026Q2", now=NOW)
    return {"store": store, "exports": base / "exports", "queue": base / "queue", "first": first,
            "outcomes": outcomes, "second": second}


@pytest.fixture
def loop_copy(loop_sample, tmp_path) -> dict:
    """A copy of :func:`loop_sample`'s store and queue folder, to write."""
    store = tmp_path / "store.duckdb"
    shutil.copy(loop_sample["store"], store)
    queue = tmp_path / "queue"
    shutil.copytree(loop_sample["queue"], queue)
    return {**loop_sample, "store": store, "queue": queue}

