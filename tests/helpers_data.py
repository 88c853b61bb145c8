"""Small hand-made exports for ingest tests (imported by the test modules)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from helpers.data.instrument import load_instrument

INST = load_instrument()
ITEMS = INST.item_ids


def survey_frame(n: int = 4, *, account: str = "A1", prefix: str = "R", value: int = 4, nps: int = 8) -> pd.DataFrame:
    """A clean survey export with item-id headers: n responses, every item answered."""
    rows = []
    for i in range(n):
        row = {"response_id": f"{prefix}{i + 1}", "account_id": account,
               "submitted_at": f"2026-09-{10 + i:02d} 10:00", "role": "user"}
        for j, item in enumerate(ITEMS):
            row[item] = str((value + i + j) % 5 + 1)
        row["nps"] = str(nps)
        row["comment"] = "Hyvä yhteistyö – kiitos!"
        rows.append(row)
    return pd.DataFrame(rows)


def write_csv(frame: pd.DataFrame, path: Path, *, sep: str = ",", encoding: str = "utf-8") -> Path:
    frame.to_csv(path, sep=sep, index=False, encoding=encoding)
    return path
