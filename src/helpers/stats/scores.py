"""Scores: respondent dimension scores, dimension summaries, NPS, reliability, agreement.

All functions take tidy frames (as returned by :mod:`helpers.data.store`) and return
tidy frames, one row per estimate, with ``n`` beside every number.  Round only
for display.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import special  # the distribution functions only: scipy.stats takes ~0.3 s to import

from helpers.data.instrument import Instrument, load_instrument

DEFAULT_BY = ("account_id", "side", "wave", "dimension")


def z_value(ci: float = 0.95) -> float:
    """Two-sided standard normal critical value z_{(1+ci)/2}: 1.96 for a 95% interval.

    >>> round(z_value(0.95), 3)
    1.96
    """
    return float(special.ndtri(0.5 + ci / 2))


def t_value(ci: float, df: float | np.ndarray | pd.Series) -> float | np.ndarray | pd.Series:
    """Two-sided Student t critical value t_{(1+ci)/2, df}, vectorised over ``df`` (NaN for df ≤ 0 or NaN).

    The same value as ``scipy.stats.t.ppf(0.5 + ci / 2, df)``, computed with
    :func:`scipy.special.stdtrit` as scipy.stats does.

    >>> round(float(t_value(0.95, 3)), 3)
    3.182
    """
    return special.stdtrit(df, 0.5 + ci / 2)


def t_p_value(t: float | np.ndarray | pd.Series, df: float | np.ndarray | pd.Series) -> float | np.ndarray | pd.Series:
    """Two-sided p value 2·P(T_df > |t|) of a t statistic (as ``2 * scipy.stats.t.sf(abs(t), df)``).

    >>> round(float(t_p_value(2.0, 10)), 4)
    0.0734
    """
    return 2 * special.stdtr(df, -np.abs(t))


def normal_p_value(z: float | np.ndarray) -> float | np.ndarray:
    """Two-sided p value 2·Φ(−|z|) of a standard normal statistic (as ``2 * scipy.stats.norm.sf(abs(z))``).

    >>> round(float(normal_p_value(1.96)), 4)
    0.05
    """
    return 2 * special.ndtr(-np.abs(z))


def respondent_scores(
    answers: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    min_items: int | None = None,
    keep: Sequence[str] = ("account_id", "side", "wave", "role", "team"),
) -> pd.DataFrame:
    """Each respondent's score on each dimension: the mean of the items they answered.

    Parameters
    ----------
    answers : DataFrame
        Long item answers: response_id, item, value (+ the ``keep`` columns), as
        from :func:`helpers.data.store.load_answers`.  NaN = "don't know" / skipped.
    instrument : path or Instrument, optional
        Item → dimension mapping (default: the flamekit instrument).
    min_items : int, optional
        Minimum answered items for a score; fewer gives NaN.  Default: the
        instrument's ``min_items`` (2 of 3 for flamekit).
    keep : sequence of str
        Respondent-level columns carried through when present.

    Returns
    -------
    DataFrame
        response_id, *keep, dimension, score, n_items (answered items).

    Notes
    -----
    score = (1/k) Σ x_i over the k ≥ min_items answered items of the dimension.
    Person-mean imputation of this kind is the usual practice for short Likert
    scales (e.g. Schafer & Graham 2002 on available-item means).

    Examples
    --------
    >>> ans = pd.DataFrame({"response_id": ["r1"] * 3, "item": ["care_1", "care_2", "care_3"],
    ...                     "value": [4, 5, np.nan]})
    >>> respondent_scores(ans, keep=())[["dimension", "score", "n_items"]].to_dict("records")
    [{'dimension': 'care', 'score': 4.5, 'n_items': 2}]
    """
    inst = load_instrument(instrument)
    need = inst.min_items if min_items is None else int(min_items)
    dim_of = inst.item_dimension
    unknown = sorted(set(answers["item"]) - set(dim_of))
    if unknown:
        raise ValueError(f"Items {unknown} are not in the instrument '{inst.name}'.")
    keep = [c for c in keep if c in answers.columns]
    df = answers.assign(dimension=answers["item"].map(dim_of))
    g = df.groupby(["response_id", *keep, "dimension"], dropna=False, observed=True, sort=False)["value"]
    out = g.agg(score="mean", n_items="count").reset_index()
    out.loc[out["n_items"] < need, "score"] = np.nan
    return _sort_dimensions(out, ["response_id", "dimension"], inst).reset_index(drop=True)


def _sort_dimensions(data: pd.DataFrame, by: Sequence[str], inst: Instrument) -> pd.DataFrame:
    """Rows sorted by ``by`` (stable), the ``dimension`` column in instrument order."""
    order = {d: i for i, d in enumerate(inst.dimension_ids)}
    return data.sort_values(list(by), key=lambda s: s.map(order) if s.name == "dimension" else s, kind="mergesort")


def summarise(
    data: pd.DataFrame,
    *,
    value: str = "score",
    by: Sequence[str] = DEFAULT_BY,
    ci: float = 0.95,
    scale: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Mean with a t-based confidence interval per group, the interval kept inside the answer scale.

    Parameters
    ----------
    data : DataFrame
        Tidy scores, e.g. from :func:`respondent_scores`.
    value : str
        Column to summarise.
    by : sequence of str
        Grouping columns (default account × side × wave × dimension).
    ci : float
        Confidence level.
    scale : (low, high), optional
        The answer scale (e.g. ``(1, 5)``, :func:`scale_of` an instrument): the
        interval is cut at its ends.

    Returns
    -------
    DataFrame
        *by, n, mean, sd, se, ci_low, ci_high.  With n < 2 the sd and interval are NaN.

    Notes
    -----
    CI = mean ± t_{(1+ci)/2, n−1} · sd/√n (Student's t interval), intersected
    with the scale: a mean of 1–5 answers cannot lie outside 1–5, so the cut
    interval covers the true mean at least as often as the uncut one does,
    and never shows impossible values (3 answers could otherwise give 0.50–3.95).
    """
    by = list(by)
    g = data.dropna(subset=[value]).groupby(by, observed=True, dropna=False)[value]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["se"] = out["sd"] / np.sqrt(out["n"])
    out["ci_low"], out["ci_high"] = mean_interval(out["mean"], out["sd"], out["n"], ci=ci, scale=scale)
    return out


