"""The batch on a Dask cluster: the reports of a plan rendered by Dask workers, the files written here.

Takes a plan's tasks and a scheduler (``"local"`` for a :class:`distributed.LocalCluster`
on this machine, or the address of a running one, ``tcp://host:8786``); hands
back each report's result as it finishes, as :class:`.pool._Pool` does, with
its files written into the wave's folder on this machine.

Each Dask worker holds one warm kernel per thread (:class:`ReportPlugin`, a
worker plugin), so a report costs there what it costs in the built-in pool.
A task renders one report into a folder of the worker's own and returns the
files' bytes with the result; this process writes them atomically, records
them in the journal and keeps the manifest, exactly as for the pool.

Data: by default each account's task carries only that account's extract of
the store (:mod:`.extract`) and the overviews, which read every account, are
rendered on this machine; with ``shared_store`` the workers read the store at
its path here (a shared file system) and render the overviews too.

A worker lost mid-batch loses nothing: the scheduler runs its reports again
on another worker (and Dask's ``retries`` cover a task that raised), and a
report that still cannot be rendered is listed as failed with the reason.
Needs the optional ``cluster`` extra (``dask[distributed]``).
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import tempfile
import threading
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .errors import ReportError
from .files import atomic_write, code_hash
from .journal import record_finished, record_started
from .worker import ReportWorker

__all__ = [
    "ReportPlugin",
    "render_on_cluster",
]

PLUGIN = "flamekit-reports"
#: Times Dask runs a task again after it raised (a lost worker's tasks are rescheduled on their own).
RETRIES = 2
_SUFFIXES = {"html": ".html", "ipynb": ".ipynb", "failed_ipynb": ".failed.ipynb"}

try:
    from distributed import WorkerPlugin as _WorkerPlugin
except ImportError:  # the optional extra is not installed: render_on_cluster says how to install it
    _WorkerPlugin = object


class ReportPlugin(_WorkerPlugin):
    """Warm report kernels on a Dask worker: one :class:`ReportWorker` per worker thread.

    Parameters
    ----------
    worker_kwargs : mapping
        For :class:`ReportWorker` (kernel_name, timeout, warmup, threads),
        plus ``exporter`` (with_code, language) to prepare.

    Notes
    -----
    The kernels start when the plugin is registered (:meth:`setup`, on every
    worker, also one that joins or restarts later) and stop when it is
    unregistered or the worker closes (:meth:`teardown`).
    """

    name = PLUGIN

    def __init__(self, worker_kwargs: Mapping[str, Any]):
        self.worker_kwargs = dict(worker_kwargs)
        self.code = code_hash()  # the batch's: each worker compares its own

    def setup(self, worker: Any) -> None:
        self.code_here = code_hash()
        self.idle: queue.Queue[ReportWorker] = queue.Queue()
        self.workers: list[ReportWorker] = []
        kwargs = dict(self.worker_kwargs)
        exporter = kwargs.pop("exporter", None)
        # The kernels get the worker's environment without the malloc setting a Dask nanny adds for its own
        # memory reports: with it, every allocation-heavy pandas step in a kernel trims memory back to the system.
        kwargs.setdefault("env", {k: v for k, v in os.environ.items() if k != "MALLOC_TRIM_THRESHOLD_"})
        for _ in range(max(1, int(getattr(worker.state, "nthreads", 1)))):
            report_worker = ReportWorker(**kwargs)
            self.workers.append(report_worker)
            # The worker's event loop must not wait for a kernel: each warms up in a thread of its own.
            threading.Thread(target=self._warm, args=(report_worker, exporter), daemon=True,
                             name="flamekit-warm-kernel").start()

    def _warm(self, report_worker: ReportWorker, exporter: tuple[bool, str] | None) -> None:
        with contextlib.suppress(Exception):  # a kernel that cannot start fails the first report, with the reason
            report_worker.start()
            if exporter:
                report_worker._exporter(*exporter)
        import gc

        gc.collect()
        gc.freeze()  # as the pool's workers do: the imports live as long as the worker; collections skip them
        self.idle.put(report_worker)

    async def teardown(self, worker: Any) -> None:
        import asyncio

        # Each kernel is stopped from a thread: a ReportWorker runs its own event loop, which cannot run
        # inside the Dask worker's.
        await asyncio.gather(*(asyncio.to_thread(report_worker.close) for report_worker in
                               getattr(self, "workers", [])), return_exceptions=True)

    @contextlib.contextmanager
    def report_worker(self) -> Iterator[ReportWorker]:
        """A warm :class:`ReportWorker` of this worker's, for one report."""
        report_worker = self.idle.get()
        try:
            yield report_worker
        finally:
            self.idle.put(report_worker)


