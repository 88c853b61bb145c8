"""The per-account partnership report: section builders and their display.

``notebooks/account_report.ipynb`` is a memo that calls these functions one
section at a time; :func:`account_report_data` calls the same builders in
plain Python and returns every section in one dict (for tests, benchmarks and
other outputs).  The flow is::

    account = load_account("A001", "2026Q3")        # one account, read with SQL filters
    headline(account)                                # counts, NPS + CI, change, one sentence
    view_360(account), client_groups(account)        # client vs team per dimension
    gaps_section(account)                            # perception gaps (helpers.gaps)
    trend_section(account)                           # waves up to the report's wave
    benchmark_section(account)                       # percentile among other accounts
    comments_section(account)                        # voice of the client
    next_meeting(account)                            # focus areas and strengths
    methods_note(account)                            # formulas, thresholds, versions, data hash

**Privacy lives in the data.**  Every builder returns team results from fewer
than ``min_group_size`` answers (and client sub-groups below it) already
blanked, with ``suppressed`` flags and notes; team comments need
``min_comment_group_size`` team answers.  Only this account's rows are ever
loaded (the benchmark reads one aggregate per account), and
:func:`account_report_data` checks every table with
:func:`helpers.privacy.assert_single_account`.

**Sentences are Markdown.**  The summary, notes, reasons and methods text are
Markdown fragments: every free-text value put into them (wave labels, the
account name, dimension labels, the instrument name) is escaped with
:func:`helpers.comments.markdown_escape`, so a label such as
``2026Q4 <img src=x onerror=…>`` stays inert text after nbconvert.  Tables are
Stylers that HTML-escape every cell.

**Waves are in time order.**  "Earlier waves", the previous wave and the
trend follow :func:`helpers.store.waves` (by when the wave was answered, then
natural label order), never the text order of the labels (``W10`` after
``W9``).
"""

from __future__ import annotations

import math
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import benchmark as bm
from . import comments as cm
from . import gaps as gp
from . import plots
from . import store as st
from .instrument import LANGUAGES, Instrument, instrument_of, load_instrument, tag_frame
from .privacy import (MIN_COMMENT_GROUP_SIZE, MIN_GROUP_SIZE, assert_single_account, escape_text,
                      secondary_suppression, suppress_small_groups)
from .scores import nps, nps_change, respondent_scores, rwg, summarise

CI = 0.95
FDR = 0.05
#: r_wg from fewer answers than this is unstable (its sampling spread is wide;
#: Dunlap, Burke & Smith-Crowe 2003): shown from min_group_size, with a note.
RWG_STABLE_N = 10