def scale_of(instrument: str | Instrument | None = None) -> tuple[float, float]:
    """The answer scale (lowest, highest) of an instrument's items, e.g. (1, 5)."""
    inst = load_instrument(instrument)
    return float(inst.scale_min), float(inst.scale_max)


def mean_interval(mean, sd, n, *, ci: float = 0.95, scale: tuple[float, float] | None = None):
    """Student's t interval of a mean from its summary: mean ± t_{(1+ci)/2, n−1} · sd/√n, cut to the scale.

    Parameters
    ----------
    mean, sd, n : float or array-like
        Sample mean, sample standard deviation (ddof 1) and size, elementwise.
    ci : float
        Confidence level.
    scale : (low, high), optional
        The answer scale; the interval is cut at its ends (see :func:`summarise`).

    Returns
    -------
    tuple of (low, high)
        Same shape as the inputs (a Series stays a Series); NaN where n < 2.

    Examples
    --------
    >>> low, high = mean_interval(4.0, 1.0, 4)
    >>> round(float(low), 3), round(float(high), 3)
    (2.409, 5.591)
    >>> [round(float(v), 3) for v in mean_interval(4.0, 1.0, 4, scale=(1, 5))]
    [2.409, 5.0]
    """
    n_arr = np.asarray(n, dtype=float)
    tcrit = t_value(ci, np.clip(n_arr - 1, 1, None))
    half = np.where(n_arr >= 2, tcrit * np.asarray(sd, dtype=float) / np.sqrt(np.clip(n_arr, 1, None)), np.nan)
    if isinstance(mean, pd.Series):
        half = pd.Series(half, index=mean.index)
    low, high = mean - half, mean + half
    if scale is not None:
        low, high = np.clip(low, *scale), np.clip(high, *scale)
    return low, high


def dimension_summary(answers: pd.DataFrame, *, instrument=None, min_items: int | None = None,
                      by: Sequence[str] = DEFAULT_BY, ci: float = 0.95) -> pd.DataFrame:
    """Per account × side × wave × dimension: n, mean, sd, se, 95% CI of respondent scores.

    A shortcut for ``summarise(respondent_scores(answers), by=by)``; see both.
    """
    return summarise(respondent_scores(answers, instrument=instrument, min_items=min_items), by=by, ci=ci)


