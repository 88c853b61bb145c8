"""The account report's sections shown on the page: Markdown sentences and labelled tables.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from helpers.data.instrument import instrument_of
from helpers.data.privacy import MIN_GROUP_SIZE, escape_text
from helpers.report import comments as cm
from helpers.report import figures
from helpers.report.formatting import _num, check_language
from helpers.report.tables import escaped_styler
from helpers.stats import benchmark as bm
from helpers.stats import gaps as gp

from .load import AccountData
from .texts import HEADERS, TEXT, _md, _t


# ---------------------------------------------------------------------------
# Display (what the notebook shows); numbers are rounded here and only here
# ---------------------------------------------------------------------------
def _markdown(text: str):
    """``text`` displayed as Markdown."""
    from IPython.display import Markdown

    return Markdown(text)


def title_markdown(account: AccountData):
    """The report title as Markdown (the account name is escaped)."""
    return _markdown(_t("title", account.language, name=_md(account.name), account_id=_md(account.account_id),
                        wave=_md(account.wave)))


def headline_markdown(head: dict[str, Any], *, language: str = "en"):
    """The headline sentence, the key numbers and the notes, as Markdown."""
    check_language(language)
    if pd.isna(head["nps"]):
        facts = _t("facts_hidden", language, n_client=head["n_client"], n_staff=head["n_staff"])
    else:
        facts = _t("facts", language, n_client=head["n_client"], n_staff=head["n_staff"],
                   nps=_num(head["nps"], language, 0, sign=True),
                   lo=_num(head["nps_ci_low"], language, 0, sign=True),
                   hi=_num(head["nps_ci_high"], language, 0, sign=True))
    notes = "".join(f"\n\n*{n}*" for n in head["notes"])
    return _markdown(f"**{head['summary']}**\n\n{facts}{notes}")


class HeadlineJSON:
    """Displays the headline numbers as ``application/json`` only (for the batch index).

    Keys: account_id, wave, n_client, n_staff, nps, nps_ci_low, nps_ci_high
    (NaN becomes null) and ``withheld``: what the report held back, figure by
    figure, as counts and reasons (:meth:`helpers.data.disclosure.Audit.summary`).
    """

    KEYS = ("account_id", "wave", "n_client", "n_staff", "nps", "nps_ci_low", "nps_ci_high")

    def __init__(self, head: dict[str, Any], withheld: list[dict[str, Any]] | None = None):
        self.data = {}
        for k in self.KEYS:
            v = head.get(k)
            if isinstance(v, (float, np.floating)):
                v = None if math.isnan(v) else round(float(v), 6)
            elif isinstance(v, (np.integer,)):
                v = int(v)
            self.data[k] = v
        self.data["withheld"] = list(head.get("withheld", []) if withheld is None else withheld)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display({"application/json": self.data}, raw=True)


def headline_json(head: dict[str, Any], account: AccountData | None = None) -> HeadlineJSON:
    """The headline as an ``application/json`` display (see :class:`HeadlineJSON`).

    Given the ``account``, ``withheld`` is its audit as it stands now: call
    this last, after every section, so the audit counts all of them.
    """
    return HeadlineJSON(head, None if account is None else account.audit.summary())


def notes_markdown(notes: list[str]):
    """Notes as an italic Markdown list; None (nothing shown) when there are none."""
    if not notes:
        return None
    return _markdown("\n".join(f"- *{n}*" for n in notes))


def figure(obj, kind: str, language: str = "en"):
    """A plot as a PNG with alt text in ``language`` (kind: flame, dots, gaps, trend); closes the figure."""
    return figures.to_image(obj, alt=_t(f"alt_{kind}", check_language(language)))


def _styled(frame: pd.DataFrame, columns: list[str], language: str, *, uuid: str,
            digits: dict[str, int] | None = None, signed: tuple[str, ...] = ()):
    """Display frame → escaped Styler: labels translated, numbers rounded for display."""
    digits = digits or {}
    labels = instrument_of(frame).labels(language)
    frame = frame.reset_index(drop=True)
    d = pd.DataFrame(index=frame.index)
    for c in columns:
        s = frame[c] if c in frame else pd.Series(np.nan, index=frame.index)
        if c in ("dimension", "measure"):
            d[c] = s.map(lambda v: labels.get(v, TEXT[language]["nps"] if v == "nps" else v))
        elif c == "side":
            d[c] = s.map(gp.SIDE_TEXT[language].get)
        elif c == "label":
            d[c] = s.map(lambda v: gp.LABEL_TEXT[language].get(v, v) if isinstance(v, str) else "–")
        elif c == "evidence":
            d[c] = s.map(lambda v: gp.EVIDENCE_TEXT[language].get(v, v) if isinstance(v, str) else "–")
        elif c == "role":
            d[c] = s.map(lambda v: cm.ROLE_TEXT[language].get(v, v) if isinstance(v, str) else v)
        elif c in ("n", "n_client", "n_staff", "n_accounts"):
            d[c] = s.map(lambda v: "–" if pd.isna(v) else str(int(v)))
        elif pd.api.types.is_numeric_dtype(s) or s.dropna().map(lambda v: isinstance(v, (int, float))).all():
            d[c] = s.map(lambda v: _num(v, language, digits.get(c, 2), sign=c in signed))
        else:
            d[c] = s.astype(object).where(s.notna(), "–")
    d.columns = [HEADERS[language].get(c, c) for c in columns]
    text = [HEADERS[language].get(c, c) for c in columns if c in ("side", "dimension", "measure", "role", "label",
                                                                   "evidence", "wave")]
    return escaped_styler(d, left=text, uuid=uuid)


def view_table(view: pd.DataFrame, *, language: str = "en"):
    """The 360° table (side, dimension, n, mean, CI, agreement) as an escaped Styler."""
    return _styled(view, ["side", "dimension", "n", "mean", "ci_low", "ci_high", "rwg"], check_language(language),
                   uuid="view360")


def groups_table(groups: pd.DataFrame, *, language: str = "en", by: str = "role"):
    """Client sub-groups as an escaped Styler (hidden groups show "–")."""
    return _styled(groups, [by, "dimension", "n", "mean", "ci_low", "ci_high"], check_language(language),
                   uuid="clientgroups")


def gaps_table(gaps: pd.DataFrame, *, language: str = "en"):
    """Perception gaps: means, gap with CI, BH-adjusted p, Hedges' g, reading and evidence."""
    return _styled(gaps, ["dimension", "n_client", "n_staff", "client_mean", "staff_mean", "gap", "ci_low",
                          "ci_high", "p_fdr", "effect_size", "label", "evidence"], check_language(language),
                   uuid="gaps", digits={"p_fdr": 3}, signed=("gap", "ci_low", "ci_high", "effect_size"))


