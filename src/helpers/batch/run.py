"""Render one notebook, or every account of a wave with the overviews, an index and a manifest.

:func:`run_batch` works in three steps: :func:`helpers.batch.plan.plan_batch`
checks the input and gives every report its task and key (and finds those
unchanged since the last run), :func:`render_plan` renders the others in warm
workers — while :mod:`.attention` reads what the index needs from the store —
and :func:`finish_batch` lists earlier reports still there, prints the PDFs
when asked (:mod:`.pdf`) and writes the index and the manifest.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Iterable, Mapping
from concurrent.futures import Future
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from helpers.data.instrument import LANGUAGES

from .attention import FrontPageFacts, front_page_facts, start_front_page_facts
from .errors import RenderError, ReportError
from .files import _read_notebook, atomic_write
from .index import INDEX, _index_html, _store_headlines
from .kernel import DEFAULT_TIMEOUT, KERNEL_NAME
from .navigation import PAGES as NAV_PAGES
from .parameters import check_parameters
from .pdf import PdfError, find_chromium, print_pdf, print_pdfs
from .plan import BatchPlan, assign_parameters, plan_batch
from .pool import _Pool, _start_fork_server
from .results import MANIFEST, BatchResult, ReportResult, _versions
from .worker import ReportWorker

__all__ = [
    "render_notebook",
    "run_batch",
]


# ---------------------------------------------------------------------------
# Single notebook
# ---------------------------------------------------------------------------
def render_notebook(
    notebook: str | Path,
    html_path: str | Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    with_code: bool = False,
    language: str = "en",
    title: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    kernel_name: str = KERNEL_NAME,
) -> ReportResult:
    """Execute one parameterised notebook and export it to a self-contained HTML file.

    Parameters
    ----------
    notebook : path
        The ``.ipynb`` with a cell tagged ``parameters``.
    html_path : path
        Where the HTML goes; the executed notebook is written beside it
        (same stem, ``.ipynb``).
    parameters : mapping, optional
        Values to inject; every name must be declared by the notebook (pass ids
        as strings).
    with_code : bool
        Keep the code (analyst variant); default hidden.
    language : {"en", "fi"}
        Language of the page chrome (``lang``, the contents heading).
    title : str, optional
        ``<title>``; default the first level-1 heading (see :func:`notebook_title`).
    timeout : float
        Seconds one cell may run.
    kernel_name : str
        Jupyter kernel.

    Returns
    -------
    ReportResult

    Raises
    ------
    ParameterError
        Unknown parameter name or wrong type (nothing is run).
    ReportError
        No readable notebook at ``notebook``, an unknown ``language`` or a
        ``timeout`` that is not positive (nothing is run).
    RenderError
        The notebook raised, timed out or its kernel died, or the export failed.
        The partial notebook is kept as ``<stem>.failed.ipynb`` and no HTML is
        written; ``exc.result`` has the details.

    Examples
    --------
    >>> render_notebook("notebooks/account_report.ipynb", "reports/a001.html",      # doctest: +SKIP
    ...                 parameters={"account_id": "A001", "wave": "2026Q3"})
    """
    notebook = Path(notebook)
    html_path = Path(html_path)
    params = check_parameters(notebook, dict(parameters or {}))
    _check_options(language=language, timeout=timeout)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    stem = html_path.name[:-5] if html_path.name.endswith(".html") else html_path.name
    source, sha = _read_notebook(notebook)
    task = {"name": notebook.stem, "kind": "notebook", "notebook": str(notebook.resolve()), "source": source,
            "notebook_sha256": sha, "parameters": params, "out_dir": str(html_path.parent),
            "slug": stem, "title": title, "with_code": with_code, "language": language}
    with ReportWorker(kernel_name=kernel_name, timeout=timeout) as worker:
        res = ReportResult.from_dict(worker.render(task))
    if not res.ok:
        where = f" The partial notebook is {res.failed_ipynb}." if res.failed_ipynb else ""
        raise RenderError(f"{notebook.name} failed: {res.error}.{where}", res)
    return res


def _check_options(*, language: str, timeout: float, jobs: int = 1) -> None:
    """Raise :class:`ReportError` for an unknown language, a timeout that is not positive or fewer than 1 job."""
    if language not in LANGUAGES:
        raise ReportError(f"language must be one of {list(LANGUAGES)}, not {language!r}.")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ReportError(f"timeout must be a positive number of seconds (per cell), not {timeout!r}.")
    if int(jobs) < 1:
        raise ReportError(f"jobs must be at least 1, not {jobs}.")


def run_batch(
    wave: str,
    *,
    accounts: Iterable[str] | None = None,
    jobs: int = 1,
    language: str = "en",
    with_code: bool = False,
    force: bool = False,
    store: str | Path | None = None,
    out_root: str | Path = "reports",
    timeout: float = DEFAULT_TIMEOUT,
    notebook: str | Path | None = None,
    extra_notebooks: Mapping[str, str | Path] | None = None,
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str = KERNEL_NAME,
    progress: bool = True,
    pdf: bool = False,
    scheduler: str | None = None,
    shared_store: bool = False,
) -> BatchResult:
    """Render every account's report for one wave, plus the overviews, an index and a manifest.

    Parameters
    ----------
    wave : str
        Survey wave, e.g. ``"2026Q3"``.
    accounts : iterable of str, optional
        Account ids to render (default: every account with answers in the
        wave).  Unknown ids, and ids without answers in the wave, are an error
        before anything runs.
    jobs : int
        Worker processes, each with one warm kernel.  The output files are the
        same whatever the number.
    language : {"en", "fi"}
        Language of the reports and the index.
    with_code : bool
        Keep the code in the HTML (analyst variant).
    force : bool
        Render even reports whose inputs have not changed.
    store : path, optional
        The store (default :func:`helpers.data.store.default_store`).
    out_root : path
        Reports go to ``<out_root>/<wave>/`` (the folder named by :func:`helpers.batch.files.wave_folder`).
    timeout : float
        Seconds one cell may run before its report fails.
    notebook : path, optional
        The per-account notebook (default ``notebooks/account_report.ipynb``).
        It must declare ``account_id``, ``wave`` and ``store``.
    extra_notebooks : mapping, optional
        name → notebook rendered once per wave (default: ``portfolio`` and
        ``drivers`` in ``notebooks/`` when they exist; ``{}`` for none).  Each
        must declare ``store`` and ``wave`` or ``waves``.
    parameters : mapping, optional
        Further parameters, e.g. ``{"min_group_size": 5}``, passed to every
        notebook that declares them; a name no notebook declares is an error.
    kernel_name : str
        Jupyter kernel.
    progress : bool
        Show a progress bar on stderr.
    pdf : bool
        Also print every page — the reports and the index — to an A4 PDF
        beside its HTML, with headless Chromium (:mod:`helpers.batch.pdf`).
    scheduler : str, optional
        Render on a Dask cluster (:mod:`helpers.batch.cluster`, the optional
        ``cluster`` extra): ``"local"`` starts a LocalCluster of ``jobs``
        worker processes, an address (``"tcp://host:8786"``) uses a running
        one, whose workers' threads set how many reports run at once
        (``jobs`` is then not used).  Default: the built-in pool.
    shared_store : bool
        With a scheduler: the workers read the store at its path here (a
        shared file system).  Otherwise each account's report gets only its
        account's extract (:mod:`helpers.batch.extract`), and the overviews
        are rendered on this machine.

    Returns
    -------
    BatchResult
        ``exit_code`` is 1 when any report of this run failed, or a PDF asked
        for could not be written.

    Raises
    ------
    ReportError
        Nothing to do or bad input: a wave without answers, unknown accounts,
        a missing notebook or parameter, an unknown language, ``jobs`` below 1,
        a ``timeout`` that is not positive, or PDFs asked for without a
        headless Chromium to print them.  Nothing has run then.
    helpers.data.store.StoreError
        No store file, or it is open for writing in another process.

    Notes
    -----
    Each notebook gets, of ``account_id``, ``wave``, ``waves`` (every wave up
    to ``wave``, comma-separated), ``store`` and ``language``, the ones its
    parameters cell declares — ids always as strings.

    Files in ``<out_root>/<wave>/``: ``<slug>.html`` and ``<slug>.ipynb`` per
    report (slugs from :func:`helpers.batch.files.account_slugs`), ``<slug>.failed.ipynb`` for a
    failed one (no HTML then), ``index.html`` (the front page: how many
    accounts need attention and why, then every account with owner, segment,
    renewal date, its headline figures — from the notebook's cell tagged
    ``headline`` whose output is ``application/json``; for a report without
    one only the answers counted from the store — and its flags, see
    :mod:`helpers.batch.index`), with ``pdf`` a ``<slug>.pdf`` per page and
    ``index.pdf``, and ``manifest.json`` (parameters, data hash, package
    versions, timings, status and error of every report, its PDF or why
    there is none).  Every file is written under a temporary name and
    renamed.  A PDF older than its page is removed, so none is ever stale.

    A report is skipped when its key — hash of the notebook file, its
    parameters, :func:`helpers.data.store.data_hash`, the helpers' source and the
    HTML options — equals the key it was last rendered with and its files exist.
    Each report records that in ``.done/<slug>.json`` as soon as it finishes
    (:mod:`helpers.batch.journal`), so a batch that is killed before it writes
    the manifest is resumed by running it again: only the reports it had not
    finished are rendered.  Reports of earlier runs not in this one stay listed
    (``action="kept"``).

    Examples
    --------
    >>> result = run_batch("2026Q3", jobs=2)          # doctest: +SKIP
    >>> result.index                                   # doctest: +SKIP
    PosixPath('reports/2026Q3/index.html')
    """
    _check_options(language=language, timeout=timeout, jobs=jobs)
    chromium = _pdf_browser() if pdf else None
    run = BatchRun(jobs=int(jobs), timeout=timeout, kernel_name=kernel_name, progress=progress, pdf=bool(pdf),
                   chromium=chromium, scheduler=scheduler or None, shared_store=shared_store)
    _start_fork_server()  # first: its imports run beside this process's import of the store (DuckDB)
    plan = plan_batch(wave, accounts=accounts, store=store, out_root=out_root, notebook=notebook,
                      extra_notebooks=extra_notebooks, parameters=parameters, language=language,
                      with_code=with_code, force=force)
    facts = start_front_page_facts(plan.store, plan.wave, parameters=plan.parameters)
    results = render_plan(plan, run=run)
    return finish_batch(plan, results, run=run, facts=facts)


def _pdf_browser() -> str:
    """The browser that prints the PDFs, or :class:`ReportError` before anything runs."""
    chromium = find_chromium()
    if not chromium:
        raise ReportError("PDFs need headless Chromium and none was found: `make browser` installs Debian's "
                          "chromium, or set $FLAMEKIT_CHROMIUM to a Chromium or Chrome executable.")
    return chromium


@dataclass(frozen=True)
class BatchRun:
    """How a batch runs its plan, and when it started.

    Attributes
    ----------
    jobs : int
        Worker processes at most.
    timeout : float
        Seconds one cell may run.
    kernel_name : str
        Jupyter kernel.
    progress : bool
        Show a progress bar on stderr.
    pdf : bool
        Print every page to an A4 PDF too.
    chromium : str, optional
        The browser that prints them.
    scheduler : str, optional
        A Dask scheduler's address, or ``"local"``; None for the built-in pool.
    shared_store : bool
        The Dask workers read the store itself, not extracts.
    t_start, started
        ``time.perf_counter()`` and the UTC time when the batch started.
    """

    jobs: int
    timeout: float
    kernel_name: str
    progress: bool
    pdf: bool = False
    chromium: str | None = None
    scheduler: str | None = None
    shared_store: bool = False
    t_start: float = field(default_factory=time.perf_counter)
    started: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


# ---------------------------------------------------------------------------
# Rendering the plan
# ---------------------------------------------------------------------------
def render_plan(plan: BatchPlan, *, run: BatchRun) -> dict[str, ReportResult]:
    """Render the reports of a plan that are not unchanged, in warm workers.

    Parameters
    ----------
    plan : BatchPlan
        From :func:`helpers.batch.plan.plan_batch`; its tasks get their
        parameters here.
    run : BatchRun
        Jobs, timeout, kernel and progress bar.

    Returns
    -------
    dict
        slug → :class:`ReportResult` of every report of the plan: the unchanged
        ones and the rendered (or failed) ones.

    Notes
    -----
    The workers start warming their kernels at once, while the notebooks'
    parameters are checked (:func:`helpers.batch.plan.assign_parameters`); a
    bad parameter stops them before any report ran.  Ctrl-C drops the reports
    not yet started and lets the running ones finish, so no file is left
    half-written.
    """
    results = dict(plan.unchanged)
    to_run = plan.to_run
    pool = _start_pool(plan, len(to_run), run=run) if to_run and not run.scheduler else None
    rendered = None
    try:
        assign_parameters(plan)
        plan.out_dir.mkdir(parents=True, exist_ok=True)
        if to_run:
            to_run = _with_navigation(plan, to_run)
            if pool is not None:
                rendered = pool.render(to_run, progress=run.progress, desc=f"reports {plan.wave}")
            else:
                from .cluster import render_on_cluster  # a Dask cluster (run.scheduler)

                rendered = render_on_cluster(plan, to_run, run=run)
            for res in rendered:
                results[res["slug"]] = ReportResult.from_dict({**res, "action": "rendered"})
    except ReportError:
        if pool is not None:
            pool.close(terminate=True)  # nothing has run yet
        raise
    except BaseException:
        if rendered is not None:
            rendered.close()  # a cluster's reports not yet finished are cancelled, its client closed
        if pool is not None:
            pool.close(cancel=True)
        raise
    if pool is not None:
        pool.close()
    return results


def _with_navigation(plan: BatchPlan, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks with their notebook's metadata saying which pages of the wave the batch writes
    (``metadata.flamekit.pages``: the index and the overviews the navigation bar knows) and which one the
    page is (``page``), so the exported page links to them (:func:`helpers.batch.html.to_html`).

    The metadata go into the notebook text sent to the workers (one text per notebook and page, so each
    worker still parses a notebook once); the notebook file and the report's key are untouched.
    """
    pages = ["index", *(t["slug"] for t in plan.tasks if t["kind"] != "account" and t["slug"] in NAV_PAGES)]
    texts: dict[tuple[str, str | None], str] = {}
    out = []
    for t in tasks:
        page = t["slug"] if t["kind"] != "account" and t["slug"] in NAV_PAGES else None
        key = (t["notebook"], page)
        if key not in texts:
            nb = json.loads(t["source"])
            own = nb.setdefault("metadata", {}).setdefault("flamekit", {})
            own.update(pages=pages, **({"page": page} if page else {}))
            texts[key] = json.dumps(nb, ensure_ascii=False, indent=1) + "\n"
        out.append({**t, "source": texts[key]})
    return out


