"""Kernels forked from a template: the same kernel a launch gives, the fallbacks, and no kernel left behind."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from helpers import kernels as kn
from helpers import reports as rp

WAVE = "2026Q3"
WARMUP = ["from helpers import account_report as ar, plots"]
PROBE = r"""
import hashlib, json, os, sys, threading, warnings
import matplotlib.pyplot as plt
plt.figure(); plt.close("all")
skip = {"JPY_PARENT_PID", "JPY_SESSION_NAME"}
print(json.dumps({
    "path": sys.path, "argv": sys.argv[1:2] + sys.argv[3:], "orig_argv": sys.orig_argv[1:3], "cwd": os.getcwd(),
    "env": hashlib.sha256(json.dumps(sorted((k, v) for k, v in os.environ.items() if k not in skip)).encode())
           .hexdigest(),
    "env_keys": sorted(k for k in os.environ if k not in skip), "hash": hash("Hyvä flamekit"),
    "flags": list(sys.flags), "xoptions": sys._xoptions, "backend": plt.get_backend(),
    "threads": sorted(t.name for t in threading.enumerate()), "filters": [repr(f) for f in warnings.filters],
    "shell": type(get_ipython()).__name__, "ppid_is_template": os.getppid() == int(os.environ["JPY_PARENT_PID"]),
}))
"""


def _env(threads: int | None = None) -> dict[str, str]:
    """The batch's kernel environment, without pytest's variable that changes between a test's phases."""
    env = rp._kernel_env(threads)
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def _probe(km_factory, tmp_path: Path, name: str) -> tuple[dict, object]:
    """Start a kernel with the batch's environment and settings, run PROBE in it, return its answer and manager."""

    async def run():
        km = km_factory(ip=str(tmp_path / name))
        await km.start_kernel(env=_env(1), extra_arguments=["--HistoryManager.enabled=False"],
                              cwd=rp._kernel_cwd())
        kc = km.client()
        kc.start_channels()
        out: list[str] = []
        errors: list[str] = []

        def hook(msg: dict) -> None:
            if msg["msg_type"] == "stream":
                out.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                errors.append(f"{msg['content']['ename']}: {msg['content']['evalue']}")

        try:
            await rp._wait_for_kernel(kc, timeout=60)
            warmup = rp._KERNEL_WARMUP % (WARMUP,)  # as the batch's workers do before the first report
            reply = await kc.execute_interactive(warmup + PROBE, timeout=60, output_hook=hook)
            assert reply["content"]["status"] == "ok", errors
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return json.loads("".join(out)), km

    return asyncio.run(run())


@pytest.fixture
def template():
    t = kn.KernelTemplate.start(env=_env(), cwd=rp._kernel_cwd())
    assert t is not None
    t.preload([*WARMUP, *rp._KERNEL_PRELOAD])
    yield t
    t.close()


def _gone(pid: int, within: float = 10) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_forked_kernel_is_the_kernel_a_launch_gives(template, tmp_path):
    from jupyter_client.manager import AsyncKernelManager

    launched, km1 = _probe(lambda ip: AsyncKernelManager(kernel_name="python3", transport="ipc", ip=ip), tmp_path, "a")
    forked, km2 = _probe(lambda ip: kn.ForkingKernelManager(kernel_name="python3", transport="ipc", ip=ip,
                                                            template_address=template.address), tmp_path, "b")
    assert km2.forked and not hasattr(km1, "forked"), km2.fork_refused
    assert forked["ppid_is_template"] and forked["shell"] == "ZMQInteractiveShell"
    assert forked["backend"] == launched["backend"] == "module://matplotlib_inline.backend_inline"
    assert forked["hash"] == launched["hash"]  # PYTHONHASHSEED=0 in both: sets iterate alike
    assert forked["xoptions"] == launched["xoptions"] and forked["flags"] == launched["flags"]
    assert forked["env_keys"] == launched["env_keys"]
    for key in ("path", "argv", "orig_argv", "cwd", "env", "threads", "filters"):
        assert forked[key] == launched[key], key


@pytest.mark.slow
def test_template_refuses_another_environment_and_the_kernel_is_launched(template, tmp_path):
    async def run():
        km = kn.ForkingKernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "k"),
                                     template_address=template.address)
        await km.start_kernel(env={**_env(), "PYTHONHASHSEED": "1"}, cwd=rp._kernel_cwd())
        try:
            assert not km.forked and "PYTHONHASHSEED" in km.fork_refused
            assert await km.is_alive()
        finally:
            await km.shutdown_kernel(now=True)

    asyncio.run(run())


