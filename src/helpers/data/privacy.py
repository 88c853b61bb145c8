"""Privacy: anonymity thresholds, scrubbing contacts, people and ids from free text, escaping, isolation.

Staff answer anonymously, so no result is shown for a group smaller than the
minimum group size — not in a table, a plot, the HTML source or embedded data.
The rule is applied to the *data* (values replaced by NaN and flagged) before
anything is drawn, so a template cannot leak what it never receives.
"""

from __future__ import annotations

import functools
import html
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

MIN_GROUP_SIZE = 5
MIN_COMMENT_GROUP_SIZE = 10

EMAIL = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"                                          # matti@example.fi
    r"|[\w.+-]+\s*[(\[]at[)\]]\s*[\w-]+(?:\s*(?:\.|[(\[]dot[)\]])\s*[\w-]+)+"  # matti(at)example.fi
    r"|[\w.+-]+\s+at\s+[\w-]+(?:\s+dot\s+[\w-]+)+",                        # matti at example dot fi
    re.UNICODE | re.IGNORECASE)
# Phone-like runs: start with +, 00, 0 or an opening bracket, then digits with
# spaces, dashes (- –), dots, slashes or brackets between them.  A run with 7 or
# more digits is masked whole (so two numbers written back to back are both
# masked); dates such as 01.02.2026 and sums such as "1 200 000 €" are left alone.
PHONE = re.compile(r"(?<![\w+])(?:\+|00|0|\(\+?\d)[\d\s\-–./()]{4,}\d(?!\w)")
DATE_LIKE = re.compile(r"^\d{1,2}\.\d{1,2}\.(?:\d{2}|\d{4})$|^\d{4}-\d{2}-\d{2}$")
EMAIL_MASK = "[email removed]"
PHONE_MASK = "[phone removed]"
NAME_MASK = "[name removed]"
ID_MASK = "[id removed]"
#: Finnish surname endings whose inflected forms change the stem: Virtanen → Virtasen, Lähteenmäki → Lähteenmäen.
_STEM_CHANGES = (("nen", "s"), ("mäki", "mäe"), ("maki", "mae"), ("lahti", "lahde"), ("koski", "koske"),
                 ("niemi", "nieme"), ("järvi", "järve"), ("saari", "saare"), ("vuori", "vuore"), ("lampi", "lamme"))
#: A capitalised word (a possible surname) after a known first name: letters, with - or ' inside.
_SURNAME = r"[A-ZÅÄÖÜÉ][\w'’-]*\w"


class IsolationError(RuntimeError):
    """Data of another account reached a single-account view."""


def scrub_contacts(text: object) -> object:
    """Replace e-mail addresses and phone numbers in free text with a marker.

    Parameters
    ----------
    text : str or NA
        A comment.  Non-strings are returned unchanged.

    Returns
    -------
    str
        The text with ``[email removed]`` / ``[phone removed]`` in place of contacts.

    Examples
    --------
    >>> scrub_contacts("Soita 040 123 4567 tai matti@example.fi")
    'Soita [phone removed] tai [email removed]'
    """
    if not isinstance(text, str):
        return text
    out = EMAIL.sub(EMAIL_MASK, text)

    def _phone(m: re.Match) -> str:
        run = m.group(0)
        if DATE_LIKE.match(run.strip()):
            return run
        return PHONE_MASK if sum(ch.isdigit() for ch in run) >= 7 else run

    return PHONE.sub(_phone, out)


@functools.cache
def first_names() -> frozenset[str]:
    """Common first names (``first_names.txt`` beside this module), to recognise "First Surname" in text."""
    text = Path(__file__).with_name("first_names.txt").read_text(encoding="utf-8")
    return frozenset(w for line in text.splitlines() if not line.startswith("#") for w in line.split())


def _name_pattern(name: str) -> str:
    """A regex for one known name and its common Finnish case forms (Virtanen → Virtasen, Virtaselle).

    Surnames in -nen take their -s- stem, and common surname endings their
    inflected stems (-mäki → -mäe-, -lahti → -lahde-, -koski → -koske-, …); any
    other name of four or more letters also matches with case endings added
    (Mäkelä → Mäkelälle).  Names whose stem changes otherwise (Mikko → Mikon)
    are matched in their base form only.
    """
    parts = []
    for word in name.split():
        w = re.escape(word)
        stem = next((word[: -len(end)] + new for end, new in _STEM_CHANGES if word.lower().endswith(end)), None)
        if stem and len(word) >= 5:
            w = f"(?:{w}|{re.escape(stem)}\\w*)"
        elif len(word) >= 4:
            w = f"{w}\\w*"
        parts.append(w)
    return r"\s+".join(parts)


