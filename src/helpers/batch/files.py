"""Files of the batch: where notebooks live, slugs for file names, atomic writes, hashes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import Any

from .errors import ReportError

__all__ = [
    "ACCOUNT_NOTEBOOK",
    "EXTRA_NOTEBOOKS",
    "account_slugs",
    "atomic_write",
    "slugify",
    "wave_folder",
]


# helpers.data.store.PROJECT_ROOT / "notebooks", without importing DuckDB and pandas: the worker processes (and
# `flamekit --help`, which imports this module) need neither.
NOTEBOOKS = Path(__file__).resolve().parents[3] / "notebooks"
ACCOUNT_NOTEBOOK = NOTEBOOKS / "account_report.ipynb"
#: Notebooks rendered once per wave beside the account reports (when the file exists).
EXTRA_NOTEBOOKS = {"portfolio": NOTEBOOKS / "portfolio.ipynb", "drivers": NOTEBOOKS / "drivers.ipynb"}


# ---------------------------------------------------------------------------
# Slugs
# ---------------------------------------------------------------------------
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def slugify(text: object, *, max_length: int = 48) -> str:
    """A file-name-safe, readable slug: lower-case letters and digits joined by hyphens.

    Parameters
    ----------
    text : str
        An account name, id or any label.
    max_length : int
        Longest slug kept (cut at a character, hyphens trimmed).

    Returns
    -------
    str
        Only Unicode letters, digits and ``-``; never starts or ends with ``-``;
        may be empty.

    Notes
    -----
    Finnish and Swedish letters stay as they are (``Mäkelä`` → ``mäkelä``): the
    reports are read by people who write these names every day, and every
    current file system and browser handles them (links in ``index.html`` are
    percent-encoded).  The text is NFKC-normalised first, so look-alike
    compatibility characters (full-width ``／``, ligatures) become their plain
    forms before anything but letters and digits — slashes, dots, quotes,
    semicolons, spaces — turns into a hyphen.  A slug therefore cannot climb
    out of its folder (``../../etc/x`` → ``etc-x``) or mean anything to a shell.

    Examples
    --------
    >>> slugify("Mäkelä Rakennus")
    'mäkelä-rakennus'
    >>> slugify("../../etc/x")
    'etc-x'
    >>> slugify("\\"'; import os")
    'import-os'
    """
    s = unicodedata.normalize("NFKC", "" if text is None else str(text)).casefold()
    s = unicodedata.normalize("NFC", s)
    s = _NOT_WORD.sub("-", s).strip("-")
    return s[:max_length].strip("-")


def account_slugs(accounts: Any, *, id_column: str = "account_id", name_column: str = "name") -> dict[str, str]:
    """A unique, stable file slug for every account: ``<name>-<id>``.

    Parameters
    ----------
    accounts : DataFrame
        One row per account (:func:`helpers.data.store.load_accounts`).
    id_column, name_column : str
        Columns with the account id and the display name.

    Returns
    -------
    dict
        account_id → slug, e.g. ``{"A002": "mäkelä-rakennus-a002"}``.

    Notes
    -----
    The id makes slugs unique even when two accounts share a name, and keeps an
    account's file name the same from wave to wave.  Should two slugs still
    coincide (ids that differ only in punctuation or case, such as ``A-1`` and
    ``a/1``), each of them gets the first 8 hex digits of the SHA-1 of its id
    appended — the same suffix whatever the order of the accounts.

    Examples
    --------
    >>> import pandas as pd
    >>> account_slugs(pd.DataFrame({"account_id": ["A1", "A2"], "name": ["Oy Ab", "Oy Ab"]}))
    {'A1': 'oy-ab-a1', 'A2': 'oy-ab-a2'}
    """
    ids = [str(a) for a in accounts[id_column]]
    names = list(accounts[name_column]) if name_column in accounts else [""] * len(ids)
    base = {}
    for account_id, name in zip(ids, names):
        parts = [p for p in (slugify(name), slugify(account_id, max_length=24)) if p]
        base[account_id] = "-".join(parts) or "account"
    seen: dict[str, list[str]] = {}
    for account_id, slug in base.items():
        seen.setdefault(slug, []).append(account_id)
    out = {}
    for account_id, slug in base.items():
        if len(seen[slug]) > 1:
            slug = f"{slug}-{hashlib.sha1(account_id.encode()).hexdigest()[:8]}"
        out[account_id] = slug
    return out


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------
def atomic_write(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    A reader sees the old file or the complete new one, never half a file; if
    writing fails, the temporary file is removed and ``path`` is untouched.

    Parameters
    ----------
    path : path
        Destination.  Its folder must exist.
    data : str or bytes
        Content; text is written as UTF-8.

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(payload)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path


def _read_notebook(path: str | Path) -> tuple[str, str]:
    """A notebook file's text and the SHA-256 of its bytes, from one read (:class:`ReportError` if not UTF-8).

    The batch sends this text to the workers, so every report runs the very
    notebook whose hash is in its key, even if the file is edited meanwhile.
    """
    data = Path(path).read_bytes()
    try:
        return data.decode("utf-8"), hashlib.sha256(data).hexdigest()
    except UnicodeDecodeError as exc:
        raise ReportError(f"{path} is not a readable notebook: {exc}") from None


def code_hash() -> str:
    """A short hash of what the reports compute with: the helpers package's source (``*.py``, ``*.yml``)
    and the instrument in use (``$FLAMEKIT_INSTRUMENT``, see :func:`helpers.data.instrument.load_instrument`),
    so that a changed helper or instrument re-renders."""
    h = hashlib.sha256()
    pkg = Path(__file__).parents[1]
    files = sorted([*pkg.rglob("*.py"), *pkg.rglob("*.yml"), *pkg.rglob("*.yaml")])
    own = os.environ.get("FLAMEKIT_INSTRUMENT")
    if own and Path(own).is_file():
        files.append(Path(own))
    for p in files:
        h.update(p.relative_to(pkg).as_posix().encode() if p.is_relative_to(pkg) else p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


# ---------------------------------------------------------------------------
# Batch
# ---------------------------------------------------------------------------
_SAFE_WAVE = re.compile(r"^\w[\w .()+-]*(?<![. ])$", re.UNICODE)


def wave_folder(wave: str) -> str:
    """The folder name of a wave's reports: the label itself when it is a safe name, else its slug.

    ``2026Q3`` and ``Syksy 2025`` stay as they are; a label with slashes,
    leading dots or shell characters becomes a slug (``../x`` → ``x``).
    """
    label = unicodedata.normalize("NFC", str(wave))
    if _SAFE_WAVE.match(label) and len(label) <= 64:
        return label
    folder = slugify(label)
    if not folder:
        raise ReportError(f"Wave {wave!r} has no letters or digits to name its folder.")
    return folder
