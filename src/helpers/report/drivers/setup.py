"""The drivers page's data: the outcome, whose ratings, the predictors and the table to fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.data.privacy import MIN_GROUP_SIZE
from helpers.report.formatting import count
from helpers.stats.diagnostics import collect_warnings
from helpers.words import check_language, say

__all__ = [
    "OUTCOMES",
    "SIDES",
    "DriverSetup",
    "driver_setup",
]


# ---------------------------------------------------------------------------
# What drives the outcome, across the portfolio (the drivers page)
# ---------------------------------------------------------------------------
OUTCOMES = ("nps", "retention")
SIDES = ("client", "staff", "both")


@dataclass(frozen=True)
class DriverSetup:
    """What the drivers page explains, with what, at which level (see :func:`driver_setup`)."""

    data: pd.DataFrame
    outcome: str
    predictors: list[str]
    level: str
    kind: str
    side: str
    cluster: str | None
    table: pd.DataFrame
    description: str
    notes: list[str] = field(default_factory=list)


def driver_setup(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    outcome: str = "nps",
    side: str = "client",
    min_group_size: int = MIN_GROUP_SIZE,
    instrument: str | Instrument | None = None,
    language: str = "en",
) -> DriverSetup:
    """Assemble the data, outcome and predictors of a driver analysis.

    Parameters
    ----------
    answers, responses, accounts : DataFrame
        From :mod:`helpers.data.store` for the waves to analyse (both sides).
    outcome : {"nps", "retention"}
        ``nps``: respondents' 0–10 NPS answers (one row per response).
        ``retention``: churned (1) vs renewed (0), one row per account with a
        known outcome.
    side : {"client", "staff", "both"}
        Whose dimension ratings explain the outcome:

        ========  =======================================  ===========================================
        side      outcome = nps                            outcome = retention
        ========  =======================================  ===========================================
        client    client NPS on the client's own scores    churn on the account's client means
        staff     the team's NPS ("recommend working with  churn on the account's team means
                  this client") on the team's own scores
        both      client NPS on the client's own scores    churn on client means and the
                  and the account team's means             client − team gaps
        ========  =======================================  ===========================================
    min_group_size : int
        Team means from fewer team answers (pooled over the waves) are
        blanked by :func:`helpers.stats.model_data.account_table`; rows that need them
        are left out and counted.
    instrument : path or Instrument, optional
    language : {"en", "fi"}
        Language of ``description`` (the catalogue's ``drivers.setup.*``);
        ``notes`` stay the models' English sentences, which
        :mod:`helpers.report.drivers.notes` puts into a page's language.

    Returns
    -------
    DriverSetup
        ``data`` (the rows a model uses, incomplete rows included — models
        count what they drop), ``outcome`` (column), ``predictors``,
        ``level`` ("respondent"/"account"), ``kind`` (the outcome parameter),
        ``side``, ``cluster`` (``account_id`` for respondent-level data),
        ``table`` (the full account table, active accounts included, for
        the retention models, congruence and the baseline comparison),
        ``description`` (one sentence) and ``notes``.

    Raises
    ------
    ValueError
        For an unknown ``outcome`` or ``side``.

    Notes
    -----
    Account means pool every wave given (each respondent weighs the same),
    which makes team means estimable for more accounts; see
    :func:`helpers.stats.model_data.account_table`.  ``table`` follows its timing
    rule: for accounts with a known outcome only the answers submitted
    before the renewal date count (an answer given after a churn decision
    may be a reaction to it); active accounts keep every wave.  The team
    means beside client NPS answers (``outcome="nps"``, ``side="both"``)
    pool every wave, as NPS is answered at the same time as the scores.
    """
    from helpers.stats import model_data

    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}, not {outcome!r}")
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}, not {side!r}")
    check_language(language)
    inst = load_instrument(instrument)
    table, notes = collect_warnings(lambda: model_data.account_table(answers, responses, accounts,
                                                                  min_group_size=min_group_size, instrument=inst))
    n_waves = responses["wave"].nunique()
    if outcome == "nps":
        return _nps_setup(answers, responses, accounts, table=table, notes=notes, side=side, n_waves=n_waves,
                          min_group_size=min_group_size, instrument=inst, language=language)
    return _retention_setup(table, notes=notes, side=side, n_waves=n_waves, min_group_size=min_group_size,
                            instrument=inst, language=language)


def _nps_setup(answers: pd.DataFrame, responses: pd.DataFrame, accounts: pd.DataFrame, *, table: pd.DataFrame,
               notes: list[str], side: str, n_waves: int, min_group_size: int,
               instrument: Instrument, language: str) -> DriverSetup:
    """NPS answers on the respondent's own scores (and, for ``both``, the account team's means)."""
    from helpers.stats import model_data

    dims = instrument.dimension_ids
    who = "staff" if side == "staff" else "client"
    data = model_data.respondent_table(answers, responses, side=who, instrument=instrument)
    predictors = list(dims)
    if side == "both":
        data = data.merge(_team_means(answers, responses, accounts, min_group_size=min_group_size,
                                      instrument=instrument), on="account_id", how="left")
        predictors += [f"staff_{d}" for d in dims]
        n_missing = int(data[[f"staff_{d}" for d in dims]].isna().any(axis=1).sum())
        if n_missing:
            notes.append(f"{n_missing} client answers come from accounts with fewer than {min_group_size} team "
                         "answers; the team view there is hidden and those answers are left out of the models.")
    n_accounts = data["account_id"].nunique()
    description = say(f"drivers.setup.nps_{side}", language, n=count(len(data), language),
                      accounts=count(n_accounts, language), waves=count(n_waves, language))
    return DriverSetup(data=data, outcome="nps", predictors=predictors, level="respondent", kind="nps",
                       side=side, cluster="account_id", table=table, description=description, notes=notes)


def _team_means(answers: pd.DataFrame, responses: pd.DataFrame, accounts: pd.DataFrame, *, min_group_size: int,
                instrument: Instrument) -> pd.DataFrame:
    """account_id and the team's mean per dimension (``staff_<d>``), pooled over every wave given."""
    import warnings as _w

    from helpers.stats import model_data
    from helpers.stats.diagnostics import ModelWarning

    # NPS is answered at the same time as the scores, not after a renewal decision: the team means beside
    # every client answer pool all team answers (the renewal rule is for retention).
    with _w.catch_warnings():
        _w.simplefilter("ignore", ModelWarning)  # the same notes were collected with the account table
        concurrent = model_data.account_table(answers, responses, accounts, before_renewal=False,
                                              min_group_size=min_group_size, instrument=instrument)
    return concurrent[["account_id", *[f"staff_{d}" for d in instrument.dimension_ids]]]