def _start_pool(plan: BatchPlan, n_reports: int, *, run: BatchRun) -> _Pool:
    """Worker processes for ``n_reports`` reports, at most ``run.jobs``, each with its share of the cores."""
    workers = max(1, min(run.jobs, n_reports))
    return _Pool(workers, {"kernel_name": run.kernel_name, "timeout": run.timeout,
                           "exporter": (plan.with_code, plan.language),
                           "threads": max(1, (os.cpu_count() or 1) // workers), "warmup": plan.warmup,
                           "env": dict(os.environ)})  # the workers' own may be the fork server's, older


# ---------------------------------------------------------------------------
# Finishing: index and manifest
# ---------------------------------------------------------------------------
def finish_batch(plan: BatchPlan, results: dict[str, ReportResult], *, run: BatchRun,
                 facts: FrontPageFacts | Future[FrontPageFacts] | None = None) -> BatchResult:
    """List earlier reports still there, fill in missing headlines, print the PDFs, write the index and the manifest.

    Parameters
    ----------
    plan : BatchPlan
        The batch's plan.
    results : dict
        slug → :class:`ReportResult` from :func:`render_plan`; earlier reports
        this run did not touch are added (``action="kept"``).
    run : BatchRun
        How the batch ran, and when it started.
    facts : FrontPageFacts or its Future, optional
        Owner, segment, renewal and at-risk flags for the index
        (:func:`helpers.batch.attention.front_page_facts`, read now when not given).

    Returns
    -------
    BatchResult
        Overviews first, then accounts by name, then the kept reports.
    """
    _keep_earlier_reports(plan, results)
    _fill_headlines_from_store(plan, results.values())
    order = {t["slug"]: i for i, t in enumerate(plan.tasks)}
    reports = sorted(results.values(), key=lambda r: (r.kind == "account", order.get(r.slug, len(order)),
                                                      (r.name or "").casefold(), r.slug))
    if isinstance(facts, Future):
        facts = facts.result()
    if facts is None:
        facts = front_page_facts(plan.store, plan.wave, parameters=plan.parameters)
    t_pdf = time.perf_counter()
    _report_pdfs(plan, reports, run=run)
    index = atomic_write(plan.out_dir / INDEX, _index_html(
        reports, wave=plan.wave, language=plan.language, data_hash=plan.data_hash, accounts=facts.accounts,
        at_risk=facts.at_risk, min_client=facts.min_client))
    index_pdf, index_pdf_error = _index_pdf(index, run=run)
    seconds_pdf = time.perf_counter() - t_pdf if run.pdf else None
    seconds = time.perf_counter() - run.t_start
    manifest = _manifest(plan, reports, run=run, seconds=seconds, facts=facts,
                         pdf={"index": index_pdf, "index_error": index_pdf_error, "seconds": seconds_pdf})
    manifest_path = atomic_write(plan.out_dir / MANIFEST, json.dumps(manifest, indent=2, ensure_ascii=False,
                                                                     default=str) + "\n")
    return BatchResult(wave=plan.wave, out_dir=plan.out_dir, index=index, manifest=manifest_path,
                       reports=reports, seconds=seconds, index_pdf=index_pdf, index_pdf_error=index_pdf_error)


def _report_pdfs(plan: BatchPlan, reports: list[ReportResult], *, run: BatchRun) -> None:
    """Each report's PDF: kept when at least as new as its page, removed when older (or the page is gone),
    printed when asked for and missing; ``pdf`` and ``pdf_error`` of every report say which."""
    to_print = []
    for r in reports:
        r.pdf_error = None
        page, pdf = plan.out_dir / f"{r.slug}.html", plan.out_dir / f"{r.slug}.pdf"
        fresh = r.ok and page.is_file() and pdf.is_file() and pdf.stat().st_mtime_ns >= page.stat().st_mtime_ns
        if not fresh:
            pdf.unlink(missing_ok=True)
        r.pdf = str(pdf) if fresh else None
        if run.pdf and r.ok and page.is_file() and not fresh:
            to_print.append(page)
    if not to_print:
        return
    from tqdm.auto import tqdm

    bar = tqdm(total=len(to_print), desc=f"PDF {plan.wave}", unit="page", disable=not run.progress,
               file=sys.stderr, dynamic_ncols=True)
    try:
        errors = print_pdfs(to_print, jobs=run.jobs, chromium=run.chromium, done=lambda *_: bar.update(1))
    finally:
        bar.close()
    by_slug = {page.name[: -len(".html")]: error for page, error in errors.items()}
    for r in reports:
        if r.slug in by_slug:
            r.pdf_error = by_slug[r.slug]
            r.pdf = None if r.pdf_error else str(plan.out_dir / f"{r.slug}.pdf")


def _index_pdf(index: Path, *, run: BatchRun) -> tuple[Path | None, str | None]:
    """``index.pdf`` when PDFs are asked for (printed each time: the index is written each time), else none."""
    pdf = index.with_suffix(".pdf")
    if not run.pdf:
        pdf.unlink(missing_ok=True)  # it would be older than the index just written
        return None, None
    try:
        return print_pdf(index, pdf, chromium=run.chromium), None
    except PdfError as exc:
        return None, str(exc)


def _keep_earlier_reports(plan: BatchPlan, results: dict[str, ReportResult]) -> None:
    """Reports of earlier runs that this run did not touch stay listed while their files exist."""
    for slug, prev in plan.previous.items():
        if (slug and slug not in results and prev.get("status") == "ok"
                and (plan.out_dir / f"{slug}.html").is_file()):
            results[slug] = ReportResult.from_dict({**prev, "action": "kept"})


def _fill_headlines_from_store(plan: BatchPlan, results: Iterable[ReportResult]) -> None:
    """Count the headline figures from the store for account reports of this run whose notebook gave none
    (e.g. failed ones)."""
    missing = [r for r in results if r.kind == "account" and r.account_id and not r.headline and r.action != "kept"]
    if missing:
        fallback = _store_headlines(plan.store, plan.wave, [r.account_id for r in missing])
        for r in missing:
            r.headline = fallback.get(r.account_id)


def _manifest(plan: BatchPlan, reports: list[ReportResult], *, run: BatchRun, seconds: float,
              facts: FrontPageFacts, pdf: Mapping[str, Any]) -> dict[str, Any]:
    """What ``manifest.json`` records: the batch's settings, the hashes and versions, timings, what the index
    read besides the reports, the PDFs, every report."""
    settings = {"wave": plan.wave, "accounts": plan.accounts, "jobs": run.jobs, "language": plan.language,
                "with_code": plan.with_code, "force": plan.force, "store": str(plan.store),
                "out_root": str(plan.out_root), "timeout": run.timeout, "kernel_name": run.kernel_name,
                "notebook": str(plan.notebook.resolve()),
                "extra_notebooks": {k: str(v.resolve()) for k, v in plan.extras.items()},
                "parameters": plan.parameters, "pdf": run.pdf}
    timings = {"seconds": round(seconds, 3), "rendered": sum(r.action == "rendered" for r in reports),
               "unchanged": sum(r.action == "unchanged" for r in reports),
               "failed": sum(r.status == "failed" and r.action != "kept" for r in reports),
               "seconds_per_rendered_report": round(seconds / max(1, len(plan.to_run)), 3),
               "seconds_front_page": facts.seconds,
               "seconds_pdf": None if pdf.get("seconds") is None else round(pdf["seconds"], 3)}
    pdfs = {"asked": run.pdf, "chromium": run.chromium,
            "written": sum(r.pdf is not None for r in reports) + (pdf.get("index") is not None),
            "failed": sum(r.pdf_error is not None for r in reports) + (pdf.get("index_error") is not None),
            "index": None if pdf.get("index") is None else str(pdf["index"]), "index_error": pdf.get("index_error")}
    front_page = {"at_risk": None if facts.at_risk is None else sorted(facts.at_risk),
                  "at_risk_rule": "active accounts with at least one warning signal of the portfolio's "
                                  "risk_signals (helpers.report.portfolio.accounts_at_risk)",
                  "min_client_answers": facts.min_client, "note": facts.note}
    return {
        "wave": plan.wave,
        "created_at": run.started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "parameters": settings,
        "data_hash": plan.data_hash,
        "code_hash": plan.code_hash,
        "notebooks": {path: sha for path, (_, sha) in plan.sources.items()},
        "versions": _versions(),
        "platform": platform.platform(),
        "timings": timings,
        "front_page": front_page,
        "pdf": pdfs,
        "reports": [asdict(r) for r in reports],
    }