_md = cm.markdown_escape

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "## {name} ({account_id}) · {wave}",
        "nps_sentence": "Client NPS is {nps} (95% CI {lo} to {hi}, n = {n}){change}{gap}{few}.",
        "no_client": "No client answered in {wave}{gap}.",
        "first_wave": ", the first survey wave for this account",
        "up": ", up {x} points from {prev_nps} in {prev} (n = {prev_n}; 95% CI of the change {lo} to {hi})",
        "down": ", down {x} points from {prev_nps} in {prev} (n = {prev_n}; 95% CI of the change {lo} to {hi})",
        "no_change": ", no clear change from {prev_nps} in {prev} (n = {prev_n}; change {x}, 95% CI {lo} to {hi})",
        "gap_hidden": "; the team's view is hidden (fewer than {k} team answers)",
        "gap_blind": "; the clearest blind spot is {dim}: the team rates itself {x} points higher than the client",
        "gap_hidden_strength": "; the client rates {dim} {x} points higher than the team does (a hidden strength)",
        "gap_few": "; too few client answers to read perception gaps",
        "gap_none": "; no clear gap between the client's and the team's view",
        "few": " (only {n} client answers, so read the numbers as indications)",
        "facts": "- Answers: {n_client} client, {n_staff} team\n- Client NPS: {nps} (95% CI {lo} to {hi})",
        "note_staff_none": "No team member answered in {wave}: the report shows the client's view only.",
        "note_staff_hidden": "Team results are hidden: {n} team members answered, fewer than {k} "
                             "(anonymity threshold).",
        "note_staff_dims": "Team results for {dims} are hidden (fewer than {k} answers).",
        "note_client_few": "Only {n} clients answered: read client numbers as indications, and gaps are not "
                           "labelled.",
        "note_client_none": "No client answered in {wave}.",
        "note_groups": "Client groups with fewer than {k} answers are hidden (and, where needed, one more group, "
                       "so a hidden group cannot be worked out from the total).",
        "note_team_comments": "Team comments are not shown: {n} team members answered, fewer than {k}.",
        "note_roles": "A client's role is shown as “–” next to their comment and score when fewer than {k} "
                      "clients answered in that role (and, where needed, in one more role), so no score can be "
                      "tied to a small group.",
        "note_rwg": "Agreement r_wg is shown only for groups of at least {k} answers; below about {m} answers "
                    "({groups}) it is unstable, so read it as a rough indication.",
        "note_benchmark": "No benchmark for {measures}: fewer than {k} other accounts with at least {k} client "
                          "answers.",
        "note_quartiles": "The portfolio median and middle half are shown only when at least {m} other accounts "
                          "compare (here {n}), and rounded, so that no single account's value can be read from "
                          "them.",
        "empty": "None in {wave}.",
        "focus": "**Focus areas**",
        "strengths": "**Strengths to build on**",
        "no_focus": "No client scores in this wave, so no focus areas can be named.",
        "too_few_rank": "Too few answers to rank the dimensions: {n} clients answered, fewer than {k}, so no "
                        "focus areas or strengths are named.",
        "none_stand_out": "No dimension stands out: every client mean is within {mg} points of the account's "
                          "median dimension ({med}) and no gap between the client's and the team's view is clear.",
        "r_blind": "Blind spot: the team rates itself {x} points higher than the client (clear).",
        "r_low": "Client mean {m} (n = {n}), {d} points below the account's median dimension ({med}).",
        "r_low_tentative": "Client mean {m} (n = {n}), {d} points below the account's median dimension ({med}); "
                           "the team may rate itself higher ({x} points), not confirmed.",
        "r_hidden": "Hidden strength: the client rates this {x} points higher than the team does (clear).",
        "r_high": "Client mean {m} (n = {n}), {d} points above the account's median dimension ({med}).",
        "tied": " Tied with {dims}.",
        "alt_flame": "flame chart: the client's and the team's mean on each dimension",
        "alt_dots": "dot plot: dimension means with 95% confidence intervals, client and team",
        "alt_gaps": "gap chart: client minus team on each dimension with 95% confidence intervals",
        "alt_trend": "trend chart: dimension means and client NPS over the survey waves",
        "nps": "NPS",
    },
    "fi": {
        "title": "## {name} ({account_id}) · {wave}",
        "nps_sentence": "Asiakkaiden NPS on {nps} (95 %:n luottamusväli {lo}…{hi}, n = {n}){change}{gap}{few}.",
        "no_client": "Kierroksella {wave} ei ole asiakasvastauksia{gap}.",
        "first_wave": ", ensimmäinen kyselykierros tälle asiakkaalle",
        "up": ", nousua {x} pistettä kierroksen {prev} lukemasta {prev_nps} (n = {prev_n}; muutoksen 95 %:n "
              "luottamusväli {lo}…{hi})",
        "down": ", laskua {x} pistettä kierroksen {prev} lukemasta {prev_nps} (n = {prev_n}; muutoksen 95 %:n "
                "luottamusväli {lo}…{hi})",
        "no_change": ", ei selvää muutosta kierroksen {prev} lukemasta {prev_nps} (n = {prev_n}; muutos {x}, "
                     "95 %:n luottamusväli {lo}…{hi})",
        "gap_hidden": "; tiimin näkemys on piilotettu (alle {k} tiimin vastausta)",
        "gap_blind": "; selvin sokea piste on {dim}: tiimi arvioi itsensä {x} pistettä korkeammalle kuin asiakas",
        "gap_hidden_strength": "; asiakas arvioi ulottuvuuden {dim} {x} pistettä korkeammalle kuin tiimi "
                               "(piilevä vahvuus)",
        "gap_few": "; asiakasvastauksia on liian vähän näkemyserojen arviointiin",
        "gap_none": "; asiakkaan ja tiimin näkemysten välillä ei ole selvää eroa",
        "few": " (vain {n} asiakasvastausta, joten luvut ovat suuntaa antavia)",
        "facts": "- Vastauksia: asiakkaat {n_client}, tiimi {n_staff}\n"
                 "- Asiakkaiden NPS: {nps} (95 %:n luottamusväli {lo}…{hi})",
        "note_staff_none": "Kierroksella {wave} yksikään tiimin jäsen ei vastannut: raportti näyttää vain "
                           "asiakkaan näkemyksen.",
        "note_staff_hidden": "Tiimin tulokset on piilotettu: vastaajia oli {n}, alle {k} (anonymiteettiraja).",
        "note_staff_dims": "Tiimin tulokset ulottuvuuksista {dims} on piilotettu (alle {k} vastausta).",
        "note_client_few": "Vain {n} asiakasta vastasi: asiakasluvut ovat suuntaa antavia, eikä näkemyseroja "
                           "luokitella.",
        "note_client_none": "Kierroksella {wave} ei ole asiakasvastauksia.",
        "note_groups": "Asiakasryhmät, joissa on alle {k} vastausta, on piilotettu (tarvittaessa myös yksi ryhmä "
                       "lisää, jottei piilotettua ryhmää voi laskea kokonaisluvusta).",
        "note_team_comments": "Tiimin kommentteja ei näytetä: vastaajia oli {n}, alle {k}.",
        "note_roles": "Asiakkaan rooli näkyy kommentin ja pisteiden vieressä merkkinä ”–”, jos roolissa "
                      "vastasi alle {k} asiakasta (tarvittaessa myös yhdessä roolissa lisää), jottei kenenkään "
                      "pisteitä voi yhdistää pieneen ryhmään.",
        "note_rwg": "Yksimielisyys r_wg näytetään vain vähintään {k} vastauksen ryhmille; alle noin {m} "
                    "vastauksen ryhmissä ({groups}) se on epävakaa, joten lue se karkeana suuntana.",
        "note_benchmark": "Vertailua ei näytetä mittareille {measures}: alle {k} muuta asiakasta, joilla on "
                          "vähintään {k} asiakasvastausta.",
        "note_quartiles": "Salkun mediaani ja keskimmäinen puolikas näytetään vain, kun vertailuasiakkaita on "
                          "vähintään {m} (nyt {n}), ja pyöristettyinä, jottei yksittäisen asiakkaan arvoa voi "
                          "päätellä niistä.",
        "empty": "Ei yhtään kierroksella {wave}.",
        "focus": "**Kehityskohteet**",
        "strengths": "**Vahvuudet, joille rakentaa**",
        "no_focus": "Tällä kierroksella ei ole asiakasvastauksia, joten kehityskohteita ei voi nimetä.",
        "too_few_rank": "Liian vähän vastauksia ulottuvuuksien järjestykseen asettamiseen: asiakkaita vastasi {n}, "
                        "alle {k}, joten kehityskohteita tai vahvuuksia ei nimetä.",
        "none_stand_out": "Mikään ulottuvuus ei erotu: jokainen asiakkaiden keskiarvo on {mg} pisteen sisällä "
                          "asiakkuuden ulottuvuuksien mediaanista ({med}), eikä asiakkaan ja tiimin näkemysten "
                          "välillä ole selvää eroa.",
        "r_blind": "Sokea piste: tiimi arvioi itsensä {x} pistettä korkeammalle kuin asiakas (selvä ero).",
        "r_low": "Asiakkaiden keskiarvo {m} (n = {n}), {d} pistettä alle asiakkuuden ulottuvuuksien mediaanin "
                 "({med}).",
        "r_low_tentative": "Asiakkaiden keskiarvo {m} (n = {n}), {d} pistettä alle asiakkuuden ulottuvuuksien "
                           "mediaanin ({med}); tiimi saattaa arvioida itsensä korkeammalle ({x} pistettä), ei "
                           "vahvistettu.",
        "r_hidden": "Piilevä vahvuus: asiakas arvioi tämän {x} pistettä korkeammalle kuin tiimi (selvä ero).",
        "r_high": "Asiakkaiden keskiarvo {m} (n = {n}), {d} pistettä yli asiakkuuden ulottuvuuksien mediaanin "
                  "({med}).",
        "tied": " Tasoissa: {dims}.",
        "alt_flame": "flame chart – liekkikaavio: asiakkaan ja tiimin keskiarvo kullakin ulottuvuudella",
        "alt_dots": "pistekaavio: ulottuvuuksien keskiarvot ja 95 %:n luottamusvälit, asiakas ja tiimi",
        "alt_gaps": "erokaavio: asiakas miinus tiimi kullakin ulottuvuudella ja 95 %:n luottamusvälit",
        "alt_trend": "kehityskaavio: ulottuvuuksien keskiarvot ja asiakkaiden NPS kyselykierroksittain",
        "nps": "NPS",
    },
}

HEADERS = {
    "en": {"side": "Side", "dimension": "Dimension", "n": "n", "mean": "Mean", "ci_low": "95% CI low",
           "ci_high": "95% CI high", "rwg": "Agreement r_wg", "role": "Client role", "n_client": "n client",
           "n_staff": "n team", "client_mean": "Client", "staff_mean": "Team", "gap": "Gap (client − team)",
           "p_fdr": "p (BH)", "effect_size": "Hedges' g", "label": "Reading", "evidence": "Evidence",
           "wave": "Wave", "nps": "NPS", "measure": "Measure", "value": "Value", "percentile": "Percentile",
           "pct_range": "Percentile of the CI ends", "ref_median": "Portfolio median", "n_accounts": "Accounts",
           "ref_range": "Portfolio middle half"},
    "fi": {"side": "Osapuoli", "dimension": "Ulottuvuus", "n": "n", "mean": "Keskiarvo",
           "ci_low": "95 %:n lv. alaraja", "ci_high": "95 %:n lv. yläraja", "rwg": "Yksimielisyys r_wg",
           "role": "Asiakkaan rooli", "n_client": "n asiakas", "n_staff": "n tiimi", "client_mean": "Asiakas",
           "staff_mean": "Tiimi", "gap": "Ero (asiakas − tiimi)", "p_fdr": "p (BH)", "effect_size": "Hedgesin g",
           "label": "Tulkinta", "evidence": "Näyttö", "wave": "Kierros", "nps": "NPS", "measure": "Mittari",
           "value": "Arvo", "percentile": "Persentiili", "pct_range": "Luottamusvälin päiden persentiilit",
           "ref_median": "Salkun mediaani", "n_accounts": "Asiakkaita", "ref_range": "Salkun keskimmäinen puolikas"},
}


def _t(key: str, language: str, **kw: Any) -> str:
    return TEXT[language][key].format(**kw)


def _check_language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {list(LANGUAGES)}, not {language!r}.")
    return language


