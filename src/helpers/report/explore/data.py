"""The explore notebook's data: the store read once, one wave's portfolio figures, one account's view.

:class:`Explorer` reads the account master and the wave list once, and per
wave (cached) every account's answers up to that wave with the reports'
publication decisions (:func:`helpers.data.disclosure.publication`): a figure
the reports would not show is blank here too.  One account's client-vs-team
view comes from the account report's own builders
(:mod:`helpers.report.account`), so the notebook shows what the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from helpers.data import disclosure, store as st
from helpers.data.instrument import Instrument, load_instrument
from helpers.report import account as ar
from helpers.stats import comparisons
from helpers.stats.scores import respondent_scores
from helpers.words import check_language

from .selection import (GIVEN, Selection, check_choice, choose_account, filter_accounts, owner_choices,
                        segment_choices)

__all__ = ["Explorer", "WaveData", "AccountView"]


@dataclass(frozen=True)
class WaveData:
    """Every account's figures of one wave, blanked where the reports would not show them.

    Attributes
    ----------
    wave, waves, previous
        The wave, every wave up to it (oldest first) and the one before it (or None).
    responses, answers, scores : DataFrame
        Responses, item answers and respondent dimension scores of ``waves``, every account.
    decisions : DataFrame
        :func:`helpers.data.disclosure.publication`: which account × side × measure × wave results a page shows.
    account_nps : DataFrame
        :func:`helpers.stats.comparisons.nps_vs_portfolio` of the wave: each account's client NPS against the
        rest of the portfolio, blank (``suppressed``) where a report would not show it.
    heat : DataFrame
        :func:`helpers.stats.comparisons.dimension_heatmap` of the wave's client scores, likewise.
    counts : DataFrame
        account_id, n_client, n_staff: answers in the wave (counts are shown even where results are not).
    """

    wave: str
    waves: tuple[str, ...]
    previous: str | None
    responses: pd.DataFrame = field(repr=False)
    answers: pd.DataFrame = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    decisions: pd.DataFrame = field(repr=False)
    account_nps: pd.DataFrame = field(repr=False)
    heat: pd.DataFrame = field(repr=False)
    counts: pd.DataFrame = field(repr=False)

    @property
    def answering(self) -> list[str]:
        """Accounts with at least one answer in the wave."""
        c = self.counts
        return sorted(c.loc[(c["n_client"] + c["n_staff"]) > 0, "account_id"].astype(str))


@dataclass(frozen=True)
class AccountView:
    """One account's report data for the explore notebook (from :mod:`helpers.report.account`)."""

    account: Any = field(repr=False)  # helpers.report.account.AccountData
    view: pd.DataFrame = field(repr=False)
    gaps: pd.DataFrame = field(repr=False)
    headline: dict = field(repr=False)


