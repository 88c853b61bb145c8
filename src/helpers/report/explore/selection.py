"""Which accounts a drill-down looks at: a segment, an owner, one account, one wave.

Plain functions on the account master (:func:`helpers.data.store.load_accounts`)
that both the notebook's parameters and its controls use, so a papermill run
and a click in JupyterLab choose the same accounts the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

__all__ = ["Selection", "filter_accounts", "segment_choices", "owner_choices", "account_choices",
           "check_choice", "choose_account", "LOWEST_NPS", "GIVEN", "FIRST_BY_NAME", "NONE"]

#: Why an account is the chosen one (:attr:`Selection.account_why`).
GIVEN = "given"
LOWEST_NPS = "lowest_nps"
FIRST_BY_NAME = "first_by_name"
NONE = "none"


@dataclass(frozen=True)
class Selection:
    """What the explore notebook looks at.

    Attributes
    ----------
    wave : str
        The survey wave.
    segment, owner : str
        The filters; "" means every segment / every owner.
    accounts : tuple of str
        Ids of the accounts the filters keep (every account when there are none), in name order.
    account_id : str or None
        The account looked at closely; None when no account of the selection answered in the wave.
    account_why : str
        Why that account: :data:`GIVEN` (a parameter or a control), :data:`LOWEST_NPS` (the selection's lowest
        client NPS shown), :data:`FIRST_BY_NAME` (no NPS shown: the first answering account by name) or
        :data:`NONE`.
    """

    wave: str
    segment: str = ""
    owner: str = ""
    accounts: tuple[str, ...] = field(default=())
    account_id: str | None = None
    account_why: str = NONE

    @property
    def filtered(self) -> bool:
        """Whether a segment or an owner narrows the portfolio."""
        return bool(self.segment or self.owner)


def _values(series: pd.Series) -> list[str]:
    return sorted({str(v) for v in series.dropna() if str(v).strip()}, key=str.casefold)


def segment_choices(accounts: pd.DataFrame) -> list[str]:
    """The segments of the portfolio, alphabetically."""
    return _values(accounts["segment"])


def owner_choices(accounts: pd.DataFrame, *, segment: str = "") -> list[str]:
    """The account owners (of ``segment`` when given), alphabetically."""
    return _values(filter_accounts(accounts, segment=segment)["owner"])


def filter_accounts(accounts: pd.DataFrame, *, segment: str = "", owner: str = "") -> pd.DataFrame:
    """The accounts of ``segment`` owned by ``owner`` ("" keeps all), sorted by name.

    Examples
    --------
    >>> acc = pd.DataFrame({"account_id": ["A2", "A1", "A3"], "name": ["Beta", "Alfa", "Gamma"],
    ...                     "segment": ["Energy", "Energy", "Retail"], "owner": ["Aino", "Jussi", "Aino"]})
    >>> filter_accounts(acc, segment="Energy")["account_id"].tolist()
    ['A1', 'A2']
    >>> filter_accounts(acc, owner="Aino")["account_id"].tolist()
    ['A2', 'A3']
    """
    keep = pd.Series(True, index=accounts.index)
    if segment:
        keep &= accounts["segment"].astype(str) == segment
    if owner:
        keep &= accounts["owner"].astype(str) == owner
    out = accounts[keep]
    return out.sort_values(["name", "account_id"], key=lambda s: s.astype(str).str.casefold(),
                           kind="mergesort").reset_index(drop=True)


def account_choices(accounts: pd.DataFrame, *, answering: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(label, account id) of each account, by name: "Pohjolan Energia (A001)"; only ``answering`` ones when given."""
    keep = accounts if answering is None else accounts[accounts["account_id"].isin(set(answering))]
    keep = filter_accounts(keep)
    return [(f"{n} ({a})", str(a)) for a, n in zip(keep["account_id"], keep["name"])]


def _listed(choices: Sequence[str], most: int = 12) -> str:
    shown = ", ".join(repr(c) for c in choices[:most])
    return shown + (f" and {len(choices) - most} more" if len(choices) > most else "") if choices else "none"


def check_choice(value: str, choices: Sequence[str], *, name: str, where: str = "") -> str:
    """``value`` when it is one of ``choices`` (or ""); else a ValueError naming it and listing the choices.

    Examples
    --------
    >>> check_choice("Energy", ["Energy", "Retail"], name="segment")
    'Energy'
    >>> check_choice("Energi", ["Energy", "Retail"], name="segment")
    Traceback (most recent call last):
    ...
    ValueError: segment 'Energi' is not in the store; choose one of 'Energy', 'Retail' (or "" for all).
    """
    value = "" if value is None else str(value)
    if value and value not in choices:
        raise ValueError(f"{name} {value!r} is not {where or 'in the store'}; choose one of {_listed(list(choices))} "
                         '(or "" for all).')
    return value


def choose_account(candidates: Sequence[str], account_nps: pd.DataFrame, *, names: pd.DataFrame
                   ) -> tuple[str | None, str]:
    """The account to look at when none is given: the lowest client NPS shown, else the first by name.

    Parameters
    ----------
    candidates : sequence of str
        Ids of the selection's accounts with answers in the wave.
    account_nps : DataFrame
        account_id, nps — blank where the reports do not show it
        (:func:`helpers.stats.comparisons.nps_vs_portfolio`).
    names : DataFrame
        account_id, name.

    Returns
    -------
    (str or None, str)
        The account id and why (:data:`LOWEST_NPS`, :data:`FIRST_BY_NAME`, or None and :data:`NONE`).

    Examples
    --------
    >>> nps = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "nps": [10.0, -20.0, float("nan")]})
    >>> names = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "name": ["Alfa", "Beta", "Aaro"]})
    >>> choose_account(["A1", "A2", "A3"], nps, names=names)
    ('A2', 'lowest_nps')
    >>> choose_account(["A3", "A1"], nps.assign(nps=float("nan")), names=names)
    ('A3', 'first_by_name')
    """
    if not len(candidates):
        return None, NONE
    shown = account_nps[account_nps["account_id"].isin(set(candidates)) & account_nps["nps"].notna()]
    if len(shown):
        ranked = shown.merge(names[["account_id", "name"]], on="account_id", how="left")
        ranked = ranked.assign(_name=ranked["name"].astype(str).str.casefold()).sort_values(
            ["nps", "_name"], kind="mergesort")
        return str(ranked["account_id"].iloc[0]), LOWEST_NPS
    first = filter_accounts(names[names["account_id"].isin(set(candidates))])
    return str(first["account_id"].iloc[0]), FIRST_BY_NAME
