"""The account report: one account, one wave, for the quarterly account meeting.

``notebooks/account_report.ipynb`` is a memo that calls these functions one
section at a time (``from helpers.report import account as ar``);
:func:`account_report_data` calls the same builders in plain Python and
returns every section in one dict (for tests, benchmarks and other outputs).
The flow is::

    account = load_account("A001", "2026Q3")        # .load: one account, read with SQL filters
    gaps_section(account), comments_section(account) # .sections: perception gaps, voice of the client
    overall_scores(account)                          # .overall: each side's mean over the five dimensions
    headline(account, ...)                           # .summary: counts, NPS + CI, change, named gaps, notes
    next_meeting(account)                            # .meeting: focus areas and strengths
    loop_section(account)                            # .loop: the wave's follow-ups (items, in time, overdue)
    summary_band(account, ...)                       # .band: the tiles, three findings and the focus
    view_360(account), trend_section(account)        # .sections: client vs team per dimension, waves
    client_groups(account), benchmark_section(...)   # .sections: for the analysts' appendix
    methods_note(account)                            # .methods: formulas, thresholds, versions, data hash

The page opens with the summary band; the body speaks in plain words with n
and the interval in the numbers (:func:`dot_plot`, :func:`perception_table`,
:func:`trend_plot`, the comments, the next meeting); test names, corrections,
effect sizes, agreement, the benchmark and group tables sit in the appendix
"For analysts" (:mod:`.tables`).  :mod:`.display` shows sentences and
comments, :mod:`.plots` draws the charts; every word comes from the
catalogue (``helpers.words``: ``account``, ``account_band``, ``account_plots``,
``account_loop``).

**Privacy lives in the data.**  Every builder returns results the report
may not publish already blanked, with ``suppressed`` flags and reasons: team
results from fewer than ``min_group_size`` answers, client results (and
client sub-groups) below the client threshold, figures that would give away
who joined or left since an earlier wave, an overall score while one of its
dimensions is hidden; team comments need ``min_comment_group_size`` team
answers.  The band and the headline JSON show nothing the body hides.  Only
this account's rows are ever loaded (the benchmark reads one aggregate per
account), and :func:`account_report_data` checks every table with
:func:`helpers.data.privacy.assert_single_account`.

**Text is escaped where it meets markup.**  Markdown sentences escape every
free-text value put into them (wave labels, the account name, dimension
labels) with :func:`helpers.report.comments.markdown_escape`; tables, the band
and comments are escaped HTML, with names and comments marked as data.

**Waves are in time order.**  "Earlier waves", the previous wave and the
trend follow :func:`helpers.data.store.waves` (by when the wave was answered, then
natural label order), never the text order of the labels (``W10`` after
``W9``).
"""

from .band import summary_band
from .display import (
    appendix_heading,
    benchmark_notes,
    comment_list,
    figure,
    headline_json,
    methods_markdown,
    next_meeting_markdown,
    notes_markdown,
    perception_gaps,
    title_markdown,
    voice_summary,
)
from .load import AccountData, load_account, wave_order
from .loop import AccountLoop, loop_markdown, loop_notes, loop_section, loop_table
from .meeting import equivalence_margin, next_meeting
from .methods import methods_note
from .overall import overall_scores
from .plots import dot_plot, flame_chart, gap_plot, trend_plot
from .report_data import account_report_data
from .sections import benchmark_section, client_groups, comments_section, gaps_section, trend_section, view_360
from .summary import agreement_notes, figure_notes, headline, privacy_notes
from .tables import (benchmark_table, gaps_table, groups_table, nps_changes_table, nps_table, perception_table,
                     view_table)

__all__ = [
    "AccountData", "AccountLoop", "account_report_data", "agreement_notes", "appendix_heading", "benchmark_notes",
    "benchmark_section", "benchmark_table", "client_groups", "comment_list", "comments_section", "dot_plot",
    "equivalence_margin", "figure", "figure_notes", "flame_chart", "gap_plot", "gaps_section", "gaps_table",
    "groups_table", "headline", "headline_json", "load_account", "loop_markdown", "loop_notes", "loop_section",
    "loop_table", "methods_markdown", "methods_note",
    "next_meeting", "next_meeting_markdown", "notes_markdown", "nps_changes_table", "nps_table",
    "overall_scores", "perception_gaps", "perception_table", "privacy_notes", "summary_band", "title_markdown", "trend_plot",
    "trend_section", "view_360", "view_table", "voice_summary", "wave_order",
]
