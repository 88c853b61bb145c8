"""Every section of the account report in plain Python, in one dict (for tests, benchmarks and other outputs).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from helpers.data.privacy import MIN_COMMENT_GROUP_SIZE, MIN_GROUP_SIZE, assert_single_account

from .summary import headline
from .load import load_account
from .loop import loop_section
from .meeting import next_meeting
from .methods import methods_note
from .overall import overall_scores
from .sections import benchmark_section, client_groups, comments_section, gaps_section, trend_section, view_360


def account_report_data(
    account_id: str,
    wave: str,
    *,
    store: str | Path | None = None,
    language: str = "en",
    min_group_size: int = MIN_GROUP_SIZE,
    min_comment_group_size: int = MIN_COMMENT_GROUP_SIZE,
    min_client_group_size: int | None = None,
    min_reliable_n: int | None = None,
) -> dict[str, Any]:
    """Every section of one account's report, computed in plain Python.

    Parameters
    ----------
    account_id : str
        The account, e.g. ``"A001"``.
    wave : str
        The report's wave, e.g. ``"2026Q3"``.
    store : path, optional
        The store file; None or "" = :func:`helpers.data.store.default_store`.
    language : {"en", "fi"}
        Language of sentences, notes and reasons.
    min_group_size, min_comment_group_size, min_client_group_size, min_reliable_n : int
        Thresholds, as :func:`helpers.report.account.load.load_account` takes them.

    Returns
    -------
    dict
        account_id, wave, language, name, headline (dict), view_360,
        overall (each side's overall score), client_groups, gaps, trend (dict of frames), benchmark, comments
        (dict), detractors, next_meeting (dict), followups (the wave's
        follow-up loop, :class:`helpers.report.account.loop.AccountLoop`),
        notes (list of str, the headline's notes), methods (dict), withheld (what the report held
        back: counts and reasons per figure).  Nothing of any other account:
        every frame is checked with :func:`helpers.data.privacy.assert_single_account`.

    Raises
    ------
    ValueError
        Unknown account or no answers from the account in ``wave``.

    Examples
    --------
    >>> data = account_report_data("A001", "2026Q3")          # doctest: +SKIP
    >>> data["headline"]["summary"]                             # doctest: +SKIP
    'Client NPS is 0 (95% CI −41 to +41, n = 10), ...'
    """
    account = load_account(account_id, wave, store=store, language=language, min_group_size=min_group_size,
                           min_comment_group_size=min_comment_group_size, min_client_group_size=min_client_group_size,
                           min_reliable_n=min_reliable_n)
    gaps = gaps_section(account)
    voice = comments_section(account)
    overall = overall_scores(account)
    head = headline(account, gaps=gaps, voice=voice, overall=overall)
    data = {
        "account_id": account.account_id, "wave": account.wave, "language": language, "name": account.name,
        "headline": head,
        "view_360": view_360(account),
        "overall": overall,
        "client_groups": client_groups(account),
        "gaps": gaps,
        "trend": trend_section(account),
        "benchmark": benchmark_section(account),
        "comments": voice,
        "detractors": voice["detractors"],
        "next_meeting": next_meeting(account, gaps=gaps),
        "followups": loop_section(account),
        "notes": head["notes"],
        "methods": methods_note(account),
    }
    data["withheld"] = account.audit.summary()
    _assert_isolated(data, account.account_id)
    return data


def _assert_isolated(obj: Any, account_id: str) -> None:
    """Check every frame in a (nested) report dict with :func:`assert_single_account`."""
    if isinstance(obj, pd.DataFrame):
        assert_single_account(obj, account_id)
    elif isinstance(obj, dict):
        for v in obj.values():
            _assert_isolated(v, account_id)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _assert_isolated(v, account_id)
