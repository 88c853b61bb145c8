"""Shared pieces of the model families: complete cases, Wald rows, one table layout.

Every model of :mod:`helpers.stats.nps_models` and :mod:`helpers.stats.retention`
takes a tidy frame, keeps complete cases (counting what it drops) and returns
one row per term with ``coef, se, ci_low, ci_high, p_val, n, n_dropped, …,
warnings``.  :func:`term_label` turns a predictor name into words.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument

from .diagnostics import collect_warnings, _constant_message, _with_warnings, trust_checks
from .scores import normal_p_value, t_p_value, t_value, z_value

__all__ = [
    "MODEL_COLUMNS",
    "term_label",
]


MODEL_COLUMNS = ["model", "term", "coef", "se", "ci_low", "ci_high", "p_val", "n", "n_dropped", "n_groups",
                 "n_events", "estimator", "warnings"]


# ---------------------------------------------------------------------------
# Small shared pieces
# ---------------------------------------------------------------------------
def _dims(instrument: str | Instrument | None) -> list[str]:
    """The instrument's dimension ids."""
    return load_instrument(instrument).dimension_ids


def _table(model: str, terms: Sequence[str], rows: Sequence[dict], messages: Sequence[str], **common
           ) -> pd.DataFrame:
    """A model result: one row per term of ``terms``, in that order, that warns.

    A term's estimates come from its row in ``rows`` (see :func:`_wald_rows`);
    a term without one (a predictor left out as constant, or every term when
    nothing could be fitted) keeps its place with NaN estimates.  ``common``
    (n, n_dropped, n_groups, n_events, estimator) goes on every row, and the
    warnings are stated and emitted at the model function's caller.
    """
    return _with_warnings(_term_frame(terms, rows, model=model, **common), MODEL_COLUMNS, messages, stacklevel=4)


def _term_frame(terms: Sequence[str], rows: Sequence[dict], **common) -> pd.DataFrame:
    """One row per term of ``terms``, in that order: ``common``, and its estimates from ``rows`` if it has one."""
    fitted = {r["term"]: r for r in rows}
    return pd.DataFrame([{"term": t, **common, **fitted.get(t, {})} for t in terms])


def _prepare(data: pd.DataFrame, outcome: str, predictors: Sequence[str], keep: Sequence[str] = (),
             required: Sequence[str] = ()) -> tuple[pd.DataFrame, int, list[str], list[str]]:
    """Complete cases, the number dropped, predictors that vary, and warnings.

    ``required`` columns (a cluster, group or event column) must be in the
    data and complete, like the outcome and predictors, and rows without them
    are counted as dropped; ``keep`` columns are carried along when present.
    """
    needed = [outcome, *predictors, *required]
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        raise KeyError(f"Columns {missing} are not in the data (it has {list(data.columns)}).")
    cols = list(dict.fromkeys([*needed, *[k for k in keep if k in data.columns]]))
    sub = data[cols].copy()
    for c in [outcome, *predictors]:
        sub[c] = pd.to_numeric(sub[c], errors="coerce")
    complete = sub.dropna(subset=needed)
    n_dropped = len(sub) - len(complete)
    messages = []
    if n_dropped:
        what = ", ".join([outcome, *[c for c in required if sub[c].isna().any()]])
        messages.append(f"{n_dropped} of {len(sub)} rows were left out because {what} or a predictor was missing.")
    varying = [p for p in predictors if complete[p].nunique() > 1]
    const = [p for p in predictors if p not in varying]
    if const and len(complete):
        messages.append(_constant_message(const))
    return complete, n_dropped, varying, messages


def _check_messages(data, outcome, predictors, kind, cluster=None, event=None, *,
                    only: Sequence[str] | None = None) -> list[str]:
    """Messages of the failed :func:`trust_checks`: those named in ``only``, else all but ``constant`` (said before)."""
    checks = trust_checks(data, outcome=outcome, predictors=predictors, kind=kind, cluster=cluster, event=event)
    failed = checks["check"].isin(only) if only is not None else checks["check"] != "constant"
    return checks.loc[~checks["passed"] & failed, "message"].tolist()


def _unsaid(messages: Sequence[str], said: Sequence[str]) -> list[str]:
    """Trust-check messages whose point (separation, events per predictor) the fit's own ``said`` does not make."""
    said = " ".join(said)
    return [m for m in messages if not any(k in m and k in said for k in ("separation", "per predictor"))]


def _quiet_fit(fit):
    """Run ``fit()`` with its warnings held back: the result, and whether one said it did not converge."""
    res, caught = collect_warnings(fit, category=Warning)
    return res, any("converge" in m.lower() for m in caught)