def _at_least_one(value: Any, name: str) -> int:
    """A threshold as an int, or a ValueError naming the setting and its value."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        n = None
    if n is None or n != value or n < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}.")
    return n


def _num(x: float, language: str, digits: int = 1, sign: bool = False) -> str:
    """Display a number (rounding for display only): Finnish decimal comma, true minus sign."""
    if x is None or (isinstance(x, float) and math.isnan(x)) or pd.isna(x):
        return "–"
    s = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    if s.lstrip("+-") == f"{0:.{digits}f}":
        s = s.lstrip("+-")
    s = s.replace("-", "−")
    return s.replace(".", ",") if language == "fi" else s


# ---------------------------------------------------------------------------
# Loading one account
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountData:
    """One account's survey data up to the report's wave, and the report settings.

    Built by :func:`load_account`; every section builder takes it.  Holds only
    this account's rows.
    """

    account_id: str
    wave: str
    name: str
    segment: str | None
    #: The account's waves up to and including ``wave``, oldest first
    #: (:func:`helpers.store.waves` order).
    waves: tuple[str, ...]
    responses: pd.DataFrame = field(repr=False)
    answers: pd.DataFrame = field(repr=False)
    scores: pd.DataFrame = field(repr=False)
    language: str = "en"
    min_group_size: int = MIN_GROUP_SIZE
    min_comment_group_size: int = MIN_COMMENT_GROUP_SIZE
    store: Path | None = None
    instrument: Instrument = field(default_factory=load_instrument, repr=False)

    @property
    def previous_wave(self) -> str | None:
        """The latest earlier wave (in time, not label, order) with answers from this account, if any."""
        i = self.waves.index(self.wave)
        return self.waves[i - 1] if i > 0 else None

    def in_wave(self, frame: pd.DataFrame, wave: str | None = None) -> pd.DataFrame:
        """Rows of ``frame`` in the report's wave (or ``wave``)."""
        return frame[frame["wave"] == (wave or self.wave)]


def load_account(
    account_id: str,
    wave: str,
    *,
    store: str | Path | None = None,
    language: str = "en",
    min_group_size: int = MIN_GROUP_SIZE,
    min_comment_group_size: int = MIN_COMMENT_GROUP_SIZE,
    instrument: str | Instrument | None = None,
) -> AccountData:
    """Load one account's answers up to ``wave`` (filtered in SQL) and check the request.

    Parameters
    ----------
    account_id : str
        The account, e.g. ``"A001"`` (case-sensitive).
    wave : str
        The report's wave, e.g. ``"2026Q3"``; the trend uses this and earlier
        waves, in the store's time order (:func:`helpers.store.waves`).
    store : path, optional
        The store file (default :func:`helpers.store.default_store`).
    language : {"en", "fi"}
    min_group_size : int
        Team results (and client sub-groups) from fewer answers are hidden.
    min_comment_group_size : int
        Team comments need at least this many team answers.
    instrument : path or Instrument, optional

    Returns
    -------
    AccountData

    Raises
    ------
    ValueError
        Unknown account, or no answers from the account in ``wave`` (the
        message lists the waves it has), or an invalid setting: a language
        other than en/fi, a threshold that is not a whole number of at least
        1, or ``min_comment_group_size`` below ``min_group_size``.
    """
    _check_language(language)
    account_id, wave = str(account_id), str(wave)
    min_group_size = _at_least_one(min_group_size, "min_group_size")
    min_comment_group_size = _at_least_one(min_comment_group_size, "min_comment_group_size")
    if min_comment_group_size < min_group_size:
        raise ValueError(f"min_comment_group_size ({min_comment_group_size}) must be at least min_group_size "
                         f"({min_group_size}): otherwise the comments of a team too small to show its scores "
                         "would be shown.")
    inst = load_instrument(instrument)
    path = Path(store) if store not in (None, "") else None
    acc = st.query("SELECT account_id, name, segment FROM accounts WHERE account_id = ?", [account_id], store=path)
    if acc.empty:
        raise ValueError(f"Unknown account {account_id!r}: it is not in the accounts of the store "
                         f"{path or st.default_store()}. Account ids are case-sensitive, e.g. 'A001'.")
    responses = assert_single_account(st.load_responses(account=account_id, store=path), account_id)
    have = wave_order(responses["wave"].dropna().unique(), store=path)
    if wave not in have:
        listed = ", ".join(have) if have else "none"
        raise ValueError(f"Account {account_id} has no survey answers in wave {wave!r}; "
                         f"waves with answers: {listed}.")
    waves = tuple(have[: have.index(wave) + 1])
    responses = responses[responses["wave"].isin(waves)].reset_index(drop=True)
    answers = assert_single_account(st.load_answers(account=account_id, wave=waves, store=path), account_id)
    scores = respondent_scores(answers, instrument=inst) if len(answers) else pd.DataFrame(
        columns=["response_id", "account_id", "side", "wave", "role", "team", "dimension", "score", "n_items"])
    return AccountData(account_id=account_id, wave=wave, name=str(acc["name"].iloc[0]),
                       segment=None if pd.isna(acc["segment"].iloc[0]) else str(acc["segment"].iloc[0]),
                       waves=waves, responses=responses, answers=answers, scores=scores, language=language,
                       min_group_size=min_group_size, min_comment_group_size=min_comment_group_size,
                       store=path, instrument=inst)


def wave_order(labels: Sequence[str], *, store: str | Path | None = None) -> list[str]:
    """``labels`` in the store's time order (:func:`helpers.store.waves`), oldest first.

    Labels the store does not know (none, normally) follow in natural order
    (:func:`helpers.store.sort_waves`).
    """
    labels = [str(w) for w in labels]
    known = [w for w in st.waves(store=store) if w in set(labels)]
    return known + st.sort_waves(set(labels) - set(known))


# ---------------------------------------------------------------------------
# Sections
# ---------------------------------------------------------------------------
def _dimension_order(frame: pd.DataFrame, inst: Instrument, *cols: str,
                     waves: Sequence[str] = ()) -> pd.DataFrame:
    """Sort by ``cols``: dimensions in instrument order, the client before the team, waves as in ``waves``.

    The frame is tagged with the instrument (:func:`helpers.instrument.tag_frame`), whose labels its
    tables and charts then use.
    """
    order = {d: i for i, d in enumerate(inst.dimension_ids)}
    side = {"client": 0, "staff": 1}
    wave = {w: i for i, w in enumerate(waves)}

    def key(s: pd.Series) -> pd.Series:
        if s.name == "dimension":
            return s.map(order)
        if s.name == "side":
            return s.map(side)
        if s.name == "wave" and wave:
            return s.map(wave)
        return s
    return tag_frame(frame.sort_values(list(cols), key=key, kind="mergesort").reset_index(drop=True), inst)


def view_360(account: AccountData) -> pd.DataFrame:
    """The 360° table: client and team mean per dimension in the report's wave.

    Returns
    -------
    DataFrame
        account_id, wave, side, dimension, n, mean, sd, se, ci_low, ci_high,
        rwg, suppressed — one row per side × dimension (n = 0 when nobody
        answered).  Team rows with n < ``min_group_size`` are blank; r_wg is
        blank for either side below ``min_group_size``.

    Notes
    -----
    Means with Student-t intervals (:func:`helpers.scores.summarise`);
    r_wg(J) within-group agreement per side (:func:`helpers.scores.rwg`).  r_wg
    of a handful of people says little (three raters who happen to agree give
    a high value), so it is shown only from ``min_group_size`` answers, and
    :func:`privacy_notes` says it is unstable below ``RWG_STABLE_N`` (10).
    """
    inst = account.instrument
    sc = account.in_wave(account.scores)
    summ = summarise(sc, by=["side", "dimension"], ci=CI) if len(sc) else pd.DataFrame(
        columns=["side", "dimension", "n", "mean", "sd", "se", "ci_low", "ci_high"])
    grid = pd.MultiIndex.from_product([["client", "staff"], inst.dimension_ids], names=["side", "dimension"])
    out = summ.set_index(["side", "dimension"]).reindex(grid).reset_index()
    out["n"] = out["n"].fillna(0).astype("int64")
    ans = account.in_wave(account.answers)
    if len(ans):
        agree = rwg(ans, instrument=inst, by=["side"])[["side", "dimension", "rwg"]]
        out = out.merge(agree, on=["side", "dimension"], how="left")
    else:
        out["rwg"] = np.nan
    out.loc[out["n"] < account.min_group_size, "rwg"] = np.nan
    out = out.assign(account_id=account.account_id, wave=account.wave)
    out = suppress_small_groups(out, min_group_size=account.min_group_size, only=out["side"] == "staff",
                                columns=["mean", "sd", "se", "ci_low", "ci_high", "rwg"])
    cols = ["account_id", "wave", "side", "dimension", "n", "mean", "sd", "se", "ci_low", "ci_high", "rwg",
            "suppressed"]
    return _dimension_order(out[cols], inst, "side", "dimension")


