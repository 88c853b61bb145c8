"""The drivers page's appendix for analysts: every model table and check, complete, in the page's language.

Takes the results the page computed (model fits, key drivers, importance
against performance, trust checks, VIF, response-surface terms, the
measurement check, the NPS-alone comparison) and hands on tables for people
(:func:`helpers.report.formatting.people_table`: headers from
``drivers.header.*``, numbers by locale, yes/no for booleans) and short HTML
blocks that put a table beside its heading line and its warnings.  Test
names, corrections and effect sizes live here, not in the body.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.report import formatting as fmt
from helpers.report.formatting import PeopleTable, people_table
from helpers.stats.fitting import term_label
from helpers.words import has, say

from .notes import notes_html
from .setup import DriverSetup

__all__ = [
    "model_term",
    "estimator_text",
    "page_scope",
    "model_tables",
    "importance_tables",
    "other_side_table",
    "ipa_table",
    "checks_tables",
    "agreement_tables",
    "measurement_table",
    "baseline_tables",
    "provenance_table",
]

PAGE = "drivers"
_THRESHOLD = re.compile(r"^threshold (.+)\|(.+)$")
_SD = re.compile(r"^sd\((.+)\)$")


class Block:
    """Escaped HTML parts shown as one output (a heading line, a table, a list of notes)."""

    def __init__(self, parts: Sequence[str]):
        self.parts = [p for p in parts if p]

    def to_html(self) -> str:
        return "\n".join(self.parts)

    def _repr_html_(self) -> str:
        return self.to_html()


def _p(text: str, *, strong: str = "") -> str:
    lead = f"<strong>{html.escape(strong)}</strong> — " if strong else ""
    return f"<p>{lead}{html.escape(text)}</p>"


def _with_code(text: str, codes: Mapping[str, str]) -> str:
    """A paragraph whose ``\\x00name`` marks are replaced by ``codes[name]`` as code (parameter settings)."""
    out = html.escape(text)
    for name, code in codes.items():
        out = out.replace(f"\x00{name}", f'<code class="fk-data">{html.escape(code)}</code>')
    return f"<p>{out}</p>"


def model_term(term: str, language: str = "en", *, instrument: str | Instrument | None = None) -> str:
    """A model table's term in words: predictors by :func:`term_label`, and the intercept, cut-points, SDs.

    Examples
    --------
    >>> model_term("threshold 6|7", "fi"), model_term("sd(account_id)", "en"), model_term("care", "en")
    ('Kynnys 6 | 7', 'SD between accounts', 'Care')
    """
    if term == "Intercept":
        return say("drivers.term.intercept", language)
    m = _THRESHOLD.match(term)
    if m:
        return say("drivers.term.threshold", language, low=m.group(1), high=m.group(2))
    m = _SD.match(term)
    if m:
        inner = m.group(1)
        if inner == "residual":
            return say("drivers.term.sd_residual", language)
        if inner == "account_id":
            return say("drivers.term.sd_account", language)
        return say("drivers.term.sd_other", language, name=term_label(inner, language=language, instrument=instrument))
    return term_label(term, language=language, instrument=instrument)


def estimator_text(estimator: str, language: str = "en") -> str:
    """An estimator's name in words ("ols, CR1 cluster-robust" → "least squares, cluster-robust (CR1) …")."""
    key = "drivers.estimator." + re.sub(r"\W+", "_", str(estimator).strip().lower()).strip("_")
    return say(key, language) if has(key, language) else str(estimator)


