"""The drivers page in plain words: the summary band and the sentences of its body.

Takes the results of :mod:`.sections` (key-driver shares, importance against
performance, the model fits, the checks, client–team agreement) and hands on
a :class:`helpers.report.band.SummaryBand` and short lists of sentences, every
word from the catalogue (``drivers.*``) and every number by locale, each with
its n and its interval.  No test names here: they belong to the appendix
(:mod:`.appendix`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.report import formatting as fmt
from helpers.report.band import SummaryBand, Tile
from helpers.stats.fitting import term_label
from helpers.words import say

from .notes import join_names
from .setup import DriverSetup

__all__ = [
    "outcome_key",
    "top_drivers",
    "answer_sentence",
    "driver_band",
    "ipa_points",
    "confidence_points",
    "agreement_points",
    "views_sentence",
    "share_interval",
    "STABLE_SHARE",
]

#: A driver that takes its place in at least this share of the bootstrap resamples is "stable" there.
STABLE_SHARE = 0.9
#: Quadrants of :func:`helpers.stats.drivers.importance_performance` in the order the page names them.
QUADRANT_ORDER = ("concentrate here", "keep up the good work", "possible overkill", "low priority", "no data")
QUADRANT_KEY = {"concentrate here": "concentrate", "keep up the good work": "keep", "possible overkill": "overkill",
                "low priority": "low", "no data": "no_data"}


def outcome_key(setup: DriverSetup) -> str:
    """What the page explains, as a catalogue key: ``nps_client``, ``nps_staff``, ``nps_both`` or ``retention``."""
    return f"nps_{setup.side}" if setup.kind == "nps" else "retention"


def _mid(label: str, language: str) -> str:
    """A dimension's label inside a Finnish sentence starts with a small letter ("vaikutus"); English keeps it."""
    if language == "fi" and label[:1].isupper() and not label[1:2].isupper():
        return label[:1].lower() + label[1:]
    return label


def _label(term: str, language: str, inst: Instrument, *, first: bool = True) -> str:
    text = term_label(term, language=language, instrument=inst)
    return text if first else _mid(text, language)


def _names(terms: Sequence[str], language: str, inst: Instrument, *, capital: bool = False) -> str:
    """Terms named in a sentence: "Care and Impact" / "välittäminen ja vaikutus" ("Välittäminen …" at its start)."""
    return join_names([_label(t, language, inst, first=capital and i == 0) for i, t in enumerate(terms)], language)


def share_interval(low: float, high: float, language: str) -> str:
    """A share's interval as people write it: "55 to 66%" / "55…66 %"."""
    text = fmt.interval(low * 100, high * 100, language, 0)
    return text if text == fmt.MISSING else text + ("\u00a0%" if language == "fi" else "%")


def top_drivers(importance: pd.DataFrame, *, most: int = 3) -> pd.DataFrame:
    """The drivers to name first: the largest share, and any other above an even split (1/p), at most ``most``.

    Returns
    -------
    DataFrame
        Rows of ``importance`` in order of share (empty when no share could
        be estimated).
    """
    tab = importance.dropna(subset=["share"]).sort_values("share", ascending=False)
    if tab.empty:
        return tab
    even = 1 / len(importance)
    keep = tab[tab["share"] > even]
    return (keep if len(keep) else tab.head(1)).head(most)


def _n_phrase(importance: pd.DataFrame, setup: DriverSetup, language: str) -> dict[str, str]:
    first = importance.iloc[0]
    n = int(first["n"]) if pd.notna(first.get("n")) else 0
    clusters = first.get("n_clusters")
    out = {"n": fmt.count(n, language),
           "accounts": fmt.count(clusters if pd.notna(clusters) else n, language),
           "k": fmt.count(len(setup.predictors), language)}
    if setup.kind == "retention":
        used = setup.data.dropna(subset=[setup.outcome, *setup.predictors])
        events = int(used[setup.outcome].sum())
        out.update(events=fmt.count(events, language), renewed=fmt.count(len(used) - events, language))
    return out


