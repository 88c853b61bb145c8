"""Measurement check: do clients and staff read the items alike?

A client mean and a staff mean can only be compared if both groups understand
the items of a dimension the same way (measurement invariance; Vandenberg &
Lance 2000).  With three items per dimension a full multi-group factor model
is barely identified, so this module uses the classical, robust checks:

* **configural** — on each side every item hangs together with its
  dimension: corrected item–total correlation ≥ 0.30 and one-factor loading
  ≥ 0.40;
* **metric** — the loading patterns of the two sides agree: Tucker's
  congruence coefficient φ ≥ 0.95 ("equal"), 0.85–0.94 ("fair similarity";
  Lorenzo-Seva & ten Berge 2006) and no loading differs by more than 0.20.

:func:`item_statistics` gives the item-level numbers, :func:`measurement_check`
the per-dimension verdict with a ``flag`` and a plain-language ``message`` a
report can print, and :func:`tucker_congruence` / :func:`principal_axis` the
building blocks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import LANGUAGES, Instrument, load_instrument

__all__ = [
    "OK",
    "CAUTION",
    "NOT_COMPARABLE",
    "TOO_FEW",
    "tucker_congruence",
    "principal_axis",
    "corrected_item_total",
    "item_statistics",
    "measurement_check",
]

OK = "ok"
CAUTION = "caution"
NOT_COMPARABLE = "not comparable"
TOO_FEW = "too few answers"


def tucker_congruence(a: Sequence[float], b: Sequence[float]) -> float:
    """Tucker's congruence coefficient between two loading vectors.

    Parameters
    ----------
    a, b : sequence of float
        Loadings of the same items in two groups.

    Returns
    -------
    float
        φ = Σ a_i b_i / √(Σ a_i² · Σ b_i²), in [−1, 1]; NaN if either is all zero.

    Notes
    -----
    Tucker (1951); Lorenzo-Seva & ten Berge (2006, Methodology 2:57): φ ≥ 0.95
    means the factors can be considered equal, 0.85–0.94 fair similarity.
    φ ignores a common rescaling of all loadings and is high for any two
    all-positive vectors, so :func:`measurement_check` also bounds the largest
    loading difference.

    Examples
    --------
    >>> round(tucker_congruence([0.8, 0.7, 0.6], [0.6, 0.7, 0.8]), 4)
    0.9732
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    den = np.sqrt((a**2).sum() * (b**2).sum())
    return float((a * b).sum() / den) if den > 0 else float("nan")


def principal_axis(corr: np.ndarray, *, max_iter: int = 200, tol: float = 1e-8) -> dict:
    """One-factor principal-axis factoring of a correlation matrix.

    Parameters
    ----------
    corr : array (k, k)
        Item correlation matrix.
    max_iter, tol
        Iteration limit and convergence tolerance on the communalities.

    Returns
    -------
    dict
        loadings (signed so their sum is positive), communalities,
        heywood (True if a communality reached 1 and was capped at 0.995),
        converged, iterations.

    Notes
    -----
    Start from squared multiple correlations h² = 1 − 1/diag(R⁻¹), replace the
    diagonal of R by h², take the first eigenpair (λ, v): loadings = v·√λ,
    h² = loadings²; repeat until h² settles (Harman 1976, *Modern Factor
    Analysis*, ch. 8).  With three items the one-factor solution is exactly
    identified: λ₁² = r₁₂r₁₃/r₂₃, and so on.

    Examples
    --------
    >>> r = np.array([[1, .42, .35], [.42, 1, .30], [.35, .30, 1]])
    >>> np.round(principal_axis(r)["loadings"], 3).tolist()
    [0.7, 0.6, 0.5]
    """
    r = np.asarray(corr, dtype=float)
    k = r.shape[0]
    try:
        h2 = 1 - 1 / np.diag(np.linalg.inv(r))
    except np.linalg.LinAlgError:
        h2 = np.full(k, 0.5)
    h2 = np.clip(h2, 0.005, 0.995)
    heywood, converged, it = False, False, 0
    load = np.zeros(k)
    for it in range(1, max_iter + 1):
        rr = r.copy()
        np.fill_diagonal(rr, h2)
        vals, vecs = np.linalg.eigh(rr)
        load = vecs[:, -1] * np.sqrt(max(vals[-1], 0))
        new = load**2
        if (new > 0.995).any():
            heywood = True
            new = np.clip(new, 0, 0.995)
        if np.abs(new - h2).max() < tol:
            h2 = new
            converged = True
            break
        h2 = new
    if load.sum() < 0:
        load = -load
    return {"loadings": load, "communalities": load**2, "heywood": heywood, "converged": converged,
            "iterations": it}


