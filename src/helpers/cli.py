"""The ``flamekit`` command line: sample, ingest, summary, quarantine, reports, followup, forget.

Each sub-command is a small function that calls the helpers of one stage
(:mod:`helpers.data`, :mod:`helpers.stats`, :mod:`helpers.batch`), imported
when the command runs, so ``flamekit --help`` starts at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import unicodedata
from pathlib import Path

from . import __version__
from .batch.kernel import DEFAULT_TIMEOUT
from .data.instrument import LANGUAGES


# Characters a terminal may act on rather than show: C0/C1 controls (ESC starts colour, title and
# clear-screen sequences), bidirectional and other format characters, line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co"})


def terminal_safe(text: object) -> str:
    """``text`` with every character a terminal could act on written as an escape (``\\x1b``, ``\\u202e``).

    Line breaks and tabs are kept.  Stored values (rejected cells, account names, wave labels) reach the
    terminal only through this, so a cell holding ``ESC ] 0 ; … BEL`` cannot retitle or clear the
    terminal and a right-to-left override cannot reorder the line.

    Examples
    --------
    >>> print(terminal_safe("A1\\x1b]0;owned\\x07 \\u202eabc"))
    A1\\x1b]0;owned\\x07 \\u202eabc
    """
    out = []
    for ch in str(text):
        if ch not in "\n\t" and unicodedata.category(ch) in _UNSAFE_CATEGORIES:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    return "".join(out)


def _say(*parts: object, err: bool = False) -> None:
    """Print to the terminal with :func:`terminal_safe` applied to every part."""
    print(*(terminal_safe(p) for p in parts), file=sys.stderr if err else sys.stdout)


def _cmd_sample(args: argparse.Namespace) -> int:
    from helpers.data.sample import write_sample_exports

    files = write_sample_exports(args.out, seed=args.seed, n_accounts=args.accounts, instrument=args.instrument)
    for kind, paths in files.items():
        for p in paths:
            _say(f"{kind:12s} {p}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from helpers.data.ingest import ingest
    from helpers.data.validation import IngestError

    status = 0
    for f in args.files:
        try:
            res = ingest(f, kind=args.kind, wave=args.wave, mapping=args.mapping, store=args.store,
                         instrument=args.instrument, calendar=args.calendar, wait=args.wait)
        except IngestError as exc:
            _say(f"error: {exc}", err=True)
            _say("Nothing was written to the store for this file.", err=True)
            status = 2
            continue
        _say(res.summary())
    return status


def _cmd_summary(args: argparse.Namespace) -> int:
    import pandas as pd

    from helpers.data.instrument import load_instrument
    from helpers.data.store import load_answers, load_responses, query
    from helpers.stats.scores import nps, respondent_scores, summarise

    inst = load_instrument(args.instrument)
    resp = load_responses(store=args.store, wave=args.wave)
    if resp.empty:
        _say("The store has no survey responses yet.")
        return 1
    ans = load_answers(store=args.store, wave=args.wave)
    scores = respondent_scores(ans, instrument=inst)
    # Portfolio level: every respondent counts once per dimension.
    dim = summarise(scores, by=["wave", "side", "dimension"], scale=(inst.scale_min, inst.scale_max))
    dim["dimension"] = dim["dimension"].map(inst.labels("en"))
    table = dim.assign(cell=dim.apply(lambda r: f"{r['mean']:.2f} [{r['ci_low']:.2f}, {r['ci_high']:.2f}]", axis=1))
    wide = table.pivot_table(index=["wave", "side"], columns="dimension", values="cell", aggfunc="first")
    wide = wide[[inst.label(d) for d in inst.dimension_ids]]
    counts = resp.groupby(["wave", "side"]).agg(accounts=("account_id", "nunique"), n=("response_id", "size"))
    n = nps(resp, by=["wave", "side"])
    n["NPS [95% CI]"] = n.apply(lambda r: f"{r['nps']:+.0f} [{r['ci_low']:+.0f}, {r['ci_high']:+.0f}]", axis=1)
    out = counts.join(n.set_index(["wave", "side"])["NPS [95% CI]"]).join(wide)
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        _say("Dimension means (1–5) with 95% CI and NPS (adjusted Wald 95% CI), all accounts:\n")
        _say(out.to_string())
    q = query("SELECT kind, count(DISTINCT file || ':' || \"row\") AS rows FROM quarantine GROUP BY kind",
              store=args.store)
    flagged = int(resp["straightlining"].fillna(False).sum())
    _say(f"\nStraight-lining flagged (kept): {flagged} responses.")
    if len(q):
        _say("Quarantined rows: " + ", ".join(f"{r.kind} {r.rows}" for r in q.itertuples())
              + "  (`flamekit quarantine` lists them)")
    return 0


def _cmd_quarantine(args: argparse.Namespace) -> int:
    import pandas as pd

    from helpers.data.store import load_quarantine

    q = load_quarantine(store=args.store, file=args.file)
    if q.empty:
        _say("Quarantine is empty.")
        return 0
    if (q["line"].isna() | (q["line"] == q["row"])).all():  # no cell spans lines: the row says it all
        q = q.drop(columns=["line"])
    with pd.option_context("display.width", 250, "display.max_colwidth", 80, "display.max_rows", 500):
        _say(q.drop(columns=["ingested_at"]).to_string(index=False))
    return 0


def _cmd_reports(args: argparse.Namespace) -> int:
    from helpers.batch import _startup  # noqa: F401  (before nbformat is imported)
    from helpers.batch import ReportError, run_batch

    try:
        accounts = [a for given in args.accounts for a in given.split(",") if a] if args.accounts else None
        result = run_batch(args.wave, accounts=accounts, jobs=args.jobs, language=args.lang,
                           with_code=args.with_code, force=args.force, store=args.store, out_root=args.out,
                           timeout=args.timeout, progress=not args.quiet, pdf=args.pdf, scheduler=args.scheduler,
                           shared_store=args.shared_store)
    except ReportError as exc:
        _say(f"error: {exc}", err=True)
        return 2
    except KeyboardInterrupt:
        _say("interrupted: index.html and manifest.json were not updated. Reports that finished are kept: run the "
             "same command again to render only the rest.", err=True)
        return 130
    rendered = sum(r.action == "rendered" and r.ok for r in result.reports)
    unchanged = sum(r.action == "unchanged" for r in result.reports)
    pdfs = sum(r.pdf is not None for r in result.reports) + (result.index_pdf is not None)
    _say(f"{rendered} rendered, {unchanged} unchanged, {len(result.failed)} failed "
          f"in {result.seconds:.1f} s ({args.jobs} job{'s' if args.jobs != 1 else ''})"
          + (f"; {pdfs} PDF{'s' if pdfs != 1 else ''}." if args.pdf else "."))
    for r in result.failed:
        _say(f"failed: {r.name} ({r.account_id or r.kind}): {r.error}", err=True)
        if r.failed_ipynb:
            _say(f"        partial notebook: {r.failed_ipynb}", err=True)
    for r in result.pdf_failed:
        _say(f"no PDF: {r.name} ({r.account_id or r.kind}): {r.pdf_error}", err=True)
    if result.index_pdf_error:
        _say(f"no PDF: index: {result.index_pdf_error}", err=True)
    if args.pdf:
        example = next((r.pdf for r in result.reports if r.pdf and r.kind == "portfolio"), None) or next(
            (r.pdf for r in result.reports if r.pdf), None)
        if example:
            _say(f"PDF for the meeting: {example}")
    _say(result.index)
    return result.exit_code


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sample", help="write the seeded sample survey exports")
    p.add_argument("--out", default="data/sample", help="folder for the exports (default data/sample)")
    p.add_argument("--seed", type=int, default=2026, help="random seed (default 2026)")
    p.add_argument("--accounts", type=int, default=60, help="number of accounts (default 60)")
    p.set_defaults(func=_cmd_sample)

    p = sub.add_parser("ingest", help="validate survey exports and add them to the store")
    p.add_argument("files", nargs="+", help="CSV or XLSX exports")
    p.add_argument("--kind", required=True, choices=["client", "staff", "accounts", "touchpoints", "followups"],
                   help="followups: an owner's follow-up workbook with Status, Contacted at and Note filled in")
    p.add_argument("--wave", help="survey wave, e.g. 2026Q3 (client and staff files)")
    p.add_argument("--mapping", help="YAML mapping of export headers to flamekit fields")
    p.add_argument("--calendar", help="wave calendar (YAML/CSV/XLSX: label, start, end) for the date checks "
                                      "(default $FLAMEKIT_WAVES, else read from the wave label)")
    p.add_argument("--wait", type=float, metavar="SECONDS",
                   help="how long to wait for a store another process is writing (default $FLAMEKIT_STORE_WAIT "
                        "or 30)")
    p.set_defaults(func=_cmd_ingest)

    p = sub.add_parser("summary", help="print dimension scores and NPS per wave and side")
    p.add_argument("--wave", help="only this wave")
    p.set_defaults(func=_cmd_summary)

    p = sub.add_parser("quarantine", help="list rows rejected at ingest, with reasons")
    p.add_argument("--file", help="only rows from this file (as given to ingest)")
    p.set_defaults(func=_cmd_quarantine)

    p = sub.add_parser("reports", help="render every account's HTML report for a wave (+ index and manifest)",
                       description="Render the account reports of one survey wave, and the portfolio and drivers "
                                   "overviews, into <out>/<wave>/ with index.html and manifest.json (and, with "
                                   "--pdf, an A4 PDF beside each page). The data come from the store given to "
                                   "flamekit (--store before the command). Exit code: 0 when every report "
                                   "rendered or was unchanged; 1 when any report failed, or a PDF asked for could "
                                   "not be written (the others are still written and listed); 2 when the batch "
                                   "cannot start (missing store, wave without answers, unknown account, bad "
                                   "option, --pdf without Chromium) and nothing ran.")
    p.add_argument("--wave", required=True, help="survey wave, e.g. 2026Q3")
    p.add_argument("--accounts", nargs="+", metavar="ID", help="only these account ids, separated by spaces or commas "
                                                                "(default: every account with answers in the wave)")
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="worker processes, one kernel each (default 1)")
    p.add_argument("--lang", choices=list(LANGUAGES), default="en", help="report language (default en)")
    p.add_argument("--with-code", action="store_true", help="keep the code in the HTML (analyst variant)")
    p.add_argument("--force", action="store_true", help="render even reports whose inputs have not changed")
    p.add_argument("--out", default="reports", metavar="DIR", help="root folder for the reports (default reports)")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                   help=f"seconds one notebook cell may run (default {DEFAULT_TIMEOUT})")
    p.add_argument("--pdf", action="store_true",
                   help="also print every page (reports and index) to an A4 PDF beside its HTML, with headless "
                        "Chromium (`make browser` installs it; $FLAMEKIT_CHROMIUM names another)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="render on a Dask cluster: a scheduler's address (tcp://host:8786; its workers' threads "
                        "set how many reports run at once, --jobs is not used), or 'local' for a LocalCluster of "
                        "--jobs worker processes on this machine (needs the 'cluster' extra)")
    p.add_argument("--shared-store", action="store_true",
                   help="with --scheduler: the workers read the store at the same path (a shared file system); "
                        "otherwise each account's report gets only its own account's extract")
    p.set_defaults(func=_cmd_reports)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flamekit", description="Two-sided partnership survey kit.")
    parser.add_argument("--version", action="version", version=f"flamekit {__version__}")
    parser.add_argument("--store", type=Path, default=None,
                        help="store file (default $FLAMEKIT_STORE or data/flamekit.duckdb)")
    parser.add_argument("--instrument", default=None, help="instrument YAML (default: the flamekit instrument)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    register_cli(sub)
    _register_loop_commands(sub)
    return parser


# ---------------------------------------------------------------------------
# The follow-up loop: followup (the daily queue) and forget (a respondent's contact and comments)
# ---------------------------------------------------------------------------
def _cmd_followup(args: argparse.Namespace) -> int:
    from helpers.data.clock import TimezoneError
    from helpers.data.validation import load_wave_calendar
    from helpers.followup import FollowupError, run_followup

    try:
        calendar = load_wave_calendar(args.calendar if args.calendar is not None else os.environ.get("FLAMEKIT_WAVES"))
        result = run_followup(store=args.store, out=args.out, since=args.since, sla=args.sla, timezone=args.timezone,
                              language=args.lang, wait=args.wait, calendar=calendar)
    except (FollowupError, TimezoneError) as exc:
        _say(f"error: {exc}", err=True)
        return 2
    _say(result.summary())
    return result.exit_code


def _cmd_forget(args: argparse.Namespace) -> int:
    from helpers.data.forget import forget
    from helpers.followup import rewrite_files
    from helpers.words import say

    lang = args.lang
    if not any((args.respondent, args.response, args.email)):
        _say("error: say whom to forget: --respondent ID, --response ID or --email ADDRESS.", err=True)
        return 2
    res = forget(respondent=args.respondent, response=args.response, email=args.email, store=args.store,
                 wait=args.wait)
    if not res.found:
        _say(say("followup.forget.none", lang))
        return 1
    _say(say("followup.forget.removed", lang, contacts=res.contacts, comments=res.comments, responses=res.responses,
             notes=res.notes, cells=res.quarantine_cells))
    if not res.rewritten:
        _say(say("followup.forget.not_rewritten", lang), err=True)
    rewritten = rewrite_files(args.followup_dir, store=args.store)
    if rewritten is not None:
        _say(say("followup.forget.files", lang, folder=rewritten.folder))
    if res.waves:
        _say(say("followup.forget.reports", lang,
                 commands="; ".join(f"flamekit reports --wave {w}" for w in res.waves)))
    _say(say("followup.forget.exports", lang))
    return 0


def _register_loop_commands(sub: argparse._SubParsersAction) -> None:
    from helpers.data.clock import DEFAULT_TIMEZONE

    p = sub.add_parser(
        "followup", help="build the follow-up queue: one workbook per owner and an HTML list (run it daily)",
        description="Put every client detractor (0-6), contact request and comment to act on, and every touchpoint "
                    "detractor, answered since --since into the follow-up queue, each due --sla after its answer, "
                    "and write one workbook per account owner (with the contacts of clients who consented) and an "
                    "HTML list (without contacts) into --out. Re-running never duplicates an item. Owners fill in "
                    "Status, Contacted at and Note and send the workbook back: `flamekit ingest FILE --kind "
                    "followups`. Exit code: 0 when nothing is overdue, 3 when some open item is past due, 2 when "
                    "it cannot run (bad option, missing store).")
    p.add_argument("--since", help="answers from this date (2026-07-01), days back (30d) or wave (2026Q3); "
                                   "default 30d. Older items still open stay listed.")
    p.add_argument("--sla", default="48h", help="time to the first contact: 48h, 2d, 90min (default 48h)")
    p.add_argument("--timezone", default=DEFAULT_TIMEZONE,
                   help=f"zone of the survey tool's times and of the files (default {DEFAULT_TIMEZONE})")
    p.add_argument("--out", default="reports/followup", metavar="DIR", help="folder (default reports/followup)")
    p.add_argument("--lang", choices=list(LANGUAGES), default="en", help="language of the files (default en)")
    p.add_argument("--calendar", help="wave calendar for a --since given as a wave (default $FLAMEKIT_WAVES)")
    p.add_argument("--wait", type=float, metavar="SECONDS", help="how long to wait for a store another process "
                                                                 "is writing (default $FLAMEKIT_STORE_WAIT or 30)")
    p.set_defaults(func=_cmd_followup)

    p = sub.add_parser(
        "forget", help="remove a respondent's contact and comments from the store",
        description="Remove a respondent's contact, their comments, the follow-up notes about them and quarantined "
                    "cells holding their id or e-mail from the store, in one transaction, and rewrite the store "
                    "file so the values leave its bytes; then write the follow-up files again. Exit code: 0 when "
                    "something was removed, 1 when nothing of the respondent was found, 2 on an error.")
    p.add_argument("--respondent", metavar="ID", help="respondent id, as in the survey export")
    p.add_argument("--response", metavar="ID", help="one response id (a respondent without an id)")
    p.add_argument("--email", metavar="ADDRESS", help="the e-mail address they gave with their consent")
    p.add_argument("--followup-dir", default="reports/followup", metavar="DIR",
                   help="the follow-up queue's folder to write again (default reports/followup)")
    p.add_argument("--lang", choices=list(LANGUAGES), default="en", help="language of the messages (default en)")
    p.add_argument("--wait", type=float, metavar="SECONDS", help="how long to wait for the store")
    p.set_defaults(func=_cmd_forget)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from helpers.data.instrument import InstrumentError, load_instrument
    from helpers.data.store import StoreError
    from helpers.data.validation import IngestError

    try:
        if args.instrument:
            # checked once here; the environment carries it to notebooks and report kernels this command starts
            load_instrument(args.instrument)
            os.environ["FLAMEKIT_INSTRUMENT"] = str(Path(args.instrument).resolve())
        return int(args.func(args) or 0)
    except (StoreError, InstrumentError, IngestError) as exc:
        _say(f"error: {exc}", err=True)
        return 2


if __name__ == "__main__":
    sys.exit(main())