def answer_sentence(setup: DriverSetup, importance: pd.DataFrame, *, language: str = "en",
                    instrument: str | Instrument | None = None) -> str:
    """The page's answer in one sentence: the top drivers with their shares and intervals, and the n.

    Parameters
    ----------
    setup : DriverSetup
        From :func:`helpers.report.drivers.driver_setup`.
    importance : DataFrame
        :func:`helpers.report.drivers.driver_importance` (share, share_ci_low,
        share_ci_high, n, n_clusters).
    language : str
        "en" or "fi".

    Returns
    -------
    str
        E.g. "Care explains about 61% (95% interval 55 to 66%) and Impact
        about 35% (28 to 41%) of what the 5 dimensions together explain of
        client NPS (3,529 answers from 60 accounts)."; when no share could be
        estimated, the reason in plain words.

    Examples
    --------
    >>> from helpers.report.drivers.setup import DriverSetup
    >>> imp = pd.DataFrame({"term": ["care", "dare"], "share": [.8, .2], "share_ci_low": [.7, .1],
    ...                     "share_ci_high": [.9, .3], "n": [200, 200], "n_clusters": [20, 20]})
    >>> s = DriverSetup(data=pd.DataFrame(), outcome="nps", predictors=["care", "dare"], level="respondent",
    ...                 kind="nps", side="client", cluster="account_id", table=pd.DataFrame(), description="")
    >>> answer_sentence(s, imp)
    'Care explains about 80% (95% interval 70 to 90%) of what the 2 dimensions together explain of client NPS (200 answers from 20 accounts).'
    """
    inst = load_instrument(instrument)
    top = top_drivers(importance)
    if top.empty:
        n = int(importance["n"].max()) if "n" in importance and importance["n"].notna().any() else 0
        return say("drivers.answer.none", language, n=fmt.count(n, language))
    parts = []
    for i, r in enumerate(top.itertuples()):
        fields = {"name": _label(r.term, language, inst, first=i == 0), "share": fmt.percent(r.share, language),
                  "interval": share_interval(r.share_ci_low, r.share_ci_high, language)}
        parts.append(say("drivers.answer.first" if i == 0 else "drivers.answer.next", language, **fields))
    drivers = join_names(parts, language)
    return say(f"drivers.answer.{outcome_key(setup)}", language, drivers=drivers,
               **_n_phrase(importance, setup, language))


def _tone(term: str, setup: DriverSetup) -> str:
    """A driver tile's accent: the colour of whose rating it is (client, team), none for a gap."""
    if term.startswith("gap_"):
        return ""
    if term.startswith("staff_") or (setup.side == "staff" and setup.kind == "nps"):
        return "team"
    return "client"


def _waves_text(waves: Sequence[str], language: str) -> str:
    waves = list(waves)
    if not waves:
        return ""
    if len(waves) == 1:
        return say("drivers.band.wave_one", language, wave=waves[0])
    return say("drivers.band.waves", language, n=fmt.count(len(waves), language), first=waves[0], last=waves[-1])


