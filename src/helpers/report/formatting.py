"""Numbers as people read them: decimal comma in Finnish, a real minus sign, rounding for display only.

Also the one check of a page's language (English or Finnish).
"""

from __future__ import annotations

import math

import pandas as pd

from helpers.data.instrument import LANGUAGES


def _num(x: float, language: str, digits: int = 1, sign: bool = False) -> str:
    """Display a number (rounding for display only): Finnish decimal comma, true minus sign."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "–"
    s = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    if s.lstrip("+-") == f"{0:.{digits}f}":
        s = s.lstrip("+-")
    s = s.replace("-", "−")
    return s.replace(".", ",") if language == "fi" else s


def check_language(language: str) -> str:
    """``language`` when the pages are written in it (en, fi); else a ValueError naming the choices."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {list(LANGUAGES)}, not {language!r}.")
    return language
