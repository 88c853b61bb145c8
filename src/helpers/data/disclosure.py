"""Disclosure control: which group results may be published, and a record of what was held back.

Staff answer anonymously and client answers are confidential, so a result is
published only when it cannot reveal the answers of fewer than a threshold of
people.  Three rules, applied in this order:

1. **Threshold** — no result from fewer answers than the side's threshold
   (:class:`Thresholds`: team 5, client 5, team comments 10 by default; set
   per run).
2. **Complementary suppression** — within one published total (an account's
   clients, its team), the sub-groups hidden by rule 1 must add up to at least
   the threshold; otherwise the smallest shown sub-groups are hidden too, so a
   hidden group cannot be worked out as the total minus the shown ones
   (:func:`complementary_suppression`).
3. **Differencing across waves** — while a group is small (fewer than twice
   the threshold in either wave: 10 answers by default), its results in two
   waves are both published only when the people behind them differ by none
   or by at least the threshold (:func:`differencing_suppression`): a team of
   5 that becomes 6 would otherwise show the newcomer's answer as the step
   between the two figures.  In larger groups one person moves a figure by a
   small step that the changing answers of everyone who answered both waves
   blur, so their waves are not held back.  Where respondents are identified
   (a ``respondent_id``), the differing people are counted exactly (the
   respondents in one wave but not the other); where they are not (the team
   answers anonymously), the kit assumes the same people answered both waves
   as far as the counts allow, so the difference in size counts.  Waves are
   taken oldest first, so what an earlier report published stays the
   reference and a later wave is the one held back.

Every rule works on the data — values become NaN and a ``suppressed`` flag
and ``reason`` say why — before anything is drawn, so a template cannot leak
what it never receives.  :class:`Audit` collects, per figure, how many results
each rule held back (counts and reasons only, never values); the batch writes
it into each report's manifest entry.

References: Hundepool et al. (2012), *Statistical Disclosure Control*, Wiley,
ch. 5 (threshold and secondary suppression) and §5.5 on differencing of
overlapping tables.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

#: Why a result was held back (the ``reason`` column and the audit).
BELOW_THRESHOLD = "fewer answers than the threshold"
TOO_FEW_FOR_A_FIGURE = "too few answers for a reliable figure"
COMPLEMENT = "would let a hidden group be worked out from the total"
DIFFERENCE = "differs from another published wave by fewer people than the threshold"
REASONS = (BELOW_THRESHOLD, TOO_FEW_FOR_A_FIGURE, COMPLEMENT, DIFFERENCE)


def _whole_at_least_one(value: Any, name: str) -> int:
    """A threshold as an int, or a ValueError naming the setting and its value."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = None
    if n is None or isinstance(value, bool) or n != value or n < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}.")
    return n


@dataclass(frozen=True)
class Thresholds:
    """The smallest groups whose results may be published, one per kind of answer.

    Parameters
    ----------
    team : int
        Team (staff) answers behind any published team result (default 5).
    client : int
        Client answers behind any published client result (default 5).  A
        firm whose clients agreed to be identified may set 1.
    comments : int, optional
        Team answers needed before any team comment is shown (default 10, or
        the team threshold when that is higher; never below it).
    reliable : int
        Answers needed before an estimate (a mean, an NPS, a percentile, a
        test) is shown as a figure at all, whatever the privacy thresholds
        (default 5): below it a page says "too few answers for a reliable
        figure" with the count.  The same number on every page.

    Examples
    --------
    >>> Thresholds().for_side("staff"), Thresholds(client=3).for_side("client")
    (5, 3)
    >>> Thresholds(client=1).figure_min("client")  # clients may be identified, but 1 answer is no figure
    5
    """

    team: int = 5
    client: int = 5
    comments: int | None = None
    reliable: int = 5

    def __post_init__(self) -> None:
        if self.comments is None:
            object.__setattr__(self, "comments", max(10, int(self.team) if isinstance(self.team, int) else 10))
        for name in ("team", "client", "comments", "reliable"):
            object.__setattr__(self, name, _whole_at_least_one(getattr(self, name), f"the {name} threshold"))
        if self.comments < self.team:
            raise ValueError(f"The comments threshold ({self.comments}) must be at least the team threshold "
                             f"({self.team}): otherwise the comments of a team too small to show its scores "
                             "would be shown.")

    def for_side(self, side: str) -> int:
        """The privacy threshold of ``side`` ("client" or "staff")."""
        if side not in ("client", "staff"):
            raise ValueError(f"side must be 'client' or 'staff', not {side!r}.")
        return self.client if side == "client" else self.team

    def figure_min(self, side: str) -> int:
        """The fewest answers behind any figure of ``side``: its privacy threshold or the reliable minimum."""
        return max(self.for_side(side), self.reliable)