def driver_band(
    setup: DriverSetup,
    importance: pd.DataFrame,
    ipa: pd.DataFrame,
    *,
    fits: Mapping[str, pd.DataFrame] | None = None,
    baseline: pd.DataFrame | None = None,
    waves: Sequence[str] = (),
    language: str = "en",
    instrument: str | Instrument | None = None,
) -> SummaryBand:
    """The summary band that opens the drivers page.

    Parameters
    ----------
    setup : DriverSetup
    importance : DataFrame
        :func:`helpers.report.drivers.driver_importance` (dominance).
    ipa : DataFrame
        :func:`helpers.report.drivers.driver_ipa`.
    fits : mapping, optional
        :func:`helpers.report.drivers.driver_models`: the direction of each
        rating in every model (a sentence when they agree).
    baseline : DataFrame, optional
        :func:`helpers.report.drivers.baseline_comparison` (retention): whether
        the ratings predict churn better than NPS alone.
    waves : sequence of str
        The waves pooled (named in the n tile).
    language : str

    Returns
    -------
    SummaryBand
        ``heading``: :func:`answer_sentence`; tiles: each top driver's share
        with its interval, what the ratings explain together, and the n
        (answers and accounts, or accounts with a known outcome); sentences:
        where improvement pays most, how stable the order is, and — for
        retention — whether the ratings beat NPS alone, or — for NPS — in
        which direction the ratings go in every model.
    """
    inst = load_instrument(instrument)
    top = top_drivers(importance)
    tiles = [Tile(label=_label(r.term, language, inst), value=fmt.percent(r.share, language),
                  detail=say("drivers.band.share_detail", language,
                             interval=share_interval(r.share_ci_low, r.share_ci_high, language)),
                  tone=_tone(r.term, setup)) for r in top.itertuples()]
    n = _n_phrase(importance, setup, language) if len(importance) else {}
    r2 = importance["r2"].dropna()
    if len(r2):
        tiles.append(Tile(label=say("drivers.band.fit_label", language), value=fmt.percent(r2.iloc[0], language),
                          detail=say(f"drivers.band.fit_detail.{setup.kind}", language)))
    if setup.kind == "retention" and n:
        tiles.append(Tile(label=say("drivers.band.n_accounts", language), value=n["n"],
                          detail=say("drivers.band.n_accounts_detail", language, events=n["events"],
                                     renewed=n["renewed"])))
    elif n:
        tiles.append(Tile(label=say("drivers.band.n_answers", language), value=n["n"],
                          detail=say("drivers.band.n_answers_detail", language, accounts=n["accounts"],
                                     waves=_waves_text(waves, language))))
    sentences = [s for s in (_focus_sentence(ipa, language, inst), stability_sentence(importance, language, inst))
                 if s]
    if setup.kind == "retention" and baseline is not None:
        sentences.append(baseline_sentence(baseline, language))
    elif fits:
        sentences += direction_sentences(fits, setup, language, inst, order=_by_importance(importance))[:1]
    return SummaryBand(tiles=tiles, sentences=sentences, heading=answer_sentence(setup, importance, language=language,
                                                                               instrument=inst))


def _focus_sentence(ipa: pd.DataFrame, language: str, inst: Instrument) -> str:
    """Where improvement pays most (important, rated below the average), else what to keep up."""
    if ipa.empty:
        return ""
    by = ipa.sort_values("importance", ascending=False)
    focus = by[by["quadrant"] == "concentrate here"]["term"].tolist()
    keep = by[by["quadrant"] == "keep up the good work"]["term"].tolist()
    if focus:
        key = "drivers.band.focus_one" if len(focus) == 1 else "drivers.band.focus_many"
        return say(key, language, names=_names(focus, language, inst, capital=True))
    if keep:
        return say("drivers.band.keep", language, names=_names(keep, language, inst))
    return ""


def stability_sentence(importance: pd.DataFrame, language: str, inst: Instrument) -> str:
    """How often the first driver came first in the bootstrap: a settled order or not."""
    tab = importance.dropna(subset=["share"]).sort_values("rank")
    if tab.empty:
        return ""
    first = tab.iloc[0]
    n_boot = first.get("n_boot")
    if not (pd.notna(n_boot) and n_boot > 0 and pd.notna(first.get("top_share"))):
        return say("drivers.band.no_resamples", language)
    fields = {"name": _label(first["term"], language, inst, first=False),
              "pct": fmt.percent(first["top_share"], language),
              "n_boot": fmt.count(n_boot, language)}
    if first["top_share"] < STABLE_SHARE:
        return say("drivers.band.unstable", language, **fields)
    if len(tab) > 1 and pd.notna(tab.iloc[1].get("rank_share")) and tab.iloc[1]["rank_share"] >= STABLE_SHARE:
        second = tab.iloc[1]
        return say("drivers.band.stable_two", language, second=_label(second["term"], language, inst, first=False),
                   pct2=fmt.percent(second["rank_share"], language), **fields)
    return say("drivers.band.stable", language, **fields)


def _by_importance(importance: pd.DataFrame) -> list[str]:
    return importance.dropna(subset=["share"]).sort_values("share", ascending=False)["term"].tolist()


def _direction(fit: pd.DataFrame) -> dict[str, int]:
    """+1 / −1 for each term whose interval lies above / below 0 in this fit, 0 otherwise."""
    out = {}
    for r in fit.itertuples():
        if pd.notna(r.ci_low) and r.ci_low > 0:
            out[r.term] = 1
        elif pd.notna(r.ci_high) and r.ci_high < 0:
            out[r.term] = -1
        else:
            out[r.term] = 0
    return out


