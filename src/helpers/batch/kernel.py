"""A report kernel's environment and its reset between reports, so every report starts as in a fresh kernel.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import NOTEBOOKS

KERNEL_NAME = "python3"
#: Seconds one cell may run before the report fails (nbclient's per-cell timeout).
DEFAULT_TIMEOUT = 600


# ---------------------------------------------------------------------------
# Execution: one warm kernel per worker
# ---------------------------------------------------------------------------
_KERNEL_WARMUP = r'''
for __flamekit_statement in %r:
    try:
        exec(__flamekit_statement, {})
    except Exception:
        pass
del __flamekit_statement
'''

_KERNEL_SETUP = r'''
def __flamekit_setup():
    import gc, os, sys, types, warnings
    try:
        import matplotlib
        import matplotlib.pyplot as plt
        import matplotlib.units
        plt.figure()  # resolves the backend and turns interactive mode on, as a report's first figure would
        plt.close("all")
        rc = matplotlib.rcParams.copy()
        units = dict(matplotlib.units.registry)
    except ImportError:
        rc = units = None
    with __import__("contextlib").suppress(ImportError):
        import pandas
    state = types.ModuleType("_flamekit_kernel_state")
    state.cwd, state.path, state.environ = os.getcwd(), list(sys.path), dict(os.environ)
    state.filters, state.rc, state.units = list(warnings.filters), rc, units
    sys.modules["_flamekit_kernel_state"] = state
    # What is loaded now lives as long as the kernel: keep it out of every later garbage collection,
    # which then only looks at what the reports create (a full collection drops from ~0.1 s to a few ms).
    gc.collect()
    gc.freeze()
__flamekit_setup()
del __flamekit_setup
'''

_KERNEL_RESET = r'''
def __flamekit_reset(cwd, seed):
    import os, random, sys, warnings
    state = sys.modules["_flamekit_kernel_state"]
    get_ipython().reset(new_session=True)  # also collects the previous report's garbage
    os.chdir(cwd)
    sys.path[:] = state.path
    os.environ.clear()
    os.environ.update(state.environ)
    warnings.filters[:] = state.filters
    getattr(warnings, "_filters_mutated", lambda: None)()
    for module in list(sys.modules.values()):
        registry = getattr(module, "__warningregistry__", None)
        if isinstance(registry, dict):
            registry.clear()
    mpl = sys.modules.get("matplotlib")
    if mpl is not None and state.rc is not None:
        import matplotlib.pyplot as plt
        import matplotlib.units
        plt.close("all")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dict.update(mpl.rcParams, state.rc)
        matplotlib.units.registry.clear()
        matplotlib.units.registry.update(state.units)
    pd = sys.modules.get("pandas")
    if pd is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pd.reset_option("all")
    random.seed(seed)
    np = sys.modules.get("numpy")
    if np is not None:
        np.random.seed(seed)
__flamekit_reset(%r, 0)
'''


def _kernel_env(threads: int | None = None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a report kernel: ``base`` (default: this process's) with the settings that keep
    reports reproducible."""
    env = dict(os.environ if base is None else base)
    env["PYTHONHASHSEED"] = "0"
    env.pop("MPLBACKEND", None)  # a shell's MPLBACKEND=Agg would stop the kernel from showing figures
    env.pop("PYTHONEXECUTABLE", None)  # as jupyter_client removes it for Python kernels
    # One BLAS thread per kernel whatever the number of jobs (a report's matrices are small, and the thread
    # count must not change floating-point results between runs); DuckDB gets the worker's share of cores.
    env.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})
    if threads:
        env["FLAMEKIT_DUCKDB_THREADS"] = str(int(threads))
    return env


def _kernel_cwd() -> str:
    """Where report kernels start (each report then runs in its notebook's folder)."""
    return str(NOTEBOOKS if NOTEBOOKS.is_dir() else Path.cwd())


async def _wait_for_kernel(kc: Any, *, timeout: float) -> None:
    """Wait until a new kernel answers on its shell channel and its IOPub channel is connected.

    ``KernelClient.wait_for_ready`` does the same but then listens to IOPub
    until it has been silent for 0.2 s — a fixed 0.2 s, with the CPU idle, for
    every kernel a batch starts.  Here IOPub counts as connected as soon as
    the ``idle`` status of the ``kernel_info`` request arrives on it; if it
    does not come within 0.2 s the request is sent again, as
    ``wait_for_ready`` does.

    Raises
    ------
    RuntimeError
        The kernel died, or did not answer within ``timeout`` seconds.
    """
    from queue import Empty

    deadline = time.monotonic() + timeout
    while True:
        msg_id = kc.kernel_info()
        with contextlib.suppress(Empty):
            reply = await kc.shell_channel.get_msg(timeout=1)
            if reply["msg_type"] == "kernel_info_reply":
                while True:  # until this request's idle status, or 0.2 s without a message
                    msg = await kc.iopub_channel.get_msg(timeout=0.2)
                    if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                            and msg["parent_header"].get("msg_id") == msg_id):
                        kc._handle_kernel_info_reply(reply)  # protocol version, as wait_for_ready does
                        return
        if not await kc.is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")


class _KernelFailure(RuntimeError):
    pass
