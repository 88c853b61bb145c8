"""What a batch has done so far, one small record per report, so an interrupted batch picks up where it stopped.

Takes each report's result as its worker finishes it and hands on, to the
next batch's plan (:mod:`.plan`), the state of every report of the wave's
folder.  ``manifest.json`` is written only when a batch ends; a batch killed
half-way (``kill -9``, a lost machine) used to render everything again.

A worker writes ``<wave folder>/.done/<slug>.json`` twice per report: before
it touches the report's files (status ``started``) and after the HTML and
notebook are in place (the result, ``ok`` or ``failed``).  Each write is a
whole file renamed into place (:func:`.files.atomic_write`), so a record is
the old one or the new one.  A report whose record says ``ok`` with the key
of this run, and whose files are there, is unchanged; one whose record says
``started``, or cannot be read, is rendered again.  The records stay beside
the manifest: they are never older than it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .files import atomic_write

__all__ = [
    "DONE",
    "read_records",
    "record_finished",
    "record_started",
]

#: The folder of the records, inside a wave's folder.
DONE = ".done"


def _record_path(out_dir: str | Path, slug: str) -> Path:
    return Path(out_dir) / DONE / f"{slug}.json"


def record_started(out_dir: str | Path, slug: str, key: str | None) -> None:
    """Record that report ``slug`` is being rendered: until it finishes, its files count for nothing."""
    path = _record_path(out_dir, slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, json.dumps({"slug": slug, "key": key, "status": "started"}) + "\n")


def record_finished(out_dir: str | Path, result: Mapping[str, Any]) -> None:
    """Record a report's result (as the manifest lists it) once its files are written, or it failed."""
    record = {**result, "action": "rendered"}
    atomic_write(_record_path(out_dir, str(result["slug"])),
                 json.dumps(record, ensure_ascii=False, default=str) + "\n")


def read_records(out_dir: str | Path) -> dict[str, dict[str, Any]]:
    """Every report's record in a wave's folder: slug → record.

    Returns
    -------
    dict
        slug → the last result recorded (``status`` ``ok`` or ``failed``),
        or ``{"slug": …, "status": "started"}`` for a report whose rendering
        did not finish.  A record that cannot be read, or names another
        report, counts as ``started``.
    """
    folder = Path(out_dir) / DONE
    if not folder.is_dir():
        return {}
    records = {}
    for path in sorted(folder.glob("*.json")):
        slug = path.stem
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = None
        ok = isinstance(record, dict) and record.get("slug") == slug and record.get("status") in ("ok", "failed")
        records[slug] = record if ok else {"slug": slug, "status": "started"}
    return records