def direction_sentences(fits: Mapping[str, pd.DataFrame], setup: DriverSetup, language: str,
                        inst: Instrument, *, order: Sequence[str] = ()) -> list[str]:
    """Which ratings go with a higher (or lower) outcome in every model, and which are unclear in some.

    A rating "goes with" the outcome when its 95% interval lies on the same
    side of 0 in every model fitted (``order``: the terms in the order to
    name them, e.g. by importance).
    """
    usable = [f for f in fits.values() if len(f) and f["coef"].notna().any()]
    if not usable:
        return []
    signs = [_direction(f) for f in usable]
    what = "nps" if setup.kind == "nps" else "churn"
    terms = [t for t in order if t in setup.predictors] + [t for t in setup.predictors if t not in order]
    up = [t for t in terms if all(s.get(t) == 1 for s in signs)]
    down = [t for t in terms if all(s.get(t) == -1 for s in signs)]
    unclear = [t for t in terms if t not in up and t not in down]
    m = fmt.count(len(usable), language)
    out = []
    if up:
        out.append(say(f"drivers.direction.up_{what}", language, m=m, names=_names(up, language, inst)))
    if down:
        out.append(say(f"drivers.direction.down_{what}", language, m=m, names=_names(down, language, inst)))
    if not up and not down:
        out.append(say(f"drivers.direction.none_{what}", language, m=m))
    elif unclear:
        out.append(say("drivers.direction.unclear", language, names=_names(unclear, language, inst, capital=True)))
    return out


def baseline_sentence(baseline: pd.DataFrame, language: str) -> str:
    """Do the ratings predict churn better than NPS alone, out of sample?  In plain words, with n and intervals.

    "Better" only when the paired difference of the two models' AUCs has an
    interval above 0 (``attrs["auc_difference"]["ci_low"] > 0``), the rule
    the at-risk ranking follows too.
    """
    if baseline is None or baseline.attrs.get("not_applicable"):
        return say("drivers.baseline.not_applicable", language)
    try:
        m = baseline.set_index(["model", "metric"])
        a, b = m.loc[("model", "auc")], m.loc[("baseline", "auc")]
    except KeyError:
        return say("drivers.baseline.none", language)
    diff = baseline.attrs.get("auc_difference") or {}
    better = bool(pd.notna(diff.get("ci_low")) and diff.get("ci_low") > 0)
    return say("drivers.baseline.better" if better else "drivers.baseline.not_better", language,
               auc=fmt.percent(a["estimate"], language), auc_iv=share_interval(a["ci_low"], a["ci_high"], language),
               base=fmt.percent(b["estimate"], language), base_iv=share_interval(b["ci_low"], b["ci_high"], language),
               n=fmt.count(a["n"], language), events=fmt.count(a["n_events"], language))


def _markdown(points: Sequence[str]):
    from helpers.report.tables import notes_markdown

    return notes_markdown([p for p in points if p])


def ipa_points(ipa: pd.DataFrame, *, language: str = "en", instrument: str | Instrument | None = None):
    """Importance against performance in plain words: one line per quadrant naming its dimensions.

    Returns
    -------
    IPython.display.Markdown or None
        "Concentrate here — important, rated below the average: Impact (35%
        of what is explained; rated 3.5, 95% interval 3.3 to 3.6)." …, and
        where the cross-hairs are, with n.
    """
    inst = load_instrument(instrument)
    if ipa.empty:
        return None
    points, said = [], 0
    for quadrant in QUADRANT_ORDER:
        rows = ipa[ipa["quadrant"] == quadrant].sort_values("importance", ascending=False)
        if rows.empty:
            continue
        items = []
        for r in rows.itertuples():
            gap = str(r.term).startswith("gap_")
            key = "drivers.ipa." + ("item" if not said else "item_short") + ("_gap" if gap else "")
            items.append(say(key, language, name=_label(r.term, language, inst, first=False),
                             share=fmt.percent(r.importance, language),
                             mean=fmt.number(r.performance, language, 2, sign=gap),
                             interval=fmt.interval(r.performance_ci_low, r.performance_ci_high, language, 2,
                                                   sign=gap)))
            said += 1
        points.append(say(f"drivers.ipa.lead.{QUADRANT_KEY.get(quadrant, 'no_data')}", language)
                      + ": " + "; ".join(items) + ".")
    first = ipa.iloc[0]
    cut = ipa["performance_cut"]
    points.append(say("drivers.ipa.crosshairs", language, importance=fmt.percent(first["importance_cut"], language),
                      performance=fmt.number(cut.mean(), language, 2),
                      n=fmt.count(ipa["n"].max(), language)))
    return _markdown(points)