def page_scope(setup: DriverSetup, *, parameters: Mapping[str, object], language: str = "en",
               instrument: str | Instrument | None = None) -> Block:
    """What the page shows, the notes about its data, and how an analyst renders another version of it.

    Parameters
    ----------
    setup : DriverSetup
    parameters : mapping
        The notebook's parameters (``waves``, ``outcome``, ``side`` …), named
        in the command.
    language : str

    Returns
    -------
    Block
        The setup's description, the notes on what was left out (in the
        page's language), and the command that renders the page for another
        outcome or side (``helpers.batch.render_notebook``, which keeps one
        language's cells as the batch does).
    """
    other = "retention" if setup.kind == "nps" else "nps"
    waves = str(parameters.get("waves", ""))
    command = (f".venv/bin/python -c \"import helpers.batch as b; b.render_notebook('notebooks/drivers.ipynb', "
               f"'reports/drivers-{other}.html', parameters={{'outcome': '{other}', 'side': 'client', "
               f"'waves': '{waves}', 'language': '{language}'}}, language='{language}')\"")
    return Block([
        _p(setup.description),
        _with_code(say("drivers.scope.rendered", language, outcome="\x00outcome", side="\x00side"),
                   {"outcome": f"outcome = {parameters.get('outcome', setup.kind)}",
                    "side": f"side = {parameters.get('side', setup.side)}"}),
        notes_html(setup.notes, language, heading=say("drivers.scope.about_data", language), instrument=instrument),
        _p(say(f"drivers.scope.change_{setup.kind}", language)),
        f'<pre class="fk-data fk-command"><code>{html.escape(command)}</code></pre>',
    ])


_MODEL_ID = {"OLS, clustered by account": "ols", "ordinal logit": "ordinal",
             "mixed model, random account intercept": "mixed", "logistic": "logistic", "Cox": "cox"}


def model_tables(fits: Mapping[str, pd.DataFrame], *, language: str = "en",
                 instrument: str | Instrument | None = None) -> Block:
    """Every model of :func:`helpers.report.drivers.driver_models` as a complete table with its facts and warnings.

    Returns
    -------
    Block
        Per model: its name and what a coefficient means, the estimator, n,
        accounts, churned and R² where known; one row per term (threshold
        rows of the ordinal model and variance rows of the mixed model
        included) with coefficient, standard error, 95% interval and
        p-value; then the model's warnings in the page's language.
    """
    inst = load_instrument(instrument)
    parts = []
    for name, fit in fits.items():
        model = str(fit["model"].iloc[0]) if len(fit) and "model" in fit else _MODEL_ID.get(name, "ols")
        first = fit.iloc[0] if len(fit) else pd.Series(dtype=object)
        estimator = estimator_text(first.get("estimator", ""), language)
        facts = [estimator[:1].upper() + estimator[1:]]
        for key in ("n", "n_groups", "n_events"):
            v = first.get(key)
            if v is not None and pd.notna(v):
                facts.append(say(f"drivers.model.fact_{key}", language, x=fmt.count(v, language)))
        r2 = fit.attrs.get("r2")
        if r2 is not None and pd.notna(r2):
            facts.append(say("drivers.model.fact_r2", language, x=fmt.number(r2, language, 2)))
        parts.append(_p(say(f"drivers.model.unit.{model}", language) + " " + "; ".join(f for f in facts if f) + ".",
                        strong=say(f"drivers.model.name.{model}", language)))
        table = fit.assign(term=fit["term"].map(lambda t: model_term(t, language, instrument=inst)))
        parts.append(people_table(table, language=language, page=PAGE, columns={
            "term": "text", "coef": "number:2", "se": "number:2", "ci_low": "number:2", "ci_high": "number:2",
            "p_val": "p"}).to_html())
        parts.append(notes_html(fit.attrs.get("warnings", []), language, instrument=inst))
    return Block(parts)


