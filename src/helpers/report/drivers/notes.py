"""The models' warnings in the page's language.

The statistics modules say in English why a result should be read with care
("56 of 3585 rows were left out because nps or a predictor was missing.").
The drivers page shows those sentences in its own language: each known
sentence is matched, its numbers and column names taken out, and the
catalogue's text (``drivers.note.*``) filled with them.  A sentence the page
does not know yet is shown as it is, marked as the model's own words
(:data:`UNTRANSLATED`), never dropped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence

from helpers.data.instrument import Instrument, load_instrument
from helpers.report import formatting as fmt
from helpers.stats.fitting import term_label
from helpers.words import say

__all__ = ["translate", "translate_all", "notes_html", "join_names", "UNTRANSLATED"]

#: Marks a model's sentence that the catalogue has no words for yet (it is shown as the model wrote it).
UNTRANSLATED = "drivers.note.untranslated"

_N = r"(\d+(?:\.\d+)?)"


def _num(text: str, language: str) -> str:
    """A number from a message ("13", "2.6", "3529") in the page's locale."""
    value = float(text)
    return fmt.count(value, language) if value == round(value) else fmt.number(value, language, 1)


def join_names(names: Sequence[str], language: str, *, word: str = "and") -> str:
    """``["a", "b", "c"]`` → "a, b and c" / "a, b ja c" (``word`` "and" or "or")."""
    names = [n for n in names if n]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + say(f"drivers.word.{word}", language) + names[-1]


def _columns(text: str, language: str, inst: Instrument) -> str:
    """"client_care, staff_care or churned" → "Care (client), Care (team) or churn" in the page's language."""
    parts = [p.strip() for p in re.split(r",\s*|\s+or\s+", text) if p.strip()]
    return join_names([term_label(p, language=language, instrument=inst) for p in parts], language, word="or")


