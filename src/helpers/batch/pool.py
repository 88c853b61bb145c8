"""The worker processes of a batch, each with one warm kernel, forked from a server with the imports done.
"""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .parameters import _notebooks_parameters
from .worker import ReportWorker

# ---------------------------------------------------------------------------
# Pool
# ---------------------------------------------------------------------------
_WORKER: ReportWorker | None = None
# Imported once by the fork server, so each worker process starts warm: what a worker uses, and nothing else
# (the store, pandas and the progress bar stay in the parent), since the workers wait for these imports.
_PRELOAD = ["helpers.batch._startup", "helpers.batch.worker", "nbformat", "nbclient", "nbconvert", "jupyter_client",
            "nh3", "papermill"]


def _mp_context() -> Any:
    """The fork server where available (workers fork from a process with the imports done), else spawn."""
    import multiprocessing

    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _start_fork_server() -> None:
    """Start the fork server now: its imports then run beside the batch's own preparation.

    The fork server otherwise starts with the first worker, after the batch
    has opened the store and checked its input, and every worker waits for
    its imports.  Starting it costs nothing when the batch later stops on bad
    input: it holds no kernel and ends with the calling process.
    """
    ctx = _mp_context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with contextlib.suppress(Exception):  # the pool starts it itself if this fails
            forkserver.ensure_running()


def _inspect_notebooks(paths: Sequence[str | Path]) -> list[dict[str, dict[str, Any]]]:
    """:func:`notebook_parameters` of each notebook, read in a process forked from the fork server.

    The fork server has papermill imported already, so the batch's own
    process never imports it (a quarter of a second of CPU, spent while the
    kernels start).  Errors (:class:`ReportError`) come back as raised.
    Without a fork server the notebooks are read here.
    """
    ctx = _mp_context()
    if ctx.get_start_method() != "forkserver":
        return _notebooks_parameters(paths)
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=1, mp_context=ctx) as ex:
        return ex.submit(_notebooks_parameters, [str(p) for p in paths]).result()


def _init_pool_worker(kwargs: dict[str, Any]) -> None:
    import signal
    from multiprocessing.util import Finalize

    from . import _startup  # noqa: F401  (done in the fork server already; here for the spawn start method)

    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    exporter = kwargs.pop("exporter", None)
    _WORKER = ReportWorker(**kwargs)
    Finalize(_WORKER, _WORKER.close, exitpriority=10)
    with contextlib.suppress(Exception):  # a kernel that cannot start fails the first report, with the reason
        _WORKER.start()  # every worker warms its kernel at once, while the parent prepares the batch
    if exporter:
        with contextlib.suppress(Exception):
            _WORKER._exporter(*exporter)
    import gc

    gc.collect()
    gc.freeze()  # the imports live as long as the worker; later collections skip them


def _pool_ready() -> int:
    return os.getpid()


def _pool_render(task: dict[str, Any]) -> dict[str, Any]:
    assert _WORKER is not None
    return _WORKER.render(task)


class _Pool:
    """Worker processes, each with one warm kernel, started as soon as the batch knows it needs them."""

    def __init__(self, workers: int, worker_kwargs: dict[str, Any]):
        import threading
        from concurrent.futures import ProcessPoolExecutor

        self.ex = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                                      initializer=_init_pool_worker, initargs=(worker_kwargs,))

        def start() -> None:
            for _ in range(workers):  # each submit starts one more process until all are up
                self.ex.submit(_pool_ready)

        # Starting the first worker waits for the fork server's imports: do it beside the caller's work.
        self._starter = threading.Thread(target=start, name="flamekit-pool-start", daemon=True)
        self._starter.start()

    def render(self, tasks: list[dict[str, Any]], *, progress: bool, desc: str) -> Iterator[dict[str, Any]]:
        """Render the tasks; yield results as they finish (a dead worker fails only its reports)."""
        from concurrent.futures import as_completed
        from concurrent.futures.process import BrokenProcessPool

        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc=desc, unit="report", disable=not progress, file=sys.stderr,
                   dynamic_ncols=True)
        failed = 0
        self._starter.join()
        try:
            futures = {self.ex.submit(_pool_render, t): t for t in tasks}
            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except Exception as exc:
                    hint = (" Worker processes import the calling script again: call run_batch under "
                            "`if __name__ == \"__main__\":` in a script." if isinstance(exc, BrokenProcessPool)
                            else "")
                    res = {k: v for k, v in futures[fut].items() if k != "out_dir"}
                    res.update(status="failed", error=f"The worker process failed: {type(exc).__name__}: {exc}{hint}",
                               error_detail="".join(traceback.format_exception(exc)))
                failed += res.get("status") != "ok"
                bar.set_postfix(failed=failed, refresh=False)
                bar.update(1)
                yield res
        finally:
            bar.close()

    def close(self, *, cancel: bool = False, terminate: bool = False) -> None:
        """Stop the workers and their kernels.

        ``cancel`` drops reports not yet started (running ones finish, so no
        file is left half-written); ``terminate`` also stops workers at once —
        only safe before any report started.  A kernel whose worker is gone
        shuts itself down.
        """
        self._starter.join()
        processes = list(getattr(self.ex, "_processes", {}).values()) if terminate else []
        self.ex.shutdown(wait=not (cancel or terminate), cancel_futures=cancel or terminate)
        for proc in processes:
            with contextlib.suppress(Exception):
                proc.terminate()
