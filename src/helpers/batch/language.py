"""A notebook in one language: the cells written for the other language are taken out before it runs.

Takes a notebook (nbformat) whose prose cells are tagged ``lang-en`` or
``lang-fi`` and hands on the same notebook with only the page's language
left; untagged cells stay.  Run before papermill, so the executed notebook,
its HTML and its PDF all speak one language.
"""

from __future__ import annotations

from typing import Any

from helpers.words import LANGUAGES, check_language

TAG_PREFIX = "lang-"

__all__ = ["keep_language", "cell_language", "TAG_PREFIX"]


def cell_language(cell: Any) -> str | None:
    """The language a cell is written for ("en", "fi"), or None for a cell of every language.

    Raises
    ------
    ValueError
        The cell carries a ``lang-`` tag of a language the pages are not written in, or two of them.
    """
    tags = [t for t in cell.get("metadata", {}).get("tags", []) if t.startswith(TAG_PREFIX)]
    langs = [t[len(TAG_PREFIX):] for t in tags]
    unknown = [t for t in langs if t not in LANGUAGES]
    if unknown or len(langs) > 1:
        first = (cell.get("source") or "")[:40]
        raise ValueError(f"A cell is tagged {tags}; use exactly one of "
                         f"{[TAG_PREFIX + lang for lang in LANGUAGES]} (cell starting {first!r}).")
    return langs[0] if langs else None


def keep_language(nb: Any, language: str) -> Any:
    """``nb`` with the cells tagged for another language removed (changed in place and returned).

    Parameters
    ----------
    nb : nbformat.NotebookNode
        A notebook whose prose cells are tagged ``lang-en`` / ``lang-fi``.
    language : str
        The page's language.

    Returns
    -------
    nbformat.NotebookNode
        The same notebook object, with ``metadata["flamekit"]["language"]`` set.
    """
    check_language(language)
    nb.cells = [c for c in nb.cells if cell_language(c) in (None, language)]
    nb.metadata.setdefault("flamekit", {})["language"] = language
    return nb
