"""Numbers, dates and tables as people read them, in the page's language (Babel's locale data).

One module formats every value a page or the index shows:

======================  ===================  ====================
value                   English              Finnish
======================  ===================  ====================
:func:`number`          4.1, −0.3            4,1, −0,3
:func:`count`           3,529                3 529
:func:`money`           €282,352             282 352 €
:func:`percent`         61%                  61 %
:func:`points` (NPS)    +12, −7              +12, −7
:func:`interval`        3.9 to 4.4           3,9…4,4
:func:`date`            7 Dec 2026           7.12.2026
:func:`p_value`         <0.001               < 0,001
:func:`yes_no`          yes / no             kyllä / ei
======================  ===================  ====================

A minus is always the real minus sign (U+2212), a missing value "–", and
rounding happens for display only.  :func:`people_table` is the display
boundary for tables: snake_case columns in, headers in the page's language
out, every cell escaped, text left-aligned and numbers right-aligned.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

from helpers.words import check_language, has, say

__all__ = [
    "number", "count", "money", "percent", "points", "interval", "date", "p_value", "yes_no",
    "format_value", "people_table", "PeopleTable", "check_language", "MISSING", "MINUS",
]

MISSING = "–"
MINUS = "\u2212"
_LOCALE = {"en": "en_GB", "fi": "fi_FI"}


def _missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def _minus(text: str) -> str:
    """Hyphen-minus and Babel's other minus forms as the real minus sign."""
    return text.replace("-", MINUS).replace("\u2011", MINUS)


def number(x: float | None, language: str, digits: int = 1, *, sign: bool = False) -> str:
    """A number with ``digits`` decimals: "4.1" / "4,1"; ``sign`` adds "+" to positives; "–" when missing.

    A value that rounds to zero is shown without a sign ("0.0", never "−0.0").
    """
    check_language(language)
    if _missing(x) or (isinstance(x, float) and math.isinf(x)):
        return MISSING
    x = float(x)
    if round(x, digits) == 0:
        x = 0.0
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    text = format_decimal(abs(x), format=pattern, locale=_LOCALE[language], decimal_quantization=True)
    if x < 0:
        return MINUS + text
    return ("+" + text) if sign and x > 0 else text


def count(n: float | None, language: str) -> str:
    """A whole number with the locale's thousands separator: "3,529" / "3 529"."""
    if _missing(n):
        return MISSING
    return number(round(float(n)), language, 0)


def money(x: float | None, language: str, *, currency: str = "EUR", digits: int = 0) -> str:
    """An amount of money: "€282,352" / "282 352 €" (whole euros unless ``digits``)."""
    check_language(language)
    if _missing(x):
        return MISSING
    pattern = ("#,##0" + ("." + "0" * digits if digits else "")) + "\u00a0¤" if language == "fi" else \
        "¤#,##0" + ("." + "0" * digits if digits else "")
    return _minus(format_currency(float(x), currency, format=pattern, locale=_LOCALE[language],
                                  currency_digits=False))


def percent(share: float | None, language: str, digits: int = 0) -> str:
    """A share 0–1 as a percentage: "61%" / "61 %"."""
    check_language(language)
    if _missing(share):
        return MISSING
    pattern = "#,##0" + ("." + "0" * digits if digits else "") + ("\u00a0%" if language == "fi" else "%")
    return _minus(format_percent(float(share), format=pattern, locale=_LOCALE[language]))


def points(x: float | None, language: str) -> str:
    """NPS or a change of NPS in whole points with its sign: "+12", "−7", "0"."""
    return number(x, language, 0, sign=True)


def interval(low: float | None, high: float | None, language: str, digits: int = 1, *,
             sign: bool = False) -> str:
    """An interval: "3.9 to 4.4" / "3,9…4,4"; "–" when either end is missing."""
    if _missing(low) or _missing(high):
        return MISSING
    lo, hi = number(low, language, digits, sign=sign), number(high, language, digits, sign=sign)
    return f"{lo}…{hi}" if language == "fi" else f"{lo} to {hi}"


def date(value: Any, language: str) -> str:
    """A date as people write it: "7 Dec 2026" / "7.12.2026"; "–" when missing."""
    check_language(language)
    if _missing(value):
        return MISSING
    d = pd.Timestamp(value).date() if not isinstance(value, _dt.date) else value
    if isinstance(d, _dt.datetime):
        d = d.date()
    return format_date(d, format="d.M.y" if language == "fi" else "d MMM y", locale=_LOCALE[language])


def p_value(p: float | None, language: str) -> str:
    """A p-value with three decimals, or "<0.001" / "< 0,001"."""
    if _missing(p):
        return MISSING
    if p < 0.001:
        return ("< " if language == "fi" else "<") + number(0.001, language, 3)
    return number(p, language, 3)


def yes_no(value: Any, language: str) -> str:
    """A boolean as a word: "yes"/"no", "kyllä"/"ei"; "–" when missing."""
    if _missing(value):
        return MISSING
    return say("common.yes" if bool(value) else "common.no", language)


#: Kinds :func:`format_value` and :func:`people_table` know; "number:2" means two decimals.
KINDS = ("text", "number", "signed", "count", "money", "percent", "points", "date", "p", "bool")


def format_value(value: Any, kind: str, language: str) -> str:
    """One value as text by its kind ("number:2", "count", "money", "date", "bool", "text" …)."""
    name, _, arg = kind.partition(":")
    digits = int(arg) if arg else None
    if name == "text":
        return MISSING if _missing(value) else str(value)
    if name == "number":
        return number(value, language, 1 if digits is None else digits)
    if name == "signed":
        return number(value, language, 1 if digits is None else digits, sign=True)
    if name == "count":
        return count(value, language)
    if name == "money":
        return money(value, language, digits=digits or 0)
    if name == "percent":
        return percent(value, language, digits or 0)
    if name == "points":
        return points(value, language)
    if name == "date":
        return date(value, language)
    if name == "p":
        return p_value(value, language)
    if name == "bool":
        return yes_no(value, language)
    raise ValueError(f"Unknown kind {kind!r}; use one of {list(KINDS)} (with ':digits' for number/signed).")


