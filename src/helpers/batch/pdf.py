"""A4 PDFs of the pages, for the meeting: each page printed by headless Chromium beside its HTML.

Takes finished HTML pages; hands on ``<stem>.pdf`` beside each, written
under a temporary name and renamed (a PDF is complete or absent), and the
reason for every page that could not be printed — one page's failure never
stops the others.

Why Chromium: the pages are made for a browser (the summary band's grid,
the print stylesheet every page carries — A4, no navigation, charts and
table rows kept whole, the appendix on a sheet of its own), the kit's
browser tests already use Debian's ``chromium`` (``make browser``), and
driving it needs no new Python package and no network.  nbconvert's
``webpdf`` would need Playwright at run time and a browser it downloads;
WeasyPrint would be a new dependency that lays the pages out differently
from the browser they are read in.

How: one browser per job stays open and prints page after page
(``Page.printToPDF`` over its DevTools pipe — JSON on two file descriptors,
no port, nothing listening).  Starting Chromium for each page with
``--print-to-pdf`` took 5.9 s a page on six pages of the sample wave (the
index, portfolio, drivers and three accounts, on a busy 2-core machine); the
open browser took 1.9 s a page (see the README).  Each browser
has a throw-away profile and no name lookups, so a page could not reach the
network even if it tried; one that hangs past the timeout has its browser
stopped (and only it: the browser leads its own process group) and the next
page gets a fresh one.  Unix only (``os.posix_spawn``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import select
import shutil
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .files import atomic_write

__all__ = ["CHROMIUM_NAMES", "DEFAULT_TIMEOUT", "PdfError", "Printer", "find_chromium", "print_pdf", "print_pdfs"]

#: Where to look for the browser, after ``$FLAMEKIT_CHROMIUM``.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Seconds one page may take to load and print.
DEFAULT_TIMEOUT = 120.0
#: A4 in inches, for a page without its own ``@page`` size.
_A4 = {"paperWidth": 8.27, "paperHeight": 11.69}


class PdfError(Exception):
    """A page could not be printed (the message says why)."""


def find_chromium() -> str | None:
    """The headless browser to print with: ``$FLAMEKIT_CHROMIUM``, else the first of :data:`CHROMIUM_NAMES`
    on the ``PATH``; None when there is none (``make browser`` installs Debian's ``chromium``)."""
    own = os.environ.get("FLAMEKIT_CHROMIUM", "").strip()
    candidates = [own] if own else list(CHROMIUM_NAMES)
    for name in candidates:
        found = name if os.path.isabs(name) and os.access(name, os.X_OK) else shutil.which(name)
        if found:
            return os.path.abspath(found)
    return None


class Printer:
    """One headless Chromium that prints HTML pages to A4 PDFs, one after another.

    Parameters
    ----------
    chromium : str, optional
        The browser (default :func:`find_chromium`).
    timeout : float
        Seconds a page may take to load and print; then the browser is
        stopped, the page fails and the next one starts a new browser.

    Examples
    --------
    >>> with Printer() as printer:                                   # doctest: +SKIP
    ...     printer.print("reports/2026Q3/portfolio.html")
    PosixPath('reports/2026Q3/portfolio.pdf')
    """

    def __init__(self, chromium: str | None = None, *, timeout: float = DEFAULT_TIMEOUT):
        self.chromium = chromium or find_chromium()
        self.timeout = float(timeout)
        self._pid: int | None = None
        self._send_fd = self._recv_fd = -1
        self._buffer = b""
        self._next_id = 0
        self._session: str | None = None
        self._profile: str | None = None

    def __enter__(self) -> Printer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the browser -------------------------------------------------------
    def _start(self) -> None:
        if not self.chromium:
            raise PdfError("no headless Chromium found (`make browser` installs it; or set $FLAMEKIT_CHROMIUM)")
        self._profile = tempfile.mkdtemp(prefix="flamekit-pdf-")
        args = [self.chromium, "--headless", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
                "--disable-extensions", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-default-apps", "--mute-audio", "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={self._profile}", "--remote-debugging-pipe", "about:blank"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            args.insert(2, "--no-sandbox")  # Chromium refuses to start as root with its sandbox on
        to_browser, self._send_fd = os.pipe()
        self._recv_fd, from_browser = os.pipe()
        log = os.path.join(self._profile, "browser.log")
        try:
            self._pid = os.posix_spawn(self.chromium, args, os.environ, setsid=True, file_actions=[
                (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, log, os.O_WRONLY | os.O_CREAT, 0o600),
                (os.POSIX_SPAWN_DUP2, 1, 2),
                (os.POSIX_SPAWN_DUP2, to_browser, 3),  # the DevTools pipe: commands in on 3, replies out on 4
                (os.POSIX_SPAWN_DUP2, from_browser, 4)])
        except (OSError, AttributeError) as exc:
            self.close()
            raise PdfError(f"could not start {self.chromium}: {exc}") from None
        finally:
            os.close(to_browser)
            os.close(from_browser)
        try:
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            self._session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
            self._call("Page.enable", session=self._session)
        except PdfError as exc:
            why = f"{exc}; {self._log_tail()}"
            self.close()
            raise PdfError(f"Chromium did not start its DevTools pipe ({why})") from None

    def close(self) -> None:
        """Close the browser (if it runs) and remove its profile.

        The browser is asked to close, given a few seconds, and then whatever
        is left of its process group is stopped.  It leads that group
        (``setsid``) and is not reaped until then, so the group is the
        browser's and its helpers', no one else's.
        """
        if self._pid is not None and self._send_fd >= 0:
            with contextlib.suppress(OSError):
                self._next_id += 1
                os.write(self._send_fd, json.dumps({"id": self._next_id, "method": "Browser.close"}).encode() + b"\0")
        for fd in (self._send_fd, self._recv_fd):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._send_fd = self._recv_fd = -1
        if self._pid is not None:
            deadline = time.monotonic() + 5
            with contextlib.suppress(ChildProcessError):
                while os.waitid(os.P_PID, self._pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
        self._buffer, self._session = b"", None

    def _log_tail(self) -> str:
        try:
            lines = Path(self._profile or "", "browser.log").read_text(errors="replace").splitlines()
        except OSError:
            return "no browser log"
        return " | ".join([ln for ln in lines if ln.strip()][-3:]) or "no browser log"

    # -- the DevTools protocol ---------------------------------------------
    def _call(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None,
              deadline: float | None = None) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are dropped)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        data = json.dumps(message).encode("utf-8") + b"\0"
        try:
            while data:
                data = data[os.write(self._send_fd, data):]
        except OSError as exc:
            raise PdfError(f"the browser stopped listening ({exc})") from None
        wanted = self._next_id
        reply = self._receive(lambda m: m.get("id") == wanted, deadline or time.monotonic() + self.timeout, method)
        if "error" in reply:
            raise PdfError(f"{method}: {reply['error'].get('message', reply['error'])}")
        return reply.get("result", {})

    def _receive(self, wanted: Callable[[dict[str, Any]], bool], deadline: float, what: str) -> dict[str, Any]:
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                message = json.loads(raw)
                if wanted(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise PdfError(f"Chromium took longer than {self.timeout:g} s ({what})")
            ready, _, _ = select.select([self._recv_fd], [], [], left)
            if ready:
                chunk = os.read(self._recv_fd, 1 << 20)
                if not chunk:
                    raise PdfError(f"the browser quit ({what}): {self._log_tail()}")
                self._buffer += chunk

    # -- printing ------------------------------------------------------------
    def print(self, page: str | Path, pdf: str | Path | None = None) -> Path:
        """Print one HTML page to an A4 PDF (default: beside it, ``.pdf`` for ``.html``).

        Raises
        ------
        PdfError
            No browser, a page that does not load or takes too long, or
            what came back is not a PDF.  No file is left behind then (an
            earlier PDF stays as it was), and the browser is replaced.
        """
        page = Path(page)
        out = Path(pdf) if pdf is not None else page.with_suffix(".pdf")
        if not page.is_file():
            raise PdfError(f"no page at {page}")
        if self._pid is None:
            self._start()
        deadline = time.monotonic() + self.timeout
        try:
            self._buffer = b""  # whatever the last page still said
            loaded = self._call("Page.navigate", {"url": page.resolve().as_uri()}, session=self._session,
                                deadline=deadline)
            if loaded.get("errorText"):
                raise PdfError(f"{page.name} did not load: {loaded['errorText']}")
            self._receive(lambda m: m.get("method") == "Page.loadEventFired" and m.get("sessionId") == self._session,
                          deadline, f"loading {page.name}")
            data = base64.b64decode(self._call("Page.printToPDF", {
                "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
                "generateTaggedPDF": True, **_A4}, session=self._session, deadline=deadline)["data"])
        except PdfError:
            self.close()  # a fresh browser for the next page
            raise
        except (ValueError, KeyError) as exc:  # a reply that is not what the protocol promises
            self.close()
            raise PdfError(f"{page.name}: unexpected reply from Chromium ({exc})") from None
        if not data.startswith(b"%PDF-"):
            raise PdfError(f"Chromium returned something other than a PDF for {page.name}")
        return atomic_write(out, data)




def print_pdf(page: str | Path, pdf: str | Path | None = None, *, chromium: str | None = None,
              timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Print one HTML page to an A4 PDF with a browser of its own (see :class:`Printer`)."""
    with Printer(chromium, timeout=timeout) as printer:
        return printer.print(page, pdf)


def print_pdfs(pages: Sequence[str | Path], *, jobs: int = 1, chromium: str | None = None,
               timeout: float = DEFAULT_TIMEOUT,
               done: Callable[[Path, str | None], None] | None = None) -> dict[Path, str | None]:
    """Print several pages beside themselves, ``jobs`` browsers at a time; a failure is recorded, never raised.

    Parameters
    ----------
    pages : sequence of path
        HTML pages.
    jobs : int
        Browsers printing side by side.
    chromium, timeout
        See :class:`Printer`.
    done : callable, optional
        Called with each page and its error (None when printed) as it finishes.

    Returns
    -------
    dict
        page → None when its PDF was written beside it, else the reason.
    """
    todo: queue.Queue[Path] = queue.Queue()
    for p in pages:
        todo.put(Path(p))
    results: dict[Path, str | None] = {}
    lock = threading.Lock()

    def work() -> None:
        with Printer(chromium, timeout=timeout) as printer:
            while True:
                try:
                    page = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    printer.print(page)
                    error = None
                except PdfError as exc:
                    error = str(exc)
                except OSError as exc:  # the PDF could not be written
                    error = f"could not write the PDF of {page.name}: {exc}"
                with lock:
                    results[page] = error
                if done is not None:
                    done(page, error)

    threads = [threading.Thread(target=work, name=f"flamekit-pdf-{i}", daemon=True)
               for i in range(max(1, min(int(jobs), len(pages))))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {Path(p): results.get(Path(p), "not printed") for p in pages}
