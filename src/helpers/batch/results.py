"""What a batch did: one result per report, the batch result, the manifest's keys and versions.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "BatchResult",
    "ReportResult",
]


#: Bump when the HTML or file layout changes, so unchanged-input skipping re-renders.
FORMAT_VERSION = 2
MANIFEST = "manifest.json"


# ---------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------
@dataclass
class ReportResult:
    """One rendered (or failed) report of a batch.

    Attributes
    ----------
    name : str
        Account name, or the overview's name ("portfolio", "drivers").
    kind : str
        "account" or the overview's name.
    slug : str
        File stem in the wave's folder.
    status : str
        "ok" or "failed".
    action : str
        "rendered", "unchanged" (inputs as last time, files kept) or "kept"
        (not part of this run; listed from the previous manifest).
    pdf : str, optional
        The page's A4 PDF beside its HTML (``flamekit reports --pdf``), when
        there is one at least as new as the page.
    pdf_error : str, optional
        Why the PDF asked for could not be written.
    """

    name: str
    kind: str
    slug: str
    status: str
    action: str = "rendered"
    account_id: str | None = None
    title: str | None = None
    notebook: str | None = None
    notebook_sha256: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    key: str | None = None
    data_hash: str | None = None
    html: str | None = None
    ipynb: str | None = None
    failed_ipynb: str | None = None
    error: str | None = None
    error_detail: str | None = None
    headline: dict[str, Any] | None = None
    pdf: str | None = None
    pdf_error: str | None = None
    seconds: float | None = None
    seconds_execute: float | None = None
    seconds_export: float | None = None
    worker_pid: int | None = None
    kernel_starts: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReportResult:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class BatchResult:
    """What :func:`run_batch` did.

    Attributes
    ----------
    wave : str
    out_dir : Path
        ``<out_root>/<wave>``.
    index, manifest : Path
        ``index.html`` and ``manifest.json`` in ``out_dir``.
    reports : list of ReportResult
        Overviews first, then accounts by name.
    seconds : float
        Wall time of the batch.
    index_pdf : Path, optional
        ``index.pdf``, when PDFs were asked for and it could be printed.
    index_pdf_error : str, optional
        Why it could not.
    """

    wave: str
    out_dir: Path
    index: Path
    manifest: Path
    reports: list[ReportResult]
    seconds: float = 0.0
    index_pdf: Path | None = None
    index_pdf_error: str | None = None

    @property
    def failed(self) -> list[ReportResult]:
        """Reports that failed in this run."""
        return [r for r in self.reports if r.status == "failed" and r.action != "kept"]

    @property
    def pdf_failed(self) -> list[ReportResult]:
        """Reports whose PDF was asked for and could not be written."""
        return [r for r in self.reports if r.pdf_error]

    @property
    def exit_code(self) -> int:
        """0 when every report of this run rendered (or was unchanged) and every PDF asked for was written,
        else 1."""
        return 1 if self.failed or self.pdf_failed or self.index_pdf_error else 0


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("flamekit", "papermill", "nbconvert", "nbclient", "nbformat", "jupyter_client", "ipykernel",
                "pandas", "numpy", "scipy", "statsmodels", "matplotlib", "seaborn", "duckdb", "nh3"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _task_key(nb_sha: str, parameters: Mapping[str, Any], data_hash: str, code: str, with_code: bool) -> str:
    blob = json.dumps({"notebook": nb_sha, "parameters": dict(parameters), "data": data_hash, "code": code,
                       "with_code": bool(with_code), "format": FORMAT_VERSION}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def _load_manifest(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