def client_groups(account: AccountData, *, by: str = "role") -> pd.DataFrame:
    """Client means per sub-group (e.g. decision-makers vs users), small groups hidden.

    Parameters
    ----------
    account : AccountData
    by : str
        The respondent column that defines the groups (``role`` or ``team``).

    Returns
    -------
    DataFrame
        account_id, wave, <by>, dimension, n, mean, ci_low, ci_high, suppressed.

    Notes
    -----
    Groups with n < ``min_group_size`` are blanked.  Because the account's
    client total is shown, one hidden group could be worked out from the total
    and the other groups; so when the hidden groups of a dimension add up to
    fewer than ``min_group_size`` answers, the smallest shown groups are
    hidden too until they do (:func:`helpers.privacy.secondary_suppression`,
    the rule of the comment tables' roles).
    """
    sc = account.in_wave(account.scores)
    sc = sc[sc["side"] == "client"]
    cols = ["account_id", "wave", by, "dimension", "n", "mean", "ci_low", "ci_high", "suppressed"]
    if sc.empty:
        return pd.DataFrame(columns=cols)
    k, values = account.min_group_size, ["mean", "sd", "se", "ci_low", "ci_high"]
    s = summarise(sc.assign(**{by: sc[by].fillna("–")}), by=[by, "dimension"], ci=CI)
    s = suppress_small_groups(s, min_group_size=k, columns=values)
    for _, g in s.groupby("dimension"):  # and the groups that would give a hidden one away
        hide = g.index[g[by].isin(secondary_suppression(g.set_index(by)["n"], min_group_size=k))]
        s.loc[hide, values] = np.nan
        s.loc[hide, "suppressed"] = True
    s = s.assign(account_id=account.account_id, wave=account.wave)
    return _dimension_order(s[cols], account.instrument, by, "dimension")


def gaps_section(account: AccountData) -> pd.DataFrame:
    """Perception gaps of the report's wave: :func:`helpers.gaps.perception_gaps`, BH within this report.

    Returns
    -------
    DataFrame
        As :func:`helpers.gaps.perception_gaps`, one row per dimension of the
        instrument: a dimension nobody has a score on in the wave (which
        perception_gaps leaves out) is listed with n = 0 and the team view
        suppressed.
    """
    sc = account.in_wave(account.scores)
    g = gp.perception_gaps(sc.assign(account_id=account.account_id, wave=account.wave),
                           min_group_size=account.min_group_size, ci=CI, fdr=FDR, instrument=account.instrument)
    present = set(g["dimension"])
    missing = [d for d in account.instrument.dimension_ids if d not in present]
    if missing:  # perception_gaps lists a dimension only when someone has a score on it
        extra = pd.DataFrame({"account_id": account.account_id, "wave": account.wave, "dimension": missing,
                              "n_client": 0, "n_staff": 0, "client_mean": np.nan})
        extra["suppressed"] = extra["n_staff"] < account.min_group_size
        extra["evidence"] = np.where(extra["suppressed"], gp.SUPPRESSED, gp.TOO_FEW)
        extra["label"] = None
        g = pd.concat([g, extra], ignore_index=True) if len(g) else extra.reindex(columns=g.columns)
        g = g.reindex(columns=["account_id", "wave", *gp.GAP_COLUMNS])
        g["suppressed"] = g["suppressed"].astype(bool)
        g["label"] = g["label"].astype(object).where(g["label"].notna(), None)
        g = _dimension_order(g, account.instrument, "dimension")
    return tag_frame(g, account.instrument)


def headline(account: AccountData, *, gaps: pd.DataFrame | None = None,
             voice: dict[str, Any] | None = None) -> dict[str, Any]:
    """Counts, client NPS with CI, the change from the previous wave and a one-sentence summary.

    Parameters
    ----------
    account : AccountData
    gaps : DataFrame, optional
        :func:`gaps_section` output (computed when omitted).
    voice : dict, optional
        :func:`comments_section` output, for the notes (computed when omitted).

    Returns
    -------
    dict
        account_id, name, wave, n_client, n_staff, nps, nps_ci_low,
        nps_ci_high (adjusted Wald, Rocks 2016), previous_wave, n_previous, nps_previous,
        nps_change, change_ci_low, change_ci_high, change_clear (bool: the
        change's CI excludes 0), staff_suppressed, summary (one sentence in
        the report's language, Markdown with its free text escaped), notes
        (privacy and sample-size notes, likewise).

    Notes
    -----
    The sentence never claims more than the numbers carry: a change whose CI
    includes 0 is "no clear change"; a gap is named only when its label is
    ``clear`` (:func:`helpers.gaps.perception_gaps`); few client answers are
    said to be indications.
    """
    lang, k = account.language, account.min_group_size
    resp = account.in_wave(account.responses)
    n_client = int((resp["side"] == "client").sum())
    n_staff = int((resp["side"] == "staff").sum())
    client = account.responses[account.responses["side"] == "client"]
    now = nps(account.in_wave(client), by=None, ci=CI).iloc[0]
    value = float(now["nps"]) if now["n"] > 0 else np.nan
    lo = float(now["ci_low"]) if now["n"] > 0 else np.nan
    hi = float(now["ci_high"]) if now["n"] > 0 else np.nan
    prev = account.previous_wave
    change = {"n_previous": 0, "nps_previous": np.nan, "nps_change": np.nan, "change_ci_low": np.nan,
              "change_ci_high": np.nan}
    prev_client = client[client["wave"] == prev] if prev else client.iloc[0:0]
    if prev and now["n"] > 0 and prev_client["nps"].notna().any():
        ch = nps_change(client[client["wave"].isin([prev, account.wave])], order=[prev, account.wave], by=[],
                        ci=CI).iloc[-1]
        change = {"n_previous": int(ch["n_from"]), "nps_previous": float(ch["nps_from"]),
                  "nps_change": float(ch["change"]),
                  "change_ci_low": float(ch["ci_low"]), "change_ci_high": float(ch["ci_high"])}
    clear_change = bool(change["change_ci_low"] > 0 or change["change_ci_high"] < 0)
    g = gaps_section(account) if gaps is None else gaps
    labels = account.instrument.labels(lang)
    staff_hidden = bool(g["suppressed"].all()) if len(g) else True

    # the gap clause
    if staff_hidden:
        gap = _t("gap_hidden", lang, k=k)
    else:
        clear = g[g["evidence"] == gp.CLEAR]
        blind = clear[clear["label"] == gp.BLIND_SPOT].sort_values("gap")
        hidden = clear[clear["label"] == gp.HIDDEN_STRENGTH].sort_values("gap", ascending=False)
        if len(blind):
            r = blind.iloc[0]
            gap = _t("gap_blind", lang, dim=_md(labels[r["dimension"]]), x=_num(-r["gap"], lang))
        elif len(hidden):
            r = hidden.iloc[0]
            gap = _t("gap_hidden_strength", lang, dim=_md(labels[r["dimension"]]), x=_num(r["gap"], lang))
        elif n_client < k:
            gap = _t("gap_few", lang)
        else:
            gap = _t("gap_none", lang)
    if now["n"] == 0:
        summary = _t("no_client", lang, wave=_md(account.wave), gap=gap if staff_hidden else "")
    else:
        if not prev or np.isnan(change["nps_change"]):
            chg = _t("first_wave", lang) if not prev else ""
        elif clear_change:
            key = "up" if change["nps_change"] > 0 else "down"
            chg = _t(key, lang, x=_num(abs(change["nps_change"]), lang, 0), prev=_md(prev),
                     prev_n=change["n_previous"],
                     prev_nps=_num(change["nps_previous"], lang, 0, sign=True),
                     lo=_num(change["change_ci_low"], lang, 0, sign=True),
                     hi=_num(change["change_ci_high"], lang, 0, sign=True))
        else:
            chg = _t("no_change", lang, prev=_md(prev), prev_n=change["n_previous"],
                     prev_nps=_num(change["nps_previous"], lang, 0, sign=True),
                     x=_num(change["nps_change"], lang, 0, sign=True),
                     lo=_num(change["change_ci_low"], lang, 0, sign=True),
                     hi=_num(change["change_ci_high"], lang, 0, sign=True))
        few = _t("few", lang, n=int(now["n"])) if now["n"] < k else ""
        summary = _t("nps_sentence", lang, nps=_num(value, lang, 0, sign=True), lo=_num(lo, lang, 0, sign=True),
                     hi=_num(hi, lang, 0, sign=True), n=int(now["n"]), change=chg, gap=gap, few=few)
    return {
        "account_id": account.account_id, "name": account.name, "wave": account.wave,
        "n_client": n_client, "n_staff": n_staff, "nps": value, "nps_ci_low": lo, "nps_ci_high": hi,
        "previous_wave": prev, **change, "change_clear": clear_change, "staff_suppressed": staff_hidden,
        "summary": summary, "notes": privacy_notes(account, gaps=g, voice=voice),
    }