def corrected_item_total(items: np.ndarray) -> np.ndarray:
    """Corrected item–total correlations: each item against the sum of the *other* items.

    Parameters
    ----------
    items : array (n, k)
        Complete answers, one column per item.

    Returns
    -------
    ndarray (k,)
        r(x_i, Σ_{j≠i} x_j); NaN for an item or rest-score without variance.

    Notes
    -----
    Leaving the item out of the total avoids the part–whole inflation of the
    uncorrected correlation (Nunnally & Bernstein 1994, ch. 8).  Below 0.30 an
    item hardly measures what the others measure.

    Examples
    --------
    >>> x = np.array([[1, 2, 2], [2, 2, 3], [3, 4, 3], [4, 4, 5], [5, 5, 4.]])
    >>> np.round(corrected_item_total(x), 3).tolist()
    [0.971, 0.872, 0.776]
    """
    x = np.asarray(items, dtype=float)
    total = x.sum(axis=1)
    out = np.full(x.shape[1], np.nan)
    for i in range(x.shape[1]):
        rest = total - x[:, i]
        if x[:, i].std() > 0 and rest.std() > 0:
            out[i] = np.corrcoef(x[:, i], rest)[0, 1]
    return out


def _check_answers(answers: pd.DataFrame) -> None:
    """Raise a readable KeyError when the long answers lack a column the checks need."""
    missing = [c for c in ("response_id", "side", "item", "value") if c not in answers.columns]
    if missing:
        raise KeyError(f"Columns {missing} are not in the answers (they have {list(answers.columns)}); pass long "
                       "item answers of both sides, e.g. helpers.data.store.load_answers().")


def _nanmin(values: np.ndarray) -> float:
    """Smallest finite value, NaN when there is none."""
    return float(np.nanmin(values)) if np.isfinite(values).any() else np.nan


def _wide(answers: pd.DataFrame, items: list[str]) -> pd.DataFrame:
    """One row per response that answered every one of ``items``, one column per item."""
    return (answers[answers["item"].isin(items)]
            .pivot_table(index="response_id", columns="item", values="value", aggfunc="first")
            .reindex(columns=items).dropna())


def item_statistics(
    answers: pd.DataFrame,
    *,
    sides: Sequence[str] = ("client", "staff"),
    instrument: str | Instrument | None = None,
) -> pd.DataFrame:
    """Item-level reliability numbers per dimension and side.

    Parameters
    ----------
    answers : DataFrame
        Long item answers with response_id, side, item, value
        (:func:`helpers.data.store.load_answers`).
    sides : sequence of str
        Sides to analyse.
    instrument : path or Instrument, optional
        Items and dimensions.

    Returns
    -------
    DataFrame
        dimension, side, item, n (complete responses on the dimension), mean,
        sd, item_total_r (corrected), loading (one-factor principal axis),
        heywood.

    Notes
    -----
    Listwise: a response counts for a dimension when it answered all of the
    dimension's items.  See :func:`corrected_item_total` and
    :func:`principal_axis`.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide
    >>> st = item_statistics(answers_from_wide(simulate(seed=1, n_accounts=10).responses))
    >>> sorted(st["side"].unique())
    ['client', 'staff']
    """
    _check_answers(answers)
    inst = load_instrument(instrument)
    by_side = {side: answers[answers["side"] == side] for side in sides}
    rows = []
    for dim in inst.dimensions:
        items = [i.id for i in dim.items]
        for side in sides:
            wide = _wide(by_side[side], items)
            n = len(wide)
            x = wide.to_numpy(dtype=float)
            if n >= 3 and len(items) >= 2:
                itr = corrected_item_total(x)
                corr = np.corrcoef(x, rowvar=False)
                if np.isfinite(corr).all() and len(items) >= 3:
                    pa = principal_axis(corr)
                    load, hey = pa["loadings"], pa["heywood"]
                else:
                    load, hey = np.full(len(items), np.nan), False
            else:
                itr, load, hey = np.full(len(items), np.nan), np.full(len(items), np.nan), False
            for j, it in enumerate(items):
                rows.append({"dimension": dim.id, "side": side, "item": it, "n": n,
                             "mean": float(x[:, j].mean()) if n else np.nan,
                             "sd": float(x[:, j].std(ddof=1)) if n > 1 else np.nan,
                             "item_total_r": itr[j], "loading": load[j], "heywood": hey})
    return pd.DataFrame(rows, columns=["dimension", "side", "item", "n", "mean", "sd", "item_total_r", "loading",
                                       "heywood"])