@dataclass
class Audit:
    """What a report held back, figure by figure: counts and reasons, never values.

    Examples
    --------
    >>> audit = Audit()
    >>> audit.record("trend", pd.DataFrame({"reason": [DIFFERENCE, None, BELOW_THRESHOLD]}))
    >>> audit.summary()
    [{'figure': 'trend', 'reason': 'fewer answers than the threshold', 'results': 1}, {'figure': 'trend', 'reason': 'differs from another published wave by fewer people than the threshold', 'results': 1}]
    """

    rows: list[dict[str, Any]] = field(default_factory=list)

    def record(self, figure: str, data: pd.DataFrame, *, reason: str = "reason") -> None:
        """Count the held-back rows of ``data`` (those with a ``reason``) under ``figure``."""
        if reason not in data or data.empty:
            return
        counts = data[reason].dropna().value_counts()
        for why, n in counts.items():
            self.rows.append({"figure": str(figure), "reason": str(why), "results": int(n)})

    def summary(self) -> list[dict[str, Any]]:
        """One entry per figure × reason with the number of results held back, in the order of REASONS."""
        total: dict[tuple[str, str], int] = {}
        for r in self.rows:
            total[(r["figure"], r["reason"])] = total.get((r["figure"], r["reason"]), 0) + r["results"]
        order = {why: i for i, why in enumerate(REASONS)}
        keys = sorted(total, key=lambda k: ([r["figure"] for r in self.rows].index(k[0]), order.get(k[1], 99)))
        return [{"figure": f, "reason": why, "results": total[(f, why)]} for f, why in keys]


def complementary_suppression(counts: pd.Series, *, min_group_size: int, hidden: Iterable = ()) -> set:
    """Which sub-groups of one shown total to hide so that no group under the threshold can be read or worked out.

    Parameters
    ----------
    counts : Series
        Answers per sub-group (index: the sub-groups) within one total that is
        published, e.g. the roles of one account, wave and dimension.  Groups
        with equal counts are taken in the Series' order.
    min_group_size : int
        Smallest group that may be shown.
    hidden : iterable, optional
        Groups already held back for another reason (e.g. differencing across
        waves), counted with the small ones.

    Returns
    -------
    set
        Every group with fewer than ``min_group_size`` answers (and those in
        ``hidden``) and, when these add up to fewer than ``min_group_size``,
        the smallest shown groups too,
        until the hidden ones do (or all are hidden) — with two groups, hiding
        only the small one would let the total minus the other reveal it.

    Notes
    -----
    Primary suppression (n < k) followed by secondary, or complementary,
    suppression, as in statistical disclosure control for tables with shown
    totals (Hundepool et al. 2012, §4.3).

    Examples
    --------
    >>> sorted(complementary_suppression(pd.Series({"decision-maker": 2, "user": 8, "other": 9}), min_group_size=5))
    ['decision-maker', 'user']
    """
    k = _whole_at_least_one(min_group_size, "min_group_size")
    small = (counts < k) | counts.index.isin(list(hidden))
    hidden, hidden_n = set(counts.index[small]), int(counts[small].sum())
    for group, n in counts[~small].sort_values(kind="mergesort").items():
        if hidden_n == 0 or hidden_n >= k:
            break
        hidden.add(group)
        hidden_n += int(n)
    return hidden


def _differing_people(a: tuple[int, frozenset | None], b: tuple[int, frozenset | None]) -> int:
    """People in one wave's group but not the other's: exact with respondent ids, else the least the counts allow."""
    (n_a, ids_a), (n_b, ids_b) = a, b
    if ids_a is not None and ids_b is not None:
        return len(ids_a ^ ids_b)
    return abs(int(n_a) - int(n_b))