def privacy_notes(account: AccountData, *, gaps: pd.DataFrame | None = None,
                  voice: dict[str, Any] | None = None) -> list[str]:
    """Plain-language notes on what is hidden or thin in this report, in its language (Markdown).

    ``gaps`` and ``voice`` are the :func:`gaps_section` and
    :func:`comments_section` outputs when already at hand (computed when
    omitted).  :func:`headline` returns these notes as its ``notes``.
    """
    lang, k = account.language, account.min_group_size
    resp = account.in_wave(account.responses)
    n_client = int((resp["side"] == "client").sum())
    n_staff = int((resp["side"] == "staff").sum())
    notes = []
    g = gaps_section(account) if gaps is None else gaps
    if n_staff == 0:
        notes.append(_t("note_staff_none", lang, wave=_md(account.wave)))
    elif n_staff < k:
        notes.append(_t("note_staff_hidden", lang, n=n_staff, k=k))
    elif g["suppressed"].any():
        labels = account.instrument.labels(lang)
        dims = ", ".join(_md(labels[d]) for d in g.loc[g["suppressed"], "dimension"])
        notes.append(_t("note_staff_dims", lang, dims=dims, k=k))
    if n_client == 0:
        notes.append(_t("note_client_none", lang, wave=_md(account.wave)))
    elif n_client < k:
        notes.append(_t("note_client_few", lang, n=n_client))
    unstable = [f"{gp.SIDE_TEXT[lang][side].lower()}, n = {n}" for side, n in (("client", n_client),
                                                                               ("staff", n_staff))
                if k <= n < RWG_STABLE_N]
    if unstable:
        notes.append(_t("note_rwg", lang, k=k, m=RWG_STABLE_N, groups="; ".join(unstable)))
    if 0 < n_staff < account.min_comment_group_size:
        notes.append(_t("note_team_comments", lang, n=n_staff, k=account.min_comment_group_size))
    if (comments_section(account) if voice is None else voice)["roles_hidden"]:
        notes.append(_t("note_roles", lang, k=k))
    return notes


def trend_section(account: AccountData) -> dict[str, pd.DataFrame]:
    """Dimension means and NPS per wave, for the report's wave and the ones before it.

    Returns
    -------
    dict
        ``dimensions``: account_id, wave, side, dimension, n, mean, sd, se,
        ci_low, ci_high, suppressed; ``nps``: account_id, wave, side, n, …,
        nps, ci_low, ci_high, suppressed (as :func:`helpers.scores.nps`);
        ``changes``: client NPS change between consecutive waves
        (:func:`helpers.scores.nps_change`).  Team rows from fewer than
        ``min_group_size`` answers are blank in every wave.  Waves are in
        time order (:attr:`AccountData.waves`), oldest first.
    """
    k = account.min_group_size
    sc = account.scores
    dims = summarise(sc, by=["account_id", "wave", "side", "dimension"], ci=CI) if len(sc) else pd.DataFrame(
        columns=["account_id", "wave", "side", "dimension", "n", "mean", "sd", "se", "ci_low", "ci_high"])
    dims = suppress_small_groups(dims, min_group_size=k, only=dims["side"] == "staff")
    net = nps(account.responses, by=["account_id", "wave", "side"], ci=CI)
    net = suppress_small_groups(net, min_group_size=k, only=net["side"] == "staff")
    client = account.responses[account.responses["side"] == "client"]
    changes = nps_change(client, order=account.waves, by=["account_id", "side"], ci=CI)
    return {"dimensions": _dimension_order(dims, account.instrument, "wave", "side", "dimension",
                                           waves=account.waves),
            "nps": _dimension_order(net, account.instrument, "wave", "side", waves=account.waves),
            "changes": changes}


def benchmark_section(account: AccountData) -> pd.DataFrame:
    """The account's percentile among the other accounts in the wave (client side).

    Returns
    -------
    DataFrame
        As :func:`helpers.benchmark.benchmark`: this account's rows only, one
        per dimension and NPS; ``shown`` is False (percentile blank) when fewer
        than ``min_group_size`` other accounts with at least ``min_group_size``
        client answers contribute, and ``quartiles_shown`` is False (portfolio
        quartiles blank) below ``benchmark.MIN_ACCOUNTS_FOR_QUARTILES`` (10).
    """
    agg = bm.portfolio_aggregates(account.wave, store=account.store, side="client",
                                  instrument=account.instrument, ci=CI)
    if not (agg["account_id"] == account.account_id).any():  # no client of the account answered in the wave
        return tag_frame(pd.DataFrame(columns=bm.BENCHMARK_COLUMNS), account.instrument)
    out = bm.benchmark(agg, account.account_id, min_accounts=account.min_group_size,
                       min_respondents=account.min_group_size)
    return tag_frame(assert_single_account(out, account.account_id), account.instrument)


def comments_section(account: AccountData) -> dict[str, Any]:
    """Voice of the client for the report's wave (:func:`helpers.comments.voice_of_client`).

    A client's role is shown next to their score only when at least
    ``min_group_size`` clients answered in that role (see
    :func:`helpers.comments.visible_roles`).
    """
    return cm.voice_of_client(account.in_wave(account.responses),
                              min_comment_group_size=account.min_comment_group_size,
                              min_group_size=account.min_group_size)


def equivalence_margin(inst: Instrument) -> float:
    """The gaps module's default equivalence margin: one eighth of the scale range (0.5 on 1–5)."""
    return (inst.scale_max - inst.scale_min) / 8