def scrub_people(text: object, *, names: Iterable[str] = (), ids: Iterable[str] = ()) -> object:
    """Replace people's names and respondent or response ids in free text with a marker.

    Parameters
    ----------
    text : str or NA
        A comment.  Non-strings are returned unchanged.
    names : iterable of str
        People the data names: account owners, consented contacts.  The full
        name, the surname alone and the first name when a capitalised word
        follows are masked, with common Finnish case endings.
    ids : iterable of str
        Respondent and response ids of the data; masked wherever they stand
        as a whole token.

    Returns
    -------
    str
        ``[name removed]`` for a known person or for a common first name
        followed by a capitalised word (:func:`first_names`), ``[id removed]``
        for a known id.

    Notes
    -----
    What is **not** removed: a name the kit does not know standing alone
    ("kiitos Mikolle"), rare first names, nicknames, titles ("the CFO"),
    and descriptions that point to a person.  Read comments before sharing
    them outside the account team.

    Examples
    --------
    >>> scrub_people("Respondent P-A001-003: Mikko Virtanen ja Virtasen tiimi auttoivat",
    ...              names=["Mikko Virtanen"], ids=["P-A001-003"])
    'Respondent [id removed]: [name removed] ja [name removed] tiimi auttoivat'
    >>> scrub_people("Thanks to Laura Smith and the team")
    'Thanks to [name removed] and the team'
    """
    if not isinstance(text, str):
        return text
    out = text
    known = [n.strip() for n in names if isinstance(n, str) and n.strip()]
    patterns = [_name_pattern(n) for n in sorted(known, key=len, reverse=True)]
    patterns += [_name_pattern(n.split()[-1]) for n in known if len(n.split()) > 1 and len(n.split()[-1]) >= 4]
    for pat in patterns:
        out = re.sub(rf"(?<!\w){pat}(?!\w)", NAME_MASK, out)
    firsts = "|".join(sorted(map(re.escape, first_names()), key=len, reverse=True))
    out = re.sub(rf"(?<![\w-])(?:[A-ZÅÄÖ]\w*-)?(?:{firsts})\s+{_SURNAME}(?!\w)", NAME_MASK, out)
    for token in sorted({str(i).strip() for i in ids if isinstance(i, str) and str(i).strip()}, key=len, reverse=True):
        out = re.sub(rf"(?<![\w-]){re.escape(token)}(?![\w-])", ID_MASK, out)
    return out


def scrub_comment(text: object, *, names: Iterable[str] = (), ids: Iterable[str] = ()) -> object:
    """Contacts (:func:`scrub_contacts`), then people and ids (:func:`scrub_people`) removed from a comment."""
    return scrub_people(scrub_contacts(text), names=names, ids=ids)


def scrub_frame(data: pd.DataFrame, *, columns: Sequence[str] = ("comment",)) -> pd.DataFrame:
    """Copy of ``data`` with contacts scrubbed from the given free-text columns."""
    out = data.copy()
    for c in columns:
        if c in out:
            out[c] = out[c].map(scrub_contacts)
    return out


def escape_text(text: object) -> str:
    """HTML-escape free text (``<``, ``>``, ``&``, quotes) so it renders as inert text."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return ""
    return html.escape(str(text), quote=True)


def suppress_small_groups(
    data: pd.DataFrame,
    *,
    n: str = "n",
    min_group_size: int = MIN_GROUP_SIZE,
    columns: Iterable[str] | None = None,
    only: pd.Series | None = None,
) -> pd.DataFrame:
    """Blank every result computed from fewer than ``min_group_size`` answers.

    Parameters
    ----------
    data : DataFrame
        One row per group result with a count column ``n``.
    n : str
        The count column.
    min_group_size : int
        Smallest group whose results may be shown (default 5).
    columns : iterable of str, optional
        Result columns to blank; default every numeric column except ``n``.
    only : boolean Series, optional
        Apply the rule only to these rows (e.g. ``data["side"] == "staff"``).

    Returns
    -------
    DataFrame
        Same rows; blanked values are NaN and ``suppressed`` is True for them.
        ``n`` itself is kept so a reader sees why ("n = 3, below 5").
    """
    out = data.copy()
    if columns is None:
        columns = [c for c in out.select_dtypes("number").columns if c != n]
    small = out[n].fillna(0) < min_group_size
    if only is not None:
        small &= only.reindex(out.index, fill_value=False).astype(bool)
    for c in columns:
        if c in out:
            out[c] = out[c].astype("float64") if pd.api.types.is_numeric_dtype(out[c]) else out[c].astype(object)
            out.loc[small, c] = np.nan
    out["suppressed"] = small | (out["suppressed"] if "suppressed" in out else False)
    return out


def assert_single_account(data: pd.DataFrame, account_id: str, *, column: str = "account_id") -> pd.DataFrame:
    """Raise :class:`IsolationError` if ``data`` holds any other account's rows; return it otherwise."""
    if column in data and len(data):
        others = set(data[column].dropna().astype(str)) - {str(account_id)}
        if others:
            raise IsolationError(f"Rows of {len(others)} other account(s) reached the report for {account_id}.")
    return data
