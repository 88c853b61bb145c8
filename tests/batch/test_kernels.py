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

from helpers.batch import errors as batch_errors
from helpers.batch import files as batch_files
from helpers.batch import kernel, pool
from helpers.batch import kernels as kn
from helpers.batch import run as batch_run

WAVE = "2026Q3"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "report_fixture.ipynb"
WARMUP = ["from helpers import account_report as ar, plots"]
PROBE = r"""
import hashlib, json, os, signal, sys, threading, warnings
import matplotlib.pyplot as plt
plt.figure(); plt.close("all")
skip = {"JPY_PARENT_PID", "JPY_SESSION_NAME"}


def open_files():
    # What each open descriptor is: a pipe, an anon_inode (epoll, eventfd) or a path.  Sockets are left out (how
    # many zmq has open depends on its connections at the moment) but for one bound to the template's address.
    import socket
    kinds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            kind = os.readlink(f"/proc/self/fd/{fd}").split(":")[0]
            if kind == "socket":
                with socket.socket(fileno=os.dup(int(fd))) as sk:
                    name = str(sk.getsockname())
                kind = "template socket" if "template" in name else None
        except OSError:  # the listing's own descriptor, closed by now
            kind = None
        if kind:
            kinds.append(kind)
    return sorted(kinds)


print(json.dumps({
    "path": sys.path, "argv": sys.argv[1:2] + sys.argv[3:], "orig_argv": sys.orig_argv[1:3], "cwd": os.getcwd(),
    "env": hashlib.sha256(json.dumps(sorted((k, v) for k, v in os.environ.items() if k not in skip)).encode())
           .hexdigest(),
    "env_keys": sorted(k for k in os.environ if k not in skip), "hash": hash("Hyvä flamekit"),
    "flags": list(sys.flags), "xoptions": sys._xoptions, "backend": plt.get_backend(),
    "threads": sorted(t.name for t in threading.enumerate()), "filters": [repr(f) for f in warnings.filters],
    "shell": type(get_ipython()).__name__, "ppid_is_template": os.getppid() == int(os.environ["JPY_PARENT_PID"]),
    "signals": {s.name: str(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD,
                                                           signal.SIGPIPE, signal.SIGHUP)},
    "session_leader": os.getsid(0) == os.getpid() == os.getpgid(0),
    "fds": open_files(), "stdin": os.readlink("/proc/self/fd/0").split(":")[0],
}))
"""


def _env(threads: int | None = None) -> dict[str, str]:
    """The batch's kernel environment, without pytest's variable that changes between a test's phases."""
    env = kernel._kernel_env(threads)
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


def _probe(km_factory, tmp_path: Path, name: str) -> tuple[dict, object]:
    """Start a kernel with the batch's environment and settings, run PROBE in it, return its answer and manager."""

    async def run():
        km = km_factory(ip=str(tmp_path / name))
        await km.start_kernel(env=_env(1), extra_arguments=["--HistoryManager.enabled=False"],
                              cwd=kernel._kernel_cwd())
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
            await kernel._wait_for_kernel(kc, timeout=60)
            warmup = kernel._KERNEL_WARMUP % (WARMUP,)  # as the batch's workers do before the first report
            reply = await kc.execute_interactive(warmup + PROBE, timeout=60, output_hook=hook)
            assert reply["content"]["status"] == "ok", errors
        finally:
            kc.stop_channels()
            await km.shutdown_kernel(now=True)
        return json.loads("".join(out)), km

    return asyncio.run(run())


@pytest.fixture
def template():
    t = kn.KernelTemplate.start(env=_env(), cwd=kernel._kernel_cwd())
    assert t is not None
    t.preload([*WARMUP, *pool._KERNEL_PRELOAD])
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
    assert forked["stdin"] == "pipe" and forked["session_leader"]
    for key in ("path", "argv", "orig_argv", "cwd", "env", "threads", "filters", "signals", "fds", "stdin",
                "session_leader"):
        assert forked[key] == launched[key], key


@pytest.mark.slow
def test_template_refuses_another_environment_and_the_kernel_is_launched(template, tmp_path):
    async def run():
        km = kn.ForkingKernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "k"),
                                     template_address=template.address)
        await km.start_kernel(env={**_env(), "PYTHONHASHSEED": "1"}, cwd=kernel._kernel_cwd())
        try:
            assert not km.forked and "PYTHONHASHSEED" in km.fork_refused
            assert await km.is_alive()
        finally:
            await km.shutdown_kernel(now=True)

    asyncio.run(run())