# (pattern, catalogue key, which groups are numbers, which are column lists)
_RULES: list[tuple[re.Pattern, str, tuple[str, ...], tuple[str, ...]]] = [(re.compile(p), k, nums, cols) for p, k, nums, cols in [
    (rf"^{_N} of {_N} rows were left out because (?P<what>.+?) or a predictor was missing\.$", "dropped",
     ("1", "2"), ("what",)),
    (rf"^{_N} of {_N} rows were left out because (?P<what>.+) was missing\.$", "dropped_any", ("1", "2"), ("what",)),
    (r"^(?P<what>.+) (?:has|have) the same value in every row, so its effect cannot be estimated; it was left out\.$",
     "constant", (), ("what",)),
    (rf"^Only {_N} observations for {_N} estimated terms \(fewer than {_N} per term\)", "few_observations",
     ("1", "2", "3"), ()),
    (rf"^Only {_N} churn events for {_N} predictor\(s\) \({_N} per predictor; at least {_N} are needed",
     "few_churn_events", ("1", "2", "3", "4"), ()),
    (rf"^Only {_N} accounts in the smaller outcome group for {_N} predictor\(s\) \({_N} per predictor; at least "
     rf"{_N} are needed", "few_events", ("1", "2", "3", "4"), ()),
    (rf"^Only {_N} accounts in the smaller outcome group for {_N} predictor\(s\) \(fewer than {_N} per predictor\): "
     r"Firth's penalised likelihood was used", "few_events_firth", ("1", "2", "3"), ()),
    (r"^The outcome is perfectly predicted by (?P<what>.+?) \(separation\)", "separation", (), ("what",)),
    (r"^Every (?:account|unit) has the same outcome, so nothing can be learnt", "same_outcome", (), ()),
    (rf"^(?P<what>.+) overlap strongly with the other predictors \(VIF {_N} > {_N}\)", "vif", ("2", "3"), ("what",)),
    (rf"^The predictors are nearly linearly dependent \(condition number {_N} > {_N}\)", "condition",
     ("1", "2"), ()),
    (rf"^Only {_N} accounts: standard errors that allow for respondents of one account being alike need about {_N} "
     r"or more", "few_clusters", ("1", "2"), ()),
    (r"^(?P<what>\w+) has the same value for every respondent: nothing to explain\.$", "flat_outcome", (),
     ("what",)),
    (rf"^Only {_N} complete responses: too few for a driver analysis\.$", "too_few_drivers", ("1",), ()),
    (rf"^Only {_N} accounts to resample: the bootstrap intervals are rough\.$", "few_resample", ("1",), ()),
    (r"^All responses come from one account, so accounts cannot be resampled", "one_account_boot", (), ()),
    (rf"^Only {_N} complete responses: too few to fit the model\.$", "too_few_model", ("1",), ()),
    (r"^All respondents come from one account, so standard errors cannot allow", "one_account_se", (), ()),
    (rf"^Only {_N} complete responses with {_N} distinct answers: too few for an ordinal model\.$",
     "too_few_ordinal", ("1", "2"), ()),
    (r"^The ordinal model did not converge", "ordinal_converge", (), ()),
    (r"^No complete response of (?P<what>\w+) is (?P<levels>.+?): that level is left out", "empty_level", (),
     ("what",)),
    (rf"^Only {_N} complete responses in {_N} account\(s\): a random intercept", "too_few_mixed", ("1", "2"), ()),
    (rf"^Only {_N} accounts: the between-account variance is poorly estimated\.$", "few_groups_mixed", ("1",), ()),
    (r"^The mixed model had trouble converging", "mixed_converge", (), ()),
    (r"^The estimated between-account variance is zero", "mixed_zero", (), ()),
    (rf"^Staff means of {_N} account row\(s\) were hidden because fewer than {_N} staff answered", "team_hidden",
     ("1", "2"), ()),
    (rf"^{_N} response\(s\) of {_N} account\(s\) with a known outcome were given on or after the renewal date and "
     rf"were left out, so that the scores come before the decision they are used to predict; {_N} of these accounts",
     "after_renewal_empty", ("1", "2", "3"), ()),
    (rf"^{_N} response\(s\) of {_N} account\(s\) with a known outcome were given on or after the renewal date",
     "after_renewal", ("1", "2"), ()),
    (rf"^{_N} response\(s\) of {_N} account\(s\) with a known outcome have no submission time or no renewal date",
     "timing_unknown", ("1", "2"), ()),
    (r"^Maximum likelihood did not converge, so Firth's", "ml_to_firth", (), ()),
    (r"^Maximum likelihood did not converge; the estimates are not reliable", "ml_converge", (), ()),
    (r"^The Firth fit did not converge", "firth_converge", (), ()),
    (rf"^A ridge prior \(SD {_N} log-odds", "ridge", ("1",), ()),
    (rf"^{_N} account\(s\) without usable contract dates were left out\.$", "no_dates", ("1",), ()),
    (rf"^Time to churn cannot be modelled: {_N} churn\(s\) among {_N} usable accounts\.$", "no_cox", ("1", "2"), ()),
    (r"^The Cox model did not converge properly", "cox_converge", (), ()),
    (rf"^{_N} account\(s\) without a known outcome \(still active\) were left out of the fit\.$", "active_left_out",
     ("1",), ()),
    (r"^Retention cannot be modelled: no account has a known outcome", "no_known", (), ()),
    (r"^Retention cannot be modelled: (?:no account churned|every account churned)", "one_outcome", (), ()),
    (rf"^Only {_N} accounts for {_N} predictors: a model cannot be fitted\.$", "too_few_retention", ("1", "2"), ()),
    (rf"^Cross-validation needs at least 2 churned and 2 renewed accounts; there are {_N} churned and {_N} renewed",
     "no_cv", ("1", "2"), ()),
    (rf"^Only {_N} accounts in the smaller outcome group, so {_N}-fold instead of {_N}-fold", "fewer_folds",
     ("1", "2", "3"), ()),
    (r"^In some cross-validation folds the fit needed Firth's", "cv_firth", (), ()),
    (rf"^Only {_N} units for a six-term surface", "surface_few", ("1",), ()),
    (rf"^{_N} client answers come from accounts with fewer than {_N} team answers; the team view there is hidden",
     "both_nps_hidden", ("1", "2"), ()),
    (rf"^{_N} account\(s\) with fewer than {_N} team answers have no team view and are left out", "both_hidden",
     ("1", "2"), ()),
    (rf"^Only {_N} usable rows \(or ratings without enough spread\)", "surface_none", ("1",), ()),
]]


