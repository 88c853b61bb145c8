"""Everything the portfolio page shows for one wave, computed once: :func:`portfolio_setup` → :class:`Portfolio`.

Takes the store, the wave, the page's language and the thresholds; loads
accounts, responses and answers up to the wave, applies the disclosure rules
(:mod:`helpers.data.disclosure`) and runs the comparisons of
:mod:`helpers.stats.comparisons`, the at-risk list (:mod:`.risk`) and the
celebrate list (:mod:`.celebrations`) — the same calls, with the same
arguments, the page made cell by cell before.  Hands on a :class:`Portfolio`
that the page's sections (:mod:`.sections`, :mod:`.appendix`) turn into
words, tables and charts.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.words import check_language

from .loop import PortfolioLoop, loop_setup

__all__ = ["Portfolio", "portfolio_setup"]


@dataclass
class Portfolio:
    """One wave of the portfolio: the data, the comparisons and the lists, as tidy frames.

    Attributes
    ----------
    wave, previous : str
        The wave reported on and the one before it (None in the first wave).
    waves : list of str
        The store's waves up to ``wave``, oldest first.
    language : str
        The page's language.
    k_client, k_team : int
        Fewest client / team answers behind a figure.
    accounts : DataFrame
        The account master (account_id, name, status, renewal_date, …).
    responses, respondent : DataFrame
        Responses (NPS) and respondent dimension scores of ``waves``.
    withheld : DataFrame
        Results the reports may not publish (account_id, side, wave, dimension).
    heat, gaps, account_nps, trend, changes : DataFrame
        :func:`dimension_heatmap` (client), :func:`gap_map`,
        :func:`nps_vs_portfolio` (client), :func:`nps_trend` and the
        published client NPS changes since ``previous``
        (:func:`nps_change_tests`, only rows whose two NPS are shown).
    signs : DataFrame
        :func:`.risk.warning_signs` with the clear NPS falls.
    at_risk : DataFrame
        :func:`.risk.accounts_at_risk`, ordered by the rule or the model.
    cv : DataFrame
        :func:`helpers.stats.validation.retention_cv` of the churn model.
    rank_by_model : bool
        Whether the churn model ranks the list; ``ranking_note`` says why.
    cheers, evidence : DataFrame
        :func:`.celebrations.celebrate` by account (the short list) and one row
        per piece of evidence.
    n_client, n_staff : int
        Client and team answers in ``wave``.
    loop : PortfolioLoop, optional
        The follow-up loop of the wave (:func:`.loop.loop_setup`).
    """

    wave: str
    previous: str | None
    waves: list[str]
    language: str
    instrument: Instrument
    k_client: int
    k_team: int
    min_group_size: int
    min_client_group_size: int
    store: str | None
    accounts: pd.DataFrame
    responses: pd.DataFrame
    respondent: pd.DataFrame
    withheld: pd.DataFrame
    heat: pd.DataFrame
    gaps: pd.DataFrame
    account_nps: pd.DataFrame
    trend: pd.DataFrame
    changes: pd.DataFrame
    current: pd.DataFrame
    signs: pd.DataFrame
    table: pd.DataFrame
    at_risk: pd.DataFrame
    cv: pd.DataFrame
    rank_by_model: bool
    ranking_note: str
    cheers: pd.DataFrame
    evidence: pd.DataFrame
    n_client: int = 0
    n_staff: int = 0
    names: dict[str, str] = field(default_factory=dict)
    loop: PortfolioLoop | None = None

    def name(self, account_id: str) -> str:
        """The account's name (its id when the master has none)."""
        return self.names.get(account_id) or str(account_id)