def _render_task(task: dict[str, Any], extract: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """On a Dask worker: render one report into a folder of its own; the result and the files' bytes.

    The result names the files where this batch's process writes them
    (``task["out_dir"]``); with an ``extract`` the notebook reads it and
    records the store it was given.
    """
    from distributed import get_worker

    worker = get_worker()
    plugin: ReportPlugin = worker.plugins[PLUGIN]
    out_dir = Path(task["out_dir"])
    with tempfile.TemporaryDirectory(prefix="flamekit-", dir=worker.local_directory) as tmp:
        here = {k: v for k, v in task.items() if k != "key"}  # the journal is kept by the batch's process
        here["out_dir"] = tmp
        notebook = Path(task["notebook"])
        if not notebook.parent.is_dir():  # no copy of the project here: the notebook runs from its text
            here["notebook"] = str(Path(tmp) / notebook.name)
            Path(here["notebook"]).write_text(task["source"], encoding="utf-8")
        if extract is not None:
            from .extract import write_extract

            store = write_extract(extract, Path(tmp) / "store.duckdb")
            here["run_parameters"] = {**task["parameters"], "store": str(store)}
        if plugin.code_here != plugin.code:
            res = _failed(task, "This worker has other flamekit code (or another instrument) than the batch: "
                                "install the same version on every worker.")
        else:
            with plugin.report_worker() as report_worker:
                res = report_worker.render(here)
        files = {field: Path(res[field]).read_bytes() for field in _SUFFIXES if res.get(field)}
    res.update(key=task.get("key"), notebook=task["notebook"],
               **{field: str(out_dir / f"{task['slug']}{suffix}") if res.get(field) else None
                  for field, suffix in _SUFFIXES.items()})
    if extract is not None:
        for field in ("error", "error_detail"):
            if res.get(field):
                res[field] = res[field].replace(str(here["run_parameters"]["store"]), str(task["parameters"]["store"]))
    return res, files


def _failed(task: Mapping[str, Any], error: str, detail: str | None = None) -> dict[str, Any]:
    res = {k: v for k, v in task.items() if k not in ("out_dir", "source")}
    res.update(status="failed", error=error, error_detail=detail, html=None, ipynb=None, failed_ipynb=None,
               headline=None, seconds_execute=None, seconds_export=None)
    return res


def _write_files(res: dict[str, Any], files: Mapping[str, bytes], *, out_dir: Path) -> None:
    """Write a report's files from a worker as :meth:`ReportWorker.render` does: each renamed into place, and the
    other outcome's files removed (an earlier HTML after a failure, an earlier failed notebook after a success)."""
    for field, data in files.items():
        atomic_write(Path(res[field]), data)
    stale = ["failed_ipynb"] if res.get("status") == "ok" else ["html", "ipynb"]
    for field in stale:
        (out_dir / f"{res['slug']}{_SUFFIXES[field]}").unlink(missing_ok=True)


# ---------------------------------------------------------------------------
# The batch's side
# ---------------------------------------------------------------------------
def _client(scheduler: str, *, workers: int) -> tuple[Any, Any]:
    """A Dask client of ``scheduler``, and the LocalCluster it started (``"local"``), else None."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ReportError("Rendering on a Dask cluster needs the optional extra: "
                          "pip install 'flamekit[cluster]' (dask[distributed]).") from exc
    if scheduler == "local":
        import dask

        # The workers' statistical profiler samples every thread's stack 100 times a second; on reports,
        # which are Python through and through, that cost about 10% of their time (measured on 60 sample
        # accounts), and nobody reads those profiles here.
        with dask.config.set({"distributed.worker.profile.enabled": False}):
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="30s"), None
    except (OSError, TimeoutError) as exc:
        raise ReportError(f"No Dask scheduler answers at {scheduler} ({exc}). Start one (`dask scheduler`) "
                          "and workers (`dask worker ADDRESS --nthreads 1`), or use --scheduler local.") from exc


def render_on_cluster(plan: Any, tasks: list[dict[str, Any]], *, run: Any) -> Iterator[dict[str, Any]]:
    """Render ``tasks`` of ``plan`` on ``run.scheduler``; yield each result once its files are written here.

    Parameters
    ----------
    plan : helpers.batch.plan.BatchPlan
    tasks : list of dict
        The plan's tasks to render, their parameters assigned.
    run : helpers.batch.run.BatchRun
        ``scheduler``, ``shared_store``, ``jobs`` (the LocalCluster's worker
        processes), kernel, timeout and progress bar.

    Yields
    ------
    dict
        Each report's result, as :meth:`ReportWorker.render` gives it.
    """
    from tqdm.auto import tqdm

    workers = max(1, min(run.jobs, len(tasks)))
    client, cluster = _client(run.scheduler, workers=workers)
    local = cluster is not None
    kwargs = {"kernel_name": run.kernel_name, "timeout": run.timeout, "warmup": plan.warmup,
              "exporter": (plan.with_code, plan.language),
              "threads": max(1, (os.cpu_count() or 1) // workers) if local else 1}
    here = [t for t in tasks if t["kind"] != "account" and not run.shared_store]  # overviews read every account
    there = [t for t in tasks if t not in here]
    bar = tqdm(total=len(tasks), desc=f"reports {plan.wave}", unit="report", disable=not run.progress,
               file=sys.stderr, dynamic_ncols=True)
    done_here: queue.Queue[dict[str, Any]] = queue.Queue()
    overviews = threading.Thread(target=_render_here, args=(here, kwargs, done_here), daemon=True,
                                 name="flamekit-overviews")
    try:
        client.register_plugin(ReportPlugin(kwargs), name=PLUGIN)
        overviews.start()
        for res in _render_all(client, plan, there, shared_store=run.shared_store):
            yield _counted(res, bar)
        overviews.join()
        while not done_here.empty():
            yield _counted(done_here.get(), bar)
    finally:
        bar.close()
        with contextlib.suppress(Exception):
            client.unregister_worker_plugin(PLUGIN)  # the workers' kernels stop
        client.close()
        if cluster is not None:
            cluster.close()


def _counted(res: dict[str, Any], bar: Any) -> dict[str, Any]:
    bar.failed = getattr(bar, "failed", 0) + (res.get("status") != "ok")
    bar.set_postfix(failed=bar.failed, refresh=False)
    bar.update(1)
    return res


def _render_here(tasks: list[dict[str, Any]], kwargs: Mapping[str, Any], done: queue.Queue) -> None:
    """Render ``tasks`` in a kernel on this machine (the overviews, when the workers have only extracts)."""
    if not tasks:
        return
    kwargs = {k: v for k, v in kwargs.items() if k != "exporter"}
    with ReportWorker(**kwargs) as report_worker:
        for t in tasks:
            done.put(report_worker.render(t))


def _render_all(client: Any, plan: Any, tasks: list[dict[str, Any]], *,
                shared_store: bool) -> Iterator[dict[str, Any]]:
    """Submit the tasks in the plan's order, each with its account's extract unless the store is shared, and
    yield the results as the workers finish them, their files written and recorded here.

    A few more tasks than the cluster has threads are out at a time, so the
    extracts are made as the workers need them and the results come back as
    they are done.  A task that failed for good (its worker lost too often) is
    a failed report.
    """
    import uuid

    from distributed import as_completed

    parts = None
    if not shared_store and tasks:
        from .extract import account_extract, portfolio_parts

        parts = portfolio_parts(plan.store, plan.wave)
    batch = uuid.uuid4().hex[:8]
    todo = iter(tasks)
    futures: dict[Any, dict[str, Any]] = {}

    def submit() -> Any:
        t = next(todo, None)
        if t is None:
            return None
        record_started(plan.out_dir, t["slug"], t.get("key"))
        extract = None if parts is None else account_extract(parts, t["account_id"], store=plan.store,
                                                              waves=plan.offered["waves"].split(","))
        fut = client.submit(_render_task, t, extract, key=f"flamekit-{batch}-{t['slug']}", pure=False,
                            retries=RETRIES)
        futures[fut] = t
        return fut

    ahead = 2 * max(1, sum(client.nthreads().values())) + 2
    pending = as_completed([f for f in (submit() for _ in range(ahead)) if f is not None])
    try:
        for fut in pending:
            more = submit()
            if more is not None:
                pending.add(more)
            yield _collect(fut, futures.pop(fut))
    finally:
        client.cancel(list(futures))


def _collect(fut: Any, task: dict[str, Any]) -> dict[str, Any]:
    """A finished task's result, its files written and recorded here."""
    try:
        res, files = fut.result()
    except Exception as exc:
        res, files = _failed(task, f"The Dask worker failed: {type(exc).__name__}: {exc}",
                             "".join(traceback.format_exception(exc))), {}
    _write_files(res, files, out_dir=Path(task["out_dir"]))
    if task.get("key"):
        record_finished(task["out_dir"], res)
    return res