def measurement_check(
    answers: pd.DataFrame,
    *,
    sides: tuple[str, str] = ("client", "staff"),
    min_loading: float = 0.40,
    min_item_total: float = 0.30,
    phi_equal: float = 0.95,
    phi_fair: float = 0.85,
    max_loading_diff: float = 0.20,
    min_n: int = 30,
    instrument: str | Instrument | None = None,
    language: str = "en",
) -> pd.DataFrame:
    """Can client and staff means of each dimension be compared? One verdict per dimension.

    Parameters
    ----------
    answers : DataFrame
        Long item answers of both sides (:func:`helpers.data.store.load_answers`).
    sides : (str, str)
        The two sides to compare.
    min_loading, min_item_total : float
        Configural thresholds: every item's loading and corrected item–total
        correlation on both sides (defaults 0.40 and 0.30).
    phi_equal, phi_fair : float
        Tucker's congruence thresholds (0.95 and 0.85).
    max_loading_diff : float
        Largest allowed difference between an item's loadings on the two
        sides (0.20).
    min_n : int
        Fewest complete responses per side for a verdict (30).
    instrument : path or Instrument, optional
        Items and labels.
    language : {"en", "fi"}
        Language of the dimension names in ``message``.

    Returns
    -------
    DataFrame
        dimension, n_client, n_staff, k (items), min_loading_client,
        min_loading_staff, min_item_total_client, min_item_total_staff,
        congruence (Tucker's φ), max_loading_diff, configural (bool), metric
        (bool), flag ("ok", "caution", "not comparable", "too few answers"),
        weak_items (comma-separated), message.

    Raises
    ------
    KeyError
        When ``answers`` lacks response_id, side, item or value.
    ValueError
        When ``sides`` does not name two sides or ``language`` is unknown.

    Notes
    -----
    flag = "not comparable" when the configural check fails on either side
    or φ < 0.85; "caution" when 0.85 ≤ φ < 0.95 or a loading differs by more
    than 0.20; "ok" otherwise (Lorenzo-Seva & ten Berge 2006 for φ; loading
    and item–total cut-offs are the usual rules of thumb, e.g. Hair et al.
    2019, *Multivariate Data Analysis*, ch. 3).  These checks cannot prove
    scalar invariance (equal intercepts), which a mean comparison strictly
    needs; they catch the common failures: an item one side reads
    differently, or a dimension that does not hang together for one side.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> from helpers.stats.model_data import answers_from_wide
    >>> mc = measurement_check(answers_from_wide(simulate(seed=1, n_accounts=20).responses))
    >>> mc.set_index("dimension").loc["care", "flag"]
    'ok'
    """
    if len(sides) != 2:
        raise ValueError(f"sides must name the two sides to compare, e.g. ('client', 'staff'), not {sides!r}.")
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}.")
    inst = load_instrument(instrument)
    stats_ = item_statistics(answers, sides=sides, instrument=inst)
    rows = [_dimension_check(stats_[stats_["dimension"] == dim.id], dim.id, [i.id for i in dim.items], sides=sides,
                             label=inst.label(dim.id, language), min_loading=min_loading,
                             min_item_total=min_item_total, phi_equal=phi_equal, phi_fair=phi_fair,
                             max_loading_diff=max_loading_diff, min_n=min_n)
            for dim in inst.dimensions]
    a, b = sides
    cols = ["dimension", f"n_{a}", f"n_{b}", "k", f"min_loading_{a}", f"min_loading_{b}", f"min_item_total_{a}",
            f"min_item_total_{b}", "congruence", "max_loading_diff", "configural", "metric", "flag", "weak_items",
            "message"]
    return pd.DataFrame(rows, columns=cols)