def _guess_kind(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "bool"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "date"
    if pd.api.types.is_integer_dtype(series):
        return "count"
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna()
        return "count" if len(whole) and (whole == whole.round()).all() else "number:2"
    return "text"


class PeopleTable:
    """A table already in the page's words: shows as escaped HTML in JupyterLab and in exported pages.

    ``frame`` holds the display text (headers in the page's language);
    ``numeric`` names its right-aligned columns, ``verbatim`` the columns of
    names and respondents' words (class ``fk-data``, ``dir="auto"`` so a
    right-to-left name cannot turn the row around).  The HTML carries its
    alignment inline (kept by the page sanitiser, shown the same in
    JupyterLab) and sits in a box that scrolls sideways on a narrow screen
    instead of widening the page.
    """

    def __init__(self, frame: pd.DataFrame, *, numeric: Sequence[str] = (), verbatim: Sequence[str] = (),
                 caption: str | None = None, css_class: str = "fk-table"):
        self.frame = frame
        self.numeric = list(numeric)
        self.verbatim = list(verbatim)
        self.caption = caption
        self.css_class = css_class

    def _cell(self, tag: str, text: str, column: str) -> str:
        import html as _html

        if column in self.numeric:
            return (f'<{tag} class="fk-num" style="text-align: right; white-space: nowrap">'
                    f"{_html.escape(text)}</{tag}>")
        if tag == "td" and column in self.verbatim:  # a name or a respondent's words: isolated, any language
            return f'<td class="fk-text fk-data" dir="auto" style="text-align: left">{_html.escape(text)}</td>'
        return f'<{tag} class="fk-text" style="text-align: left">{_html.escape(text)}</{tag}>'

    def to_html(self) -> str:
        """The table as an HTML fragment (every header and cell escaped)."""
        import html as _html

        cols = list(self.frame.columns)
        head = "".join(self._cell("th", str(c), c) for c in cols)
        body = "\n".join("<tr>" + "".join(self._cell("td", str(v), c) for c, v in zip(cols, row)) + "</tr>"
                         for row in self.frame.itertuples(index=False, name=None))
        caption = f"<caption>{_html.escape(self.caption)}</caption>" if self.caption else ""
        return (f'<div class="fk-scroll"><table class="{self.css_class}">{caption}<thead><tr>{head}</tr></thead>'
                f"<tbody>\n{body}\n</tbody></table></div>")

    def _repr_html_(self) -> str:
        return self.to_html()

    def __len__(self) -> int:
        return len(self.frame)


def people_table(data: pd.DataFrame, *, language: str, columns: Mapping[str, str] | Sequence[str] | None = None,
                 headers: Mapping[str, str] | None = None, page: str | None = None,
                 verbatim: Sequence[str] = (), caption: str | None = None) -> PeopleTable:
    """A tidy frame as a table for people: headers in the page's language, values by locale, every cell escaped.

    Parameters
    ----------
    data : DataFrame
        snake_case columns (``n_client``, ``ci_low`` …).
    language : str
        "en" or "fi".
    columns : mapping or sequence, optional
        Columns to show in order, each with its kind (see :data:`KINDS`;
        "number:2" for two decimals).  A sequence (or the default, every
        column) guesses the kind from the dtype: bool → yes/no, datetime →
        date, whole numbers → count, other floats → two decimals.
    headers : mapping, optional
        A header per column in the page's language; otherwise the catalogue's
        ``<page>.header.<column>``, then ``header.<column>``.
    page : str, optional
        The catalogue section of page-specific headers.
    verbatim : sequence of str
        Columns of data shown as they are — account and people names,
        comments — marked as data (not the page's prose) and isolated for
        right-to-left text.
    caption : str, optional
        A caption above the table.

    Returns
    -------
    PeopleTable
        ``.frame`` the display text; shows as HTML with text columns
        left-aligned and numbers right-aligned.

    Raises
    ------
    ValueError
        A column has no header in the page's language (a snake_case name
        never reaches a page).
    """
    check_language(language)
    if columns is None:
        columns = list(data.columns)
    kinds = dict(columns) if isinstance(columns, Mapping) else {c: _guess_kind(data[c]) for c in columns}
    shown: dict[str, str] = {}
    for col in kinds:
        if headers and col in headers:
            shown[col] = headers[col]
        elif page and has(f"{page}.header.{col}", language):
            shown[col] = say(f"{page}.header.{col}", language)
        elif has(f"header.{col}", language):
            shown[col] = say(f"header.{col}", language)
        else:
            where = f"{page}.header.{col} or " if page else ""
            raise ValueError(f"Column {col!r} has no {language} header: add {where}header.{col} to "
                             f"src/helpers/words/{language}/, or pass headers=.")
    frame = pd.DataFrame({shown[c]: [format_value(v, k, language) for v in data[c]] for c, k in kinds.items()},
                         columns=[shown[c] for c in kinds])
    numeric = [shown[c] for c, k in kinds.items() if k.partition(":")[0] not in ("text", "bool", "date")]
    return PeopleTable(frame, numeric=numeric, verbatim=[shown[c] for c in verbatim], caption=caption)


def _num(x: float, language: str, digits: int = 1, sign: bool = False) -> str:
    """Older name of :func:`number`."""
    return number(x, language, digits, sign=sign)