def nps_table(net: pd.DataFrame, *, language: str = "en"):
    """NPS per wave and side with the adjusted-Wald CI (team rows hidden below the threshold)."""
    return _styled(net, ["wave", "side", "n", "nps", "ci_low", "ci_high"], check_language(language),
                   uuid="npstrend", digits={"nps": 0, "ci_low": 0, "ci_high": 0},
                   signed=("nps", "ci_low", "ci_high"))


def benchmark_table(bench: pd.DataFrame, *, language: str = "en"):
    """Benchmark: value, percentile (with the percentiles of the CI ends) and the portfolio middle."""
    language = check_language(language)
    b = bench.copy()
    def fmt(v: float, m: str, digits: int = 2) -> str:
        return _num(v, language, 0, sign=True) if m == "nps" else _num(v, language, digits)

    def ref(v: float, m: str) -> str:  # the portfolio's quartiles: as coarse as the data holds them
        return fmt(v, m, bm.QUARTILE_DECIMALS["mean"])

    b["pct_range"] = [f"{_num(lo, language, 0)} … {_num(hi, language, 0)}" if pd.notna(lo) else "–"
                      for lo, hi in zip(b["pct_low"], b["pct_high"])]
    b["ref_range"] = [f"{ref(lo, m)} … {ref(hi, m)}" if pd.notna(lo) else "–"
                      for lo, hi, m in zip(b["ref_p25"], b["ref_p75"], b["measure"])]
    b["value"] = [fmt(v, m) for v, m in zip(b["value"], b["measure"])]
    b["ref_median"] = [ref(v, m) for v, m in zip(b["ref_median"], b["measure"])]
    return _styled(b, ["measure", "n", "value", "percentile", "pct_range", "ref_median", "ref_range",
                       "n_accounts"], language, uuid="benchmark", digits={"percentile": 0})


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


def comment_list(voice: dict[str, Any], which: str, *, language: str = "en", wave: str = ""):
    """One comment list (celebrate, improve, detractors, team) as an escaped Styler, or a note.

    Team comments below the threshold and empty lists give a Markdown note
    instead of an empty table (``wave`` is escaped).  A table in which some
    client's role is hidden ("–") says why in its caption.
    """
    check_language(language)
    if which == "team" and not voice["team_shown"]:
        return notes_markdown([_t("note_team_comments", language, n=voice["n_staff"],
                                  k=voice["min_comment_group_size"])])
    if which != "team" and not voice.get("scores_shown", True):
        if which != "celebrate":  # the comments are listed once, under the first heading
            return notes_markdown([_t("comments_listed_above", language)])
        note = [_t("comments_without_scores", language, n=voice["n_client"], k=voice["min_group_size"])]
        if voice["client_only"].empty:
            return notes_markdown([*note, _t("empty", language, wave=_md(wave))])
        return cm.comments_table(voice["client_only"], language=language, uuid="comments_client").set_caption(
            escape_text(note[0]))
    frame = voice[which]
    if frame.empty:
        return notes_markdown([_t("empty", language, wave=_md(wave))])
    table = cm.comments_table(frame, language=language, uuid=f"comments_{which}")
    if "role_hidden" in frame and frame["role_hidden"].any():
        k = voice.get("min_group_size", MIN_GROUP_SIZE)
        table = table.set_caption(escape_text(_t("note_roles", language, k=k)))
    return table


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
