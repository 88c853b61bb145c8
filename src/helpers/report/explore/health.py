"""Data health: what was ingested, what was stored and what waits in the quarantine, per wave and side, in words.

Reads the store's ingest log, its quarantine and its current answers; hands
on a :class:`Health` with tidy frames, a summary band, a table and the
quarantine's rows.  The quarantine's reasons are written by the ingest in
English; here each is sorted into a kind (outside the scale, unknown
account …) that the page names in its own language.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from helpers.data import store as st
from helpers.report.band import SummaryBand, Tile
from helpers.report.formatting import count, people_table

from .html import words

__all__ = ["Health", "data_health", "reason_kind", "health_band", "health_table", "quarantine_table", "KINDS"]

#: Kinds of quarantine reason, in the order a sentence lists them, with the start of the ingest's reasons.
KINDS = {
    "scale": (r"is outside the", r"is not a whole"),
    "unknown_account": (r"is not a known account",),
    "superseded": (r"is superseded", r"is older than"),
    "duplicate": (r"duplicates", r"is already in the store", r"repeats"),
    "preview": (r"marks a preview",),
    "date": (r"is in the future", r"is before", r"is after", r"is not a date"),
    "empty": (r"is required but empty", r"response has no answers"),
    "invalid": (r"is not a", r"does not match", r"differs from", r"is negative"),
}
#: File kinds in the order of the table: survey files first.
FILE_KINDS = ("client", "staff", "accounts", "touchpoints")


def reason_kind(reason: object) -> str:
    """The kind of a quarantine reason ("scale", "unknown_account" … or "other").

    Examples
    --------
    >>> reason_kind("is outside the 1–5 scale"), reason_kind("marks a preview or test response")
    ('scale', 'preview')
    >>> reason_kind("is not a known account (ingest the accounts file first, or fix the id)")
    'unknown_account'
    >>> reason_kind("something new")
    'other'
    """
    text = str(reason or "").strip()
    for kind, starts in KINDS.items():
        if any(re.match(s, text) for s in starts):
            return kind
    return "other"


@dataclass(frozen=True)
class Health:
    """What the store holds.

    Attributes
    ----------
    files : DataFrame
        kind, wave, rows_read, rows_stored, rows_quarantined, accounts (answering, for survey files), why (dict:
        reason kind → rows) — one row per file kind × wave, survey files by wave.
    quarantine : DataFrame
        The quarantine's cells (:func:`helpers.data.store.load_quarantine`) with ``why`` (the reason's kind).
    answers : DataFrame
        wave, side, n, accounts: current answers (later resubmissions replace earlier ones).
    status : Series
        Accounts per status (active, renewed, churned).
    waves : list of str
        Oldest first.
    """

    files: pd.DataFrame = field(repr=False)
    quarantine: pd.DataFrame = field(repr=False)
    answers: pd.DataFrame = field(repr=False)
    status: pd.Series = field(repr=False)
    waves: list[str] = field(default_factory=list)


def data_health(*, store: str | Path | None = None) -> Health:
    """Read the ingest log, the quarantine, the current answers and the accounts' status from the store."""
    log = st.query("SELECT kind, wave, rows_read, rows_stored, rows_quarantined FROM ingests", store=store)
    quarantine = st.load_quarantine(store=store)
    quarantine = quarantine.assign(why=quarantine["reason"].map(reason_kind))
    responses = st.load_responses(store=store)
    waves = st.waves(store=store)
    answers = (responses.groupby(["wave", "side"]).agg(n=("response_id", "size"), accounts=("account_id", "nunique"))
               .reset_index())
    status = st.load_accounts(store=store)["status"].fillna("unknown").value_counts()
    return Health(files=_files(log, quarantine, answers, waves), quarantine=quarantine, answers=answers,
                  status=status, waves=waves)


def _files(log: pd.DataFrame, quarantine: pd.DataFrame, answers: pd.DataFrame, waves: list[str]) -> pd.DataFrame:
    """The ingest log summed per file kind × wave, with answering accounts and the quarantine's reasons."""
    log = log.assign(wave=log["wave"].astype(object).where(log["wave"].notna(), ""))
    files = (log.groupby(["kind", "wave"], dropna=False)[["rows_read", "rows_stored", "rows_quarantined"]].sum()
             .reset_index())
    q = quarantine.assign(wave=quarantine["wave"].astype(object).where(quarantine["wave"].notna(), ""))
    rows = q.drop_duplicates(["file", "row"])  # a row with two bad cells is one row in quarantine
    why = rows.groupby(["kind", "wave"])["why"].agg(lambda s: {k: int(n) for k, n in s.value_counts().items()})
    files["why"] = [why.get((k, w), {}) for k, w in zip(files["kind"], files["wave"])]
    acc = answers.set_index(["side", "wave"])["accounts"]
    files["accounts"] = [acc.get((k, w), pd.NA) if k in ("client", "staff") else pd.NA
                         for k, w in zip(files["kind"], files["wave"])]
    order = {w: i for i, w in enumerate(waves)}
    files = files.assign(_k=files["kind"].map({k: i for i, k in enumerate(FILE_KINDS)}).fillna(len(FILE_KINDS)),
                         _w=files["wave"].map(order).fillna(-1))
    return files.sort_values(["_w", "_k"], kind="mergesort").drop(columns=["_k", "_w"]).reset_index(drop=True)