@pytest.mark.slow
def test_without_a_template_the_kernel_is_launched(tmp_path):
    t = kn.KernelTemplate.start(env=_env(), cwd=kernel._kernel_cwd())
    address = t.address
    t.close()  # gone before anyone asked, its socket folder with it
    assert not Path(t.folder).exists()

    async def run():
        km = kn.ForkingKernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "k"),
                                     template_address=address)
        await km.start_kernel(env=_env(), cwd=kernel._kernel_cwd())
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
    first, why = kn.request_kernel(template.address, cmd, env=_env(), cwd=kernel._kernel_cwd())
    assert first is not None, why
    assert first.poll() is None
    first._conn.close()  # the requester went away
    assert _gone(first.pid)

    cmd[-2] = str(tmp_path / "d.json")
    second, why = kn.request_kernel(template.address, cmd, env=_env(), cwd=kernel._kernel_cwd())
    assert second is not None, why
    second.send_signal(signal.SIGTERM)  # through the template, to the kernel's process group
    assert second.wait(timeout=10) == -signal.SIGTERM  # the template reaps it and says how it ended
    assert second.poll() == -signal.SIGTERM
    second.send_signal(signal.SIGKILL)  # to a kernel already gone: nothing happens

    third, why = kn.request_kernel(template.address, cmd, env=_env(), cwd=kernel._kernel_cwd())
    assert third is not None, why
    template.close()  # the batch ends: the template kills what is left
    assert third.wait(timeout=10) == -signal.SIGKILL
    assert _gone(third.pid)


@pytest.mark.slow
def test_reports_from_forked_and_launched_kernels_are_identical(sample_store, tmp_path, monkeypatch):
    notebook = Path(batch_files.ACCOUNT_NOTEBOOK)
    if not notebook.is_file():
        pytest.skip("notebooks/account_report.ipynb is not written yet")
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)  # ipykernel captures fd output only without it
    ids = ["A001", "A003"]
    forked = batch_run.run_batch(WAVE, accounts=ids, jobs=1, store=sample_store, out_root=tmp_path / "forked",
                          extra_notebooks={}, progress=False)
    assert {r.kernel for r in forked.reports} == {"forked"}
    monkeypatch.setattr(batch_run, "_start_kernel_template", lambda kernel_name, imports: None)
    launched = batch_run.run_batch(WAVE, accounts=ids, jobs=1, store=sample_store, out_root=tmp_path / "launched",
                            extra_notebooks={}, progress=False)
    assert forked.exit_code == launched.exit_code == 0
    assert {r.kernel for r in launched.reports} == {"launched"}
    files = sorted(p.name for p in forked.out_dir.iterdir() if p.suffix in (".html", ".ipynb"))
    assert len(files) == 2 * len(ids) + 1
    for name in files:
        assert (forked.out_dir / name).read_bytes() == (launched.out_dir / name).read_bytes(), name


def test_a_link_to_this_interpreter_elsewhere_is_another_environment(tmp_path):
    assert kn._same_interpreter(sys.executable)
    link = tmp_path / "bin" / "python"
    link.parent.mkdir()
    link.symlink_to(os.path.realpath(sys.executable))
    assert not kn._same_interpreter(str(link))  # the same file, but another environment's folder
    base = os.path.realpath(sys.executable)  # what a virtual environment's python links to
    if os.path.dirname(base) != os.path.dirname(os.path.abspath(sys.executable)):
        assert not kn._same_interpreter(base)
    assert not kn._same_interpreter(str(tmp_path / "missing"))


@pytest.mark.slow
def test_a_forked_kernel_can_be_interrupted_and_shut_down(template, tmp_path):
    async def run():
        km = kn.ForkingKernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "k"),
                                     template_address=template.address)
        await km.start_kernel(env=_env(), cwd=kernel._kernel_cwd())
        kc = km.client()
        kc.start_channels()
        try:
            assert km.forked, km.fork_refused
            await kernel._wait_for_kernel(kc, timeout=60)
            msg_id = kc.execute("import time\nfor _ in range(300):\n    time.sleep(0.1)")
            await asyncio.sleep(1)
            await km.interrupt_kernel()  # SIGINT to the kernel's process group, through the template
            while True:
                reply = await kc.get_shell_msg(timeout=10)
                if reply["parent_header"].get("msg_id") == msg_id:
                    break
            assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
            pid = km.provisioner.pid
            await km.shutdown_kernel(now=True)
            assert not await km.is_alive() and _gone(pid)
        finally:
            kc.stop_channels()

    asyncio.run(run())


@pytest.mark.slow
def test_the_batch_leaves_no_template_behind(sample_store, tmp_path, monkeypatch):
    started: list[kn.KernelTemplate] = []
    start = kn.KernelTemplate.start.__func__

    def spy(cls, **kw):
        started.append(start(cls, **kw))
        return started[-1]

    monkeypatch.setattr(kn.KernelTemplate, "start", classmethod(spy))
    kw = {"store": sample_store, "notebook": FIXTURE, "extra_notebooks": {}, "progress": False}
    ok = batch_run.run_batch(WAVE, accounts=["A001"], out_root=tmp_path / "ok", **kw)
    assert ok.exit_code == 0 and ok.reports[0].kernel == "forked"
    with pytest.raises(batch_errors.ReportError, match="Unknown account"):
        batch_run.run_batch(WAVE, accounts=["A999"], out_root=tmp_path / "bad", **kw)

    def interrupted(self, tasks, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr(pool._Pool, "render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        batch_run.run_batch(WAVE, accounts=["A001"], out_root=tmp_path / "stop", **kw)
    assert len(started) == 3
    for t in started:
        assert t.process.poll() is not None and not Path(t.folder).exists()