def differencing_suppression(sizes: Sequence[tuple[Hashable, int, frozenset | None]], *,
                             min_group_size: int, min_n: int | None = None) -> dict[Hashable, str | None]:
    """Which waves of one group to hold back so that no two published waves reveal a smaller group.

    Parameters
    ----------
    sizes : sequence of (wave, n, ids)
        The same group's candidates for publication, **oldest first**: the
        answers behind the result (``n``) and, where respondents are
        identified, the set of respondent ids (else None).
    min_group_size : int
        The privacy threshold of the group's side.
    min_n : int, optional
        The fewest answers for a figure at all (:attr:`Thresholds.reliable`);
        a wave between ``min_group_size`` and it is held back as
        :data:`TOO_FEW_FOR_A_FIGURE` and is not a reference for later waves.

    Returns
    -------
    dict
        wave → None when it may be published, else the reason
        (:data:`BELOW_THRESHOLD`, :data:`TOO_FEW_FOR_A_FIGURE` or :data:`DIFFERENCE`).

    Notes
    -----
    A wave is published when it has at least ``min_group_size`` answers and,
    for every earlier wave already published where either of the two has
    fewer than ``2 × min_group_size`` answers, the people who answered in one
    of the two waves but not in the other number 0 or at least
    ``min_group_size``.  Without ids the difference in size is used, which is
    the fewest people that can differ — the safe assumption for an anonymous
    team that is mostly the same people from wave to wave.  Waves are taken in
    time order so that an earlier report's figures stay the reference.  Two
    large waves (both at least twice the threshold) are not compared: one
    person's answer moves their figures by a small step that the changed
    answers of those in both waves blur.

    Examples
    --------
    A team of 5 that grows to 6: showing both would reveal the newcomer.

    >>> differencing_suppression([("2026Q2", 5, None), ("2026Q3", 6, None), ("2026Q4", 11, None)],
    ...                          min_group_size=5)
    {'2026Q2': None, '2026Q3': 'differs from another published wave by fewer people than the threshold', '2026Q4': None}
    """
    k = _whole_at_least_one(min_group_size, "min_group_size")
    least = max(k, _whole_at_least_one(min_n, "min_n")) if min_n is not None else k
    published: list[tuple[int, frozenset | None]] = []
    out: dict[Hashable, str | None] = {}
    for wave, n, ids in sizes:
        if n < least:
            out[wave] = BELOW_THRESHOLD if n < k else TOO_FEW_FOR_A_FIGURE
            continue
        d = [_differing_people((n, ids), p) for p in published if min(n, p[0]) < 2 * k]
        if any(0 < x < k for x in d):
            out[wave] = DIFFERENCE
            continue
        out[wave] = None
        published.append((n, ids))
    return out


