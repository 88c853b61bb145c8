"""Words of the account report, in English and Finnish: sentences, notes and table headers.
"""

from __future__ import annotations

from typing import Any

from helpers.report import comments as cm
from helpers.words import LANGUAGES, say_list, section

_md = cm.markdown_escape

TEXT: dict[str, dict[str, str]] = {lang: section("account", lang) for lang in LANGUAGES}

#: The methods note, one point per list item: formulas, thresholds, versions and the data hash.
#: Placeholders are filled by :func:`helpers.report.account.methods.methods_note`.
METHODS: dict[str, list[str]] = {lang: say_list("account.methods", lang) for lang in LANGUAGES}

HEADERS = {lang: section("account.header", lang) for lang in LANGUAGES}


def _t(key: str, language: str, **kw: Any) -> str:
    """The text ``key`` in ``language`` with the values ``kw`` put in."""
    return TEXT[language][key].format(**kw)


def _methods_items(language: str, **values: Any) -> list[str]:
    """The methods note's points in ``language`` (English unless Finnish), with the report's values put in."""
    return [item.format(**values) for item in METHODS["fi" if language == "fi" else "en"]]