def classify_nps(score: pd.Series) -> pd.Series:
    """'promoter' (9–10), 'passive' (7–8), 'detractor' (0–6); a missing answer stays missing.

    Answers must be whole numbers 0–10 (numbers, or text that reads as one,
    such as ``"9"``); anything else raises a ValueError naming the column,
    the values and the rows (see :func:`nps`).

    >>> classify_nps(pd.Series([10, 7, 3, None])).tolist()
    ['promoter', 'passive', 'detractor', <NA>]
    """
    s = _nps_answers(score)
    out = pd.Series(pd.NA, index=s.index, dtype="object")
    out[s >= 9] = "promoter"
    out[(s >= 7) & (s <= 8)] = "passive"
    out[s <= 6] = "detractor"
    return out


def _nps_answers(score: pd.Series) -> pd.Series:
    """The answers as numbers (NaN when missing), or a ValueError naming what is not a whole number 0–10.

    Numbers must be whole and within 0–10.  Text is accepted when it reads as
    such a number (``"9"``, ``" 10"``, ``"7.0"``), as exports sometimes store
    answers as text; blank text counts as a missing answer; any other text
    (``"9.5"``, ``"nine"``, ``"11"``) is an error.
    """
    name = score.name
    if pd.api.types.is_numeric_dtype(score.dtype) and not pd.api.types.is_bool_dtype(score.dtype):
        values = pd.Series(score.to_numpy(dtype=float, na_value=np.nan), index=score.index)
        given = values.notna()
    else:
        text = score.astype(object).where(score.notna())
        text = text.map(lambda v: v.strip() if isinstance(v, str) else v).replace("", np.nan)
        given = text.notna()
        values = pd.to_numeric(text.where(~text.map(lambda v: isinstance(v, bool))), errors="coerce").astype(float)
    bad = given & ~(values.between(0, 10) & (values == np.round(values)))
    if bad.any():
        shown = list(dict.fromkeys(_answer_text(v) for v in score[bad]))
        rows = list(score.index[bad])
        raise ValueError(f"Column '{name}' has answers that are not whole numbers on the 0–10 NPS scale: "
                         + ", ".join(shown[:6]) + (" …" if len(shown) > 6 else "")
                         + f" ({'row' if len(rows) == 1 else 'rows'} " + ", ".join(map(str, rows[:8]))
                         + (f" … ({len(rows)} rows)" if len(rows) > 8 else "") + ").")
    return values.where(given)