def _take(candidates: pd.DataFrame, n: int, cap: int) -> pd.DataFrame:
    """The first ``n`` rows of sorted ``candidates``, never splitting a tie on (``_rank``, ``_key``).

    When the n-th and the (n+1)-th candidate tie, the whole tie comes in if
    that keeps to ``cap`` rows, and is left out otherwise: tied dimensions are
    named together or not at all.
    """
    n = max(min(int(n), int(cap)), 0)
    if len(candidates) <= n:
        return candidates
    key = list(zip(candidates["_rank"], candidates["_key"].round(9)))
    if n == 0 or key[n - 1] != key[n]:
        return candidates.iloc[:n]
    tie = [i for i, kk in enumerate(key) if kk == key[n - 1]]
    if tie[-1] < cap:
        return candidates.iloc[: tie[-1] + 1]
    return candidates.iloc[: tie[0]]


def next_meeting(
    account: AccountData,
    *,
    gaps: pd.DataFrame | None = None,
    n_focus: int = 3,
    n_strengths: int = 2,
    margin: float | None = None,
) -> dict[str, Any]:
    """Focus areas and strengths for the next meeting — only dimensions that really stand out.

    Parameters
    ----------
    account : AccountData
    gaps : DataFrame, optional
        :func:`gaps_section` output (computed when omitted).
    n_focus, n_strengths : int
        How many of each; a tie for the last place brings in every tied
        dimension, as long as no more than all dimensions but one are named.
    margin : float, optional
        How far (in scale points) a client mean must lie from the account's
        median dimension to count as low or high; default the gaps module's
        equivalence margin (:func:`equivalence_margin`, 0.5 on a 1–5 scale).

    Returns
    -------
    dict
        ``focus`` and ``strengths`` (frames: dimension, client_mean, n_client,
        gap, label, evidence, reason — a Markdown sentence in the report's
        language), ``status`` (``"ranked"``, ``"none_stand_out"``,
        ``"too_few"`` or ``"no_clients"``), ``note`` (a sentence explaining an
        empty list, else ""), ``median`` (the median client dimension mean),
        ``margin``.

    Notes
    -----
    With fewer than ``min_group_size`` client answers nothing is ranked.
    Otherwise a dimension is a **focus area** when it has a *clear* blind spot
    (:func:`helpers.gaps.perception_gaps`) or its client mean is at least
    ``margin`` below the median of the account's dimension means; blind spots
    come first (largest gap first), then the lowest means.  From the other
    dimensions, a **strength** has a clear hidden strength or a client mean at
    least ``margin`` above the median.  Focus areas and strengths together
    never name more than all dimensions but one, and tied dimensions (equal
    means or gaps) are named together or not at all (a tie for the last place
    is taken whole when that stays within the limit, else left out) — so a tie
    is never broken by the order of the rows.  The median dimension itself is
    never "low" or "high", so a "ranking" of five nearly equal means names
    nothing.  A negative gap that is only ``tentative`` is mentioned as not
    confirmed.
    """
    lang, k = account.language, account.min_group_size
    g = gaps_section(account) if gaps is None else gaps
    mg = equivalence_margin(account.instrument) if margin is None else float(margin)
    cols = ["dimension", "client_mean", "n_client", "gap", "label", "evidence", "reason"]
    empty = pd.DataFrame(columns=cols)
    g = g[g["client_mean"].notna()].copy()
    n_client = int(g["n_client"].max()) if len(g) else 0
    out = {"focus": empty, "strengths": empty, "median": np.nan, "margin": mg}
    if g.empty:
        return {**out, "status": "no_clients", "note": _t("no_focus", lang)}
    if n_client < k:
        return {**out, "status": "too_few", "note": _t("too_few_rank", lang, n=n_client, k=k)}
    g = g[g["n_client"] >= k]
    med = float(g["client_mean"].median())
    tol = 1e-9
    dist = g["client_mean"] - med
    labels = account.instrument.labels(lang)
    cap = len(g) - 1  # never label every dimension

    blind = g["label"].eq(gp.BLIND_SPOT)
    cand = g[blind | (dist <= -mg + tol)].copy()
    is_blind = cand["label"].eq(gp.BLIND_SPOT)
    cand["_rank"] = np.where(is_blind, 0, 1)
    cand["_key"] = np.where(is_blind, cand["gap"], cand["client_mean"])
    focus = _take(cand.sort_values(["_rank", "_key"], kind="mergesort"), n_focus, cap)

    rest = g[~g["dimension"].isin(focus["dimension"])]
    rest_dist = rest["client_mean"] - med
    cand = rest[rest["label"].eq(gp.HIDDEN_STRENGTH) | (rest_dist >= mg - tol)].copy()
    is_hidden = cand["label"].eq(gp.HIDDEN_STRENGTH)
    cand["_rank"] = np.where(is_hidden, 0, 1)
    cand["_key"] = np.where(is_hidden, -cand["gap"], -cand["client_mean"])
    strengths = _take(cand.sort_values(["_rank", "_key"], kind="mergesort"), n_strengths, cap - len(focus))

    if focus.empty and strengths.empty:
        return {**out, "median": med, "status": "none_stand_out",
                "note": _t("none_stand_out", lang, mg=_num(mg, lang, 1), med=_num(med, lang, 2))}

    def tied(r: pd.Series, chosen: pd.DataFrame) -> str:
        same = chosen[(chosen["dimension"] != r["dimension"])
                      & np.isclose(chosen["client_mean"], r["client_mean"], rtol=0, atol=tol)]
        return _t("tied", lang, dims=", ".join(_md(labels[d]) for d in same["dimension"])) if len(same) else ""

    def reason(r: pd.Series, kind: str, chosen: pd.DataFrame) -> str:
        m, n = _num(r["client_mean"], lang, 2), int(r["n_client"])  # two decimals: the difference adds up
        d, md = _num(abs(r["client_mean"] - med), lang, 2), _num(med, lang, 2)
        if kind == "focus":
            if r["label"] == gp.BLIND_SPOT:
                return _t("r_blind", lang, x=_num(-r["gap"], lang))
            if r["evidence"] == gp.TENTATIVE and r["gap"] < 0:
                return _t("r_low_tentative", lang, m=m, n=n, d=d, med=md, x=_num(-r["gap"], lang)) + tied(r, chosen)
            return _t("r_low", lang, m=m, n=n, d=d, med=md) + tied(r, chosen)
        if r["label"] == gp.HIDDEN_STRENGTH:
            return _t("r_hidden", lang, x=_num(r["gap"], lang))
        return _t("r_high", lang, m=m, n=n, d=d, med=md) + tied(r, chosen)

    focus = focus.assign(reason=[reason(r, "focus", focus) for _, r in focus.iterrows()])
    strengths = strengths.assign(reason=[reason(r, "strength", strengths) for _, r in strengths.iterrows()])
    return {**out, "focus": tag_frame(focus[cols].reset_index(drop=True), account.instrument),
            "strengths": tag_frame(strengths[cols].reset_index(drop=True), account.instrument),
            "median": med, "status": "ranked", "note": ""}


@lru_cache(maxsize=None)
def _version(pkg: str) -> str:
    try:
        return metadata.version(pkg)
    except metadata.PackageNotFoundError:
        return "not installed"