def importance_tables(importance: pd.DataFrame, weights: pd.DataFrame, *, language: str = "en",
                      instrument: str | Instrument | None = None) -> Block:
    """Both key-driver methods side by side, and how often each dimension took each rank in the bootstrap.

    Returns
    -------
    Block
        A caption with R², n, accounts and resamples; one row per method and
        term (share with its percentile interval, rank, how often the rank
        held, how often first); the rank-stability grid (dimensions in order
        of importance × ranks); the methods' warnings.
    """
    from helpers.stats import drivers

    inst = load_instrument(instrument)
    both = pd.concat([importance, weights], ignore_index=True)
    both.attrs = {}
    both = both.assign(method=both["method"].map(lambda m: say(f"drivers.method.{m}", language)),
                       term=both["term"].map(lambda t: term_label(t, language=language, instrument=inst)))
    first = importance.iloc[0] if len(importance) else pd.Series(dtype=object)
    caption = say("drivers.importance_caption", language, r2=fmt.number(first.get("r2"), language, 3),
                  n=fmt.count(first.get("n"), language), clusters=fmt.count(first.get("n_clusters"), language),
                  n_boot=fmt.count(first.get("n_boot"), language))
    parts = [people_table(both, language=language, page=PAGE, caption=caption, columns={
        "method": "text", "term": "text", "share": "percent:1", "share_ci_low": "percent:1",
        "share_ci_high": "percent:1", "rank": "count", "rank_share": "percent", "top_share": "percent",
        "estimate": "number:3"}).to_html()]
    if importance.attrs.get("bootstrap") is not None and importance["share"].notna().any():
        stab = drivers.rank_stability(importance).pivot(index="term", columns="rank", values="share")
        order = importance.dropna(subset=["rank"]).sort_values("rank")["term"]
        stab = stab.loc[[t for t in order if t in stab.index]].reset_index()
        stab["term"] = stab["term"].map(lambda t: term_label(t, language=language, instrument=inst))
        ranks = [c for c in stab.columns if c != "term"]
        parts.append(people_table(
            stab, language=language, page=PAGE, caption=say("drivers.stability_caption", language),
            columns={"term": "text", **{r: "percent" for r in ranks}},
            headers={**{r: say("drivers.header.rank_n", language, rank=fmt.count(r, language)) for r in ranks}},
        ).to_html())
    parts.append(notes_html([*importance.attrs.get("warnings", []), *weights.attrs.get("warnings", [])], language,
                            instrument=inst))
    return Block(parts)


def other_side_table(other: pd.DataFrame, *, language: str = "en",
                     instrument: str | Instrument | None = None) -> Block:
    """The other side's key drivers (:func:`helpers.report.drivers.other_side_importance`), complete, with a caption.

    Returns
    -------
    Block
        Empty when the page has no other side to compare (retention, both
        sides); else a caption naming whose NPS it is, R², n, accounts and
        resamples, and one row per dimension (share with its percentile
        interval, rank, how often the rank held, how often first).
    """
    side = other.attrs.get("side")
    if side is None or other.empty or not other["share"].notna().any():
        return Block([])
    inst = load_instrument(instrument)
    first = other.iloc[0]
    who = say(f"drivers.views.other.{side}", language)
    caption = say("drivers.views.caption", language, who=who[:1].upper() + who[1:],
                  r2=fmt.number(first.get("r2"), language, 3), n=fmt.count(first.get("n"), language),
                  clusters=fmt.count(first.get("n_clusters"), language), n_boot=fmt.count(first.get("n_boot"), language))
    tab = other.sort_values("rank").assign(
        term=lambda f: f["term"].map(lambda t: term_label(t, language=language, instrument=inst)))
    return Block([people_table(tab, language=language, page=PAGE, caption=caption, columns={
        "term": "text", "share": "percent:1", "share_ci_low": "percent:1", "share_ci_high": "percent:1",
        "rank": "count", "rank_share": "percent", "top_share": "percent"}).to_html(),
        notes_html(other.attrs.get("warnings", []), language, instrument=inst)])


def ipa_table(ipa: pd.DataFrame, *, language: str = "en", instrument: str | Instrument | None = None) -> PeopleTable:
    """Importance against performance, one row per dimension, with both intervals, n and the quadrant."""
    inst = load_instrument(instrument)
    tab = ipa.assign(term=ipa["term"].map(lambda t: term_label(t, language=language, instrument=inst)),
                     quadrant=ipa["quadrant"].map(lambda q: say(f"drivers.quadrant.{_quadrant_key(q)}", language)))
    return people_table(tab, language=language, page=PAGE, columns={
        "term": "text", "importance": "percent:1", "importance_ci_low": "percent:1", "importance_ci_high": "percent:1",
        "performance": "number:2", "performance_ci_low": "number:2", "performance_ci_high": "number:2",
        "n": "count", "quadrant": "text"})


def _quadrant_key(quadrant: str) -> str:
    from .summary import QUADRANT_KEY

    return QUADRANT_KEY.get(quadrant, "no_data")


_CHECK_DIGITS = {"vif": 2, "condition_number": 1, "events_per_variable": 1}