@pytest.mark.slow
def test_without_a_template_the_kernel_is_launched(tmp_path):
    t = kn.KernelTemplate.start(env=_env(), cwd=rp._kernel_cwd())
    address = t.address
    t.close()  # gone before anyone asked, its socket folder with it
    assert not Path(t.folder).exists()

    async def run():
        km = kn.ForkingKernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "k"),
                                     template_address=address)
        await km.start_kernel(env=_env(), cwd=rp._kernel_cwd())
        try:
            assert not km.forked and km.fork_refused
            assert await km.is_alive()
        finally:
            await km.shutdown_kernel(now=True)

    asyncio.run(run())


def test_template_of_a_kernel_that_is_not_ipykernel_serves_nothing(tmp_path, monkeypatch):
    spec = tmp_path / "kernels" / "other"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({"argv": ["/bin/cat", "{connection_file}"], "language": "x",
                                                  "display_name": "other"}), encoding="utf-8")
    env = {**_env(), "JUPYTER_PATH": str(tmp_path)}
    t = kn.KernelTemplate.start(env=env, cwd=tmp_path, kernel_name="other")
    try:
        t.process.wait(timeout=30)  # it ends at once
        process, why = kn.request_kernel(t.address, [sys.executable, "-m", "ipykernel_launcher", "-f", "x"],
                                         env=env, cwd=tmp_path, timeout=10)
        assert process is None and why
    finally:
        t.close()


@pytest.mark.slow
def test_a_kernel_ends_with_its_template_or_its_requester(template, tmp_path):
    cmd = [os.sys.executable, *kn.DEFAULT_OPTIONS, "-m", "ipykernel_launcher", "-f", str(tmp_path / "c.json"),
           "--HistoryManager.enabled=False"]
    from jupyter_client.connect import write_connection_file

    for n in ("c", "d"):
        write_connection_file(str(tmp_path / f"{n}.json"), transport="ipc", ip=str(tmp_path / f"ipc-{n}"))
    first, why = kn.request_kernel(template.address, cmd, env=_env(), cwd=rp._kernel_cwd())
    assert first is not None, why
    assert first.poll() is None
    first._conn.close()  # the requester went away
    assert _gone(first.pid)

    cmd[-2] = str(tmp_path / "d.json")
    second, why = kn.request_kernel(template.address, cmd, env=_env(), cwd=rp._kernel_cwd())
    assert second is not None, why
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=10) in (-signal.SIGTERM, 0, 1)  # the template reaps it and says so

    third, why = kn.request_kernel(template.address, cmd, env=_env(), cwd=rp._kernel_cwd())
    assert third is not None, why
    template.close()  # the batch ends: the template kills what is left
    assert third.wait(timeout=10) == -signal.SIGKILL
    assert _gone(third.pid)


@pytest.mark.slow
def test_reports_from_forked_and_launched_kernels_are_identical(sample_store, tmp_path, monkeypatch):
    notebook = Path(rp.ACCOUNT_NOTEBOOK)
    if not notebook.is_file():
        pytest.skip("notebooks/account_report.ipynb is not written yet")
    ids = ["A001", "A003"]
    forked = rp.run_batch(WAVE, accounts=ids, jobs=1, store=sample_store, out_root=tmp_path / "forked",
                          extra_notebooks={}, progress=False)
    assert {r.kernel for r in forked.reports} == {"forked"}
    monkeypatch.setattr(rp, "_start_kernel_template", lambda kernel_name: None)
    launched = rp.run_batch(WAVE, accounts=ids, jobs=1, store=sample_store, out_root=tmp_path / "launched",
                            extra_notebooks={}, progress=False)
    assert forked.exit_code == launched.exit_code == 0
    assert {r.kernel for r in launched.reports} == {"launched"}
    files = sorted(p.name for p in forked.out_dir.iterdir() if p.suffix in (".html", ".ipynb"))
    assert len(files) == 2 * len(ids) + 1
    for name in files:
        assert (forked.out_dir / name).read_bytes() == (launched.out_dir / name).read_bytes(), name
