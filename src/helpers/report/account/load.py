"""One account's data for its report: answers up to the wave, read with SQL filters, and the settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.data import store as st
from helpers.data.instrument import Instrument, load_instrument
from helpers.data.privacy import MIN_COMMENT_GROUP_SIZE, MIN_GROUP_SIZE, assert_single_account
from helpers.report.formatting import check_language
from helpers.stats.scores import respondent_scores

CI = 0.95
FDR = 0.05
#: r_wg from fewer answers than this is unstable (its sampling spread is wide;
#: Dunlap, Burke & Smith-Crowe 2003): shown from min_group_size, with a note.
RWG_STABLE_N = 10


def _at_least_one(value: Any, name: str) -> int:
    """A threshold as an int, or a ValueError naming the setting and its value."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = None
    if n is None or n != value or n < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}.")
    return n


# ---------------------------------------------------------------------------
# Loading one account
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountData:
    """One account's survey data up to the report's wave, and the report settings.

    Built by :func:`load_account`; every section builder takes it.  Holds only
    this account's rows.
    """

    account_id: str
    wave: str
    name: str
    segment: str | None
    #: The account's waves up to and including ``wave``, oldest first
    #: (:func:`helpers.data.store.waves` order).
    waves: tuple[str, ...]
    responses: pd.DataFrame = field(repr=False)
    answers: pd.DataFrame = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    language: str = "en"
    min_group_size: int = MIN_GROUP_SIZE
    min_comment_group_size: int = MIN_COMMENT_GROUP_SIZE
    store: Path | None = None
    instrument: Instrument = field(default_factory=load_instrument, repr=False)

    @property
    def previous_wave(self) -> str | None:
        """The latest earlier wave (in time, not label, order) with answers from this account, if any."""
        i = self.waves.index(self.wave)
        return self.waves[i - 1] if i > 0 else None

    def in_wave(self, frame: pd.DataFrame, wave: str | None = None) -> pd.DataFrame:
        """Rows of ``frame`` in the report's wave (or ``wave``)."""
        return frame[frame["wave"] == (wave or self.wave)]


def load_account(
    account_id: str,
    wave: str,
    *,
    store: str | Path | None = None,
    language: str = "en",
    min_group_size: int = MIN_GROUP_SIZE,
    min_comment_group_size: int = MIN_COMMENT_GROUP_SIZE,
    instrument: str | Instrument | None = None,
) -> AccountData:
    """Load one account's answers up to ``wave`` (filtered in SQL) and check the request.

    Parameters
    ----------
    account_id : str
        The account, e.g. ``"A001"`` (case-sensitive).
    wave : str
        The report's wave, e.g. ``"2026Q3"``; the trend uses this and earlier
        waves, in the store's time order (:func:`helpers.data.store.waves`).
    store : path, optional
        The store file (default :func:`helpers.data.store.default_store`).
    language : {"en", "fi"}
    min_group_size : int
        Team results (and client sub-groups) from fewer answers are hidden.
    min_comment_group_size : int
        Team comments need at least this many team answers.
    instrument : path or Instrument, optional

    Returns
    -------
    AccountData

    Raises
    ------
    ValueError
        Unknown account, or no answers from the account in ``wave`` (the
        message lists the waves it has), or an invalid setting: a language
        other than en/fi, a threshold that is not a whole number of at least
        1, or ``min_comment_group_size`` below ``min_group_size``.
    """
    check_language(language)
    account_id, wave = str(account_id), str(wave)
    min_group_size = _at_least_one(min_group_size, "min_group_size")
    min_comment_group_size = _at_least_one(min_comment_group_size, "min_comment_group_size")
    if min_comment_group_size < min_group_size:
        raise ValueError(f"min_comment_group_size ({min_comment_group_size}) must be at least min_group_size "
                         f"({min_group_size}): otherwise the comments of a team too small to show its scores "
                         "would be shown.")
    inst = load_instrument(instrument)
    path = Path(store) if store not in (None, "") else None
    acc = st.query("SELECT account_id, name, segment FROM accounts WHERE account_id = ?", [account_id], store=path)
    if acc.empty:
        raise ValueError(f"Unknown account {account_id!r}: it is not in the accounts of the store "
                         f"{path or st.default_store()}. Account ids are case-sensitive, e.g. 'A001'.")
    responses = assert_single_account(st.load_responses(account=account_id, store=path), account_id)
    have = wave_order(responses["wave"].dropna().unique(), store=path)
    if wave not in have:
        listed = ", ".join(have) if have else "none"
        raise ValueError(f"Account {account_id} has no survey answers in wave {wave!r}; "
                         f"waves with answers: {listed}.")
    waves = tuple(have[: have.index(wave) + 1])
    responses = responses[responses["wave"].isin(waves)].reset_index(drop=True)
    answers = assert_single_account(st.load_answers(account=account_id, wave=waves, store=path), account_id)
    scores = respondent_scores(answers, instrument=inst) if len(answers) else pd.DataFrame(
        columns=["response_id", "account_id", "side", "wave", "role", "team", "dimension", "score", "n_items"])
    return AccountData(account_id=account_id, wave=wave, name=str(acc["name"].iloc[0]),
                       segment=None if pd.isna(acc["segment"].iloc[0]) else str(acc["segment"].iloc[0]),
                       waves=waves, responses=responses, answers=answers, scores=scores, language=language,
                       min_group_size=min_group_size, min_comment_group_size=min_comment_group_size,
                       store=path, instrument=inst)


def wave_order(labels: Sequence[str], *, store: str | Path | None = None) -> list[str]:
    """``labels`` in the store's time order (:func:`helpers.data.store.waves`), oldest first.

    Labels the store does not know (none, normally) follow in natural order
    (:func:`helpers.data.store.sort_waves`).
    """
    labels = [str(w) for w in labels]
    known = [w for w in st.waves(store=store) if w in set(labels)]
    return known + st.sort_waves(set(labels) - set(known))