def _why(why: dict[str, int], language: str) -> str:
    """"outside the answer scale (2), unknown account (1)" in the order of :data:`KINDS`."""
    order = [*KINDS, "other"]
    return ", ".join(words("health.reason_count", language, reason=words(f"health.reason.{k}", language),
                           n=count(why[k], language)) for k in order if why.get(k))


def health_band(health: Health, language: str) -> SummaryBand:
    """The store in a few tiles (waves, answers per side, rows in quarantine, accounts) and a sentence per file kind
    with rows in quarantine, saying why."""
    a, f = health.answers, health.files
    latest = health.waves[-1] if health.waves else "–"

    def side_tile(side: str, key: str, tone: str) -> Tile:
        rows = a[a["side"] == side]
        now = rows[rows["wave"] == latest]
        return Tile(words(key, language), count(rows["n"].sum(), language), tone=tone,
                    detail=words("health.answers_detail", language, latest=latest,
                                 n=count(now["n"].sum(), language), accounts=count(now["accounts"].sum(), language)))

    read, held = int(f["rows_read"].sum()), int(f["rows_quarantined"].sum())
    status = {k: count(health.status.get(k, 0), language) for k in ("active", "renewed", "churned")}
    tiles = [
        Tile(words("health.tile_waves", language), count(len(health.waves), language),
             detail=words("health.waves_detail", language, first=health.waves[0], last=latest) if health.waves
             else ""),
        side_tile("client", "health.tile_client", "client"),
        side_tile("staff", "health.tile_team", "team"),
        Tile(words("health.tile_quarantine", language), count(held, language), tone="attention" if held else "good",
             detail=words("health.quarantine_detail", language, n=count(read, language))),
        Tile(words("health.tile_accounts", language), count(health.status.sum(), language),
             detail=words("health.accounts_detail", language, **status)),
    ]
    return SummaryBand(tiles=tiles, sentences=health_sentences(health, language))


def health_sentences(health: Health, language: str) -> list[str]:
    """One sentence per file kind with rows in quarantine (how many, in which waves, why); else that none is."""
    f = health.files
    out = []
    for kind in [*FILE_KINDS, *sorted(set(f["kind"]) - set(FILE_KINDS))]:
        rows = f[f["kind"] == kind]
        held = rows[rows["rows_quarantined"] > 0]
        if held.empty:
            continue
        why: dict[str, int] = {}
        for d in held["why"]:
            for k, n in d.items():
                why[k] = why.get(k, 0) + n
        waves = ", ".join(w for w in held["wave"] if w) or "–"
        out.append(words("health.kind_sentence", language, kind=_kind_name(kind, language),
                         quarantined=count(held["rows_quarantined"].sum(), language),
                         read=count(rows["rows_read"].sum(), language), waves=waves, why=_why(why, language)))
    return out + [words("health.fix", language)] if out else [words("health.clean", language)]


def _kind_name(kind: str, language: str) -> str:
    key = f"health.kind.{kind}" if kind in FILE_KINDS else "health.kind.other"
    return words(key, language)


def health_table(health: Health, language: str):
    """Per wave and file kind: rows read, stored, in quarantine and why, accounts that answered."""
    f = health.files.copy()
    f["kind"] = [_kind_name(k, language) for k in f["kind"]]
    f["why"] = [_why(w, language) or "–" for w in f["why"]]
    f["wave"] = f["wave"].replace("", "–")
    return people_table(f, language=language, page="explore", columns={
        "wave": "text", "kind": "text", "rows_read": "count", "rows_stored": "count", "rows_quarantined": "count",
        "accounts": "count", "why": "text"})


def quarantine_table(health: Health, language: str):
    """The quarantine row by row (for analysts): file, row, column and the kind of reason; values are left out."""
    q = health.quarantine.drop_duplicates(["file", "row", "column", "why"])
    q = q.assign(why=[words(f"health.reason.{k}", language) for k in q["why"]],
                 wave=q["wave"].astype(object).where(q["wave"].notna(), "–"))
    return people_table(q, language=language, page="explore", verbatim=["file", "column"], columns={
        "file": "text", "wave": "text", "row": "count", "column": "text", "why": "text"})