class Explorer:
    """The store, read for the explore notebook, with the reports' thresholds.

    Parameters
    ----------
    store : path, optional
        The store file (default :func:`helpers.data.store.default_store`).
    language : {"en", "fi"}
        Language of every text the views show.
    thresholds : Thresholds, optional
        The reports' thresholds (:class:`helpers.data.disclosure.Thresholds`; default 5 team, 5 client answers).
    instrument : path or Instrument, optional

    Examples
    --------
    >>> explorer = Explorer(store="data/flamekit.duckdb")                    # doctest: +SKIP
    >>> explorer.select(segment="Energy").account_id                        # doctest: +SKIP
    'A008'
    """

    def __init__(self, *, store: str | Path | None = None, language: str = "en",
                 thresholds: disclosure.Thresholds | None = None, instrument: str | Instrument | None = None):
        self.store = Path(store) if store not in (None, "") else None
        self.language = check_language(language)
        self.thresholds = thresholds or disclosure.Thresholds()
        self.instrument = load_instrument(instrument)
        self.accounts = st.load_accounts(store=self.store)
        self.waves = st.waves(store=self.store)
        if not self.waves:
            raise ValueError(f"The store {self.store or st.default_store()} has no survey answers yet: ingest a "
                             "wave first (flamekit ingest …, or make demo for the sample).")
        self._waves: dict[str, WaveData] = {}
        self._accounts: dict[tuple[str, str], AccountView] = {}

    # -- data ----------------------------------------------------------------------------------------
    def wave_data(self, wave: str) -> WaveData:
        """Every account's figures of ``wave`` (read once, then cached)."""
        wave = check_choice(wave, self.waves, name="wave") or self.waves[-1]
        if wave not in self._waves:
            self._waves[wave] = self._load_wave(wave)
        return self._waves[wave]

    def _load_wave(self, wave: str) -> WaveData:
        waves = tuple(self.waves[: self.waves.index(wave) + 1])
        responses = st.load_responses(wave=list(waves), store=self.store)
        answers = st.load_answers(wave=list(waves), store=self.store)
        scores = respondent_scores(answers, instrument=self.instrument)
        decisions = disclosure.publication(responses, scores, thresholds=self.thresholds, waves=waves)
        held = disclosure.withheld(decisions)
        client_held = held[held["side"] == "client"]
        now = responses[responses["wave"] == wave]
        account_nps = comparisons.nps_vs_portfolio(now, min_group_size=self.thresholds.figure_min("client"),
                                                   withheld=client_held[client_held["dimension"] == "nps"])
        heat = comparisons.dimension_heatmap(scores[scores["wave"] == wave],
                                             min_group_size=self.thresholds.figure_min("client"),
                                             withheld=client_held, instrument=self.instrument)
        counts = (now.groupby(["account_id", "side"]).size().unstack("side")
                  .reindex(columns=["client", "staff"]).fillna(0).astype("int64")
                  .rename(columns={"client": "n_client", "staff": "n_staff"}))
        counts = counts.reindex(self.accounts["account_id"].astype(str), fill_value=0)
        counts = counts.rename_axis("account_id").reset_index()
        return WaveData(wave=wave, waves=waves, previous=waves[-2] if len(waves) > 1 else None,
                        responses=responses, answers=answers, scores=scores, decisions=decisions,
                        account_nps=account_nps, heat=heat, counts=counts)

    def account_view(self, account_id: str, wave: str) -> AccountView:
        """One account's client-vs-team view in ``wave``, built by the account report's own functions (cached)."""
        key = (str(account_id), str(wave))
        if key not in self._accounts:
            t = self.thresholds
            data = ar.load_account(key[0], key[1], store=self.store, language=self.language,
                                   min_group_size=t.team, min_client_group_size=t.client,
                                   min_comment_group_size=t.comments, min_reliable_n=t.reliable)
            gaps = ar.gaps_section(data)
            self._accounts[key] = AccountView(account=data, view=ar.view_360(data), gaps=gaps,
                                              headline=ar.headline(data, gaps=gaps))
        return self._accounts[key]

    def name(self, account_id: str) -> str:
        """The account's name."""
        hit = self.accounts.loc[self.accounts["account_id"] == account_id, "name"]
        return str(hit.iloc[0]) if len(hit) else str(account_id)

    # -- choosing ------------------------------------------------------------------------------------
    def select(self, *, wave: str = "", segment: str = "", owner: str = "", account_id: str = "") -> Selection:
        """Check a drill-down and resolve its defaults.

        Parameters
        ----------
        wave : str
            "" = the latest wave.
        segment, owner : str
            "" = every segment / owner.
        account_id : str
            "" = the selection's account with the lowest client NPS shown in the wave (the first by name when
            none is shown).

        Returns
        -------
        Selection

        Raises
        ------
        ValueError
            An unknown wave, segment, owner or account (the message lists the choices), a segment and owner with
            no account in common, or an account outside the selection or without answers in the wave.
        """
        acc = self.accounts
        wave = check_choice(wave, self.waves, name="wave") or self.waves[-1]
        segment = check_choice(segment, segment_choices(acc), name="segment")
        owner = check_choice(owner, owner_choices(acc), name="owner")
        if segment and owner:
            check_choice(owner, owner_choices(acc, segment=segment), name="owner",
                         where=f"an owner of any account in segment {segment!r}")
        chosen = filter_accounts(acc, segment=segment, owner=owner)
        ids = tuple(chosen["account_id"].astype(str))
        data = self.wave_data(wave)
        answering = [a for a in ids if a in set(data.answering)]
        if account_id:
            check_choice(account_id, list(acc["account_id"].astype(str)), name="account_id")
            check_choice(account_id, list(ids), name="account_id", where="in the selection (segment "
                         f"{segment or 'any'}, owner {owner or 'any'})")
            check_choice(account_id, answering, name="account_id",
                         where=f"an account of the selection with answers in {wave}")
            return Selection(wave=wave, segment=segment, owner=owner, accounts=ids, account_id=account_id,
                             account_why=GIVEN)
        chosen_id, why = choose_account(answering, data.account_nps, names=acc)
        return Selection(wave=wave, segment=segment, owner=owner, accounts=ids, account_id=chosen_id,
                         account_why=why)

    def thresholds_parameters(self) -> dict[str, int]:
        """The thresholds as the report notebooks' parameters (for rendering a report with the same ones)."""
        t = self.thresholds
        return {"min_group_size": t.team, "min_client_group_size": t.client, "min_comment_group_size": t.comments}
