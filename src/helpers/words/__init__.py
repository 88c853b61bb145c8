"""The one catalogue of the kit's words, in English and Finnish.

Every sentence, heading, table header and label a page shows comes from the
YAML files in ``en/`` and ``fi/`` beside this module, one file per page or
topic (``account.yml``, ``portfolio.yml``, ``gaps.yml`` …), looked up by a
dotted key that starts with the file's name (``account.nps_sentence``,
``gaps.label.blind spot``).  Both languages have the same keys and the same
``{placeholders}`` (a test checks), so a page in one language never falls
back to the other.

>>> say("common.yes", "fi")
'kyllä'
>>> say("index.n_client", "en")
'Client answers'
"""

from __future__ import annotations

import string
from functools import cache
from importlib import resources
from typing import Any

import yaml

LANGUAGES = ("en", "fi")

__all__ = ["LANGUAGES", "say", "say_list", "has", "section", "catalogue", "placeholders", "check_language"]


def check_language(language: str) -> str:
    """``language`` when the pages are written in it (en, fi); else a ValueError naming the choices."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {list(LANGUAGES)}, not {language!r}.")
    return language


def _flatten(tree: dict, prefix: str = "") -> dict[str, str | list[str]]:
    out: dict[str, str | list[str]] = {}
    for k, v in tree.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = [str(x) for x in v] if isinstance(v, list) else str(v)
    return out


@cache
def catalogue(language: str) -> dict[str, str | list[str]]:
    """Every key of one language's catalogue and its text (a list for a list of points); read once per process."""
    check_language(language)
    words: dict[str, str | list[str]] = {}
    for entry in sorted(resources.files(__package__).joinpath(language).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yml"):
            tree = yaml.safe_load(entry.read_text(encoding="utf-8")) or {}
            words.update(_flatten(tree, entry.name.removesuffix(".yml") + "."))
    return words


def has(key: str, language: str = "en") -> bool:
    """Whether ``key`` is in the catalogue."""
    return key in catalogue(language)


def _lookup(key: str, language: str) -> str | list[str]:
    try:
        return catalogue(language)[key]
    except KeyError:
        raise KeyError(f"No text {key!r} in the {language} catalogue (src/helpers/words/{language}/).") from None


def say(key: str, language: str, /, **fields: Any) -> str:
    """The text of ``key`` in ``language``, with ``{placeholders}`` filled from ``fields``.

    Raises
    ------
    KeyError
        The key is not in the catalogue (the message names it and the language).
    """
    text = _lookup(key, language)
    if isinstance(text, list):
        raise TypeError(f"{key!r} is a list of texts: use say_list().")
    return text.format(**fields) if fields else text


def say_list(key: str, language: str, /, **fields: Any) -> list[str]:
    """A list of texts (e.g. the points of a methods note), each with ``{placeholders}`` filled from ``fields``."""
    texts = _lookup(key, language)
    items = texts if isinstance(texts, list) else [texts]
    return [t.format(**fields) for t in items] if fields else list(items)


def section(name: str, language: str) -> dict[str, str]:
    """All single texts under ``name.`` as a plain dict keyed by the rest of the key (``section("gaps.label", "fi")``)."""
    cut = len(name) + 1
    return {k[cut:]: v for k, v in catalogue(language).items()
            if k.startswith(name + ".") and isinstance(v, str)}


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a text expects."""
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}
