"""The account report's sections shown on the page: the title, Markdown sentences, charts, comments, the JSON.

Tables are in :mod:`.tables`, the summary band in :mod:`.band`.  Every text
comes from the catalogue; free text put into Markdown (wave labels, names,
dimension labels) is escaped.
"""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from helpers.data.instrument import instrument_of
from helpers.data.privacy import MIN_GROUP_SIZE
from helpers.report import comments as cm
from helpers.report import figures
from helpers.report.formatting import PeopleTable, check_language, count
from helpers.stats import benchmark as bm
from helpers.words import say

from .load import AccountData
from .loop import AccountLoop
from .tables import perception_table
from .texts import TEXT, _md, _t


def _markdown(text: str):
    """``text`` displayed as Markdown."""
    from IPython.display import Markdown

    return Markdown(text)


def title_markdown(account: AccountData):
    """The page's heading: the account's name and id, escaped and isolated in ``<bdi>`` (an HTML ``<h1>``).

    HTML, not Markdown: nbconvert's Markdown renderer turns inline ``<bdi>…</bdi>`` into empty tags, which
    would leave a name written right to left unisolated.
    """
    from IPython.display import HTML

    text = _t("title", account.language, name=html.escape(str(account.name)),
              account_id=html.escape(str(account.account_id)))
    return HTML(f"<h1>{text}</h1>")


def appendix_heading(language: str = "en"):
    """The heading of the analysts' appendix ("For analysts" / "Analyytikoille") as Markdown."""
    return _markdown(f"## {say('account.appendix', check_language(language))}")


class HeadlineJSON:
    """Displays the headline numbers as ``application/json`` only (for the batch index and the manifest).

    Keys: account_id, wave, n_client, n_staff, nps, nps_ci_low, nps_ci_high, name, previous_wave,
    nps_change, nps_change_ci_low, nps_change_ci_high, nps_change_clear (bool: the change's interval
    excludes 0), blind_spots (ids of the clear blind spots), possible_blind_spots, hidden_strengths (ids of
    the clear hidden strengths), few_answers (bool: fewer client answers than a client figure needs),
    client_score, team_score (the overall means), followups_overdue (the follow-ups of the wave's client
    answers open and past due when the page was made, :attr:`.loop.AccountLoop.overdue`; null when the
    report does not show the loop: held back with the client NPS, or no follow-up recorded) and
    ``withheld``: what the report held back, figure by figure, as counts and reasons
    (:meth:`helpers.data.disclosure.Audit.summary`).  A value the report may not publish is null (NaN
    becomes null), as is a change without a published previous wave.
    """

    #: JSON key → the headline's key.
    KEYS = {"account_id": "account_id", "wave": "wave", "n_client": "n_client", "n_staff": "n_staff", "nps": "nps",
            "nps_ci_low": "nps_ci_low", "nps_ci_high": "nps_ci_high", "name": "name",
            "previous_wave": "previous_wave", "nps_change": "nps_change", "nps_change_ci_low": "change_ci_low",
            "nps_change_ci_high": "change_ci_high", "nps_change_clear": "change_clear",
            "blind_spots": "blind_spots", "possible_blind_spots": "possible_blind_spots",
            "hidden_strengths": "hidden_strengths", "few_answers": "few_answers", "client_score": "client_score",
            "team_score": "team_score"}

    def __init__(self, head: dict[str, Any], withheld: list[dict[str, Any]] | None = None, *,
                 followups_overdue: int | None = None):
        self.data = {key: _plain(head.get(source)) for key, source in self.KEYS.items()}
        self.data["nps_change_clear"] = bool(head.get("change_clear")) and self.data["nps_change"] is not None
        self.data["followups_overdue"] = None if followups_overdue is None else int(followups_overdue)
        self.data["withheld"] = list(head.get("withheld", []) if withheld is None else withheld)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display({"application/json": self.data}, raw=True)


def _plain(v: Any) -> Any:
    """A headline value as plain JSON: NaN → None, numpy → Python, lists of ids as lists of str."""
    if isinstance(v, (float, np.floating)):
        return None if math.isnan(v) else round(float(v), 6)
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, (list, tuple)):
        return [str(x) for x in v]
    return v


def headline_json(head: dict[str, Any], account: AccountData | None = None, *,
                  loop: AccountLoop | None = None) -> HeadlineJSON:
    """The headline as an ``application/json`` display (see :class:`HeadlineJSON`).

    Given the ``account``, ``withheld`` is its audit as it stands now: call
    this last, after every section, so the audit counts all of them.  Given
    the ``loop`` (:func:`.loop.loop_section`), ``followups_overdue`` is its
    overdue count (null when the report does not show the loop).
    """
    return HeadlineJSON(head, None if account is None else account.audit.summary(),
                        followups_overdue=None if loop is None else loop.overdue)


def notes_markdown(notes: list[str]):
    """Notes as an italic Markdown list; None (nothing shown) when there are none."""
    if not notes:
        return None
    return _markdown("\n".join(f"- *{n}*" for n in notes))


def figure(obj, kind: str, language: str = "en"):
    """A plot as a PNG with alt text in ``language`` (kind: view, trend, flame, dots, gaps); closes the figure."""
    return figures.to_image(obj, alt=_t(f"alt_{kind}", check_language(language)))


