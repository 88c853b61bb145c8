"""The account report's tables for people: the gaps at a glance in the body, the complete statistics in the
analysts' appendix.

Each takes a section frame (results the report may not publish already
blank) and hands on a :class:`helpers.report.formatting.PeopleTable`: headers
from the catalogue (``account.header.*``), numbers by locale (a decimal comma
and a real minus in Finnish), "–" for what is hidden or missing, every cell
escaped, text left and numbers right.  Wave labels are marked as data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from helpers.data.instrument import instrument_of
from helpers.report import comments as cm
from helpers.report.formatting import MISSING, PeopleTable, check_language, interval, number, people_table, points
from helpers.stats import benchmark as bm
from helpers.stats import gaps as gp
from helpers.words import say

PAGE = "account"


def _table(data: pd.DataFrame, language: str, kinds: Mapping[str, str], *, numeric_text: Sequence[str] = (),
           verbatim: Sequence[str] = (), headers: Mapping[str, str] | None = None,
           caption: str | None = None) -> PeopleTable:
    """:func:`people_table` with the account page's headers; ``numeric_text`` are columns already formatted as
    numbers (e.g. "4.1 (3.8 to 4.4)"), aligned right like numbers."""
    t = people_table(data, language=language, columns=dict(kinds), page=PAGE, headers=headers, verbatim=verbatim,
                     caption=caption)
    if not numeric_text:
        return t
    shown = dict(zip(kinds, t.frame.columns))
    return PeopleTable(t.frame, numeric=[*t.numeric, *[shown[c] for c in numeric_text]], verbatim=t.verbatim,
                       caption=t.caption)


def _words(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """Codes as words in ``language``: dimension and measure labels, sides, gap readings, evidence, roles."""
    labels = instrument_of(frame).labels(language)
    d = frame.reset_index(drop=True).copy()
    for c in ("dimension", "measure"):
        if c in d:
            d[c] = d[c].map(lambda v: labels.get(v, say("account.nps", language) if v == "nps" else v))
    if "side" in d:
        d["side"] = d["side"].map(lambda v: gp.SIDE_TEXT[language].get(v, v))
    if "label" in d:
        d["label"] = d["label"].map(lambda v: gp.LABEL_TEXT[language].get(v, v) if isinstance(v, str) else None)
    if "evidence" in d:
        d["evidence"] = d["evidence"].map(lambda v: gp.EVIDENCE_TEXT[language].get(v, v)
                                          if isinstance(v, str) else None)
    if "role" in d:
        d["role"] = d["role"].map(lambda v: cm.ROLE_TEXT[language].get(v, v) if isinstance(v, str) else v)
    return d


# ---------------------------------------------------------------------------
# The body
# ---------------------------------------------------------------------------
def _mean_with_ci(mean: float, lo: float, hi: float, language: str, *, sign: bool = False) -> str:
    """"4.1 (3.8 to 4.4)" / "4,1 (3,8…4,4)"; "–" when hidden."""
    if pd.isna(mean):
        return MISSING
    ci = interval(lo, hi, language, 1, sign=sign)
    value = number(mean, language, 1, sign=sign)
    return value if ci == MISSING else f"{value} ({ci})"


def perception_table(view: pd.DataFrame, gaps: pd.DataFrame, *, language: str = "en") -> PeopleTable:
    """The 360° view at a glance: one row per dimension, the client's and the team's mean, the gap and its reading.

    Parameters
    ----------
    view : DataFrame
        :func:`helpers.report.account.sections.view_360`.
    gaps : DataFrame
        :func:`helpers.report.account.sections.gaps_section` of the same account and wave.
    language : {"en", "fi"}

    Returns
    -------
    PeopleTable
        Dimension | Client (n = …) | Team (n = …) | Gap (client − team) | Reading.  Means and the gap with
        their 95% intervals in brackets, one decimal; the n in the side's header when every dimension has
        the same n, else in each cell; "–" where a result is hidden.
    """
    language = check_language(language)
    dims = instrument_of(view).dimension_ids
    rows = {"dimension": dims}
    headers = {}
    for side, col in (("client", "client"), ("staff", "team")):
        s = view[view["side"] == side].drop_duplicates("dimension").set_index("dimension").reindex(dims)
        cells = [_mean_with_ci(r["mean"], r["ci_low"], r["ci_high"], language) for _, r in s.iterrows()]
        ns = s.loc[s["mean"].notna(), "n"].astype(int).unique() if "n" in s else []
        if len(ns) > 1:
            cells = [c if c == MISSING else f"{c}, n = {int(n)}" for c, n in zip(cells, s["n"])]
        n_shown = int(ns[0]) if len(ns) == 1 else int(s["n"].max()) if s["n"].notna().any() else 0
        key = f"{col}_n" if len(ns) <= 1 else col
        headers[col] = say(f"account.header.{key}", language, n=n_shown) if key.endswith("_n") else \
            say(f"account.header.{key}", language)
        rows[col] = cells
    g = gaps.drop_duplicates("dimension").set_index("dimension").reindex(dims)
    shown_gap = g["gap"].where(~g["suppressed"].fillna(False).astype(bool)) if "suppressed" in g else g["gap"]
    rows["gap"] = [_mean_with_ci(v, lo, hi, language, sign=True)
                   for v, lo, hi in zip(shown_gap, g["ci_low"], g["ci_high"])]
    rows["reading"] = [gp.LABEL_TEXT[language].get(lab, lab) if isinstance(lab, str)
                       else gp.EVIDENCE_TEXT[language].get(ev, MISSING) if isinstance(ev, str) else MISSING
                       for lab, ev in zip(g["label"], g.get("evidence", pd.Series(None, index=g.index)))]
    frame = pd.DataFrame(rows)
    frame["dimension"] = [instrument_of(view).labels(language)[d] for d in dims]
    return _table(frame, language, {"dimension": "text", "client": "text", "team": "text", "gap": "text",
                                    "reading": "text"}, numeric_text=["client", "team", "gap"], headers=headers)


# ---------------------------------------------------------------------------
# The appendix: complete statistics, headers in the page's language
# ---------------------------------------------------------------------------
def view_table(view: pd.DataFrame, *, language: str = "en") -> PeopleTable:
    """The 360° view in full: side, dimension, n, mean, 95% CI and within-group agreement r_wg."""
    language = check_language(language)
    return _table(_words(view, language), language, {
        "side": "text", "dimension": "text", "n": "count", "mean": "number:2", "ci_low": "number:2",
        "ci_high": "number:2", "rwg": "number:2"})


def groups_table(groups: pd.DataFrame, *, language: str = "en", by: str = "role") -> PeopleTable:
    """Client sub-groups (hidden groups show "–")."""
    language = check_language(language)
    d = _words(groups, language)
    if by in d:
        d[by] = d[by].map(lambda v: MISSING if v in (None, "–") or pd.isna(v) else v)
    return _table(d, language, {by: "text", "dimension": "text", "n": "count", "mean": "number:2",
                                "ci_low": "number:2", "ci_high": "number:2"})


def gaps_table(gaps: pd.DataFrame, *, language: str = "en") -> PeopleTable:
    """Perception gaps in full: means, the gap with its Welch interval, the BH-adjusted p, Hedges' g,
    reading and evidence."""
    language = check_language(language)
    return _table(_words(gaps, language), language, {
        "dimension": "text", "n_client": "count", "n_staff": "count", "client_mean": "number:2",
        "staff_mean": "number:2", "gap": "signed:2", "ci_low": "signed:2", "ci_high": "signed:2", "p_fdr": "p",
        "effect_size": "signed:2", "label": "text", "evidence": "text"})


def nps_table(net: pd.DataFrame, *, language: str = "en") -> PeopleTable:
    """NPS per wave and side with the adjusted-Wald interval (rows the report may not publish show "–")."""
    language = check_language(language)
    return _table(_words(net, language), language, {
        "wave": "text", "side": "text", "n": "count", "nps": "points", "ci_low": "points", "ci_high": "points"},
        verbatim=["wave"])


def nps_changes_table(changes: pd.DataFrame, *, language: str = "en") -> PeopleTable | None:
    """The client NPS change between consecutive published waves, with its interval; None (nothing shown)
    when no two published waves follow each other."""
    language = check_language(language)
    if changes.empty:
        return None
    return _table(changes, language, {
        "wave_from": "text", "wave_to": "text", "n_from": "count", "n_to": "count", "change": "points",
        "ci_low": "points", "ci_high": "points"}, verbatim=["wave_from", "wave_to"])


def benchmark_table(bench: pd.DataFrame, *, language: str = "en") -> PeopleTable:
    """Benchmark: value, percentile (with the percentiles of the CI ends) and the portfolio middle."""
    language = check_language(language)
    b = _words(bench, language)
    measure = bench["measure"].reset_index(drop=True)

    def fmt(v: float, m: str, digits: int = 2) -> str:
        return points(v, language) if m == "nps" else number(v, language, digits)

    def ref(v: float, m: str) -> str:  # the portfolio's quartiles: as coarse as the data holds them
        return fmt(v, m, bm.QUARTILE_DECIMALS["mean"])

    def span(lo: str, hi: str) -> str:
        return MISSING if MISSING in (lo, hi) else f"{lo} … {hi}"

    b["pct_range"] = [span(number(lo, language, 0), number(hi, language, 0))
                      for lo, hi in zip(bench["pct_low"], bench["pct_high"])]
    b["ref_range"] = [span(ref(lo, m), ref(hi, m)) for lo, hi, m in zip(bench["ref_p25"], bench["ref_p75"], measure)]
    b["value"] = [fmt(v, m) for v, m in zip(bench["value"], measure)]
    b["ref_median"] = [ref(v, m) for v, m in zip(bench["ref_median"], measure)]
    return _table(b, language, {"measure": "text", "n": "count", "value": "text", "percentile": "number:0",
                                "pct_range": "text", "ref_median": "text", "ref_range": "text",
                                "n_accounts": "count"},
                  numeric_text=["value", "pct_range", "ref_median", "ref_range"])