def checks_tables(checks: pd.DataFrame, vif: pd.DataFrame, *, language: str = "en",
                  instrument: str | Instrument | None = None) -> Block:
    """The trust checks (value, limit, passed: yes/no) and each rating's variance inflation factor.

    Returns
    -------
    Block
        The checks of :func:`helpers.stats.diagnostics.trust_checks` (counts
        as whole numbers, ratios with decimals), the failed ones' reasons in
        the page's language, and :func:`helpers.stats.diagnostics.vif`.
    """
    inst = load_instrument(instrument)
    h = lambda c: say(f"drivers.header.{c}", language)  # noqa: E731
    rows = pd.DataFrame({
        h("check"): [say(f"drivers.check.{c}", language) for c in checks["check"]],
        h("value"): [fmt.number(v, language, _CHECK_DIGITS.get(c, 0)) for c, v in zip(checks["check"], checks["value"])],
        h("threshold"): [fmt.number(v, language, _CHECK_DIGITS.get(c, 0) if c == "events_per_variable" else 0)
                         for c, v in zip(checks["check"], checks["threshold"])],
        h("passed"): [fmt.yes_no(v, language) for v in checks["passed"]],
    })
    table = PeopleTable(rows, numeric=[h("value"), h("threshold")])
    failed = checks.loc[~checks["passed"].astype(bool), "message"].tolist()
    vif_tab = vif.assign(term=vif["term"].map(lambda t: term_label(t, language=language, instrument=inst)))
    return Block([table.to_html(), notes_html(failed, language, instrument=inst),
                  people_table(vif_tab, language=language, page=PAGE, columns={
                      "term": "text", "vif": "number:2", "tolerance": "number:2", "r2": "number:2", "n": "count",
                      "n_dropped": "count", "flag": "bool"}, headers={"r2": say("drivers.header.r2_others", language),
                                                                      "flag": say("drivers.header.vif_flag", language)}
                  ).to_html()])


def agreement_tables(agreement: pd.DataFrame, *, language: str = "en",
                     instrument: str | Instrument | None = None) -> Block:
    """The response-surface terms a1–a4 per outcome and dimension, corrected within each outcome, with warnings.

    Returns
    -------
    Block
        Per outcome: a caption with n, churned and the estimator; one row per
        dimension and term with its meaning, coefficient, 95% interval,
        p-value, Benjamini–Hochberg p-value and whether it is clear after the
        correction; then the fits' warnings in the page's language.
    """
    inst = load_instrument(instrument)
    parts = []
    for outcome, grp in agreement.groupby("outcome", sort=False):
        first = grp.iloc[0]
        facts = [say("drivers.model.fact_n", language, x=fmt.count(grp["n"].max(), language))]
        if pd.notna(first.get("n_events")):
            facts.append(say("drivers.model.fact_n_events", language, x=fmt.count(grp["n_events"].max(), language)))
        estimators = ", ".join(dict.fromkeys(estimator_text(e, language) for e in grp["estimator"].dropna()))
        caption = f"{term_label(outcome, language=language, instrument=inst)}: {estimators}; {'; '.join(facts)}"
        tab = grp.assign(dimension=grp["dimension"].map(lambda d: inst.label(d, language)),
                         meaning=grp["term"].map(lambda t: say(f"drivers.surface.{t}", language)))
        parts.append(people_table(tab, language=language, page=PAGE, caption=caption, columns={
            "dimension": "text", "term": "text", "meaning": "text", "coef": "number:2", "ci_low": "number:2",
            "ci_high": "number:2", "p_val": "p", "p_fdr": "p", "significant": "bool"}).to_html())
    notes = agreement.attrs.get("notes", [])
    for outcome in dict.fromkeys(o for o, _ in notes):
        parts.append(notes_html([m for o, m in notes if o == outcome], language, instrument=inst,
                                heading=term_label(outcome, language=language, instrument=inst)))
    return Block(parts)