def benchmark_notes(bench: pd.DataFrame, *, language: str = "en", min_group_size: int = MIN_GROUP_SIZE,
                    min_accounts_for_quartiles: int = bm.MIN_ACCOUNTS_FOR_QUARTILES) -> list[str]:
    """Notes on the measures without a benchmark and on portfolio quartiles held back (too few accounts)."""
    language = check_language(language)
    if not len(bench):
        return []
    notes = []
    shown = bench["shown"].astype(bool)
    hidden = bench.loc[~shown, "measure"]
    if len(hidden):
        labels = instrument_of(bench).labels(language)
        names = ", ".join(_md(labels.get(m, "NPS")) for m in hidden)
        notes.append(_t("note_benchmark", language, measures=names, k=min_group_size))
    quartiles = bench["quartiles_shown"].astype(bool) if "quartiles_shown" in bench else shown
    few = bench[shown & ~quartiles]
    if len(few):
        n = few["n_accounts"].astype(int)
        counts = str(n.iloc[0]) if n.nunique() == 1 else f"{n.min()}–{n.max()}"
        notes.append(_t("note_quartiles", language, m=min_accounts_for_quartiles, n=counts))
    return notes


def perception_gaps(view: pd.DataFrame, gaps: pd.DataFrame, *, language: str = "en"):
    """The gaps at a glance (:func:`helpers.report.account.tables.perception_table`), or one line saying why
    no gap can be shown when the client's or the team's view is hidden on every dimension."""
    language = check_language(language)
    if not gaps["gap"].notna().any() and gaps["suppressed"].astype(bool).all():
        return notes_markdown([_t("gaps_none_shown", language)])
    return perception_table(view, gaps, language=language)


# ---------------------------------------------------------------------------
# What clients say
# ---------------------------------------------------------------------------
def voice_summary(voice: dict[str, Any], *, language: str = "en"):
    """One line for the meeting: comments to improve and to celebrate, detractors to follow up (Markdown);
    None when the scores may not be shown (the comments are then listed without them)."""
    language = check_language(language)
    if not voice.get("scores_shown", True) or voice["n_client"] == 0:
        return None
    det = voice["detractors"]
    silent = int(det["comment"].isna().sum()) if len(det) else 0
    return _markdown(_t("voice_counts", language, improve=count(len(voice["improve"]), language),
                        celebrate=count(len(voice["celebrate"]), language),
                        detractors=count(len(det), language),
                        silent=_t("voice_silent", language, m=count(silent, language)) if silent else ""))


def comment_list(voice: dict[str, Any], which: str, *, language: str = "en", wave: str = ""):
    """One comment list as a table for people, or a note when there is nothing to show.

    ``which``: ``clients`` (every client comment: to improve, lowest score first, then to celebrate,
    highest first), ``celebrate``, ``improve``, ``detractors`` or ``team``.  Team comments below the
    threshold and empty lists give a Markdown note instead of an empty table (``wave`` is escaped).  With
    fewer client answers than the client threshold, the client comments are listed without scores, roles
    or grouping (under ``clients`` or ``celebrate``; the other lists then say so).  The role column is left
    out when no role may be shown, and a table in which some client's role is hidden ("–") says why in its
    caption.  Comments are marked as data (``fk-data``): the respondents' own words, in any language.
    """
    check_language(language)
    if which == "team" and not voice["team_shown"]:
        return notes_markdown([_t("note_team_comments", language, n=voice["n_staff"],
                                  k=voice["min_comment_group_size"])])
    if which != "team" and not voice.get("scores_shown", True):
        if which not in ("clients", "celebrate"):  # the comments are listed once, under the first heading
            return notes_markdown([_t("comments_listed_above", language)])
        note = _t("comments_without_scores", language, n=voice["n_client"], k=voice["min_group_size"])
        if voice["client_only"].empty:
            return notes_markdown([note, _t("empty", language, wave=_md(wave))])
        return cm.comments_table(voice["client_only"], language=language, caption=note)
    if which == "clients":
        frame = pd.concat([voice["improve"], voice["celebrate"]], ignore_index=True)
        columns = ["category", "nps", "role", "comment"]
    else:
        frame = voice[which]
        columns = [c for c in ("role", "nps", "comment") if c in frame]
    if frame.empty:
        return notes_markdown([_t("empty", language, wave=_md(wave))])
    hidden = frame["role_hidden"].astype(bool) if "role_hidden" in frame else pd.Series(False, index=frame.index)
    if "role" in columns and hidden.all():
        columns.remove("role")  # no role may be shown: a column of dashes says nothing
    caption = None
    if hidden.any():
        caption = _t("note_roles", language, k=voice.get("min_group_size", MIN_GROUP_SIZE))
    return cm.comments_table(frame, language=language, columns=columns, caption=caption)


# ---------------------------------------------------------------------------
# For the next meeting, methods
# ---------------------------------------------------------------------------
def next_meeting_markdown(meeting: dict[str, Any], *, language: str = "en"):
    """Focus areas and strengths as numbered Markdown lists with the reason for each, or the note saying why not."""
    language = check_language(language)
    if meeting["focus"].empty and meeting["strengths"].empty:
        return _markdown(meeting.get("note") or TEXT[language]["no_focus"])
    labels = instrument_of(meeting["focus"] if len(meeting["focus"]) else meeting["strengths"]).labels(language)
    parts = []
    for key in ("focus", "strengths"):
        if len(meeting[key]):
            parts += ["", TEXT[language][key], ""]
            parts += [f"{i}. **{_md(labels[r['dimension']])}** — {r['reason']}" for i, (_, r) in
                      enumerate(meeting[key].iterrows(), 1)]
    return _markdown("\n".join(parts).strip())


def methods_markdown(methods: dict[str, Any]):
    """The methods note as Markdown."""
    return _markdown(methods["text"])


__all__ = ["HeadlineJSON", "PeopleTable", "appendix_heading", "benchmark_notes", "comment_list", "figure",
           "headline_json", "methods_markdown", "next_meeting_markdown", "notes_markdown", "perception_gaps", "title_markdown",
           "voice_summary"]