def _answer_text(v) -> str:
    """An answer for an error message: numbers as numbers (11, −1, 5.5), text quoted ('nine')."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, float, np.integer, np.floating)):
        return repr(v)
    return str(int(v)) if float(v).is_integer() else str(float(v))


def nps(
    data: pd.DataFrame,
    *,
    score: str = "nps",
    by: Sequence[str] | str | None = ("account_id", "side", "wave"),
    ci: float = 0.95,
) -> pd.DataFrame:
    """Net Promoter Score with adjusted-Wald and plain Wald confidence intervals.

    Parameters
    ----------
    data : DataFrame
        One row per respondent with a 0–10 ``score`` column.
    score : str
        Column with the 0–10 answer (missing answers are left out and not
        counted).  Answers must be whole numbers 0–10; text that reads as one
        (``"9"``) counts as that number and blank text as missing.  Anything
        else (11, −1, 5.5, ``"nine"``) raises a ValueError naming the column,
        the values and the rows, rather than being counted as a promoter or
        detractor.
    by : sequence of str, str or None
        Grouping columns; None for one overall row.
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        *by, n, promoters, passives, detractors, pct_promoters, pct_passives,
        pct_detractors, nps, nps_adjusted (the centre of the adjusted-Wald
        interval), ci_low, ci_high, wald_low, wald_high.  NPS and intervals are on
        the −100…100 scale.  With very few answers the raw NPS can lie outside
        its adjusted interval (one promoter: NPS 100, interval −48…98): such
        groups are below any sensible reporting threshold and reports flag them.

    Notes
    -----
    NPS = 100 · (p_promoters − p_detractors).

    Adjusted Wald (Rocks 2016, "Interval estimation for the Net Promoter Score",
    The American Statistician 70(4)): add 3/4 promoter and 3/4 detractor to the
    counts and 3 to n, i.e. p̃_P = (n_P + ¾)/(n + 3), p̃_D = (n_D + ¾)/(n + 3),
    ñ = n + 3; interval = 100 · [(p̃_P − p̃_D) ± z · √((p̃_P + p̃_D − (p̃_P − p̃_D)²)/ñ)],
    clipped to [−100, 100].  The plain Wald interval uses the raw proportions and
    n; it is too narrow in small samples and is shown only for comparison.

    Examples
    --------
    >>> d = pd.DataFrame({"nps": [10, 9, 8, 3]})
    >>> float(nps(d, by=None)["nps"].iloc[0])
    25.0
    """
    if isinstance(by, str):
        by = [by]
    by = list(by or [])
    answers = _nps_answers(data[score])
    d = data.loc[answers.notna(), by].assign(**{score: answers[answers.notna()].to_numpy()})
    cat = classify_nps(d[score])
    d["promoter"] = (cat == "promoter").astype(int)
    d["passive"] = (cat == "passive").astype(int)
    d["detractor"] = (cat == "detractor").astype(int)
    if by:
        g = d.groupby(by, observed=True, dropna=False)
        out = g.agg(n=(score, "size"), promoters=("promoter", "sum"), passives=("passive", "sum"),
                    detractors=("detractor", "sum")).reset_index()
    else:
        out = pd.DataFrame({"n": [len(d)], "promoters": [d["promoter"].sum()],
                            "passives": [d["passive"].sum()], "detractors": [d["detractor"].sum()]})
    n = out["n"].astype(float)
    pp, pd_ = out["promoters"] / n.where(n > 0), out["detractors"] / n.where(n > 0)
    out["pct_promoters"] = 100 * pp
    out["pct_passives"] = 100 * out["passives"] / n.where(n > 0)
    out["pct_detractors"] = 100 * pd_
    out["nps"] = 100 * (pp - pd_)
    z = z_value(ci)
    est, var = _adjusted_wald(out["promoters"], out["detractors"], n)
    half = z * np.sqrt(var)
    out["nps_adjusted"] = 100 * est
    out["ci_low"] = (100 * (est - half)).clip(-100, 100)
    out["ci_high"] = (100 * (est + half)).clip(-100, 100)
    wvar = (pp + pd_ - (pp - pd_) ** 2) / n.where(n > 0)
    out["wald_low"] = (100 * ((pp - pd_) - z * np.sqrt(wvar))).clip(-100, 100)
    out["wald_high"] = (100 * ((pp - pd_) + z * np.sqrt(wvar))).clip(-100, 100)
    return out


def _adjusted_wald(promoters, detractors, n) -> tuple[np.ndarray, np.ndarray]:
    """Adjusted-Wald NPS estimate and its variance on the −1…1 scale (Rocks 2016; see :func:`nps`)."""
    na = np.asarray(n, dtype=float) + 3
    pp = (np.asarray(promoters, dtype=float) + 0.75) / na
    pd_ = (np.asarray(detractors, dtype=float) + 0.75) / na
    est = pp - pd_
    return est, (pp + pd_ - est**2) / na


def nps_change(
    data: pd.DataFrame,
    *,
    score: str = "nps",
    wave: str = "wave",
    by: Sequence[str] = ("account_id", "side"),
    order: Sequence[str] | None = None,
    ci: float = 0.95,
) -> pd.DataFrame:
    """Change in NPS from each wave to the next, with a confidence interval.

    Parameters
    ----------
    data : DataFrame
        One row per respondent with ``score`` and ``wave`` columns.
    by : sequence of str
        Groups within which consecutive waves are compared.
    order : sequence of str, optional
        Wave labels oldest first (e.g. :func:`helpers.data.store.waves`).  Default:
        natural order of the labels (``W9`` before ``W10``); pass the store's
        order when labels are not sortable (``Syksy 2025``, ``Kevät 2026``).
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        *by, wave_from, wave_to, n_from, n_to, nps_from, nps_to, change (raw
        difference), change_adjusted, ci_low, ci_high.

    Notes
    -----
    The two waves are treated as independent samples (different respondents).
    With the adjusted-Wald quantities of :func:`nps` for each wave (Rocks 2016),
    CI = (NPS̃₂ − NPS̃₁) ± z·√(Var̃₁ + Var̃₂), in NPS points.  The interval is
    centred on the *adjusted* change, like each wave's own interval, so two
    respondents per wave can never make a "clear" change out of 0 → 100.
    """
    from helpers.data.store import natural_key

    by = list(by)
    per = nps(data, score=score, by=[*by, wave], ci=ci)
    z = z_value(ci)
    per["_adj"], per["_var"] = _adjusted_wald(per["promoters"], per["detractors"], per["n"])
    rank = {w: i for i, w in enumerate(order)} if order is not None else None
    if rank is not None:
        unknown = sorted(set(per[wave]) - set(rank))
        if unknown:
            raise ValueError(f"Waves {unknown} are not in the given order {list(order)}.")
        per["_rank"] = per[wave].map(rank)
    else:
        per["_rank"] = per[wave].map(natural_key)
    per = per.sort_values("_rank", kind="stable")
    rows = []
    groups = per.groupby(by, observed=True, dropna=False, sort=False) if by else [((), per)]
    for key, grp in groups:
        grp = grp.reset_index(drop=True)
        for i in range(1, len(grp)):
            a, b = grp.iloc[i - 1], grp.iloc[i]
            adjusted = 100 * (b["_adj"] - a["_adj"])
            half = 100 * z * np.sqrt(a["_var"] + b["_var"])
            key_t = key if isinstance(key, tuple) else (key,)
            rows.append({**dict(zip(by, key_t)), "wave_from": a[wave], "wave_to": b[wave], "n_from": a["n"],
                         "n_to": b["n"], "nps_from": a["nps"], "nps_to": b["nps"], "change": b["nps"] - a["nps"],
                         "change_adjusted": adjusted,
                         "ci_low": max(adjusted - half, -200.0), "ci_high": min(adjusted + half, 200.0)})
    cols = [*by, "wave_from", "wave_to", "n_from", "n_to", "nps_from", "nps_to", "change", "change_adjusted",
            "ci_low", "ci_high"]
    return pd.DataFrame(rows, columns=cols)


def cronbach_alpha(
    answers: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    by: Sequence[str] | None = None,
    items: Sequence[str] | None = None,
    missing: str = "listwise",
    ci: float = 0.95,
) -> pd.DataFrame:
    """Cronbach's alpha, raw and standardised, with a Feldt confidence interval, per dimension (and group).

    Parameters
    ----------
    answers : DataFrame
        Long item answers: response_id, item, value (+ ``by`` columns), with
        the items' dimensions from the instrument; or a plain items frame,
        one row per respondent and one column per item (all one scale), when
        it has no ``item`` column or ``items`` is given.
    instrument : path or Instrument, optional
        Item → dimension mapping for long answers (default: the flamekit
        instrument); not used for an items frame.
    by : sequence of str, optional
        Extra grouping, e.g. ``("side",)`` for clients and staff separately.
        Default ``("side",)`` for long answers and none for an items frame.
    items : sequence of str, optional
        The item columns of an items frame (default: every column not in ``by``).
    missing : {"listwise", "pairwise"}
        ``listwise`` (default) uses the respondents who answered every item
        of the scale; ``pairwise`` uses every answer, each covariance from
        the respondents who answered both items (as R's
        ``psych::alpha(use = "pairwise")``).
    ci : float
        Confidence level.

    Returns
    -------
    DataFrame
        *by, dimension (long answers only), n (respondents used), k (items),
        alpha, ci_low, ci_high, alpha_std (standardised alpha), n_complete
        (respondents who answered every item), n_dropped (respondents with
        an answer who were left out: listwise, those who skipped an item;
        pairwise, none), missing.  Respondents without any answer to the
        scale are not counted.

    Notes
    -----
    α = k/(k−1) · (1 − Σ s²_i / s²_total) = k/(k−1) · (1 − tr C / 1'C1), C the
    item covariance matrix (Cronbach 1951); pairwise, C is built from the
    pairwise-complete covariances.  Standardised α = k·r̄/(1 + (k−1)·r̄), r̄
    the mean inter-item correlation: alpha of the items rescaled to unit
    variance, which is what matters when items are on different scales
    (psych's ``std.alpha``).  Feldt (1965) interval: with df₁ = n−1,
    df₂ = (n−1)(k−1), lower = 1 − (1−α)·F.isf((1−ci)/2, df₁, df₂),
    upper = 1 − (1−α)·F.isf((1+ci)/2, df₁, df₂) (Feldt, Woodruff & Salih
    1987); pairwise, n is the smallest number of respondents behind any
    covariance, so the interval is not narrower than the data allow.

    Examples
    --------
    >>> scale = pd.DataFrame({"q1": [4, 5, 3, 4, 2], "q2": [4, 4, 3, 5, 2], "q3": [5, 4, 2, 4, None]})
    >>> cronbach_alpha(scale)[["n", "k", "n_dropped"]].to_dict("records")
    [{'n': 4, 'k': 3, 'n_dropped': 1}]
    >>> round(float(cronbach_alpha(scale, missing="pairwise")["alpha"].iloc[0]), 3)
    0.799
    """
    if missing not in ("listwise", "pairwise"):
        raise ValueError(f"missing must be 'listwise' or 'pairwise', not {missing!r}.")
    long = items is None and {"response_id", "item", "value"} <= set(answers.columns)
    by = list(("side",) if by is None and long else by or ())
    if long:
        df = answers.assign(dimension=answers["item"].map(load_instrument(instrument).item_dimension))
        keys, groups = [*by, "dimension"], df.groupby([*by, "dimension"], observed=True, dropna=False)
        wides = ((key, grp.pivot_table(index="response_id", columns="item", values="value", aggfunc="first"))
                 for key, grp in groups)
    else:
        cols = list(items) if items is not None else [c for c in answers.columns if c not in by]
        bad = [c for c in cols if not pd.api.types.is_numeric_dtype(answers[c].dtype)]
        if bad:
            raise ValueError(f"Item columns {bad} are not numeric; pass items=[…] to name the item columns.")
        keys = by
        wides = ((key, grp[cols]) for key, grp in answers.groupby(by, observed=True, dropna=False)) if by else \
            [((), answers[cols])]
    rows = []
    for key, wide in wides:
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key)), **_alpha_row(wide.to_numpy(dtype=float), missing, ci)})
    return pd.DataFrame(rows, columns=[*keys, "n", "k", "alpha", "ci_low", "ci_high", "alpha_std", "n_complete",
                                       "n_dropped", "missing"])


def _alpha_row(x: np.ndarray, missing: str, ci: float) -> dict:
    """n, k, alpha with its Feldt interval, standardised alpha and the respondent counts of one scale."""
    answered = ~np.isnan(x)
    x = x[answered.any(axis=1)]
    answered = answered[answered.any(axis=1)]
    complete = answered.all(axis=1)
    k, n_complete = x.shape[1], int(complete.sum())
    if missing == "listwise":
        n, n_dropped, n_ci = n_complete, len(x) - n_complete, n_complete
        cov, corr = _item_moments(x[complete]) if n_complete >= 2 else (None, None)
    else:
        pairs = answered.T.astype(float) @ answered.astype(float)
        n, n_dropped = len(x), 0
        n_ci = int(pairs[~np.eye(k, dtype=bool)].min()) if k >= 2 else 0
        frame = pd.DataFrame(x)
        cov, corr = (frame.cov().to_numpy(), frame.corr().to_numpy()) if n_ci >= 2 else (None, None)
    a = _alpha_from_cov(cov) if k >= 2 and cov is not None else np.nan
    lo, hi = feldt_ci(a, n_ci, k, ci=ci)
    return {"n": n, "k": k, "alpha": a, "ci_low": lo, "ci_high": hi,
            "alpha_std": _alpha_standardised(corr) if k >= 2 and corr is not None else np.nan,
            "n_complete": n_complete, "n_dropped": n_dropped, "missing": missing}


def _item_moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariance and correlation matrices of a respondents × items matrix without missing values."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.cov(x, rowvar=False), np.corrcoef(x, rowvar=False)


def _alpha(x: np.ndarray) -> float:
    """Cronbach's alpha of a respondents × items matrix without missing values; NaN without total variance."""
    k = x.shape[1]
    item_var = x.var(axis=0, ddof=1).sum()
    total_var = x.sum(axis=1).var(ddof=1)
    if total_var == 0:
        return np.nan
    return float(k / (k - 1) * (1 - item_var / total_var))


def _alpha_from_cov(cov: np.ndarray) -> float:
    """Cronbach's alpha k/(k−1)·(1 − tr C / 1'C1) from an item covariance matrix; NaN without total variance."""
    k, total = cov.shape[0], float(np.sum(cov))
    if not np.isfinite(total) or total == 0:
        return np.nan
    return float(k / (k - 1) * (1 - np.trace(cov) / total))


def _alpha_standardised(corr: np.ndarray) -> float:
    """Standardised alpha k·r̄/(1 + (k−1)·r̄) from the mean off-diagonal correlation r̄; NaN if one is undefined."""
    k = corr.shape[0]
    r_bar = float(np.mean(corr[~np.eye(k, dtype=bool)]))
    if not np.isfinite(r_bar) or 1 + (k - 1) * r_bar == 0:
        return np.nan
    return float(k * r_bar / (1 + (k - 1) * r_bar))


def feldt_ci(alpha: float, n: int, k: int, *, ci: float = 0.95) -> tuple[float, float]:
    """Feldt's confidence interval for Cronbach's alpha (see :func:`cronbach_alpha`)."""
    if not np.isfinite(alpha) or n < 3 or k < 2:
        return (np.nan, np.nan)
    df1, df2 = n - 1, (n - 1) * (k - 1)
    # F upper quantiles: scipy.stats.f.isf(q, df1, df2) is fdtri(df1, df2, 1 − q)
    lo = 1 - (1 - alpha) * special.fdtri(df1, df2, 1.0 - (1 - ci) / 2)
    hi = 1 - (1 - alpha) * special.fdtri(df1, df2, 1.0 - (1 + ci) / 2)
    return float(lo), float(hi)


def rwg(
    answers: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    by: Sequence[str] = ("account_id", "wave"),
) -> pd.DataFrame:
    """Within-team agreement r_wg(J) per group and dimension (usually staff on one account).

    Parameters
    ----------
    answers : DataFrame
        Long item answers of the group members (e.g. staff side only).
    by : sequence of str
        What makes a team (default account × wave).

    Returns
    -------
    DataFrame
        *by, dimension, n (raters), j (items), mean_item_var, rwg.

    Notes
    -----
    James, Demaree & Wolf (1984): with J items, mean observed item variance s̄²
    and the variance of a uniform "no agreement" null σ²_EU = (A² − 1)/12 for A
    scale points, r_wg(J) = J(1 − s̄²/σ²_EU) / (J(1 − s̄²/σ²_EU) + s̄²/σ²_EU).
    When s̄² > σ²_EU the value is set to 0 (LeBreton & Senter 2008).  ≥ 0.70 is
    the usual threshold for "agreement".
    """
    inst = load_instrument(instrument)
    sigma_eu = ((inst.scale_max - inst.scale_min + 1) ** 2 - 1) / 12
    by = list(by)
    df = answers.assign(dimension=answers["item"].map(inst.item_dimension))
    item_var = (df.dropna(subset=["value"]).groupby([*by, "dimension", "item"], observed=True)["value"]
                .agg(var="var", n="count").reset_index())
    g = item_var.groupby([*by, "dimension"], observed=True)
    out = g.agg(n=("n", "max"), j=("item", "nunique"), mean_item_var=("var", "mean")).reset_index()
    ratio = out["mean_item_var"] / sigma_eu
    j = out["j"]
    val = j * (1 - ratio) / (j * (1 - ratio) + ratio)
    out["rwg"] = np.where(ratio >= 1, 0.0, val)
    out.loc[out["n"] < 2, "rwg"] = np.nan
    return out


def touchpoint_nps(
    touchpoints: pd.DataFrame,
    *,
    score: str = "score",
    when: str = "answered_at",
    by: Sequence[str] = ("account_id",),
    freq: str = "M",
    ci: float = 0.95,
) -> pd.DataFrame:
    """Transactional NPS per account and month (or another period).

    Parameters
    ----------
    touchpoints : DataFrame
        One row per answered touchpoint survey (see :func:`helpers.data.store.load_touchpoints`).
    freq : str
        Period: ``"M"`` month, ``"Q"`` quarter, ``"W"`` week.

    Returns
    -------
    DataFrame
        *by, period (e.g. ``2026-03``), n, promoters, passives, detractors,
        pct_…, nps, ci_low, ci_high, wald_low, wald_high — as :func:`nps`.
    """
    df = touchpoints[[*by, score, when]].copy()
    df["period"] = pd.to_datetime(df[when]).dt.to_period(freq).astype(str)
    return nps(df, score=score, by=[*by, "period"], ci=ci)
