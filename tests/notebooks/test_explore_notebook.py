"""notebooks/explore.ipynb runs with its defaults against the sample store."""

from __future__ import annotations

from pathlib import Path

import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_explore_runs_with_defaults(sample_store, tmp_path):
    out = tmp_path / "explore.ipynb"
    nb = pm.execute_notebook(str(ROOT / "notebooks" / "explore.ipynb"), str(out),
                             parameters={"store": str(sample_store)}, kernel_name="python3", progress_bar=False,
                             cwd=str(ROOT / "notebooks"))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    text = "".join(str(o.get("data", {}).get("text/plain", "")) for c in nb.cells for o in c.get("outputs", []))
    assert "2026Q3" in text and "alpha" in text and "promoters" in text


def test_explore_parameters_are_documented():
    params = pm.inspect_notebook(str(ROOT / "notebooks" / "explore.ipynb"))
    assert set(params) == {"store", "wave", "account_id", "language"}
    assert all(p["help"] for p in params.values())