def portfolio_setup(
    *,
    wave: str,
    store: str | None = None,
    language: str = "en",
    min_group_size: int = 5,
    min_client_group_size: int = 5,
    instrument: str | Instrument | None = None,
) -> Portfolio:
    """Load one wave and compute everything the portfolio page shows.

    Parameters
    ----------
    wave : str
        The wave to report on; it must be in the store.
    store : path, optional
        The store file (default :func:`helpers.data.store.default_store`).
    language : str
        The page's language, "en" or "fi".
    min_group_size, min_client_group_size : int
        The team and client thresholds (:class:`helpers.data.disclosure.Thresholds`).
    instrument : path or Instrument, optional

    Returns
    -------
    Portfolio

    Raises
    ------
    ValueError
        An unknown language, or a wave that is not in the store (the message
        lists the waves it has).
    """
    from helpers.data import disclosure, store as st
    from helpers.stats import comparisons, model_data, scores, validation
    from helpers.stats.diagnostics import ModelWarning

    from . import celebrations, risk

    check_language(language)
    inst = load_instrument(instrument)
    all_waves = st.waves(store=store)
    if wave not in all_waves:
        raise ValueError(f"Wave {wave!r} is not in the store; it has {all_waves}.")
    waves = all_waves[: all_waves.index(wave) + 1]
    previous = waves[-2] if len(waves) > 1 else None
    accounts = st.load_accounts(store=store)
    responses = st.load_responses(wave=waves, store=store)
    answers = st.load_answers(wave=waves, store=store)
    respondent = scores.respondent_scores(answers, instrument=inst)
    now = respondent[respondent["wave"] == wave]
    thresholds = disclosure.Thresholds(team=min_group_size, client=min_client_group_size)
    k_client, k_team = thresholds.figure_min("client"), thresholds.figure_min("staff")
    decisions = disclosure.publication(responses, respondent, thresholds=thresholds, waves=waves)
    withheld = disclosure.withheld(decisions)
    client_held = withheld[withheld["side"] == "client"]
    with warnings.catch_warnings():
        # model warnings are collected in attrs and listed in the appendix
        warnings.simplefilter("ignore", ModelWarning)
        warnings.simplefilter("ignore", risk.PortfolioWarning)
        heat = comparisons.dimension_heatmap(now, min_group_size=k_client, withheld=client_held, instrument=inst)
        gaps = comparisons.gap_map(now, min_group_size=k_team, min_client_group_size=k_client, withheld=withheld,
                                   instrument=inst)
        in_wave = responses[responses["wave"] == wave]
        account_nps = comparisons.nps_vs_portfolio(in_wave, min_group_size=k_client,
                                                   withheld=client_held[client_held["dimension"] == "nps"])
        trend = comparisons.nps_trend(responses)
        current = risk.current_nps(account_nps, responses, wave=wave, previous=previous, withheld=withheld)
        changes = _published_changes(responses, current, wave=wave, previous=previous)
        signs = risk.warning_signs(heat, gaps, account_nps, changes=changes, previous=previous, language=language,
                                   instrument=inst)
        table = model_data.account_table(answers, responses, accounts, min_group_size=min_group_size,
                                         instrument=inst)
        signals = risk.risk_signals(heat, gaps, account_nps, language=language, instrument=inst)
        cv = validation.retention_cv(table, instrument=inst)
        rank_by_model, ranking_note = risk.ranking_decision(cv, language=language)
        at_risk = risk.accounts_at_risk(table, signals=signals, current=current, rank_by_model=rank_by_model,
                                        language=language, instrument=inst)
        needing = signs[signs["account_id"].isin(at_risk["account_id"])]
        flagged = needing.groupby("account_id")["text"].agg("; ".join).rename("signals").reset_index()
        celebrate = {"scores": respondent, "responses": responses, "wave": wave, "previous": previous,
                     "accounts": accounts, "language": language, "withheld": client_held, "min_n": k_client,
                     "instrument": inst}
        cheers = celebrations.celebrate(**celebrate, by_account=True, top=5, at_risk=flagged)
        evidence = celebrations.celebrate(**celebrate)
    names = _names(accounts)
    loop = loop_setup(store=store, wave=wave, waves=waves, responses=responses, names=names, language=language,
                      k=k_client)
    return Portfolio(
        wave=wave, previous=previous, waves=waves, language=language, instrument=inst, k_client=k_client,
        k_team=k_team, min_group_size=min_group_size, min_client_group_size=min_client_group_size, store=store,
        accounts=accounts, responses=responses, respondent=respondent, withheld=withheld, heat=heat, gaps=gaps,
        account_nps=account_nps, trend=trend, changes=changes, current=current, signs=signs, table=table,
        at_risk=at_risk, cv=cv, rank_by_model=rank_by_model, ranking_note=ranking_note, cheers=cheers,
        evidence=evidence, n_client=int((in_wave["side"] == "client").sum()),
        n_staff=int((in_wave["side"] == "staff").sum()),
        names=names, loop=loop)


def _names(accounts: pd.DataFrame) -> dict[str, str]:
    """Account id → name; a name two accounts share carries its id, so no row of a chart is ambiguous."""
    named = accounts.dropna(subset=["name"])
    shared = set(named.loc[named["name"].duplicated(keep=False), "name"])
    return {str(a): (f"{n} ({a})" if n in shared else str(n)) for a, n in zip(named["account_id"], named["name"])}


def _published_changes(responses: pd.DataFrame, current: pd.DataFrame, *, wave: str,
                       previous: str | None) -> pd.DataFrame:
    """The client NPS changes since ``previous`` whose two NPS may both be shown (see :func:`.risk.current_nps`)."""
    from helpers.stats.comparisons import nps_change_tests

    if previous is None:
        return pd.DataFrame(columns=["account_id", "n_from", "nps_from", "n_to", "nps_to", "change", "ci_low",
                                     "ci_high", "p_val", "p_fdr", "significant"])
    ch = nps_change_tests(responses, wave_from=previous, wave_to=wave, account="account_id", score="nps",
                          side="client", ci=0.95, alpha=0.05)
    shown = current.loc[current["nps_change"].notna(), "account_id"]
    return ch[ch["account_id"].isin(shown)].reset_index(drop=True)
