"""What the pages that show the follow-up loop share: the small-group rule and the loop's dates and intervals.

Takes the tidy frames of :func:`helpers.stats.loop.loop_summary` and hands on
the same frames with the rates blanked where the group is too small
(:func:`counts_only`), and the few pieces of text every loop section prints
the same way: a share's interval (:func:`percent_interval`) and the date
"open" and "overdue" refer to (:func:`as_of_date`).  The portfolio's
"Closing the loop" (:mod:`helpers.report.portfolio.loop`) and the account
report's "Follow-ups" (:mod:`helpers.report.account.loop`) both use them, so
a group shows the same figures on both pages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.report.formatting import MISSING, date, percent

__all__ = ["RATES", "counts_only", "percent_interval", "as_of_date"]

#: Columns of a group's statistics that need at least the threshold of items behind them.
RATES = ("share_in_sla", "ci_low", "ci_high", "median_hours_to_contact")


def counts_only(summary: pd.DataFrame, *, k: int) -> pd.DataFrame:
    """``summary`` with the share, its interval and the median blanked in groups of fewer than ``k`` items.

    A share needs ``k`` items whose SLA can be judged (``n_due``) and a
    median ``k`` timed contacts (``n_timed``) too; the counts always stay.

    Examples
    --------
    >>> s = pd.DataFrame({"n_items": [3, 9], "n_due": [3, 9], "n_timed": [2, 6], "share_in_sla": [1.0, 0.5],
    ...                   "ci_low": [0.4, 0.2], "ci_high": [1.0, 0.8], "median_hours_to_contact": [5.0, 20.0]})
    >>> counts_only(s, k=5)[["n_items", "share_in_sla", "median_hours_to_contact"]].values.tolist()
    [[3.0, nan, nan], [9.0, 0.5, 20.0]]
    """
    out = summary.copy()
    small = out["n_items"] < k
    out.loc[small | (out["n_due"] < k), ["share_in_sla", "ci_low", "ci_high"]] = np.nan
    out.loc[small | (out["n_timed"] < k), "median_hours_to_contact"] = np.nan
    return out


def percent_interval(lo: float, hi: float, language: str) -> str:
    """A share's interval for a sentence: "14% to 22%" / "14 %…22 %" ("–" when either end is missing)."""
    if pd.isna(lo) or pd.isna(hi):
        return MISSING
    a, b = percent(lo, language), percent(hi, language)
    return f"{a}…{b}" if language == "fi" else f"{a} to {b}"


def as_of_date(as_of: pd.Timestamp, timezone: str, language: str) -> str:
    """The date "open" and "overdue" refer to: ``as_of`` (naive UTC) as a local date in ``timezone``."""
    from helpers.data.clock import to_local

    return date(to_local(pd.Series([as_of]), timezone).iloc[0], language)
