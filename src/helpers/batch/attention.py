"""What the index shows about each account beyond its own report: owner, segment, renewal, and "at risk".

Takes the store, the wave and the batch's thresholds; hands on
:class:`FrontPageFacts` — plain values the index page reads
(:mod:`helpers.batch.index`):

- the store's accounts table: owner, segment, renewal date and status;
- the accounts at risk by the portfolio page's rule
  (:func:`helpers.report.portfolio.accounts_at_risk` with
  :func:`~helpers.report.portfolio.risk_signals`): an account whose renewal is
  still open (status *active*) with at least one warning signal that needs no
  model — a dimension or the client NPS clearly below the rest of the
  portfolio, or a clear blind spot, each after the portfolio's corrections
  and from groups the privacy thresholds let the portfolio page show.

The batch starts this beside the reports (:func:`start_front_page_facts`):
it reads the whole wave, a few seconds of work that would otherwise wait
for the last report.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["FrontPageFacts", "front_page_facts", "start_front_page_facts"]


@dataclass
class FrontPageFacts:
    """What the index needs from the store, for one wave.

    Attributes
    ----------
    accounts : dict
        account_id → {"owner", "segment", "renewal_date" (ISO date or None),
        "status" ("active", "renewed", "churned" or None)}.
    at_risk : set of str, optional
        Ids of the accounts at risk; None when it could not be worked out
        (the index then shows no at-risk flag and says nothing about it).
    note : str, optional
        Why ``at_risk`` (or ``accounts``) is missing, for the manifest.
    min_client : int
        Client answers a figure needs (:meth:`helpers.data.disclosure.Thresholds.figure_min`):
        below it an account has "few answers" when its report does not say.
    seconds : float
        Time taken.
    """

    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    at_risk: set[str] | None = None
    note: str | None = None
    min_client: int = 5
    seconds: float = 0.0


def front_page_facts(store: str | Path, wave: str, *, parameters: Mapping[str, Any] | None = None) -> FrontPageFacts:
    """Owner, segment, renewal and status of every account, and which are at risk in ``wave``.

    Parameters
    ----------
    store : path
        The store.
    wave : str
        The wave of the index.
    parameters : mapping, optional
        The batch's further parameters: ``min_group_size`` (team) and
        ``min_client_group_size`` (client) thresholds when given, else the
        defaults of :class:`helpers.data.disclosure.Thresholds` — the ones the
        portfolio page uses.

    Returns
    -------
    FrontPageFacts
        Never raises for the data: what cannot be worked out is left out and
        said in ``note``.

    Notes
    -----
    "At risk" is the portfolio page's list (:func:`helpers.report.portfolio.accounts_at_risk`,
    active accounts only) narrowed to the accounts with at least one warning
    signal (:func:`helpers.report.portfolio.risk_signals`).  The churn model's
    probability never decides the flag: it ranks the portfolio's list only
    when it beats NPS alone out of sample, and the index has its own order.
    """
    from helpers.data.disclosure import Thresholds

    t0 = time.perf_counter()
    params = dict(parameters or {})
    defaults = Thresholds()
    thresholds = Thresholds(team=int(params.get("min_group_size", defaults.team)),
                            client=int(params.get("min_client_group_size", defaults.client)))
    facts = FrontPageFacts(min_client=thresholds.figure_min("client"))
    notes = []
    try:
        facts.accounts = _account_facts(store)
    except Exception as exc:  # an index without owners is still an index
        notes.append(f"accounts: {type(exc).__name__}: {exc}")
    try:
        facts.at_risk = _at_risk(store, str(wave), thresholds)
    except Exception as exc:
        notes.append(f"at risk: {type(exc).__name__}: {exc}")
    facts.note = "; ".join(notes) or None
    facts.seconds = round(time.perf_counter() - t0, 3)
    return facts


def start_front_page_facts(store: str | Path, wave: str, *,
                           parameters: Mapping[str, Any] | None = None) -> Future[FrontPageFacts]:
    """:func:`front_page_facts` in a thread of its own; ``.result()`` waits for it."""
    ex = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flamekit-front-page")
    try:
        return ex.submit(front_page_facts, store, wave, parameters=parameters)
    finally:
        ex.shutdown(wait=False)


def _iso(value: Any) -> str | None:
    """A date as ``YYYY-MM-DD`` (None when missing)."""
    import pandas as pd

    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    try:
        return pd.Timestamp(value).date().isoformat()
    except (ValueError, TypeError):
        return None


def _account_facts(store: str | Path) -> dict[str, dict[str, Any]]:
    """The store's accounts table as account_id → owner, segment, renewal_date (ISO), status."""
    from helpers.data.store import load_accounts

    acc = load_accounts(store=store)
    out = {}
    for row in acc.itertuples(index=False):
        out[str(row.account_id)] = {
            "owner": None if _blank(row.owner) else str(row.owner),
            "segment": None if _blank(row.segment) else str(row.segment),
            "renewal_date": _iso(row.renewal_date),
            "status": None if _blank(row.status) else str(row.status),
        }
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value) or str(value).strip() == ""


def _at_risk(store: str | Path, wave: str, thresholds: Any) -> set[str]:
    """The ids of the active accounts with at least one warning signal, as the portfolio page finds them."""
    from helpers.data import disclosure
    from helpers.data import store as st
    from helpers.data.instrument import load_instrument
    from helpers.report import portfolio as pf
    from helpers.stats import comparisons, model_data, scores

    instrument = load_instrument()
    all_waves = st.waves(store=store)
    waves = all_waves[: all_waves.index(wave) + 1]
    previous = waves[-2] if len(waves) > 1 else None
    accounts = st.load_accounts(store=store)
    responses = st.load_responses(wave=waves, store=store)
    answers = st.load_answers(wave=waves, store=store)
    respondent = scores.respondent_scores(answers, instrument=instrument)
    now = respondent[respondent["wave"] == wave]
    k_client, k_team = thresholds.figure_min("client"), thresholds.figure_min("staff")
    withheld = disclosure.withheld(disclosure.publication(responses, respondent, thresholds=thresholds, waves=waves))
    client_withheld = withheld[withheld["side"] == "client"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the portfolio page lists these caveats; the flag needs none of them
        heat = comparisons.dimension_heatmap(now, min_group_size=k_client, withheld=client_withheld,
                                             instrument=instrument)
        gaps = comparisons.gap_map(now, min_group_size=k_team, min_client_group_size=k_client, withheld=withheld,
                                   instrument=instrument)
        account_nps = comparisons.nps_vs_portfolio(responses[responses["wave"] == wave], min_group_size=k_client,
                                                   withheld=client_withheld[client_withheld["dimension"] == "nps"])
        table = model_data.account_table(answers, responses, accounts, min_group_size=thresholds.team,
                                         instrument=instrument)
        signals = pf.risk_signals(heat, gaps, account_nps, instrument=instrument)
        current = pf.current_nps(account_nps, responses, wave=wave, previous=previous, withheld=withheld)
        listed = pf.accounts_at_risk(table, signals=signals, current=current, rank_by_model=False,
                                     instrument=instrument)
    return {str(a) for a in listed.loc[listed["n_signals"] > 0, "account_id"]}