def _wald_rows(terms, coef, se, ci, *, df=None) -> list[dict]:
    """term, coef, se, ci_low, ci_high, p_val per term: t on ``df`` degrees of freedom, else normal."""
    crit = t_value(ci, df) if df else z_value(ci)
    rows = []
    for t, b, s in zip(terms, coef, se):
        stat = b / s if s > 0 else np.nan
        p = t_p_value(stat, df) if df else normal_p_value(stat)
        rows.append({"term": t, "coef": float(b), "se": float(s), "ci_low": float(b - crit * s),
                     "ci_high": float(b + crit * s), "p_val": float(p)})
    return rows


# ---------------------------------------------------------------------------
# NPS models
# ---------------------------------------------------------------------------
def _as_list(columns: str | Sequence[str]) -> list[str]:
    """One column name or several, as a list."""
    return [columns] if isinstance(columns, str) else list(columns)


def _default_predictors(data: pd.DataFrame, predictors, instrument) -> list[str]:
    """The predictors given, else every instrument dimension that is a column of ``data``."""
    if predictors is not None:
        return _as_list(predictors)
    return [d for d in _dims(instrument) if d in data.columns]


def _complete_respondents(data: pd.DataFrame, outcome: str, predictors, cluster: str | None, instrument,
                          required: Sequence[str] = ()) -> tuple[pd.DataFrame, list[str], list[str], int, list[str]]:
    """Complete rows, the predictors, those that vary, the rows dropped and warnings.

    As :func:`_prepare`, with the instrument's dimensions as default
    predictors and the cluster column (if any) and ``required`` columns (a
    weight column, say) required.
    """
    predictors = _default_predictors(data, predictors, instrument)
    needed = [*([cluster] if cluster else []), *[c for c in required if c]]
    sub, n_dropped, varying, messages = _prepare(data, outcome, predictors, required=needed)
    return sub, predictors, varying, n_dropped, messages


def _clusters(data: pd.DataFrame, cluster: str | None) -> tuple[np.ndarray | None, float]:
    """Cluster codes of the rows and the number of clusters; None and NaN without a cluster column."""
    g = pd.factorize(data[cluster])[0] if cluster else None
    return g, (int(g.max() + 1) if g is not None else np.nan)


def _retention_predictors(predictors, instrument) -> list[str]:
    """The predictors given, else ``client_<d>`` and ``gap_<d>`` for every dimension."""
    if predictors is not None:
        return _as_list(predictors)
    dims = _dims(instrument)
    return [f"client_{d}" for d in dims] + [f"gap_{d}" for d in dims]


def _known(table: pd.DataFrame, outcome: str) -> tuple[pd.DataFrame, list[str]]:
    """Accounts with a known outcome and a value of ``outcome``, and a warning counting the active ones left out."""
    messages = []
    if "outcome_known" in table:
        known = table[table["outcome_known"].astype(bool)]
        if len(known) < len(table):
            messages.append(f"{len(table) - len(known)} account(s) without a known outcome (still active) were "
                            "left out of the fit.")
    else:
        known = table
    return known.dropna(subset=[outcome]), messages


# ---------------------------------------------------------------------------
# Accounts at risk
# ---------------------------------------------------------------------------
def _term_text(language: str) -> dict[str, str]:
    """The words around terms (``terms.*`` in the catalogue, :mod:`helpers.words`): "team", "churn", "NPS" …"""
    from helpers.words import LANGUAGES, section

    return section("terms", language if language in LANGUAGES else "en")


def term_label(term: str, *, language: str = "en", instrument: str | Instrument | None = None) -> str:
    """Display name of a model term or outcome, from the instrument: ``gap_care`` → "Care (gap, client − team)".

    Parameters
    ----------
    term : str
        A dimension id, ``client_<d>``, ``staff_<d>``, ``gap_<d>`` (the
        columns of :func:`account_table`), an outcome (``nps``,
        ``client_nps``, ``client_nps_mean``, ``churned``) or any other term
        (returned with spaces for underscores).
    language : str
        "en" or "fi": dimension labels from the instrument, the few words
        around them from the catalogue (``terms.*`` in
        ``src/helpers/words/<language>/terms.yml``).
    instrument : path or Instrument, optional
        Dimension labels (default: the flamekit instrument).

    Returns
    -------
    str

    Notes
    -----
    The one place terms get their names, used by the at-risk drivers text
    (:func:`predict_risk`), :mod:`helpers.stats.drivers` and the report pages.

    Examples
    --------
    >>> term_label("staff_care", language="fi")
    'Välittäminen (tiimi)'
    >>> term_label("gap_impact")
    'Impact (gap, client − team)'
    """
    if not isinstance(term, str):
        return term
    inst = load_instrument(instrument)
    text = _term_text(language)
    if term in inst.dimension_ids:
        return inst.label(term, language)
    for prefix in ("client", "staff", "gap"):
        rest = term[len(prefix) + 1:]
        if term.startswith(prefix + "_") and rest in inst.dimension_ids:
            return f"{inst.label(rest, language)} ({text[prefix]})"
    if term in text and term not in ("client", "staff", "gap"):
        return text[term]
    return term.replace("_", " ")
