"""One account's data for its report: answers up to the wave, read with SQL filters, and the settings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.data import store as st
from helpers.data.disclosure import Audit, Thresholds, contributors, publishable
from helpers.data.instrument import Instrument, load_instrument
from helpers.data.privacy import MIN_COMMENT_GROUP_SIZE, MIN_GROUP_SIZE, assert_single_account
from helpers.report.formatting import check_language
from helpers.stats.scores import respondent_scores

CI = 0.95
FDR = 0.05
#: r_wg from fewer answers than this is unstable (its sampling spread is wide;
#: Dunlap, Burke & Smith-Crowe 2003): shown from min_group_size, with a note.
RWG_STABLE_N = 10


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
    thresholds: Thresholds = field(default_factory=Thresholds)
    store: Path | None = None
    instrument: Instrument = field(default_factory=load_instrument, repr=False)
    #: Which side × measure × wave results may be published (:func:`helpers.data.disclosure.publishable`).
    publication: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    #: What the report held back, figure by figure (counts and reasons only), for the manifest.
    audit: Audit = field(default_factory=Audit, repr=False)
    #: People the data names (the accounts' owners), scrubbed from every comment.
    people: tuple[str, ...] = field(default=(), repr=False)

    @property
    def min_group_size(self) -> int:
        """The team threshold: no team result from fewer answers."""
        return self.thresholds.team

    @property
    def min_client_group_size(self) -> int:
        """The client threshold: no client result from fewer answers."""
        return self.thresholds.client

    @property
    def min_comment_group_size(self) -> int:
        """Team answers needed before any team comment is shown."""
        return self.thresholds.comments

    def figure_min(self, side: str) -> int:
        """The fewest answers behind any figure of ``side`` (privacy threshold or the reliable minimum)."""
        return self.thresholds.figure_min(side)

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
    min_client_group_size: int | None = None,
    min_reliable_n: int | None = None,
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
        Team results from fewer answers are hidden (default 5).
    min_comment_group_size : int
        Team comments need at least this many team answers (default 10).
    min_client_group_size : int, optional
        Client results (and client sub-groups) from fewer answers are hidden;
        default 5.  Below it, the report shows counts and comments without
        scores or roles.
    min_reliable_n : int, optional
        The fewest answers behind any figure (default 5), see
        :class:`helpers.data.disclosure.Thresholds`.
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
    thresholds = report_thresholds(min_group_size=min_group_size, min_comment_group_size=min_comment_group_size,
                                   min_client_group_size=min_client_group_size, min_reliable_n=min_reliable_n)
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
    decisions = publishable(contributors(responses, scores), thresholds=thresholds, waves=list(waves))
    owners = st.query("SELECT DISTINCT owner FROM accounts WHERE owner IS NOT NULL ORDER BY owner", store=path)
    return AccountData(account_id=account_id, wave=wave, name=str(acc["name"].iloc[0]),
                       segment=None if pd.isna(acc["segment"].iloc[0]) else str(acc["segment"].iloc[0]),
                       waves=waves, responses=responses, answers=answers, scores=scores, language=language,
                       thresholds=thresholds, store=path, instrument=inst, publication=decisions,
                       people=tuple(str(o) for o in owners["owner"]))


def report_thresholds(*, min_group_size: Any = MIN_GROUP_SIZE, min_comment_group_size: Any = MIN_COMMENT_GROUP_SIZE,
                      min_client_group_size: Any = None, min_reliable_n: Any = None) -> Thresholds:
    """The report's :class:`helpers.data.disclosure.Thresholds` from its settings, with errors naming the setting."""
    values = {"min_group_size": min_group_size, "min_comment_group_size": min_comment_group_size,
              "min_client_group_size": min_client_group_size, "min_reliable_n": min_reliable_n}
    for name, value in values.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}.")
    if min_comment_group_size < min_group_size:
        raise ValueError(f"min_comment_group_size ({min_comment_group_size}) must be at least min_group_size "
                         f"({min_group_size}): otherwise the comments of a team too small to show its scores "
                         "would be shown.")
    return Thresholds(team=min_group_size, comments=min_comment_group_size,
                      client=MIN_GROUP_SIZE if min_client_group_size is None else min_client_group_size,
                      reliable=Thresholds.reliable if min_reliable_n is None else min_reliable_n)


def wave_order(labels: Sequence[str], *, store: str | Path | None = None) -> list[str]:
    """``labels`` in the store's time order (:func:`helpers.data.store.waves`), oldest first.

    Labels the store does not know (none, normally) follow in natural order
    (:func:`helpers.data.store.sort_waves`).
    """
    labels = [str(w) for w in labels]
    known = [w for w in st.waves(store=store) if w in set(labels)]
    return known + st.sort_waves(set(labels) - set(known))