def confidence_points(
    setup: DriverSetup,
    importance: pd.DataFrame,
    weights: pd.DataFrame,
    fits: Mapping[str, pd.DataFrame],
    checks: pd.DataFrame,
    *,
    baseline: pd.DataFrame | None = None,
    language: str = "en",
    instrument: str | Instrument | None = None,
):
    """How sure the page can be, in plain words: stability, a second method, the models, the checks.

    Returns
    -------
    IPython.display.Markdown or None
        How often each dimension kept its place in the bootstrap; whether
        relative weights give the order dominance gives; the direction of
        each rating in every model; the model checks that failed (or that
        all passed); for retention whether the ratings beat NPS alone.
    """
    inst = load_instrument(instrument)
    points = [_places_sentence(importance, language, inst), _methods_sentence(importance, weights, language, inst),
              *direction_sentences(fits, setup, language, inst, order=_by_importance(importance)),
              checks_sentence(checks, language)]
    if setup.kind == "retention":
        points.append(baseline_sentence(baseline, language))
    return _markdown(points)


def _places_sentence(importance: pd.DataFrame, language: str, inst: Instrument) -> str:
    tab = importance.dropna(subset=["share", "rank_share"]).sort_values("rank")
    n_boot = tab["n_boot"].max() if "n_boot" in tab and len(tab) else np.nan
    if tab.empty or not (pd.notna(n_boot) and n_boot > 0):
        return ""
    items = [say("drivers.sure.place", language, name=_label(r.term, language, inst, first=False),
                 rank=fmt.count(r.rank, language), pct=fmt.percent(r.rank_share, language))
             for r in tab.itertuples()]
    return say("drivers.sure.places", language, n_boot=fmt.count(n_boot, language), items="; ".join(items))


def _methods_sentence(importance: pd.DataFrame, weights: pd.DataFrame, language: str, inst: Instrument) -> str:
    a = importance.dropna(subset=["rank"]).sort_values("rank")["term"].tolist()
    b = weights.dropna(subset=["rank"]).sort_values("rank")["term"].tolist()
    if not a or not b:
        return ""
    if a == b:
        return say("drivers.sure.methods_agree", language)
    order = " > ".join(_label(t, language, inst, first=False) for t in b)
    return say("drivers.sure.methods_differ", language, order=order)


#: The trust checks in the order the page names the failed ones.
CHECKS = ("constant", "n", "events_per_variable", "separation", "vif", "condition_number", "clusters")


def checks_sentence(checks: pd.DataFrame, language: str) -> str:
    """The model checks in one sentence: all passed, or the ones that did not, in plain words."""
    if checks is None or checks.empty:
        return ""
    failed = checks[~checks["passed"].astype(bool)]
    if failed.empty:
        return say("drivers.sure.checks_ok", language)
    problems = []
    for r in failed.itertuples():
        key = f"drivers.check_problem.{r.check}"
        digits = 1 if r.check in ("vif", "events_per_variable") else 0
        problems.append(say(key, language, value=fmt.number(r.value, language, digits),
                            limit=fmt.number(r.threshold, language, 0)))
    return say("drivers.sure.checks_failed", language, problems="; ".join(problems))


def agreement_points(
    agreement: pd.DataFrame,
    measurement: pd.DataFrame,
    *,
    setup: DriverSetup | None = None,
    importance: pd.DataFrame | None = None,
    other: pd.DataFrame | None = None,
    language: str = "en",
    instrument: str | Instrument | None = None,
):
    """Client and team in plain words: do they agree on what matters, read the items alike, and does disagreement matter?

    Parameters
    ----------
    agreement : DataFrame
        :func:`helpers.report.drivers.congruence_summary`.
    measurement : DataFrame
        :func:`helpers.stats.measurement.measurement_check`.
    setup, importance, other : optional
        The page's setup and key drivers, and the other side's
        (:func:`helpers.report.drivers.other_side_importance`): with all
        three, the first sentence says whether both sides' NPS is explained
        by the same dimensions (:func:`views_sentence`).

    Returns
    -------
    IPython.display.Markdown or None
    """
    from .sections import congruence_verdict

    inst = load_instrument(instrument)
    views = (views_sentence(setup, importance, other, language=language, instrument=inst)
             if setup is not None and importance is not None and other is not None else "")
    return _markdown([views, measurement_sentence(measurement, language, inst),
                      *congruence_verdict(agreement, language=language, instrument=inst)])