def publishable(
    contributors: pd.DataFrame,
    *,
    thresholds: Thresholds,
    waves: Sequence[str],
    group: Sequence[str] = ("account_id", "side"),
    measure: str = "measure",
    respondent: str = "respondent_id",
) -> pd.DataFrame:
    """Which group × measure × wave results may be published: threshold, then differencing across waves.

    Parameters
    ----------
    contributors : DataFrame
        One row per answer that enters a result: the ``group`` columns
        (``side`` among them), ``wave``, ``measure`` (e.g. "nps" or a
        dimension id) and, where known, ``respondent`` (NaN for anonymous
        answers).
    thresholds : Thresholds
    waves : sequence of str
        Every wave in time order, oldest first (:func:`helpers.data.store.waves`).
    group : sequence of str
        The columns that make one group of people (default account and side).
    measure, respondent : str
        Column names.

    Returns
    -------
    DataFrame
        One row per group × measure × wave present: *group, measure, wave,
        n, shown (bool), reason (None or one of :data:`REASONS`).

    Examples
    --------
    >>> rows = pd.DataFrame({"account_id": "A", "side": "staff", "measure": "nps",
    ...                      "wave": ["W1"] * 5 + ["W2"] * 6, "respondent_id": np.nan})
    >>> publishable(rows, thresholds=Thresholds(), waves=["W1", "W2"])[["wave", "n", "shown"]].to_dict("records")
    [{'wave': 'W1', 'n': 5, 'shown': True}, {'wave': 'W2', 'n': 6, 'shown': False}]
    """
    group = list(group)
    cols = [*group, measure, "wave", "n", "shown", "reason"]
    if contributors.empty:
        return pd.DataFrame(columns=cols)
    order = {w: i for i, w in enumerate(waves)}
    unknown = sorted(set(contributors["wave"].astype(str)) - set(order))
    if unknown:
        raise ValueError(f"Waves {unknown} are not in the wave order given ({list(waves)}).")
    rows = []
    for key, g in contributors.groupby([*group, measure], sort=False, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        labels = dict(zip([*group, measure], key))
        side = labels.get("side", "client")
        per_wave = sorted(g.groupby("wave", sort=False), key=lambda item: order[item[0]])
        sizes = []
        for wave, w in per_wave:
            ids = w[respondent].dropna() if respondent in w else pd.Series(dtype=object)
            known = len(ids) == len(w) and len(w) > 0
            sizes.append((wave, len(w), frozenset(ids.astype(str)) if known else None))
        decided = differencing_suppression(sizes, min_group_size=thresholds.for_side(side),
                                           min_n=thresholds.reliable)
        rows += [{**labels, "wave": wave, "n": n, "shown": decided[wave] is None, "reason": decided[wave]}
                 for wave, n, _ in sizes]
    return pd.DataFrame(rows, columns=cols)


def apply_publishable(
    data: pd.DataFrame,
    decisions: pd.DataFrame,
    *,
    on: Sequence[str],
    columns: Iterable[str],
    audit: Audit | None = None,
    figure: str | None = None,
) -> pd.DataFrame:
    """Blank the result ``columns`` of every row whose group may not be published, with the reason.

    Parameters
    ----------
    data : DataFrame
        Results, one row per group (× measure × wave).
    decisions : DataFrame
        From :func:`publishable`.
    on : sequence of str
        Columns that match ``data`` rows to decisions (e.g. account_id, side,
        wave, measure).  Rows without a decision are left as they are.
    columns : iterable of str
        Result columns to blank (``n`` stays: a reader sees why).
    audit, figure
        Record the held-back rows under ``figure``.

    Returns
    -------
    DataFrame
        ``data`` with ``suppressed`` (bool) and ``reason`` columns added or
        updated; blanked values are NaN.
    """
    on = list(on)
    out = data.copy()
    dec = decisions.drop_duplicates(on).set_index(on)["reason"]
    keys = pd.MultiIndex.from_frame(out[on].astype(object)) if len(on) > 1 else pd.Index(out[on[0]])
    reason = pd.Series(dec.reindex(keys).to_numpy(), index=out.index, dtype=object)
    earlier = out["reason"] if "reason" in out else pd.Series(None, index=out.index, dtype=object)
    reason = earlier.where(earlier.notna(), reason)
    hide = reason.notna()
    for c in columns:
        if c in out:
            out[c] = out[c].astype("float64") if pd.api.types.is_numeric_dtype(out[c]) else out[c].astype(object)
            out.loc[hide, c] = np.nan
    out["reason"] = reason.where(hide, None)
    out["suppressed"] = hide | (out["suppressed"].astype(bool) if "suppressed" in out else False)
    if audit is not None and figure is not None:
        audit.record(figure, out)
    return out


def thresholds_from(values: Mapping[str, Any] | None = None, **kw: Any) -> Thresholds:
    """:class:`Thresholds` from a notebook's parameters (``min_group_size``, ``min_client_group_size``,
    ``min_comment_group_size``, ``min_reliable_n``), the defaults for any not given."""
    values = {**(values or {}), **kw}
    names = {"min_group_size": "team", "min_client_group_size": "client", "min_comment_group_size": "comments",
             "min_reliable_n": "reliable"}
    return Thresholds(**{field_: values[name] for name, field_ in names.items() if values.get(name) is not None})


def contributors(responses: pd.DataFrame, scores: pd.DataFrame | None = None, *,
                 respondent: str = "respondent_id") -> pd.DataFrame:
    """Who stands behind each published measure: one row per answer that enters an NPS or a dimension mean.

    Parameters
    ----------
    responses : DataFrame
        One row per response (:func:`helpers.data.store.load_responses`): response_id, account_id, side, wave,
        nps and, where known, ``respondent``.
    scores : DataFrame, optional
        Respondent dimension scores (:func:`helpers.stats.scores.respondent_scores`), one row per response ×
        dimension with a score.

    Returns
    -------
    DataFrame
        account_id, side, wave, measure ("nps" or a dimension id), respondent_id — for :func:`publishable`.
    """
    cols = ["account_id", "side", "wave", "measure", "respondent_id"]
    who = responses[[c for c in ("response_id", respondent) if c in responses]].drop_duplicates("response_id")
    parts = []
    answered = responses[responses["nps"].notna()] if "nps" in responses else responses.iloc[:0]
    parts.append(answered.assign(measure="nps").rename(columns={respondent: "respondent_id"}))
    if scores is not None and len(scores):
        sc = scores.dropna(subset=["score"]).rename(columns={"dimension": "measure"})
        if respondent in who and respondent not in sc:
            sc = sc.merge(who, on="response_id", how="left")
        parts.append(sc.rename(columns={respondent: "respondent_id"}))
    out = pd.concat([p.reindex(columns=cols) for p in parts], ignore_index=True)
    return out.astype({"respondent_id": object})


def withheld(decisions: pd.DataFrame, *, side: str | None = None) -> pd.DataFrame:
    """The results :func:`publishable` holds back, as rows to leave out of a page's tables and references.

    Returns
    -------
    DataFrame
        account_id, side, wave, dimension (the measure: a dimension id or "nps"), reason — one row per
        held-back group × measure × wave (of ``side`` only, when given).
    """
    out = decisions[~decisions["shown"].astype(bool)]
    if side is not None:
        out = out[out["side"] == side]
    return out.rename(columns={"measure": "dimension"})[["account_id", "side", "wave", "dimension", "reason"]
                                                       ].reset_index(drop=True)


def publication(responses: pd.DataFrame, scores: pd.DataFrame | None = None, *, thresholds: Thresholds,
                waves: Sequence[str]) -> pd.DataFrame:
    """:func:`publishable` of every account's NPS and dimension means: which may a page show, wave by wave.

    ``responses`` and ``scores`` as :func:`contributors` takes them, for every wave up to the page's, so
    earlier waves count as the reference for differencing.
    """
    return publishable(contributors(responses, scores), thresholds=thresholds, waves=list(waves))