def methods_note(account: AccountData) -> dict[str, Any]:
    """How the numbers were made: formulas, thresholds, package versions and the data hash.

    Returns
    -------
    dict
        ``text`` (Markdown in the report's language), ``thresholds``,
        ``versions`` (python and packages), ``data_hash``
        (:func:`helpers.store.data_hash`), ``waves`` (oldest first),
        ``instrument``.
    """
    inst = account.instrument
    span = inst.scale_max - inst.scale_min
    strong_at = inst.scale_min + 0.75 * span
    margin = equivalence_margin(inst)
    mq = bm.MIN_ACCOUNTS_FOR_QUARTILES
    thresholds = {"min_group_size": account.min_group_size,
                  "min_comment_group_size": account.min_comment_group_size, "ci": CI, "fdr": FDR,
                  "strong_at": strong_at, "equivalence_margin": margin, "min_items": inst.min_items,
                  "benchmark_min_accounts": account.min_group_size,
                  "benchmark_min_respondents": account.min_group_size,
                  "benchmark_min_accounts_for_quartiles": mq, "rwg_min_n": account.min_group_size,
                  "rwg_stable_n": RWG_STABLE_N}
    versions = {"python": platform.python_version(),
                **{p: _version(p) for p in ("flamekit", "numpy", "pandas", "scipy", "statsmodels", "matplotlib",
                                            "seaborn", "duckdb")}}
    digest = st.data_hash(store=account.store)
    lang = account.language
    v = ", ".join(f"{k} {val}" for k, val in versions.items())
    k, kc = account.min_group_size, account.min_comment_group_size
    sa, mg = _num(strong_at, lang, 1), _num(margin, lang, 2)
    q, waves = _num(FDR, lang, 2), ", ".join(_md(w) for w in account.waves)
    mg1 = _num(margin, lang, 1)
    if lang == "fi":
        items = [
            f"**Ulottuvuuspisteet**: vastaajan pistemäärä on hänen vastaamiensa väittämien keskiarvo (vähintään "
            f"{inst.min_items} väittämää); keskiarvon 95 %:n luottamusväli x̄ ± t·s/√n.",
            "**NPS** = % suosittelijat (9–10) − % arvostelijat (0–6); 95 %:n luottamusväli korjatulla "
            "Wald-menetelmällä (Rocks 2016). Muutoksen luottamusväli: kahden riippumattoman NPS:n varianssien "
            "summa, keskitettynä korjattuun muutokseen (siksi väli ei ole aina symmetrinen raakamuutoksen "
            "ympärillä).",
            "**Näkemysero** = asiakkaan keskiarvo − tiimin keskiarvo; Welchin t-testi ja luottamusväli (Welch 1947), "
            "Hedgesin g pienen otoksen korjauksella J = 1 − 3/(4N − 9) (Hedges & Olkin 1985). Raportin "
            f"ulottuvuuksien p-arvot korjataan yhdessä Benjamini–Hochberg-menetelmällä (1995), q = {q}.",
            f"**Tulkinta**: sokea piste (tiimi korkeammalla) tai piilevä vahvuus (asiakas korkeammalla) vain, kun "
            f"korjattu p < {q} ja luottamusväli ei sisällä nollaa. Muuten \"yhteneväinen\": vahva, kun asiakkaan "
            f"keskiarvo ≥ {sa}. Näyttö on \"selvä\", kun luottamusväli on kokonaan välillä ±{mg}; \"alustava\", "
            f"kun ero näkyy vain ilman korjausta; muuten \"epäselvä\". Alle {k} vastauksen ryhmiä ei luokitella.",
            "**Yksimielisyys** r_wg(J) (James, Demaree & Wolf 1984); ≥ 0,70 on tavallinen raja. Näytetään vain "
            f"vähintään {k} vastauksen ryhmille; alle noin {RWG_STABLE_N} vastauksen ryhmissä se on epävakaa "
            "(Dunlap, Burke & Smith-Crowe 2003).",
            "**Vertailu**: asiakkaan sija muiden asiakkaiden keskiarvojen joukossa samalla kierroksella (oma arvo "
            f"ei ole vertailujoukossa). Mukana asiakkaat, joilla on vähintään {k} asiakasvastausta; näytetään vain, "
            f"kun tällaisia asiakkaita on vähintään {k}. Salkun mediaani ja kvartiilit näytetään vasta "
            f"vähintään {mq} asiakkaasta, pyöristettyinä (keskiarvot 0,1 pisteeseen, NPS kokonaisiin "
            "pisteisiin), jottei yksittäisen asiakkaan arvoa voi päätellä. Tietokannasta luetaan vain "
            "asiakaskohtaiset keskiarvot.",
            f"**Seuraavaan tapaamiseen**: kehityskohde on ulottuvuus, jolla on selvä sokea piste tai jonka "
            f"asiakkaiden keskiarvo on vähintään {mg1} pistettä alle asiakkuuden ulottuvuuksien mediaanin; "
            f"vahvuus vastaavasti (selvä piilevä vahvuus tai vähintään {mg1} pistettä yli mediaanin). Tasoissa "
            f"olevat ulottuvuudet nimetään yhdessä, kaikkia ulottuvuuksia ei nimetä koskaan, eikä mitään nimetä "
            f"alle {k} asiakasvastauksesta.",
            "**Kommentit**: yhteystiedot poistetaan; luokittelu vihjesanoilla ja NPS-ryhmällä "
            "(ks. helpers.comments).",
            f"**Tietosuoja**: tiimin tulokset alle {k} vastauksesta piilotetaan; samoin asiakkaiden alaryhmät alle "
            f"{k} vastauksesta; tiimin kommentit näytetään vasta vähintään {kc} tiimin vastauksesta. Asiakkaan "
            f"rooli näytetään kommentin ja pisteiden vieressä vain, jos roolissa vastasi vähintään {k} "
            "asiakasta.",
            f"**Aineisto**: kierrokset {waves} (aikajärjestyksessä); aineiston tiiviste {digest}; kysely "
            f"\"{_md(inst.name)}\".",
            f"**Ohjelmistot**: {v}.",
        ]
    else:
        items = [
            f"**Dimension scores**: a respondent's score is the mean of the items they answered (at least "
            f"{inst.min_items}); means with a 95% Student-t interval x̄ ± t·s/√n.",
            "**NPS** = % promoters (9–10) − % detractors (0–6); 95% adjusted-Wald interval (Rocks 2016). The "
            "change between waves treats them as independent samples and adds the two variances; its interval is "
            "centred on the adjusted change, so it need not be symmetric around the raw change.",
            "**Perception gap** = client mean − team mean; Welch t-test and interval (Welch 1947); Hedges' g with "
            "the small-sample correction J = 1 − 3/(4N − 9) (Hedges & Olkin 1985). The p-values of the report's "
            f"dimension tests are adjusted together with Benjamini–Hochberg (1995), q = {q}.",
            f"**Reading**: blind spot (team higher) or hidden strength (client higher) only when the adjusted "
            f"p < {q} and the CI excludes 0. Otherwise \"aligned\": strong when the client mean ≥ {sa}. Evidence "
            f"is \"clear\" when the CI lies within ±{mg}; \"tentative\" when a gap shows only before the "
            f"correction; otherwise \"unclear\". Groups under {k} answers are not labelled.",
            "**Agreement** r_wg(J) (James, Demaree & Wolf 1984); ≥ 0.70 is the usual threshold. Shown only for "
            f"groups of at least {k} answers; below about {RWG_STABLE_N} answers it is unstable (Dunlap, Burke & "
            "Smith-Crowe 2003).",
            "**Benchmark**: the account's percentile among the other accounts' means in the same wave (its own "
            f"value is left out of the reference). Accounts need at least {k} client answers to count, and a "
            f"percentile is shown only when at least {k} such accounts exist. The portfolio median and quartiles "
            f"are shown only from {mq} accounts and rounded (means to 0.1, NPS to whole points), so that no single "
            "account's value can be read from them. Only one aggregate per account is read from the database.",
            f"**For the next meeting**: a focus area is a dimension with a clear blind spot or a client mean at "
            f"least {mg1} points below the account's median dimension; a strength, one with a clear hidden "
            f"strength or at least {mg1} points above it. Tied dimensions are named together, never every "
            f"dimension is named, and nothing is ranked from fewer than {k} client answers.",
            "**Comments**: contacts removed; classified with cue words and the NPS group (see helpers.comments).",
            f"**Privacy**: team results from fewer than {k} answers are hidden; client sub-groups under {k} are "
            f"hidden; team comments are shown only from {kc} team answers. A client's role is shown next to their "
            f"comment and score only when at least {k} clients answered in that role.",
            f"**Data**: waves {waves} (oldest first); data hash {digest}; instrument \"{_md(inst.name)}\".",
            f"**Software**: {v}.",
        ]
    text = "\n".join(f"- {item}" for item in items)
    return {"text": text.strip(), "thresholds": thresholds, "versions": versions, "data_hash": digest,
            "waves": list(account.waves), "instrument": inst.name}


