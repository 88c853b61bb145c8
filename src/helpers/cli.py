"""The ``flamekit`` command line.

Sub-commands are contributed by the modules listed in ``COMMAND_MODULES``: each
has ``register_cli(subparsers)`` that adds its parser and sets ``func``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

import pandas as pd

from . import __version__

COMMAND_MODULES = ("helpers.cli", "helpers.reports")


def _cmd_sample(args: argparse.Namespace) -> int:
    from .sample import write_sample_exports

    files = write_sample_exports(args.out, seed=args.seed, n_accounts=args.accounts, instrument=args.instrument)
    for kind, paths in files.items():
        for p in paths:
            print(f"{kind:12s} {p}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from .ingest import IngestError, ingest

    status = 0
    for f in args.files:
        try:
            res = ingest(f, kind=args.kind, wave=args.wave, mapping=args.mapping, store=args.store,
                         instrument=args.instrument)
        except IngestError as exc:
            print(f"error: {exc}", file=sys.stderr)
            print("Nothing was written to the store for this file.", file=sys.stderr)
            status = 2
            continue
        print(res.summary())
    return status


def _cmd_summary(args: argparse.Namespace) -> int:
    from .instrument import load_instrument
    from .scores import nps, respondent_scores, summarise
    from .store import load_answers, load_responses, query

    inst = load_instrument(args.instrument)
    resp = load_responses(store=args.store, wave=args.wave)
    if resp.empty:
        print("The store has no survey responses yet.")
        return 1
    ans = load_answers(store=args.store, wave=args.wave)
    scores = respondent_scores(ans, instrument=inst)
    # Portfolio level: every respondent counts once per dimension.
    dim = summarise(scores, by=["wave", "side", "dimension"])
    dim["dimension"] = dim["dimension"].map(inst.labels("en"))
    table = dim.assign(cell=dim.apply(lambda r: f"{r['mean']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]", axis=1))
    wide = table.pivot_table(index=["wave", "side"], columns="dimension", values="cell", aggfunc="first")
    wide = wide[[inst.label(d) for d in inst.dimension_ids]]
    counts = resp.groupby(["wave", "side"]).agg(accounts=("account_id", "nunique"), n=("response_id", "size"))
    n = nps(resp, by=["wave", "side"])
    n["NPS [95% CI]"] = n.apply(lambda r: f"{r['nps']:+.0f} [{r['ci_low']:+.0f}, {r['ci_high']:+.0f}]", axis=1)
    out = counts.join(n.set_index(["wave", "side"])["NPS [95% CI]"]).join(wide)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print("Dimension means (1–5) with 95% CI and NPS (adjusted Wald 95% CI), all accounts:\n")
        print(out.to_string())
    q = query("SELECT kind, count(DISTINCT file || ':' || \"row\") AS rows FROM quarantine GROUP BY kind",
              store=args.store)
    flagged = int(resp["straightlining"].fillna(False).sum())
    print(f"\nStraight-lining flagged (kept): {flagged} responses.")
    if len(q):
        print("Quarantined rows: " + ", ".join(f"{r.kind} {r.rows}" for r in q.itertuples())
              + "  (`flamekit quarantine` lists them)")
    return 0


def _cmd_quarantine(args: argparse.Namespace) -> int:
    from .store import load_quarantine

    q = load_quarantine(store=args.store, file=args.file)
    if q.empty:
        print("Quarantine is empty.")
        return 0
    if (q["line"].isna() | (q["line"] == q["row"])).all():  # no cell spans lines: the row says it all
        q = q.drop(columns=["line"])
    with pd.option_context("display.width", 250, "display.max_colwidth", 80, "display.max_rows", 500):
        print(q.drop(columns=["ingested_at"]).to_string(index=False))
    return 0


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="write the seeded sample survey exports")
    p.add_argument("--out", default="data/sample", help="folder for the exports (default data/sample)")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument("--accounts", type=int, default=60, help="number of accounts (default 60)")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("ingest", help="validate survey exports and add them to the store")
    p.add_argument("files", nargs="+", help="CSV or XLSX exports")
    p.add_argument("--kind", required=True, choices=["client", "staff", "accounts", "touchpoints"])
    p.add_argument("--wave", help="survey wave, e.g. 2026Q3 (client and staff files)")
    p.add_argument("--mapping", help="YAML mapping of export headers to flamekit fields")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("summary", help="print dimension scores and NPS per wave and side")
    p.add_argument("--wave", help="only this wave")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("quarantine", help="list rows rejected at ingest, with reasons")
    p.add_argument("--file", help="only rows from this file (as given to ingest)")
    p.set_defaults(func=_cmd_quarantine)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flamekit", description="Two-sided partnership survey kit.")
    parser.add_argument("--version", action="version", version=f"flamekit {__version__}")
    parser.add_argument("--store", type=Path, default=None,
                        help="store file (default $FLAMEKIT_STORE or data/flamekit.duckdb)")
    parser.add_argument("--instrument", default=None, help="instrument YAML (default: the flamekit instrument)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # optional module not present in this build
                continue
            raise
        module.register_cli(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from .ingest import IngestError
    from .instrument import InstrumentError, load_instrument
    from .store import StoreError

    try:
        if args.instrument:
            # checked once here; the environment carries it to notebooks and report kernels this command starts
            load_instrument(args.instrument)
            os.environ["FLAMEKIT_INSTRUMENT"] = str(Path(args.instrument).resolve())
        return int(args.func(args) or 0)
    except (StoreError, InstrumentError, IngestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
