"""The account report: one account, one wave, for the quarterly account meeting.

``notebooks/account_report.ipynb`` is a memo that calls these functions one
section at a time (``from helpers.report import account as ar``);
:func:`account_report_data` calls the same builders in plain Python and
returns every section in one dict (for tests, benchmarks and other outputs).
The flow is::

    account = load_account("A001", "2026Q3")        # .load: one account, read with SQL filters
    headline(account)                                # .headline: counts, NPS + CI, change, one sentence
    view_360(account), client_groups(account)        # .sections: client vs team per dimension
    gaps_section(account)                            # .sections: perception gaps (helpers.stats.gaps)
    trend_section(account)                           # .sections: waves up to the report's wave
    benchmark_section(account)                       # .sections: percentile among other accounts
    comments_section(account)                        # .sections: voice of the client
    next_meeting(account)                            # .meeting: focus areas and strengths
    methods_note(account)                            # .methods: formulas, thresholds, versions, data hash

:mod:`.display` shows each section on the page (Markdown and labelled
tables), :mod:`.plots` draws its charts, :mod:`.texts` holds its words in
English and Finnish.

**Privacy lives in the data.**  Every builder returns team results from fewer
than ``min_group_size`` answers (and client sub-groups below it) already
blanked, with ``suppressed`` flags and notes; team comments need
``min_comment_group_size`` team answers.  Only this account's rows are ever
loaded (the benchmark reads one aggregate per account), and
:func:`account_report_data` checks every table with
:func:`helpers.data.privacy.assert_single_account`.

**Sentences are Markdown.**  The summary, notes, reasons and methods text are
Markdown fragments: every free-text value put into them (wave labels, the
account name, dimension labels, the instrument name) is escaped with
:func:`helpers.report.comments.markdown_escape`, so a label such as
``2026Q4 <img src=x onerror=…>`` stays inert text after nbconvert.  Tables are
Stylers that HTML-escape every cell.

**Waves are in time order.**  "Earlier waves", the previous wave and the
trend follow :func:`helpers.data.store.waves` (by when the wave was answered, then
natural label order), never the text order of the labels (``W10`` after
``W9``).
"""

from .display import (
                      benchmark_notes,
                      benchmark_table,
                      comment_list,
                      figure,
                      gaps_table,
                      groups_table,
                      headline_json,
                      headline_markdown,
                      methods_markdown,
                      next_meeting_markdown,
                      notes_markdown,
                      nps_table,
                      title_markdown,
                      view_table,
)
from .summary import headline, privacy_notes
from .load import AccountData, load_account, wave_order
from .meeting import equivalence_margin, next_meeting
from .methods import methods_note
from .plots import dot_plot, flame_chart, gap_plot, trend_plot
from .report_data import account_report_data
from .sections import benchmark_section, client_groups, comments_section, gaps_section, trend_section, view_360

__all__ = [
    "AccountData", "account_report_data", "benchmark_notes", "benchmark_section", "benchmark_table",
    "client_groups", "comment_list", "comments_section", "dot_plot", "equivalence_margin", "figure",
    "flame_chart", "gap_plot", "gaps_section", "gaps_table", "groups_table", "headline", "headline_json",
    "headline_markdown", "load_account", "methods_markdown", "methods_note", "next_meeting",
    "next_meeting_markdown", "notes_markdown", "nps_table", "privacy_notes", "title_markdown", "trend_plot",
    "trend_section", "view_360", "view_table", "wave_order",
]
