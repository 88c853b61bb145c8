"""The overall score of each side: a respondent's mean over the five dimensions, with its interval and n.

Takes the :class:`helpers.report.account.load.AccountData` and hands on one
row per side (client, team) for the report's wave, blank where the report may
not publish it.  The summary band shows it; the index reads it from the
headline JSON.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.data.disclosure import publishable
from helpers.stats.scores import scale_of, summarise

from .load import CI, AccountData

#: Why an overall score is held back although its own group is large enough: one of the side's dimensions is
#: hidden, and the overall with the shown dimensions would give the hidden one away.
DIMENSION_HIDDEN = "a dimension of this side is hidden"

OVERALL_COLUMNS = ["account_id", "wave", "side", "n", "mean", "sd", "se", "ci_low", "ci_high", "suppressed",
                   "reason"]


def respondent_overall(scores: pd.DataFrame, *, dimensions: list[str], min_dimensions: int | None = None
                       ) -> pd.DataFrame:
    """Each respondent's overall score: the mean of their dimension scores.

    Parameters
    ----------
    scores : DataFrame
        Respondent dimension scores (:func:`helpers.stats.scores.respondent_scores`): response_id, side, wave,
        dimension, score.
    dimensions : list of str
        The instrument's dimensions.
    min_dimensions : int, optional
        Dimension scores a respondent needs for an overall score; default all of them, so that the overall
        mean is the mean of the dimension means for the same people.

    Returns
    -------
    DataFrame
        response_id, side, wave, n_dimensions, overall — one row per respondent with enough dimension scores.

    Examples
    --------
    >>> sc = pd.DataFrame({"response_id": ["r1", "r1", "r2"], "side": "client", "wave": "W1",
    ...                    "dimension": ["care", "dare", "care"], "score": [4.0, 3.0, 5.0]})
    >>> respondent_overall(sc, dimensions=["care", "dare"])[["response_id", "overall"]].to_dict("records")
    [{'response_id': 'r1', 'overall': 3.5}]
    """
    need = len(dimensions) if min_dimensions is None else int(min_dimensions)
    if need < 1 or need > len(dimensions):
        raise ValueError(f"min_dimensions must be between 1 and {len(dimensions)}, not {min_dimensions!r}.")
    cols = ["response_id", "side", "wave", "n_dimensions", "overall"]
    sc = scores[scores["dimension"].isin(dimensions)].dropna(subset=["score"])
    if sc.empty:
        return pd.DataFrame(columns=cols)
    out = (sc.groupby(["response_id", "side", "wave"], sort=False)["score"]
           .agg(n_dimensions="count", overall="mean").reset_index())
    return out[out["n_dimensions"] >= need][cols].reset_index(drop=True)


def overall_scores(account: AccountData, *, min_dimensions: int | None = None) -> pd.DataFrame:
    """The client's and the team's overall score in the report's wave, with its 95% interval and n.

    Parameters
    ----------
    account : AccountData
    min_dimensions : int, optional
        See :func:`respondent_overall` (default: a score on every dimension).

    Returns
    -------
    DataFrame
        account_id, wave, side, n, mean, sd, se, ci_low, ci_high, suppressed, reason — one row per side
        (client first; n = 0 when nobody of that side has an overall score).  A side's row is blank (with
        its reason) when the report may not publish it: fewer answers than the side's threshold or the
        reliable minimum, a step from an earlier wave's overall that would give away the people who joined
        or left (:func:`helpers.data.disclosure.publishable`), or any of the side's dimensions hidden in the
        wave — with the shown dimension means, an overall would give the hidden one away.

    Notes
    -----
    A respondent's overall = (1/5) Σ of their five dimension scores; the side's overall is the mean of
    these with a Student-t interval cut to the answer scale (:func:`helpers.stats.scores.summarise`).  With
    every dimension required, it equals the mean of the side's five dimension means over the same people.
    """
    inst = account.instrument
    per = respondent_overall(account.scores, dimensions=inst.dimension_ids, min_dimensions=min_dimensions)
    now = per[per["wave"] == account.wave]
    summ = summarise(now, value="overall", by=["side"], ci=CI, scale=scale_of(inst)) if len(now) else \
        pd.DataFrame(columns=["side", "n", "mean", "sd", "se", "ci_low", "ci_high"])
    out = summ.set_index("side").reindex(["client", "staff"]).rename_axis("side").reset_index()
    out["n"] = out["n"].fillna(0).astype("int64")
    out = out.assign(account_id=account.account_id, wave=account.wave)
    reason = _overall_decisions(account, per)
    dims_hidden = _any_dimension_hidden(account)
    out["reason"] = [reason.get(s) or (DIMENSION_HIDDEN if dims_hidden.get(s) and n else None)
                     for s, n in zip(out["side"], out["n"])]
    out.loc[out["n"] == 0, "reason"] = None
    hide = out["reason"].notna() | (out["n"] == 0)
    out.loc[hide, ["mean", "sd", "se", "ci_low", "ci_high"]] = np.nan
    out["suppressed"] = hide.astype(bool) & (out["n"] > 0)
    account.audit.record("overall score", out)
    return out[OVERALL_COLUMNS]


def _overall_decisions(account: AccountData, per: pd.DataFrame) -> dict[str, str | None]:
    """Why each side's overall of the report's wave may not be published (side → reason or None)."""
    if per.empty:
        return {}
    ids = account.responses[["response_id", "respondent_id"]] if "respondent_id" in account.responses else \
        account.responses[["response_id"]].assign(respondent_id=np.nan)
    rows = per.merge(ids.drop_duplicates("response_id"), on="response_id", how="left")
    rows = rows.assign(account_id=account.account_id, measure="overall")
    dec = publishable(rows, thresholds=account.thresholds, waves=list(account.waves))
    dec = dec[dec["wave"] == account.wave]
    return {s: (None if pd.isna(r) else str(r)) for s, r in zip(dec["side"], dec["reason"])}


def _any_dimension_hidden(account: AccountData) -> dict[str, bool]:
    """Whether any dimension of each side is held back in the report's wave (side → bool)."""
    pub = account.publication
    now = pub[(pub["wave"] == account.wave) & (pub["measure"] != "nps")]
    return {s: bool(g["reason"].notna().any()) for s, g in now.groupby("side")}