def _retention_setup(table: pd.DataFrame, *, notes: list[str], side: str, n_waves: int, min_group_size: int,
                     instrument: Instrument, language: str) -> DriverSetup:
    """Churn against renewal of the accounts with a known outcome, on the account's means (and gaps)."""
    dims = instrument.dimension_ids
    predictors = {"client": [f"client_{d}" for d in dims], "staff": [f"staff_{d}" for d in dims],
                  "both": [f"client_{d}" for d in dims] + [f"gap_{d}" for d in dims]}[side]
    known = table[table["outcome_known"].astype(bool)].reset_index(drop=True)
    if side in ("staff", "both"):
        hidden = int(known[[p for p in predictors if not p.startswith("client_")]].isna().any(axis=1).sum())
        if hidden:
            notes.append(f"{hidden} account(s) with fewer than {min_group_size} team answers have no team view and "
                         "are left out of the models.")
    return DriverSetup(data=known, outcome="churned", predictors=predictors, level="account", kind="retention",
                       side=side, cluster=None, table=table,
                       description=_retention_description(table, known, side=side, n_waves=n_waves, language=language),
                       notes=notes)


def _retention_description(table: pd.DataFrame, known: pd.DataFrame, *, side: str, n_waves: int,
                           language: str) -> str:
    """One sentence: which accounts, how many churned, on what, and what the renewal-date rule left out."""
    n_events = int(known["churned"].sum())
    answered = known[(known["n_client"] + known["n_staff"]) > 0]
    c = lambda n: count(n, language)  # noqa: E731
    return say(f"drivers.setup.retention_{side}", language, n=c(len(known)), events=c(n_events),
               renewed=c(len(known) - n_events), waves=c(n_waves), later=c(table.attrs.get("n_after_renewal", 0)),
               answered=c(len(answered)), answered_events=c(int(answered["churned"].sum())),
               active=c(int((~table["outcome_known"]).sum())))
