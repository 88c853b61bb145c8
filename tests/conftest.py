"""Shared fixtures: a seeded synthetic portfolio and a store built from the sample exports."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from helpers.data.sample import build_sample_store, simulate  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def simulation():
    """The default sample portfolio (seed 2026, 60 accounts × 4 waves) as clean frames + truth."""
    return simulate(seed=2026)


@pytest.fixture(scope="session")
def sample_store(tmp_path_factory) -> Path:
    """A DuckDB store built from the sample exports exactly as `make demo` does (read it, don't write)."""
    base = tmp_path_factory.mktemp("sample")
    store = base / "flamekit.duckdb"
    build_sample_store(store, out=base / "exports", seed=2026)
    return store


@pytest.fixture
def store(tmp_path) -> Path:
    """An empty store path for tests that write."""
    return tmp_path / "test.duckdb"


@pytest.fixture
def accounts_csv(tmp_path) -> Path:
    """A tiny accounts export with Finnish names."""
    p = tmp_path / "accounts.csv"
    pd.DataFrame({
        "account_id": ["A1", "A2", "A3"],
        "name": ["Mäkelä Oy", "Åbo Logistik Ab", "Öljy & Sähkö"],
        "segment": ["Energy", "Logistics", "Energy"],
        "owner": ["Aino", "Jussi", "Sofia"],
        "contract_start": ["2021-01-01", "2022-05-01", "2020-03-01"],
        "renewal_date": ["2026-01-01", "2026-06-01", "2027-01-01"],
        "status": ["renewed", "churned", "active"],
        "annual_value": [120000, 50000.5, 300000],
    }).to_csv(p, index=False)
    return p


@pytest.fixture(autouse=True)
def _no_user_store(monkeypatch, tmp_path):
    """Tests never touch the developer's data/flamekit.duckdb."""
    monkeypatch.setenv("FLAMEKIT_STORE", str(tmp_path / "default-store.duckdb"))
    os.environ.setdefault("MPLBACKEND", "Agg")