def _dimension_check(s: pd.DataFrame, dimension: str, items: list[str], *, sides: tuple[str, str], label: str,
                     min_loading: float, min_item_total: float, phi_equal: float, phi_fair: float,
                     max_loading_diff: float, min_n: int) -> dict:
    """The row of :func:`measurement_check` for one dimension, from its rows of :func:`item_statistics`."""
    a, b = sides
    sa, sb = s[s["side"] == a].set_index("item"), s[s["side"] == b].set_index("item")
    na = int(sa["n"].iloc[0]) if len(sa) else 0
    nb = int(sb["n"].iloc[0]) if len(sb) else 0
    la, lb = sa["loading"].reindex(items).to_numpy(), sb["loading"].reindex(items).to_numpy()
    ta, tb = sa["item_total_r"].reindex(items).to_numpy(), sb["item_total_r"].reindex(items).to_numpy()
    row = {"dimension": dimension, f"n_{a}": na, f"n_{b}": nb, "k": len(items),
           f"min_loading_{a}": _nanmin(la), f"min_loading_{b}": _nanmin(lb),
           f"min_item_total_{a}": _nanmin(ta), f"min_item_total_{b}": _nanmin(tb)}
    if min(na, nb) < min_n or not (np.isfinite(la).all() and np.isfinite(lb).all()):
        return {**row, "congruence": np.nan, "max_loading_diff": np.nan, "configural": False, "metric": False,
                "flag": TOO_FEW, "weak_items": "",
                "message": (f"{label}: too few complete answers to check how the items are read "
                            f"({na} {a}, {nb} {b}; {min_n} per side needed). Compare the means with care.")}
    weak = [f"{it} ({side})" for side, lo, tt in ((a, la, ta), (b, lb, tb))
            for it, l_, t_ in zip(items, lo, tt) if l_ < min_loading or t_ < min_item_total]
    configural = not weak
    phi = tucker_congruence(la, lb)
    diff = float(np.max(np.abs(la - lb)))
    worst = items[int(np.argmax(np.abs(la - lb)))]
    metric = configural and phi >= phi_equal and diff <= max_loading_diff
    if not configural or phi < phi_fair:
        flag = NOT_COMPARABLE
        if weak:
            msg = (f"{label}: {', '.join(weak)} hardly hang together with the other {label} items "
                   f"(loading below {min_loading:.2f} or item–total correlation below {min_item_total:.2f}). "
                   f"The {label} means of {a}s and {b} may not measure the same thing: compare item by item "
                   "instead of the dimension means.")
        else:
            msg = (f"{label}: {a}s and {b} weight the items very differently (congruence {phi:.2f} < "
                   f"{phi_fair:.2f}). The dimension means are not comparable; compare item by item.")
    elif not metric:
        flag = CAUTION
        msg = (f"{label}: the items are read broadly alike but not identically (congruence {phi:.2f}; "
               f"the loadings of {worst} differ by {diff:.2f}). Compare the means with care and look at "
               f"{worst} separately.")
    else:
        flag = OK
        msg = (f"{label}: {a}s and {b} read the items alike (loadings {np.min(la):.2f}–{np.max(la):.2f} vs "
               f"{np.min(lb):.2f}–{np.max(lb):.2f}; congruence {phi:.2f}), so their means can be compared.")
    return {**row, "congruence": phi, "max_loading_diff": diff, "configural": configural, "metric": metric,
            "flag": flag, "weak_items": ", ".join(weak), "message": msg}