def measurement_table(check: pd.DataFrame, *, language: str = "en",
                      instrument: str | Instrument | None = None) -> PeopleTable:
    """:func:`helpers.stats.measurement.measurement_check` for people: one row per dimension, the verdict in words."""
    inst = load_instrument(instrument)
    tab = check.assign(dimension=check["dimension"].map(lambda d: inst.label(d, language)),
                       flag=check["flag"].map(lambda f: say(f"drivers.measure_flag.{f.replace(' ', '_')}", language)))
    return people_table(tab, language=language, page=PAGE, verbatim=["weak_items"], columns={
        "dimension": "text", "n_client": "count", "n_staff": "count", "k": "count", "min_loading_client": "number:2",
        "min_loading_staff": "number:2", "min_item_total_client": "number:2", "min_item_total_staff": "number:2",
        "congruence": "number:3", "max_loading_diff": "number:2", "configural": "bool", "metric": "bool",
        "flag": "text", "weak_items": "text"})


def baseline_tables(baseline: pd.DataFrame, *, language: str = "en") -> Block:
    """The cross-validated comparison with NPS alone, or one plain sentence when it does not apply (NPS pages).

    Returns
    -------
    Block
        Retention: AUC and Brier score of the ratings model and of NPS alone
        with intervals (across folds and across repeats), n, churned, folds
        and repeats; the paired AUC difference (DeLong) as a caption; the
        warnings.  NPS: the sentence that the comparison belongs to the
        retention version of the page.
    """
    from .summary import baseline_sentence

    if baseline is None or baseline.attrs.get("not_applicable"):
        return Block([_p(say("drivers.baseline.not_applicable", language))])
    if baseline.empty:
        return Block([_p(say("drivers.baseline.none", language)),
                      notes_html(baseline.attrs.get("warnings", []), language)])
    diff = baseline.attrs.get("auc_difference") or {}
    caption = ""
    if diff:
        caption = say("drivers.baseline.difference", language, x=fmt.number(diff.get("difference"), language, 3),
                      interval=fmt.interval(diff.get("ci_low"), diff.get("ci_high"), language, 3),
                      p=fmt.p_value(diff.get("p_val"), language))
    tab = baseline.assign(model=baseline["model"].map(lambda m: say(f"drivers.baseline.model_{m}", language)),
                          metric=baseline["metric"].map(lambda m: say(f"drivers.baseline.metric_{m}", language)))
    columns = {c: k for c, k in {"model": "text", "metric": "text", "estimate": "number:3", "ci_low": "number:3",
                                 "ci_high": "number:3", "repeat_low": "number:3", "repeat_high": "number:3",
                                 "n": "count", "n_events": "count", "folds": "count", "repeats": "count"}.items()
               if c in tab}
    headers = {"metric": say("drivers.header.metric_name", language),
               "estimate": say("drivers.header.estimate_value", language)}
    return Block([_p(baseline_sentence(baseline, language)),
                  people_table(tab, language=language, page=PAGE, caption=caption or None, columns=columns,
                               headers=headers).to_html(),
                  notes_html(baseline.attrs.get("warnings", []), language)])


def provenance_table(*, store: str | None = None, parameters: Mapping[str, object] | None = None,
                     language: str = "en", instrument: str | Instrument | None = None) -> PeopleTable:
    """Where the page's numbers come from: data hash, questionnaire, versions and parameters, in the page's words.

    The facts of :func:`helpers.report.tables.methods_table`, with their
    names from the catalogue (``drivers.provenance.*``).
    """
    from helpers.report.tables import methods_table

    inst = load_instrument(instrument)
    facts = methods_table(store=store, parameters=parameters, instrument=inst)
    names, values = [], []
    for item, value in zip(facts["item"], facts["value"]):
        if item == "data hash":
            names.append(say("drivers.provenance.data_hash", language))
        elif item == "instrument":
            names.append(say("drivers.provenance.instrument", language))
            value = say("drivers.provenance.instrument_value", language, name=inst.name,
                        k=fmt.count(len(inst.dimension_ids), language), items=fmt.count(len(inst.item_ids), language),
                        low=inst.scale_min, high=inst.scale_max, min_items=inst.min_items)
        elif item.startswith("parameter "):
            names.append(say("drivers.provenance.parameter", language, name=item.removeprefix("parameter ")))
            if value == "(default)":
                value = say("drivers.provenance.default", language)
        else:
            names.append(item)
        values.append(value)
    frame = pd.DataFrame({"item": names, "value": values})
    return people_table(frame, language=language, page=PAGE, columns={"item": "text", "value": "text"},
                        verbatim=["item", "value"])  # names of packages and parameters, hashes: data, not prose
