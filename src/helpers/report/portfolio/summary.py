"""The portfolio page's headline: accounts, answers and client NPS of the wave.
"""

from __future__ import annotations

import pandas as pd

from helpers.data.privacy import MIN_GROUP_SIZE
from helpers.stats.comparisons import require_waves, nps_trend

__all__ = [
    "headline",
]


# ---------------------------------------------------------------------------
# Headline
# ---------------------------------------------------------------------------
def headline(
    responses: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    wave: str,
    min_group_size: int = MIN_GROUP_SIZE,
    ci: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The portfolio in one table: accounts, respondents and client NPS in one wave.

    Parameters
    ----------
    responses : DataFrame
        One row per response (:func:`helpers.data.store.load_responses`): account_id,
        side, wave, nps.
    accounts : DataFrame
        The account master (:func:`helpers.data.store.load_accounts`) with ``status``.
    wave : str
        The wave to describe.
    min_group_size : int
        Anonymity threshold: counts the accounts whose team result can be shown.
    ci : float
        Confidence level of the NPS intervals.
    n_boot, seed : int
        Account-cluster bootstrap for the portfolio NPS (see :func:`nps_trend`;
        the interval equals that wave's in ``nps_trend`` with the same seed).

    Returns
    -------
    DataFrame
        measure, value, ci_low, ci_high, n, note — one row per headline number.

    Raises
    ------
    ValueError
        When ``wave`` has no responses (the message lists the waves present).

    Notes
    -----
    Portfolio NPS pools every client respondent of the wave (a large account
    weighs more).  The adjusted-Wald interval (Rocks 2016) treats respondents
    as independent; the account-cluster bootstrap interval also counts that
    respondents of one account answer alike and is the one to quote.

    Examples
    --------
    >>> r = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "side": "client", "wave": "2026Q3",
    ...                   "nps": [10, 9, 3, 8]})
    >>> acc = pd.DataFrame({"account_id": ["A", "B"], "status": ["active", "renewed"]})
    >>> headline(r, acc, wave="2026Q3", n_boot=0).set_index("measure").loc["client NPS (−100…100)", "value"]
    np.float64(25.0)
    """
    require_waves(responses, wave)
    r = responses[responses["wave"] == wave]
    client, staff = r[r["side"] == "client"], r[r["side"] == "staff"]
    status = accounts["status"].fillna("unknown").value_counts()
    trend = nps_trend(client, ci=ci, n_boot=n_boot, seed=seed)
    rows = [
        {"measure": "accounts in the portfolio", "value": float(len(accounts)), "n": len(accounts),
         "note": ", ".join(f"{k} {v}" for k, v in status.items())},
        {"measure": "accounts with client answers", "value": float(client["account_id"].nunique()),
         "n": len(accounts), "note": f"wave {wave}"},
        {"measure": "accounts with team answers", "value": float(staff["account_id"].nunique()),
         "n": len(accounts), "note": f"wave {wave}"},
        {"measure": f"accounts with ≥ {min_group_size} team answers",
         "value": float((staff.groupby("account_id").size() >= min_group_size).sum()), "n": len(accounts),
         "note": "only these show a team view"},
        {"measure": "client respondents", "value": float(len(client)), "n": len(client), "note": f"wave {wave}"},
        {"measure": "team respondents", "value": float(len(staff)), "n": len(staff), "note": f"wave {wave}"},
    ]
    if len(trend):
        t = trend.iloc[-1]
        rows.append({"measure": "client NPS (−100…100)", "value": t["nps"], "ci_low": t["cluster_low"],
                     "ci_high": t["cluster_high"], "n": int(t["n"]),
                     "note": f"{int(t['n_accounts'])} accounts; {ci:.0%} account-cluster bootstrap interval "
                             f"(adjusted Wald {t['ci_low']:+.0f} to {t['ci_high']:+.0f})"})
    out = pd.DataFrame(rows, columns=["measure", "value", "ci_low", "ci_high", "n", "note"])
    return out
