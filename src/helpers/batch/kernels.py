"""Report kernels forked from a template process that has done the kernel's imports once.

A new Jupyter kernel spends most of its first second importing: IPython and
ipykernel (about a quarter of a second of CPU), then pandas, matplotlib,
DuckDB and the helpers a report notebook imports (about half a second).  A
batch with two jobs starts two kernels that each do the same imports, at the
time the batch itself is still reading the store.

:class:`KernelTemplate` starts one process with the kernel's environment as
soon as a batch starts.  It imports ipykernel, then the notebooks' modules
(sent by :meth:`KernelTemplate.preload`), and forks a kernel for each
request.  The forked kernel is the one ``python -m ipykernel_launcher``
would start — the same arguments, environment, working directory, ``sys.path``,
hash seed and matplotlib backend — with the imports already done.
:class:`ForkingKernelManager` (a jupyter_client ``AsyncKernelManager``) asks
the template for its kernel and launches one the usual way whenever the
template cannot serve: another interpreter or kernel command, an environment
that differs in anything read at start-up, a template with threads running,
or no template at all.

The template reaps its kernels and tells each requester when its kernel ends;
a kernel whose requester goes away is killed.  When the process that started
the template closes its stdin (or ends), the template kills the kernels left
and exits; a kernel whose template dies ends itself (ipykernel's parent poller).

Examples
--------
>>> template = KernelTemplate.start(env=dict(os.environ), cwd=".")        # doctest: +SKIP
>>> template.preload(["import pandas"])                                    # doctest: +SKIP
>>> km = ForkingKernelManager(kernel_name="python3", template_address=template.address)  # doctest: +SKIP
>>> template.close()                                                       # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Environment variables a kernel may have other than the template's: nothing reads them at start-up.
PER_KERNEL_ENV = frozenset({"JPY_PARENT_PID", "JPY_SESSION_NAME", "FLAMEKIT_DUCKDB_THREADS"})
# What ipykernel's kernel application sets when no backend is chosen, before any figure exists.
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
_LAUNCHER = ["-m", "ipykernel_launcher"]
# As ipykernel_launcher does, the working directory leaves sys.path before anything is imported (a notebook
# folder's own .py file must not stand in for a module); the kernel application puts "" back.
_SERVE = "import sys; sys.path[0] == '' and sys.path.pop(0); from helpers.batch.kernels import serve; serve()"
# The interpreter options of ipykernel's own kernel spec for CPython (``ipykernel install``); the template
# starts with these and starts itself again with the installed spec's options when they differ.
DEFAULT_OPTIONS = ("-Xfrozen_modules=off",) if sys.implementation.name == "cpython" else ()


def _same_interpreter(path: str) -> bool:
    """Whether ``path`` runs this interpreter in this environment.

    A virtual environment's ``bin/python`` is a link to the base interpreter,
    so the same file is not enough: its folder (which decides the
    environment) must be this one's too.
    """
    def folder(p: str) -> str:
        return os.path.realpath(os.path.dirname(os.path.abspath(p)))

    with contextlib.suppress(OSError):
        return os.path.samefile(path, sys.executable) and folder(path) == folder(sys.executable)
    return False


def _native_threads() -> int:
    """Threads of this process, native ones (BLAS, DuckDB) included where the system tells."""
    with contextlib.suppress(OSError):
        return len(os.listdir("/proc/self/task"))
    import threading

    return threading.active_count()


def _launcher_options(cmd: Sequence[str]) -> list[str] | None:
    """The interpreter options of ``python [options] -m ipykernel_launcher ...``; ``None`` for another command."""
    cmd = list(cmd)
    for i in range(1, len(cmd) - 1):
        if cmd[i:i + 2] == _LAUNCHER:
            return cmd[1:i]
    return None


def _start_env(env: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k not in PER_KERNEL_ENV}


# -- the template process ----------------------------------------------------------------------------------

def _read_line(fd: int) -> bytes:
    """One line from a file descriptor, read unbuffered (``b""`` at end of file)."""
    data = b""
    while not data.endswith(b"\n"):
        chunk = os.read(fd, 65536)
        if not chunk:
            return b""
        data += chunk
    return data


def _recv_line(conn: socket.socket, what: str) -> tuple[bytes, bytes]:
    """The first line from a socket and whatever came after it; ``ConnectionError`` naming ``what`` at its end."""
    data = b""
    while b"\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError(f"the {what} closed the connection")
        data += chunk
    line, _, rest = data.partition(b"\n")
    return line, rest


def _send(conn: socket.socket, message: Mapping[str, Any]) -> None:
    with contextlib.suppress(OSError):
        conn.sendall(json.dumps(message).encode() + b"\n")


def _die_with(parent: int) -> None:
    """End this process when ``parent`` ends (Linux: at once, by the kernel; elsewhere ipykernel's poller)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # it ended before that was in place
        os._exit(1)


def _become_kernel(cmd: list[str], env: dict[str, str], cwd: str, close: Sequence[Any], stdin: int,
                   import_filters: Sequence[Any] = (), template: int = 0) -> None:
    """In the forked child: turn into the kernel the command ``python [options] -m ipykernel_launcher ...`` starts.

    ``import_filters`` are the warning filters the template's preload added:
    a launched kernel adds them when its warm-up imports run, after the
    kernel application added its own, so they go back in front of those.
    ``template`` is the template's process id: the kernel ends with it, as a
    launched kernel ends with the process that launched it.  ``stdin`` is
    the read end of a pipe the template holds open and never writes, as
    jupyter_client gives a launched kernel.
    """
    code = 1
    try:
        _die_with(template)
        os.setsid()  # its own session and process group, as jupyter_client starts kernels
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the template's only handler; the rest are Python's own
        for obj in close:
            with contextlib.suppress(OSError):
                obj.close() if hasattr(obj, "close") else os.close(obj)
        os.dup2(stdin, 0)
        os.close(stdin)
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        os.environ["JPY_PARENT_PID"] = str(template)
        import ipykernel_launcher
        from ipykernel import kernelapp

        # parent_handle's default was read from the template's environment at import: set it here.
        argv = cmd[len(_launcher_options(cmd) or []) + 3:]
        sys.argv = [ipykernel_launcher.__file__, *argv]
        sys.orig_argv = list(cmd)
        app = kernelapp.IPKernelApp.instance(parent_handle=template)  # what launch_instance does, in 3 steps
        app.initialize(argv)
        if import_filters:
            import warnings

            warnings.filters[:] = [*import_filters, *(f for f in warnings.filters if f not in import_filters)]
            getattr(warnings, "_filters_mutated", lambda: None)()
        app.start()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        if not isinstance(exc.code, (int, type(None))):
            print(exc.code, file=sys.stderr)
    except BaseException:  # noqa: BLE001 - the child must never return into the template's loop
        import traceback

        traceback.print_exc()
    finally:  # what the interpreter does at exit: threads, atexit, streams
        import threading

        with contextlib.suppress(BaseException):
            threading._shutdown()
        with contextlib.suppress(BaseException):
            import atexit

            atexit._run_exitfuncs()
        with contextlib.suppress(BaseException):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    """Run the template process (see :func:`_serve`) and end it without the interpreter's clean-up."""
    code = 0
    try:
        _serve()
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 1
    sys.stderr.flush()
    os._exit(code)  # the kernels are gone; tearing down pandas & co. would only cost the batch time


def _serve() -> None:
    """Run the template process (started by :meth:`KernelTemplate.start`; not for direct use).

    ``sys.argv[1]`` is the file descriptor of the listening Unix socket, ``sys.argv[2]`` the
    kernel name: when its spec is not ``ipykernel_launcher`` of this
    interpreter the template ends at once (requests then fail and kernels are
    launched as usual); when the spec's interpreter options differ from this
    process's, it starts itself again with them.  The first line on stdin
    is ``{"imports": [...]}``: statements run once before the first fork
    (errors ignored, as a kernel's warm-up ignores them).  Each connection
    sends one line ``{"argv": [...], "env": {...}, "cwd": "..."}`` and gets
    ``{"pid": n}`` or ``{"refused": "reason"}``, later ``{"exit": code}``;
    a line ``{"signal": n}`` from the requester signals the kernel's process
    group (the template is the kernel's parent, so until it has reaped the
    kernel its process id cannot belong to anyone else).
    """
    import gc
    import selectors

    fd, kernel_name = int(sys.argv[1]), sys.argv[2]
    options = sys.orig_argv[1:sys.orig_argv.index("-c")]
    from jupyter_client.kernelspec import KernelSpecManager  # ipykernel imports it anyway

    try:
        spec = KernelSpecManager().get_kernel_spec(kernel_name).argv
    except Exception:  # noqa: BLE001 - no such kernel: the workers report it when they launch theirs
        return
    wanted = _launcher_options(spec)
    if wanted is None:
        return
    if wanted != options:
        if sys.argv[3:] == ["again"]:
            return
        os.set_inheritable(fd, True)
        os.execv(sys.executable, [sys.executable, *wanted, "-c", _SERVE, str(fd), kernel_name, "again"])
    start_env = _start_env(os.environ)
    if not os.environ.get("MPLBACKEND"):  # before matplotlib is imported, as the kernel application does
        os.environ["MPLBACKEND"] = INLINE_BACKEND
    server = socket.socket(fileno=fd)  # bound by the batch before this process started: requests wait in it

    import warnings

    import ipykernel_launcher  # noqa: F401
    from ipykernel import kernelapp  # noqa: F401  (IPython, zmq, tornado, the kernel classes)

    line = _read_line(0)
    if not line:
        return
    before = list(warnings.filters)
    namespace: dict[str, Any] = {}
    for statement in json.loads(line).get("imports", []):
        with contextlib.suppress(Exception):
            exec(statement, namespace)
    del namespace
    import_filters = [f for f in warnings.filters if f not in before]
    gc.collect()
    gc.freeze()  # what the kernels share stays shared (collections no longer touch it)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel = selectors.DefaultSelector()
    sel.register(server, selectors.EVENT_READ, "accept")
    sel.register(0, selectors.EVENT_READ, "parent")
    sel.register(wake_r, selectors.EVENT_READ, "child")
    kernels: dict[int, socket.socket] = {}  # pid → the requester's connection, until the kernel is reaped
    stdins: dict[int, int] = {}  # pid → the write end of its stdin pipe
    pending: dict[int, bytes] = {}  # pid → part of a message from its requester
    me = os.getpid()

    def reap(block: bool = False) -> None:
        while kernels:
            try:
                pid, status = os.waitpid(-1, 0 if block else os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            conn = kernels.pop(pid, None)
            pending.pop(pid, None)
            with contextlib.suppress(KeyError, OSError):
                os.close(stdins.pop(pid))
            if conn is not None:
                with contextlib.suppress(Exception):
                    sel.unregister(conn)
                _send(conn, {"exit": os.waitstatus_to_exitcode(status)})
                conn.close()

    def signal_kernel(pid: int, signum: int) -> None:
        if pid in kernels:  # not reaped yet: the process (group) is still this kernel's
            try:
                os.killpg(pid, signum)  # the kernel and anything it started, as jupyter_client signals
            except OSError:
                with contextlib.suppress(OSError):
                    os.kill(pid, signum)

    def handle(conn: socket.socket) -> None:
        conn.settimeout(10)
        try:
            req = json.loads(_recv_line(conn, "requester")[0])
            cmd, env, cwd = [str(a) for a in req["argv"]], dict(req["env"]), str(req["cwd"])
        except (OSError, ValueError, KeyError, TypeError):
            conn.close()
            return
        reason = None
        if _launcher_options(cmd) != options or not _same_interpreter(cmd[0]):
            reason = f"not {' '.join([sys.executable, *options, *_LAUNCHER])}: {' '.join(cmd[:4])}"
        elif _start_env(env) != start_env:
            diff = sorted(k for k in set(_start_env(env)) | set(start_env) if env.get(k) != start_env.get(k))
            reason = f"environment differs in {', '.join(diff)}"
        elif _native_threads() != 1:
            reason = "the template runs threads; forking it is unsafe"
        elif not os.path.isdir(cwd):
            reason = f"no folder {cwd}"
        if reason:
            _send(conn, {"refused": reason})
            conn.close()
            return
        sys.stdout.flush()  # nothing buffered here is written twice
        sys.stderr.flush()
        stdin_r, stdin_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            _become_kernel(cmd, env, cwd, [sel, server, conn, wake_r, wake_w, stdin_w, *kernels.values(),
                                           *stdins.values()], stdin_r, import_filters, me)
        os.close(stdin_r)
        stdins[pid] = stdin_w
        kernels[pid] = conn
        conn.setblocking(False)
        sel.register(conn, selectors.EVENT_READ, pid)
        _send(conn, {"pid": pid})

    try:
        while True:
            for key, _ in sel.select():
                if key.data == "accept":
                    with contextlib.suppress(OSError):
                        handle(server.accept()[0])
                elif key.data == "child":
                    with contextlib.suppress(OSError):
                        while os.read(wake_r, 4096):
                            pass
                    reap()
                elif key.data == "parent":
                    if not os.read(0, 4096):
                        return  # the batch is over (or gone)
                elif key.data in kernels:  # a requester asks for a signal, or went away
                    conn, pid = key.fileobj, key.data
                    try:
                        data = conn.recv(4096)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:  # no one is left to use this kernel
                        sel.unregister(conn)
                        signal_kernel(pid, signal.SIGKILL)
                        continue
                    pending[pid] = pending.get(pid, b"") + data
                    while b"\n" in pending[pid]:
                        line, pending[pid] = pending[pid].split(b"\n", 1)
                        with contextlib.suppress(ValueError, TypeError, KeyError, AttributeError):
                            signal_kernel(pid, int(json.loads(line)["signal"]))
            reap()
    finally:
        for pid in list(kernels):
            signal_kernel(pid, signal.SIGKILL)
        reap(block=True)
        server.close()


# -- the batch's side ------------------------------------------------------------------------------------------

class KernelTemplate:
    """The batch's handle on a template process (see the module notes).

    Use :meth:`start`; give it the notebooks' imports with :meth:`preload`
    (kernels are forked only after that), pass :attr:`address` to the
    workers' :class:`ForkingKernelManager`, and :meth:`close` at the end.
    """

    def __init__(self, process: subprocess.Popen, folder: str):
        self.process = process
        self.folder = folder
        self.address = os.path.join(folder, "template.sock")
        self._preloaded = False

    @classmethod
    def start(cls, *, env: Mapping[str, str], cwd: str | Path, kernel_name: str = "python3") -> KernelTemplate | None:
        """Start a template with the kernels' environment and working directory; ``None`` where it cannot run."""
        if os.name != "posix" or not hasattr(os, "fork"):
            return None
        folder = tempfile.mkdtemp(prefix="flamekit-template-")
        # Bound and listening here, so a worker can ask for its kernel before the template has even started.
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            server.bind(os.path.join(folder, "template.sock"))
            server.listen(64)
            process = subprocess.Popen([sys.executable, *DEFAULT_OPTIONS, "-c", _SERVE, str(server.fileno()),
                                        kernel_name], stdin=subprocess.PIPE, env=dict(env), cwd=str(cwd),
                                       start_new_session=True, pass_fds=(server.fileno(),))
        except OSError:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)
            return None
        finally:
            server.close()
        return cls(process, folder)

    def preload(self, statements: Sequence[str]) -> None:
        """Send the statements the template runs before its first fork (once; later calls are ignored)."""
        if self._preloaded:
            return
        self._preloaded = True
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.write(json.dumps({"imports": list(statements)}).encode() + b"\n")
            self.process.stdin.flush()

    def close(self, timeout: float = 5) -> None:
        """End the template (it kills the kernels it still has) and remove its socket folder."""
        with contextlib.suppress(OSError, ValueError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        import shutil

        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> KernelTemplate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ForkedKernelProcess:
    """What jupyter_client's ``LocalProvisioner`` uses of a ``subprocess.Popen``, for a forked kernel.

    The kernel is the template's child, not this process's: its end is known
    from the template's ``{"exit": code}`` message on the request's
    connection, and signals go through the template, which sends them to the
    kernel's process group only while it has not reaped the kernel (a process
    id that was freed may already be someone else's).  If the template is
    gone, so is the kernel (it dies with its parent; exit code -9).
    """

    stdin = stdout = stderr = None

    def __init__(self, conn: socket.socket, pid: int):
        self._conn = conn
        self.pid = pid
        self.returncode: int | None = None
        self._buffer = b""

    def _receive(self, timeout: float | None) -> None:
        self._conn.settimeout(timeout)
        try:
            data = self._conn.recv(4096)
        except (BlockingIOError, TimeoutError):
            return
        except OSError:
            data = b""
        if not data:  # the template ended before telling: its kernels end with it
            self._finish(-signal.SIGKILL)
            return
        self._buffer += data
        while b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                code = json.loads(line).get("exit")
                if code is not None:
                    self._finish(int(code))

    def _finish(self, code: int) -> None:
        if self.returncode is None:
            self.returncode = code
        self._conn.close()

    def poll(self) -> int | None:
        if self.returncode is None:
            self._receive(0.0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            self._receive(left)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            with contextlib.suppress(OSError):
                self._conn.settimeout(5)
                self._conn.sendall(json.dumps({"signal": int(sig)}).encode() + b"\n")

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


def request_kernel(address: str, cmd: Sequence[str], *, env: Mapping[str, str], cwd: str | Path,
                   timeout: float = 60) -> tuple[ForkedKernelProcess | None, str]:
    """Ask the template at ``address`` to fork the kernel ``cmd`` would start.

    Returns the process (or ``None``) and, when there is none, the reason.
    """
    cmd = [str(c) for c in cmd]
    if _launcher_options(cmd) is None:
        return None, f"not an ipykernel_launcher command: {' '.join(cmd[:4])}"
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.settimeout(timeout)
        conn.connect(address)
        conn.sendall(json.dumps({"argv": cmd, "env": dict(env), "cwd": str(cwd)}).encode() + b"\n")
        first, rest = _recv_line(conn, "template")
        reply = json.loads(first)
        if "pid" not in reply:
            conn.close()
            return None, str(reply.get("refused") or reply)
        process = ForkedKernelProcess(conn, int(reply["pid"]))
        process._buffer = rest
        return process, ""
    except (OSError, ValueError) as exc:
        conn.close()
        return None, f"{type(exc).__name__}: {exc}"


def _manager_class() -> type:
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner
    from traitlets import Bool, Float, Unicode

    class ForkingKernelManager(AsyncKernelManager):
        """An ``AsyncKernelManager`` whose kernels come from a :class:`KernelTemplate` when it can serve them."""

        template_address = Unicode(None, allow_none=True, help="The template's socket; None: launch as usual.")
        template_timeout = Float(60, help="Seconds to wait for the template's answer (it may still be importing).")
        forked = Bool(False, help="Whether the running kernel was forked from the template.")
        fork_refused = Unicode("", help="Why the template did not serve the last kernel, if it did not.")

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            process, why = None, "no template"
            if self.template_address and isinstance(self.provisioner, LocalProvisioner):
                process, why = request_kernel(self.template_address, kernel_cmd, env=kw.get("env") or os.environ,
                                              cwd=kw.get("cwd") or os.getcwd(), timeout=self.template_timeout)
            self.forked, self.fork_refused = process is not None, why
            if process is None:
                await super()._async_launch_kernel(kernel_cmd, **kw)
                return
            prov = self.provisioner
            # No process group for the provisioner to signal: every signal goes through the template.
            prov.process, prov.pid, prov.pgid = process, process.pid, None
            prov.cwd = kw.get("cwd") or os.getcwd()
            self._reconcile_connection_info(prov.connection_info)

    return ForkingKernelManager


def __getattr__(name: str) -> Any:
    # Built on first use: importing this module (the template does) must not import jupyter_client.
    if name == "ForkingKernelManager":
        cls = _manager_class()
        globals()[name] = cls
        return cls
    raise AttributeError(name)