def _split(message: str, language: str, inst: Instrument) -> tuple[str, str, bool]:
    """The dimension a message is about (its label, or ""), the message in the page's language, and whether known."""
    where = ""
    head, sep, rest = message.partition(": ")
    if sep and head in inst.dimension_ids:
        where, message = inst.label(head, language), rest
    for pattern, key, nums, cols in _RULES:
        m = pattern.search(message)
        if m:
            fields = {f"x{g}": _num(m.group(int(g)), language) for g in nums}
            fields.update({g: _columns(m.group(g), language, inst) for g in cols})
            if "levels" in pattern.groupindex:
                fields["levels"] = m.group("levels")
            return where, say(f"drivers.note.{key}", language, **fields), True
    return where, message, False


def translate(message: str, language: str, *, instrument: str | Instrument | None = None) -> tuple[str, bool]:
    """One model warning in the page's language.

    Parameters
    ----------
    message : str
        A sentence of :mod:`helpers.stats` (optionally "<dimension id>: "
        in front, as :func:`helpers.stats.congruence.congruence` writes them).
    language : str
        "en" or "fi".

    Returns
    -------
    (str, bool)
        The sentence and whether the catalogue had words for it.  An unknown
        sentence comes back as it is (``False``): the caller shows it marked
        as the model's own words.

    Examples
    --------
    >>> translate("56 of 3585 rows were left out because nps or a predictor was missing.", "fi")[0]
    'Pois jätettiin 56 riviä (kaikkiaan 3\\xa0585), koska NPS tai jokin arvio puuttui.'
    """
    where, text, known = _split(message, language, load_instrument(instrument))
    return (f"{where}: {text}" if where else text), known


def translate_all(messages: Iterable[str], language: str, *,
                  instrument: str | Instrument | None = None) -> list[tuple[str, bool]]:
    """:func:`translate` for each message, repeats dropped, in order.

    The same sentence about several dimensions ("Care: …", "Dare: …") is
    said once, with the dimensions named together in front.
    """
    inst = load_instrument(instrument)
    merged: dict[tuple[str, bool], list[str]] = {}
    for m in dict.fromkeys(m for m in messages if m):
        where, text, known = _split(m, language, inst)
        merged.setdefault((text, known), [])
        if where and where not in merged[(text, known)]:
            merged[(text, known)].append(where)
    return [((f"{join_names(where, language)}: {text}" if where else text), known)
            for (text, known), where in merged.items()]


def notes_html(messages: Iterable[str], language: str, *, heading: str | None = None,
               instrument: str | Instrument | None = None) -> str:
    """The translated warnings as an escaped HTML list ("" when there are none).

    A sentence without words in the catalogue is shown in the model's own
    words inside ``<span class="fk-data">`` after the catalogue's lead-in
    ("In the model's own words:"), so the page never passes it off as its own
    language.
    """
    items = []
    for text, known in translate_all(messages, language, instrument=instrument):
        if known:
            items.append(f"<li>{html.escape(text)}</li>")
        else:
            items.append(f"<li>{html.escape(say(UNTRANSLATED, language))} "
                         f'<span class="fk-data" lang="en">{html.escape(text)}</span></li>')
    if not items:
        return ""
    head = f"<p><strong>{html.escape(heading)}</strong></p>" if heading else ""
    return f'{head}<ul class="fk-notes">{"".join(items)}</ul>'
