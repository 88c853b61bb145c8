"""Benchmark: ingest 1,000,000 touchpoint NPS rows from CSV and compute monthly NPS per account.

Prints wall time and peak memory (max RSS of the process doing the work) beside
a plain ``pandas.read_csv`` of the same file.  Target: ≤ 10 s and ≤ 2 GB on 2 cores.
Not a test: run ``make bench`` or ``.venv/bin/python bench/ingest.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
mode, csv, store = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
if mode == "pandas":
    import pandas as pd
    df = pd.read_csv(csv)
    out["rows"] = len(df)
else:
    from helpers.data.ingest import ingest
    from helpers.data.store import load_touchpoints
    from helpers.stats.scores import touchpoint_nps
    t_import = time.perf_counter()
    res = ingest(csv, kind="touchpoints", store=store)
    t_ingest = time.perf_counter()
    monthly = touchpoint_nps(load_touchpoints(store=store))
    t_nps = time.perf_counter()
    out.update(rows=res.rows_stored, quarantined=res.rows_quarantined, months=len(monthly),
               ingest_s=t_ingest - t_import, nps_s=t_nps - t_ingest, import_s=t_import - t0)
out["total_s"] = time.perf_counter() - t0
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def make_touchpoints(path: Path, rows: int, accounts: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    visit = pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.integers(0, 365 * 24 * 60, rows), unit="min")
    answered = visit + pd.to_timedelta(120 + rng.integers(0, 240, rows), unit="min")
    pd.DataFrame({
        "account_id": np.char.add("A", np.char.zfill(rng.integers(1, accounts + 1, rows).astype(str), 3)),
        "visit_at": visit.strftime("%Y-%m-%d %H:%M:%S"),
        "answered_at": answered.strftime("%Y-%m-%d %H:%M:%S"),
        "score": np.clip(np.rint(rng.normal(7.5, 2.0, rows)), 0, 10).astype(int),
    }).to_csv(path, index=False)


def run(mode: str, csv: Path, store: Path) -> dict:
    res = subprocess.run([sys.executable, "-c", CHILD, mode, str(csv), str(store)], capture_output=True, text=True,
                         check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--accounts", type=int, default=200)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        csv, store = tmp / "touchpoints.csv", tmp / "bench.duckdb"
        t = time.perf_counter()
        make_touchpoints(csv, args.rows, args.accounts)
        print(f"wrote {args.rows:,} touchpoint rows ({csv.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
        from helpers.data.ingest import ingest

        accounts = pd.DataFrame({"account_id": [f"A{i:03d}" for i in range(1, args.accounts + 1)],
                                 "name": [f"Yritys {i} Oy" for i in range(1, args.accounts + 1)]})
        accounts.to_csv(tmp / "accounts.csv", index=False)
        ingest(tmp / "accounts.csv", kind="accounts", store=store)
        plain = run("pandas", csv, store)
        kit = run("kit", csv, store)
    print(f"\n{'step':44s} {'time':>8s} {'peak memory':>12s}")
    print(f"{'pandas.read_csv (reference)':44s} {plain['total_s']:7.2f}s {plain['peak_mb']:9.0f} MB")
    print(f"{'flamekit ingest (read, validate, store)':44s} {kit['ingest_s']:7.2f}s")
    print(f"{'monthly NPS per account (load + compute)':44s} {kit['nps_s']:7.2f}s")
    total = kit["ingest_s"] + kit["nps_s"]
    print(f"{'ingest + monthly NPS':44s} {total:7.2f}s {kit['peak_mb']:9.0f} MB"
          f"   (+{kit['import_s']:.1f}s imports)")
    print(f"\nrows stored {kit['rows']:,}, quarantined {kit['quarantined']:,}, account-months {kit['months']:,}")
    ok_t, ok_m = total <= 10, kit["peak_mb"] <= 2048
    print(f"target ≤ 10 s: {'met' if ok_t else 'NOT met'} ({total:.1f} s); "
          f"≤ 2 GB: {'met' if ok_m else 'NOT met'} ({kit['peak_mb']:.0f} MB); "
          f"{total / plain['total_s']:.1f}× the plain read_csv time")


if __name__ == "__main__":
    main()
