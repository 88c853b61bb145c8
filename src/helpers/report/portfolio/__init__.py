"""The portfolio page: how the partnerships are doing across every account.

``notebooks/portfolio.ipynb`` calls these functions one section at a time
(``from helpers.report import portfolio as pf``): the wave's headline
(:mod:`.summary`), charts of the comparisons of each account with the rest
of the portfolio (:mod:`.plots`, drawing the frames of
:mod:`helpers.stats.comparisons`), the accounts at risk (:mod:`.risk`) and the
accounts to celebrate (:mod:`.celebrations`).  Staff results from fewer than
``min_group_size`` answers are blanked before they leave the statistics, and
left out of every reference value they could be recovered from (see
:mod:`helpers.data.privacy`).
"""

from .celebrations import celebrate
from .summary import headline
from .plots import plot_gap_map, plot_heatmap, plot_nps_distribution, plot_nps_trend
from .risk import (MIN_OUTCOME_GROUP, RULE, PortfolioWarning, accounts_at_risk, baseline_verdict, current_nps,
                   ranking_decision, risk_signals)

__all__ = [
    "MIN_OUTCOME_GROUP", "RULE", "PortfolioWarning", "accounts_at_risk", "baseline_verdict", "celebrate",
    "current_nps", "headline", "ranking_decision",
    "plot_gap_map", "plot_heatmap", "plot_nps_distribution", "plot_nps_trend", "risk_signals",
]
