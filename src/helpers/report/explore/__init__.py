"""The explore notebook: a CX lead's cockpit over the store, from data health to one account's report.

``notebooks/explore.ipynb`` is a memo that calls these functions
(``from helpers.report import explore as ex``).  The store goes in; what a
cell shows comes out — summary bands, tables for people, charts with alt
text — in the notebook's language, blank wherever a report would not show a
figure.  The flow::

    explorer = Explorer(store=…, language="fi")         # .data: the store, thresholds, one wave cached
    selection = explorer.select(segment="Energy")       # .selection: checked choices, the account to look at
    health = data_health(store=…)                       # .health: ingested, stored, quarantined, in words
    cockpit = Cockpit(explorer, selection)              # .cockpit: ipywidgets controls (JupyterLab)
    cockpit.show(glance_band)                           # .glance: the selection at a glance
    cockpit.show(account_band)                          # .account: the chosen account, client vs team
    cockpit.show(account_touchpoints)                   # .touchpoints: its NPS after service visits, by month
    cockpit.report(render=True)                         # .render: its report written by the batch
    cockpit.show(analyst_nps)                           # .appendix: complete statistics, for analysts

Views are plain functions ``view(explorer, selection)``: a papermill run
shows them once for the notebook's parameters; in JupyterLab the controls
call them again (:mod:`.cockpit`).  Figures for several accounts pool only
results a report shows (:mod:`.summary`).
"""

from .account import account_band, account_chart, account_heading, account_table, gap_sentences
from .appendix import analyst_agreement, analyst_gaps, analyst_nps, analyst_reliability
from .cockpit import Cockpit, LiveView, selection_summary
from .data import AccountView, Explorer, WaveData
from .glance import accounts_table, dimensions_table, glance_band, nps_chart, selection_rows
from .health import Health, data_health, health_band, health_table, quarantine_table, reason_kind
from .html import Html, as_html
from .plots import plot_account_nps, plot_client_team
from .render import default_reports_dir, render_account_report, report_command, report_section
from .selection import Selection, account_choices, choose_account, filter_accounts, owner_choices, segment_choices
from .summary import account_rows, selection_dimensions, selection_nps, shown_results
from .touchpoints import account_touchpoints, plot_touchpoint_nps, touchpoint_months, wave_end

__all__ = [
    "AccountView", "Cockpit", "Explorer", "Health", "Html", "LiveView", "Selection", "WaveData", "account_band",
    "account_chart", "account_choices", "account_heading", "account_rows", "account_table", "account_touchpoints",
    "accounts_table", "analyst_agreement", "analyst_gaps", "analyst_nps", "analyst_reliability", "as_html",
    "choose_account", "data_health", "default_reports_dir", "dimensions_table", "filter_accounts", "gap_sentences",
    "glance_band", "health_band", "health_table", "nps_chart", "owner_choices", "plot_account_nps",
    "plot_client_team", "plot_touchpoint_nps", "quarantine_table", "reason_kind", "render_account_report",
    "report_command", "report_section", "segment_choices", "selection_dimensions", "selection_nps",
    "selection_rows", "selection_summary", "shown_results", "touchpoint_months", "wave_end",
]
