"""One worker: executes notebooks one after another in a warm kernel and writes the HTML and notebook.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .files import atomic_write
from .html import headline_from_notebook, html_exporter, notebook_title, to_html
from .journal import record_finished, record_started
from .kernel import (
    _KERNEL_RESET,
    _KERNEL_SETUP,
    _KERNEL_WARMUP,
    DEFAULT_TIMEOUT,
    KERNEL_NAME,
    _kernel_cwd,
    _kernel_env,
    _KernelFailure,
    _wait_for_kernel,
)
from .language import keep_language
from .parameters import _ensure_cell_ids, inject_parameters

__all__ = [
    "ReportWorker",
]


class ReportWorker:
    """Executes notebooks one after another in one warm Jupyter kernel and exports them.

    Parameters
    ----------
    kernel_name : str
        Jupyter kernel (default ``python3``).
    timeout : float
        Seconds one cell may run; a longer cell fails the report and the kernel
        is replaced.
    startup_timeout : float
        Seconds to wait for a new kernel.
    warmup : sequence of str
        Import statements run in every new kernel before its first notebook
        (errors ignored), e.g. from :func:`_notebook_imports`.
    threads : int, optional
        DuckDB threads per connection in the kernel (``$FLAMEKIT_DUCKDB_THREADS``);
        the batch gives each worker its share of the cores.  BLAS libraries
        always get one thread per kernel.
    env : mapping, optional
        Environment the kernels start from (default: this process's); the
        batch passes its own, since a worker forked from the fork server has
        the environment the fork server started with.

    Notes
    -----
    Use as a context manager, or call :meth:`close`.  Between notebooks the
    kernel is reset (see :mod:`.kernel`); after any failure it is replaced by
    a fresh one before the next notebook.

    Examples
    --------
    >>> with ReportWorker() as worker:                                   # doctest: +SKIP
    ...     result = worker.render({"notebook": "nb.ipynb", "parameters": {}, "out_dir": "out",
    ...                             "slug": "nb", "name": "nb"})
    """

    def __init__(self, *, kernel_name: str = KERNEL_NAME, timeout: float = DEFAULT_TIMEOUT,
                 startup_timeout: float = 60, warmup: Sequence[str] = (), threads: int | None = None,
                 env: Mapping[str, str] | None = None):
        self.kernel_name = kernel_name
        self.threads = threads
        self.env = None if env is None else dict(env)
        self.warmup = list(warmup)
        self.timeout = timeout
        self.startup_timeout = startup_timeout
        self.km = None
        self.kc = None
        self.kernel_starts = 0
        self._needs_restart = False
        self._ipc_dir: str | None = None
        import asyncio  # here, not at the top: `flamekit --help` imports this module

        self._loop = asyncio.new_event_loop()
        self._exporters: dict[tuple[bool, str], Any] = {}
        self._notebooks: dict[str, Any] = {}

    # -- kernel ------------------------------------------------------------
    def start(self) -> None:
        """Start the kernel now (it is otherwise started on the first notebook)."""
        self._run(self._ensure_kernel())

    def close(self) -> None:
        """Shut the kernel down and close the event loop."""
        if self._loop.is_closed():
            return
        with contextlib.suppress(Exception):
            self._run(self._stop_kernel())
        self._loop.close()
        if self._ipc_dir is not None:
            import shutil

            shutil.rmtree(self._ipc_dir, ignore_errors=True)

    def __enter__(self) -> ReportWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(self, coro: Any) -> Any:
        return self._loop.run_until_complete(coro)

    async def _stop_kernel(self) -> None:
        kc, km = self.kc, self.km
        self.kc = self.km = None
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        if km is not None:
            # Kill the kernel and wait for its process here: shutdown_kernel(now=True) polls it every 0.1 s,
            # so every batch's end waited a tenth of a second for kernels that were already gone.  The
            # provisioner's own wait then lets go of the process, so shutdown_kernel signals no one.
            provisioner = getattr(km, "provisioner", None)
            process = getattr(provisioner, "process", None)
            if process is not None:
                with contextlib.suppress(Exception):
                    await provisioner.kill()
                    process.wait(timeout=5)
                    await provisioner.wait()
            with contextlib.suppress(Exception):
                await km.shutdown_kernel(now=True)
            with contextlib.suppress(Exception):
                await km.cleanup_resources()

    async def _start_kernel(self) -> None:
        from jupyter_client.manager import AsyncKernelManager

        self._needs_restart = True  # until the kernel is fully prepared
        # IPC sockets in a private folder: local only, and no "running over TCP without encryption" warning.
        if self._ipc_dir is None:
            self._ipc_dir = tempfile.mkdtemp(prefix="flamekit-kernel-")
        km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc",
                                ip=os.path.join(self._ipc_dir, f"k{self.kernel_starts}"))
        await km.start_kernel(env=_kernel_env(self.threads, self.env),
                              extra_arguments=["--HistoryManager.enabled=False"], cwd=_kernel_cwd())
        kc = km.client()
        kc.start_channels()
        try:
            await _wait_for_kernel(kc, timeout=self.startup_timeout)
        except Exception:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
            raise
        self.km, self.kc = km, kc
        self.kernel_starts += 1
        if self.warmup:
            await self._silent(_KERNEL_WARMUP % (self.warmup,), "import the notebooks' modules",
                               timeout=max(self.timeout, self.startup_timeout))
        await self._silent(_KERNEL_SETUP, "prepare the kernel")
        self._needs_restart = False

    async def _ensure_kernel(self) -> None:
        alive = self.km is not None and await self.km.is_alive()
        if self._needs_restart or not alive:
            await self._stop_kernel()
            await self._start_kernel()

    async def _silent(self, code: str, what: str, *, timeout: float | None = None) -> None:
        outputs: list[str] = []

        def hook(msg: dict) -> None:
            if msg["msg_type"] in ("stream", "error"):
                c = msg["content"]
                outputs.append(c.get("text") or f"{c.get('ename')}: {c.get('evalue')}")

        reply = await self.kc.execute_interactive(code, silent=False, store_history=False, allow_stdin=False,
                                                  timeout=timeout or self.startup_timeout, output_hook=hook)
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise _KernelFailure(f"Could not {what}: {content.get('ename')}: {content.get('evalue')} "
                                 + "".join(outputs)[-500:])

    async def _execute(self, nb: Any, cwd: Path, progress: dict) -> None:
        from nbclient import NotebookClient

        await self._ensure_kernel()
        try:
            await self._silent(_KERNEL_RESET % str(cwd), "reset the kernel")
        except Exception:  # the previous notebook left the kernel unusable: not this report's fault
            self._needs_restart = True
            await self._ensure_kernel()
            await self._silent(_KERNEL_RESET % str(cwd), "reset the kernel")
        client = NotebookClient(nb, km=self.km, kernel_name=self.kernel_name, timeout=self.timeout,
                                startup_timeout=self.startup_timeout, allow_errors=False, record_timing=False,
                                interrupt_on_timeout=False, coalesce_streams=True,
                                skip_cells_with_tag="skip-execution", resources={"metadata": {"path": str(cwd)}},
                                on_cell_start=lambda cell, cell_index: progress.__setitem__("cell", cell_index))
        client.kc = self.kc
        await client.async_execute()

    # -- notebooks -----------------------------------------------------------
    def _parse(self, source: str) -> Any:
        """The notebook parsed from its text, once per worker (the batch sends the same text with each report)."""
        if source not in self._notebooks:
            import nbformat

            self._notebooks[source] = nbformat.reads(source, as_version=4)
        return self._notebooks[source]

    def _exporter(self, with_code: bool, language: str) -> Any:
        key = (bool(with_code), language)
        if key not in self._exporters:
            self._exporters[key] = html_exporter(with_code=with_code, language=language)
        return self._exporters[key]

    def render(self, task: Mapping[str, Any]) -> dict[str, Any]:
        """Execute one notebook and write ``<slug>.ipynb`` and ``<slug>.html`` into ``out_dir``.

        Parameters
        ----------
        task : mapping
            notebook (path), source (optional: the notebook's text, else the
            file is read), parameters (dict, already checked), out_dir, slug,
            name, title (optional: else :func:`notebook_title`), with_code,
            language; anything else but source is passed through to the result.
            With a key (a batch's report), the report's progress is recorded
            in ``out_dir/.done/`` (:mod:`.journal`) before and after.  With
            run_parameters, the notebook runs with those (e.g. another path
            to the same data) and records ``parameters``.

        Returns
        -------
        dict
            The task's fields plus status ("ok" or "failed"), error,
            error_detail, html, ipynb, failed_ipynb, headline, title,
            seconds, seconds_execute, seconds_export.  A failure leaves
            ``<slug>.failed.ipynb`` (the partial notebook) and removes any
            earlier ``<slug>.html``/``.ipynb``; a success removes an earlier
            ``<slug>.failed.ipynb``.  Nothing is raised for a failing notebook.
        """
        import nbformat

        t0 = time.perf_counter()
        out_dir = Path(task["out_dir"])
        slug = task["slug"]
        html_path, nb_path = out_dir / f"{slug}.html", out_dir / f"{slug}.ipynb"
        failed_path = out_dir / f"{slug}.failed.ipynb"
        notebook = Path(task["notebook"])
        language = task.get("language", "en")
        result = {k: v for k, v in task.items() if k not in ("out_dir", "source", "run_parameters")}
        result.update(status="failed", error=None, error_detail=None, html=None, ipynb=None, failed_ipynb=None,
                      headline=None, seconds_execute=None, seconds_export=None, worker_pid=os.getpid())
        progress: dict[str, Any] = {"cell": None}
        nb = None
        stage = "execute"
        if task.get("key"):
            record_started(out_dir, slug, task["key"])
        try:
            source = task.get("source")
            parsed = self._parse(notebook.read_text(encoding="utf-8") if source is None else source)
            nb = inject_parameters(parsed, task.get("run_parameters") or task["parameters"],
                                   kernel_name=self.kernel_name)
            keep_language(nb, language)  # the other language's prose cells out, before anything runs
            self._run(self._execute(nb, notebook.parent.resolve(), progress))
            if task.get("run_parameters"):
                _record_parameters(nb, inject_parameters(parsed, task["parameters"], kernel_name=self.kernel_name))
            t1 = time.perf_counter()
            result["seconds_execute"] = round(t1 - t0, 3)
            stage = "export"
            _normalise_executed(nb)
            title = _page_title(task, nb)
            page = to_html(nb, title=title, exporter=self._exporter(task.get("with_code", False), language),
                           language=language, path=notebook.parent)
            atomic_write(nb_path, nbformat.writes(nb))
            atomic_write(html_path, page)
            failed_path.unlink(missing_ok=True)
            result.update(status="ok", html=str(html_path), ipynb=str(nb_path), title=title,
                          headline=headline_from_notebook(nb), seconds_export=round(time.perf_counter() - t1, 3))
        except BaseException as exc:  # a report's failure must not stop the batch
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            if stage == "execute":
                self._needs_restart = True
            result["error"], result["error_detail"] = _describe_failure(exc, nb, progress.get("cell"),
                                                                        self.timeout, stage)
            for p in (html_path, nb_path):
                p.unlink(missing_ok=True)
            if nb is not None:
                with contextlib.suppress(Exception):
                    _normalise_executed(nb)
                    if task.get("run_parameters"):
                        _record_parameters(nb, inject_parameters(parsed, task["parameters"],
                                                                 kernel_name=self.kernel_name))
                    atomic_write(failed_path, nbformat.writes(nb))
                    result["failed_ipynb"] = str(failed_path)
        result["seconds"] = round(time.perf_counter() - t0, 3)
        result["kernel_starts"] = self.kernel_starts
        if task.get("key"):
            record_finished(out_dir, result)
        return result


def _record_parameters(nb: Any, shown: Any) -> None:
    """Give the executed ``nb`` the injected parameters of ``shown`` (the same notebook injected with the values
    to record), as if it had run with them."""
    def injected(cells: Any) -> Any:
        return next(c for c in cells if "injected-parameters" in c.get("metadata", {}).get("tags", []))

    injected(nb.cells)["source"] = injected(shown.cells)["source"]
    nb.metadata["papermill"] = shown.metadata["papermill"]


def _page_title(task: Mapping[str, Any], nb: Any) -> str:
    """The page's ``<title>``: the task's own, else "Name (id) · report kind · wave" for an account, else the
    notebook's heading with the wave."""
    title = task.get("title")
    wave = str(task.get("wave") or "")
    if not title and task.get("kind") == "account":
        kind = notebook_title(nb, default="Report", outputs=False)
        title = " · ".join(p for p in (f"{task.get('name')} ({task.get('account_id')})", kind, wave) if p)
    elif not title:
        title = notebook_title(nb, default=task.get("name") or task["slug"])
        title = f"{title} · {wave}" if wave and wave not in title else title
    return title


_ADDRESS = re.compile(r"\bat 0x[0-9a-fA-F]{4,16}>")


def _normalise_executed(nb: Any) -> None:
    """Make an executed notebook independent of the kernel's history and memory layout.

    ``Out[n]`` gets its cell's ``In[n]``; object addresses in plain-text reprs
    (``<Styler at 0x7f…>``, which differ from process to process) become
    ``at 0x…``; cells get ids.
    """
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "execute_result":
                out["execution_count"] = cell.get("execution_count")
            text = out.get("data", {}).get("text/plain")
            if isinstance(text, str) and " at 0x" in text:
                out["data"]["text/plain"] = _ADDRESS.sub("at 0x…>", text)
        cell.get("metadata", {}).pop("execution", None)
    _ensure_cell_ids(nb)


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _describe_failure(exc: BaseException, nb: Any, cell_index: int | None, timeout: float,
                      stage: str) -> tuple[str, str]:
    """A one-line reason for the index and a longer detail for the manifest."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    where = ""
    if nb is not None and cell_index is not None and 0 <= cell_index < len(nb.cells):
        cell = nb.cells[cell_index]
        first = next((ln.strip() for ln in cell.get("source", "").splitlines() if ln.strip()), "")
        where = f" in cell {cell_index + 1}" + (f" ({first[:60]})" if first else "")
    detail = _ANSI.sub("", "".join(traceback.format_exception(exc)))
    if isinstance(exc, CellTimeoutError):
        msg = f"Timeout: a cell ran longer than {timeout:g} s{where}; the kernel was replaced."
    elif isinstance(exc, DeadKernelError):
        msg = f"The kernel died{where} (killed, or out of memory); a fresh kernel took over."
    elif isinstance(exc, CellExecutionError):
        msg = f"{exc.ename}: {_ANSI.sub('', str(exc.evalue))}{where}"
        detail = _ANSI.sub("", str(exc))
    elif stage == "export":
        msg = f"HTML export failed: {type(exc).__name__}: {exc}"
    else:
        msg = f"{type(exc).__name__}: {exc}"
    return msg.strip(), detail
