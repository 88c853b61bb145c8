"""Which accounts a chart draws: the ones that matter, at most :data:`MAX_ROWS`, however large the portfolio.

Takes one row per account with a score and a flag (a clear difference) and
hands on the accounts to draw, in the order to draw them.  A chart with a row
per account stops being read at a few dozen rows and weighs megabytes at a few
hundred; the full list stays in a table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

__all__ = ["MAX_ROWS", "chart_accounts", "account_summary"]

#: Most rows a chart of accounts draws.
MAX_ROWS = 25


def chart_accounts(
    data: pd.DataFrame,
    *,
    score: str,
    flagged: str | None = None,
    also: Iterable[str] = (),
    cap: int = MAX_ROWS,
    account: str = "account_id",
    ascending: bool = True,
) -> list[str]:
    """The accounts worth a row in a chart, at most ``cap``, in the order to draw them.

    Parameters
    ----------
    data : DataFrame
        One row per account: ``account`` and ``score`` (rows without a score
        are never drawn), and the boolean ``flagged``.
    score : str
        What the chart shows and sorts by (e.g. nps, or the account's mean
        difference from the rest of the portfolio).
    flagged : str, optional
        Accounts with a clear result: drawn first, the furthest from 0 first
        when they alone are more than ``cap``.
    also : iterable of str
        Accounts the page names elsewhere (needing attention, celebrated):
        drawn next, in the order given.
    cap : int
        Most rows.
    ascending : bool
        Draw order by ``score``: lowest first (True) or highest first.

    Returns
    -------
    list of str
        Account ids sorted by ``score`` (ties by id): the flagged accounts,
        then ``also``, then the extremes — lowest and highest in turn — until
        ``cap`` is reached.

    Examples
    --------
    >>> d = pd.DataFrame({"account_id": list("ABCDE"), "nps": [-50, 10, 0, 40, 90],
    ...                   "clear": [True, False, False, False, False]})
    >>> chart_accounts(d, score="nps", flagged="clear", cap=3)
    ['A', 'C', 'E']
    """
    d = data.dropna(subset=[score]).drop_duplicates(account)
    if cap <= 0 or d.empty:
        return []
    picked: list[str] = []

    def take(ids: Sequence[str]) -> None:
        for a in ids:
            if len(picked) >= cap:
                return
            if a not in picked:
                picked.append(a)

    if flagged is not None and flagged in d:
        clear = d[d[flagged].fillna(False).astype(bool)]
        take(list(clear.assign(_far=clear[score].abs()).sort_values(["_far", account], ascending=[False, True])[
            account]))
    present = set(d[account])
    take([a for a in also if a in present])
    by_score = list(d.sort_values([score, account])[account])
    take([a for pair in zip(by_score, reversed(by_score)) for a in pair])
    order = d.set_index(account).loc[picked, score]
    return list(order.reset_index().sort_values([score, account], ascending=[ascending, True])[account])


def account_summary(table: pd.DataFrame, *, value: str, significant: str = "significant",
                    account: str = "account_id", direction: str | None = None) -> pd.DataFrame:
    """One row per account of a tidy account × dimension frame: its mean and lowest ``value``, whether any is clear.

    Parameters
    ----------
    table : DataFrame
        :func:`dimension_heatmap` (``value`` = "diff") or :func:`gap_map`
        (``value`` = "gap").
    direction : str, optional
        Count only clear cells whose ``value`` is below 0 ("below") or above
        ("above"); default both.

    Returns
    -------
    DataFrame
        account_id, mean (of ``value`` over the shown cells), low (the lowest),
        clear (any significant cell), n_clear.  Accounts whose cells are all
        hidden have NaN mean and low.
    """
    sig = table[significant].fillna(False).astype(bool)
    if direction == "below":
        sig &= table[value] < 0
    elif direction == "above":
        sig &= table[value] > 0
    g = table.assign(_sig=sig).groupby(account, sort=True)
    return pd.DataFrame({account: list(g.groups), "mean": g[value].mean().to_numpy(),
                         "low": g[value].min().to_numpy(), "clear": g["_sig"].any().to_numpy(),
                         "n_clear": g["_sig"].sum().astype(int).to_numpy()})