def views_sentence(setup: DriverSetup, importance: pd.DataFrame, other: pd.DataFrame, *, language: str = "en",
                   instrument: str | Instrument | None = None) -> str:
    """Do clients and the team agree on what matters?  The other side's top drivers beside the page's, in words.

    Parameters
    ----------
    setup : DriverSetup
        The page's (its outcome is named as "here").
    importance : DataFrame
        The page's key drivers (:func:`helpers.report.drivers.driver_importance`).
    other : DataFrame
        The other side's (:func:`helpers.report.drivers.other_side_importance`,
        ``attrs["side"]`` says whose).

    Returns
    -------
    str
        "agree" when both name the same top drivers (:func:`top_drivers`) in
        the same order, "partly" when only the first is the same, "differ"
        otherwise; the other side's top drivers with share, interval and n.
        "" when either has no shares.

    Examples
    --------
    >>> from helpers.report.drivers.setup import DriverSetup
    >>> s = DriverSetup(data=pd.DataFrame(), outcome="nps", predictors=["care", "excitement"], level="respondent",
    ...                 kind="nps", side="client", cluster="account_id", table=pd.DataFrame(), description="")
    >>> mine = pd.DataFrame({"term": ["care", "excitement"], "share": [.9, .1], "share_ci_low": [.8, 0],
    ...                      "share_ci_high": [.95, .2], "n": 500, "n_clusters": 20})
    >>> theirs = mine.assign(share=[.1, .9], n=300)
    >>> theirs.attrs["side"] = "staff"
    >>> views_sentence(s, mine, theirs)[:61]
    "The team's own NPS (would team members recommend working with"
    """
    inst = load_instrument(instrument)
    side = other.attrs.get("side") if other is not None else None
    mine, theirs = top_drivers(importance), top_drivers(other) if other is not None else pd.DataFrame()
    if side is None or mine.empty or theirs.empty:
        return ""
    a, b = mine["term"].tolist(), theirs["term"].tolist()
    key = "agree" if a == b else "partly" if a[0] == b[0] else "differ"
    items = [say("drivers.views.item", language, name=_label(r.term, language, inst, first=False),
                 share=fmt.percent(r.share, language),
                 interval=share_interval(r.share_ci_low, r.share_ci_high, language)) for r in theirs.itertuples()]
    first = theirs.iloc[0]
    clusters = first.get("n_clusters")
    return say(f"drivers.views.{key}", language, Other=_capital(say(f"drivers.views.other.{side}", language)),
               here=say(f"drivers.outcome.{outcome_key(setup)}", language),
               theirs=join_names(items, language), first=_label(b[0], language, inst, first=False),
               n=fmt.count(first["n"], language),
               accounts=fmt.count(clusters if pd.notna(clusters) else first["n"], language))


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def measurement_sentence(check: pd.DataFrame, language: str, inst: Instrument) -> str:
    """Whether both sides read each dimension's items alike (so their means can be set side by side)."""
    if check is None or check.empty:
        return ""
    parts = []
    ok = check[check["flag"] == "ok"]["dimension"].tolist()
    if len(ok) == len(check):
        return say("drivers.measure.all_ok", language, k=fmt.count(len(check), language))
    for flag in ("caution", "not comparable", "too few answers"):
        dims = check[check["flag"] == flag]["dimension"].tolist()
        if dims:
            key = flag.replace(" ", "_")
            parts.append(say(f"drivers.measure.{key}", language, names=_names(dims, language, inst, capital=True)))
    if ok:
        parts.append(say("drivers.measure.rest_ok", language, names=_names(ok, language, inst, capital=True)))
    return " ".join(parts)
