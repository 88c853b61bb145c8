"""The portfolio page: how the partnerships are doing across every account.

``notebooks/portfolio.ipynb`` computes the wave once (:mod:`.setup`:
comparisons of each account with the rest of the portfolio, client − team
gaps, NPS per account and per wave, the at-risk list of :mod:`.risk` and the
celebrate list of :mod:`.celebrations`) and shows it block by block: the
summary band (:mod:`.summary`), the body in plain words (:mod:`.sections`,
with charts from :mod:`.plots` drawing the accounts :mod:`.select` picks), and
the "For analysts" appendix (:mod:`.appendix`).  Every text comes from the
catalogue (``src/helpers/words/<language>/portfolio*.yml``).  Team results
from fewer than ``min_group_size`` answers are blanked before they leave the
statistics, and left out of every reference value they could be recovered
from (see :mod:`helpers.data.privacy`).
"""

from . import appendix, loop, sections
from .attention import needs_attention, portfolio_list, reason_counts
from .celebrations import celebrate
from .plots import plot_gap_map, plot_heatmap, plot_nps_distribution, plot_nps_trend
from .risk import (MIN_OUTCOME_GROUP, RULE, SIGNS, PortfolioWarning, accounts_at_risk, baseline_verdict, current_nps,
                   ranking_decision, risk_signals, rule, warning_signs)
from .select import MAX_ROWS, chart_accounts
from .setup import Portfolio, portfolio_setup
from .summary import headline, movers, summary_band

__all__ = [
    "MAX_ROWS", "MIN_OUTCOME_GROUP", "RULE", "SIGNS", "Portfolio", "PortfolioWarning", "accounts_at_risk",
    "appendix", "baseline_verdict", "loop", "celebrate", "chart_accounts", "current_nps", "headline", "movers",
    "needs_attention", "plot_gap_map", "plot_heatmap", "plot_nps_distribution", "plot_nps_trend", "portfolio_list",
    "portfolio_setup", "ranking_decision", "reason_counts", "risk_signals", "rule", "sections", "summary_band",
    "warning_signs",
]