def account_report_data(
    account_id: str,
    wave: str,
    *,
    store: str | Path | None = None,
    language: str = "en",
    min_group_size: int = MIN_GROUP_SIZE,
    min_comment_group_size: int = MIN_COMMENT_GROUP_SIZE,
) -> dict[str, Any]:
    """Every section of one account's report, computed in plain Python.

    Parameters
    ----------
    account_id : str
        The account, e.g. ``"A001"``.
    wave : str
        The report's wave, e.g. ``"2026Q3"``.
    store : path, optional
        The store file; None or "" = :func:`helpers.store.default_store`.
    language : {"en", "fi"}
        Language of sentences, notes and reasons.
    min_group_size : int
        Team results (and client sub-groups) from fewer answers are hidden.
    min_comment_group_size : int
        Team comments need at least this many team answers.

    Returns
    -------
    dict
        account_id, wave, language, name, headline (dict), view_360,
        client_groups, gaps, trend (dict of frames), benchmark, comments
        (dict), detractors, next_meeting (dict), notes (list of str, the
        headline's notes), methods (dict).  Nothing of any other account:
        every frame is checked with :func:`helpers.privacy.assert_single_account`.

    Raises
    ------
    ValueError
        Unknown account or no answers from the account in ``wave``.

    Examples
    --------
    >>> data = account_report_data("A001", "2026Q3")          # doctest: +SKIP
    >>> data["headline"]["summary"]                             # doctest: +SKIP
    'Client NPS is 0 (95% CI −41 to +41, n = 10), ...'
    """
    account = load_account(account_id, wave, store=store, language=language, min_group_size=min_group_size,
                           min_comment_group_size=min_comment_group_size)
    gaps = gaps_section(account)
    voice = comments_section(account)
    head = headline(account, gaps=gaps, voice=voice)
    data = {
        "account_id": account.account_id, "wave": account.wave, "language": language, "name": account.name,
        "headline": head,
        "view_360": view_360(account),
        "client_groups": client_groups(account),
        "gaps": gaps,
        "trend": trend_section(account),
        "benchmark": benchmark_section(account),
        "comments": voice,
        "detractors": voice["detractors"],
        "next_meeting": next_meeting(account, gaps=gaps),
        "notes": head["notes"],
        "methods": methods_note(account),
    }
    _assert_isolated(data, account.account_id)
    return data


def _assert_isolated(obj: Any, account_id: str) -> None:
    """Check every frame in a (nested) report dict with :func:`assert_single_account`."""
    if isinstance(obj, pd.DataFrame):
        assert_single_account(obj, account_id)
    elif isinstance(obj, dict):
        for v in obj.values():
            _assert_isolated(v, account_id)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _assert_isolated(v, account_id)


# ---------------------------------------------------------------------------
# Display (what the notebook shows); numbers are rounded here and only here
# ---------------------------------------------------------------------------
def _markdown(text: str):
    from IPython.display import Markdown

    return Markdown(text)


def title_markdown(account: AccountData):
    """The report title as Markdown (the account name is escaped)."""
    return _markdown(_t("title", account.language, name=_md(account.name), account_id=_md(account.account_id),
                        wave=_md(account.wave)))


def headline_markdown(head: dict[str, Any], *, language: str = "en"):
    """The headline sentence, the key numbers and the notes, as Markdown."""
    _check_language(language)
    facts = _t("facts", language, n_client=head["n_client"], n_staff=head["n_staff"],
               nps=_num(head["nps"], language, 0, sign=True), lo=_num(head["nps_ci_low"], language, 0, sign=True),
               hi=_num(head["nps_ci_high"], language, 0, sign=True))
    notes = "".join(f"\n\n*{n}*" for n in head["notes"])
    return _markdown(f"**{head['summary']}**\n\n{facts}{notes}")


class HeadlineJSON:
    """Displays the headline numbers as ``application/json`` only (for the batch index).

    Keys: account_id, wave, n_client, n_staff, nps, nps_ci_low, nps_ci_high;
    NaN becomes null.
    """

    KEYS = ("account_id", "wave", "n_client", "n_staff", "nps", "nps_ci_low", "nps_ci_high")

    def __init__(self, head: dict[str, Any]):
        self.data = {}
        for k in self.KEYS:
            v = head.get(k)
            if isinstance(v, (float, np.floating)):
                v = None if math.isnan(v) else round(float(v), 6)
            elif isinstance(v, (np.integer,)):
                v = int(v)
            self.data[k] = v

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display({"application/json": self.data}, raw=True)


def headline_json(head: dict[str, Any]) -> HeadlineJSON:
    """The headline as an ``application/json`` display (see :class:`HeadlineJSON`)."""
    return HeadlineJSON(head)


def notes_markdown(notes: list[str]):
    """Notes as an italic Markdown list; None (nothing shown) when there are none."""
    if not notes:
        return None
    return _markdown("\n".join(f"- *{n}*" for n in notes))


def figure(obj, kind: str, language: str = "en"):
    """A plot as a PNG with alt text in ``language`` (kind: flame, dots, gaps, trend); closes the figure."""
    return plots.to_image(obj, alt=_t(f"alt_{kind}", _check_language(language)))


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
    return (d.style.format(escape="html").format_index(escape="html", axis=1).hide(axis="index")
            .set_properties(subset=text, **{"text-align": "left"}).set_uuid(uuid))


def view_table(view: pd.DataFrame, *, language: str = "en"):
    """The 360° table (side, dimension, n, mean, CI, agreement) as an escaped Styler."""
    return _styled(view, ["side", "dimension", "n", "mean", "ci_low", "ci_high", "rwg"], _check_language(language),
                   uuid="view360")


def groups_table(groups: pd.DataFrame, *, language: str = "en", by: str = "role"):
    """Client sub-groups as an escaped Styler (hidden groups show "–")."""
    return _styled(groups, [by, "dimension", "n", "mean", "ci_low", "ci_high"], _check_language(language),
                   uuid="clientgroups")


def gaps_table(gaps: pd.DataFrame, *, language: str = "en"):
    """Perception gaps: means, gap with CI, BH-adjusted p, Hedges' g, reading and evidence."""
    return _styled(gaps, ["dimension", "n_client", "n_staff", "client_mean", "staff_mean", "gap", "ci_low",
                          "ci_high", "p_fdr", "effect_size", "label", "evidence"], _check_language(language),
                   uuid="gaps", digits={"p_fdr": 3}, signed=("gap", "ci_low", "ci_high", "effect_size"))


def nps_table(net: pd.DataFrame, *, language: str = "en"):
    """NPS per wave and side with the adjusted-Wald CI (team rows hidden below the threshold)."""
    return _styled(net, ["wave", "side", "n", "nps", "ci_low", "ci_high"], _check_language(language),
                   uuid="npstrend", digits={"nps": 0, "ci_low": 0, "ci_high": 0},
                   signed=("nps", "ci_low", "ci_high"))


def benchmark_table(bench: pd.DataFrame, *, language: str = "en"):
    """Benchmark: value, percentile (with the percentiles of the CI ends) and the portfolio middle."""
    language = _check_language(language)
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
    language = _check_language(language)
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
    _check_language(language)
    if which == "team" and not voice["team_shown"]:
        return notes_markdown([_t("note_team_comments", language, n=voice["n_staff"],
                                  k=voice["min_comment_group_size"])])
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
    language = _check_language(language)
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
