"""Model-ready tables: one row per respondent or per account, from answers and responses.

Takes long answers and responses (:mod:`helpers.data.store`) and hands on the
wide tables the models fit: respondent scores with NPS
(:func:`respondent_table`), and account-level client and team means, gaps,
NPS and the renewal outcome (:func:`account_table`), counting only answers
given before a decided account's renewal date.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.data.privacy import MIN_GROUP_SIZE, suppress_small_groups

from .diagnostics import _emit
from .fitting import _as_list, _dims
from .scores import nps as nps_score
from .scores import respondent_scores

__all__ = [
    "answers_from_wide",
    "respondent_table",
    "account_table",
]


KNOWN_OUTCOMES = ("renewed", "churned")


# ---------------------------------------------------------------------------
# Tables
# ---------------------------------------------------------------------------
def answers_from_wide(
    responses: pd.DataFrame,
    *,
    instrument: str | Instrument | None = None,
    keep: Sequence[str] = ("account_id", "side", "wave", "role", "team"),
) -> pd.DataFrame:
    """Long item answers from a wide frame with one column per item.

    Turns e.g. :attr:`helpers.data.sample.Simulation.responses` into the shape of
    :func:`helpers.data.store.load_answers`.

    Parameters
    ----------
    responses : DataFrame
        One row per response with ``response_id`` and one column per item id.
    instrument : path or Instrument, optional
        Which columns are items (default: the flamekit instrument).
    keep : sequence of str
        Response-level columns carried to every answer row when present.

    Returns
    -------
    DataFrame
        response_id, *keep, item, value — one row per response × item.

    Notes
    -----
    A plain ``melt``; NaN answers ("don't know") are kept as NaN.

    Examples
    --------
    >>> wide = pd.DataFrame({"response_id": ["r1"], "care_1": [4.0], "care_2": [5.0]})
    >>> answers_from_wide(wide, keep=())["value"].tolist()
    [4.0, 5.0]
    """
    items = [i for i in load_instrument(instrument).item_ids if i in responses.columns]
    keep = [c for c in keep if c in responses.columns]
    return responses.melt(id_vars=["response_id", *keep], value_vars=items, var_name="item", value_name="value")


def respondent_table(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    *,
    side: str | None = "client",
    instrument: str | Instrument | None = None,
    min_items: int | None = None,
) -> pd.DataFrame:
    """One row per response: NPS and the respondent's score on every dimension.

    The input to the NPS models and the key-driver analysis.

    Parameters
    ----------
    answers : DataFrame
        Long item answers (:func:`helpers.data.store.load_answers`).
    responses : DataFrame
        One row per response with ``response_id``, ``account_id``, ``side``,
        ``wave`` and ``nps`` (:func:`helpers.data.store.load_responses`).
    side : {"client", "staff"} or None
        Keep one side (default clients); None keeps both.
    instrument : path or Instrument, optional
        Dimensions and items (default: the flamekit instrument).
    min_items : int, optional
        Fewest answered items for a dimension score (default: the
        instrument's); fewer gives NaN, which the models count as dropped.

    Returns
    -------
    DataFrame
        response_id, account_id, side, wave, nps, then one column per
        dimension (e.g. excitement … care) with the item mean.

    Notes
    -----
    Dimension scores are item means (see :func:`helpers.stats.scores.respondent_scores`).

    Examples
    --------
    >>> ans = pd.DataFrame({"response_id": ["r1"] * 2, "item": ["care_1", "care_2"], "value": [4.0, 5.0]})
    >>> resp = pd.DataFrame({"response_id": ["r1"], "account_id": ["A1"], "side": ["client"],
    ...                      "wave": ["2026Q1"], "nps": [9]})
    >>> respondent_table(ans, resp)[["nps", "care"]].to_dict("records")
    [{'nps': 9.0, 'care': 4.5}]
    """
    dims = _dims(instrument)
    scores = respondent_scores(answers[["response_id", "item", "value"]], instrument=instrument,
                               min_items=min_items, keep=())
    wide = scores.pivot_table(index="response_id", columns="dimension", values="score", aggfunc="first",
                              dropna=False)
    wide = wide.reindex(columns=dims).reset_index()
    wide.columns.name = None
    meta = responses[[c for c in ("response_id", "account_id", "side", "wave", "nps") if c in responses]].copy()
    out = meta.merge(wide, on="response_id", how="left")
    if side is not None and "side" in out:
        out = out[out["side"] == side]
    if "nps" in out:
        out["nps"] = pd.to_numeric(out["nps"], errors="coerce").astype(float)
    return out.reset_index(drop=True)


def account_table(
    answers: pd.DataFrame,
    responses: pd.DataFrame,
    accounts: pd.DataFrame,
    *,
    waves: str | Sequence[str] | None = None,
    by_wave: bool = False,
    before_renewal: bool = True,
    min_group_size: int = MIN_GROUP_SIZE,
    instrument: str | Instrument | None = None,
    min_items: int | None = None,
) -> pd.DataFrame:
    """One row per account (or account × wave): client and staff means, gaps, NPS and outcome.

    The input to the retention models, congruence analysis and the at-risk list.

    Parameters
    ----------
    answers : DataFrame
        Long item answers (:func:`helpers.data.store.load_answers`), both sides.
    responses : DataFrame
        Responses (:func:`helpers.data.store.load_responses`): response_id,
        account_id, side, wave, nps.
    accounts : DataFrame
        Accounts (:func:`helpers.data.store.load_accounts`): account_id, status,
        contract_start, renewal_date (name, segment, annual_value if present).
    waves : str, list of str or None
        Which waves to use: None all waves, a wave id or list of ids, or
        ``"latest"`` for each account's latest wave with client answers
        (after the renewal rule below, so the latest wave *before* renewal).
    by_wave : bool
        One row per account × wave instead of pooling the chosen waves.
    before_renewal : bool
        For accounts with a known outcome (renewed or churned), use only the
        responses submitted before the renewal date (default), so that the
        scores can predict the decision rather than react to it.  Set False
        only for questions that are not about the outcome (e.g. how the team
        rates an account next to its client's NPS at the same time).  See
        Notes.
    min_group_size : int
        Staff means from fewer staff responses are blanked (NaN) to protect
        anonymity (:func:`helpers.data.privacy.suppress_small_groups`), and so
        are the gaps computed from them (default 5).
    instrument : path or Instrument, optional
        Dimensions and items.
    min_items : int, optional
        Fewest answered items for a respondent's dimension score.

    Returns
    -------
    DataFrame
        account_id, [wave], name, segment, annual_value, status,
        contract_start, renewal_date, outcome_known (status is renewed or
        churned), churned (1 churned, 0 renewed, NaN otherwise), n_client,
        n_staff, staff_suppressed, client_nps (−100…100), client_nps_mean
        (0–10), n_nps, then client_<dimension>, staff_<dimension> and
        gap_<dimension> (client − staff) for every dimension.
        ``attrs["n_staff_suppressed"]`` counts the rows whose staff means were
        blanked; accounts with no answers at all keep a row with NaN scores.
        ``attrs`` also report the renewal rule: ``before_renewal`` (bool),
        ``n_after_renewal`` (responses left out because they were given on or
        after the account's renewal date), ``n_accounts_after_renewal``
        (accounts that lost responses so), ``n_no_answers_before_renewal``
        (accounts with a known outcome left with no response at all) and
        ``n_timing_unknown`` (responses of accounts with a known outcome whose
        timing could not be checked and were kept).

    Notes
    -----
    Means are means of respondent dimension scores (each respondent weighs
    the same).  Gap_d = client mean_d − staff mean_d, so a negative gap is a
    blind spot (the team rates itself higher than the client does).  Pooling
    waves gives more precise account means; the planted retention effects in
    :mod:`helpers.data.sample` act on the latest wave, and waves drift little.

    **Timing rule** (``before_renewal=True``).  A predictor must be measured
    before the outcome it predicts: an answer given after a churn decision
    may be a reaction to it.  So for an account whose status is renewed or
    churned, a response counts only if it was submitted strictly before the
    account's renewal date (``submitted_at < renewal_date``, both sides,
    every wave).  A response without ``submitted_at`` takes the median
    ``submitted_at`` of its wave (over all responses of that wave).  Active
    accounts (and any status other than renewed or churned) keep every
    response passed in, i.e. all waves up to the wave analysed.  Responses
    whose timing cannot be checked (no renewal date, or no submission time
    in the whole wave) are kept, counted in ``n_timing_unknown`` and named in
    a warning.  An account with a known outcome and no earlier response keeps
    its row with NaN scores, which the models count as dropped.

    Examples
    --------
    >>> from helpers.data.sample import simulate
    >>> sim = simulate(seed=1, n_accounts=8)
    >>> tab = account_table(answers_from_wide(sim.responses), sim.responses, sim.accounts)
    >>> len(tab), "gap_care" in tab
    (8, True)
    """
    dims = _dims(instrument)
    latest = isinstance(waves, str) and waves == "latest"
    resp = _in_waves(responses, None if latest else waves)
    resp, timing, messages = _before_renewal(resp, accounts) if before_renewal else (resp, _no_timing_rule(), [])
    if latest:
        resp = _latest_client_wave(resp)
    keys = ["account_id", "wave"] if by_wave else ["account_id"]
    out = _account_scores(answers, resp, keys=keys, dims=dims, instrument=instrument, min_items=min_items,
                          min_group_size=min_group_size)
    out = _with_accounts(out, accounts, by_wave=by_wave)
    out = out[_account_columns(out, by_wave=by_wave, dims=dims)].sort_values(keys, ignore_index=True)
    out.attrs.update(n_staff_suppressed=int(out["staff_suppressed"].sum()), min_group_size=int(min_group_size),
                     **timing)
    if out.attrs["n_staff_suppressed"]:
        messages.append(f"Staff means of {out.attrs['n_staff_suppressed']} account row(s) were hidden because fewer "
                        f"than {min_group_size} staff answered; their gaps are missing too.")
    _emit(messages, stacklevel=2)
    return out


def _in_waves(responses: pd.DataFrame, waves: str | Sequence[str] | None) -> pd.DataFrame:
    """The responses of ``waves`` (all for None), NPS as numbers; a ValueError naming waves that are not there."""
    resp = responses.copy()
    resp["nps"] = pd.to_numeric(resp["nps"], errors="coerce")
    if waves is None:
        return resp
    wl = _as_list(waves)
    unknown = sorted(set(wl) - set(resp["wave"].unique()))
    if unknown:
        raise ValueError(f"Waves {unknown} are not in the responses (they have {sorted(resp['wave'].unique())}).")
    return resp[resp["wave"].isin(wl)]


def _latest_client_wave(resp: pd.DataFrame) -> pd.DataFrame:
    """The responses of each account's latest wave with client answers."""
    last = resp[resp["side"] == "client"].groupby("account_id")["wave"].max()
    return resp[resp["wave"] == resp["account_id"].map(last)]


def _account_scores(answers: pd.DataFrame, resp: pd.DataFrame, *, keys: list[str], dims: list[str], instrument,
                    min_items: int | None, min_group_size: int) -> pd.DataFrame:
    """Per account (or account × wave): response counts, client NPS, client and staff means, and gaps.

    Staff means of fewer than ``min_group_size`` responses are blanked, and so
    are the gaps computed from them (``staff_suppressed``).
    """
    counts = resp.groupby([*keys, "side"])["response_id"].nunique().unstack("side")
    out = pd.DataFrame(index=counts.index)
    for side in ("client", "staff"):
        out[f"n_{side}"] = counts.get(side, pd.Series(0, index=counts.index)).fillna(0).astype(int)
    out = _with_client_nps(out, resp[resp["side"] == "client"], keys)
    ans = answers[answers["response_id"].isin(resp["response_id"])]
    sc = respondent_scores(ans[["response_id", "item", "value"]], instrument=instrument, min_items=min_items,
                           keep=())
    sc = sc.merge(resp[["response_id", "account_id", "side", "wave"]], on="response_id", how="inner")
    means = sc.groupby([*keys, "side", "dimension"], observed=True)["score"].mean().unstack(["side", "dimension"])
    for side in ("client", "staff"):
        for d in dims:
            col = (side, d)
            out[f"{side}_{d}"] = means[col].reindex(out.index) if col in means.columns else np.nan
    out = suppress_small_groups(out, n="n_staff", min_group_size=min_group_size,
                                columns=[f"staff_{d}" for d in dims])
    out["staff_suppressed"] = out.pop("suppressed") & (out["n_staff"] > 0)
    for d in dims:
        out[f"gap_{d}"] = out[f"client_{d}"] - out[f"staff_{d}"]
    return out.reset_index()


def _with_client_nps(out: pd.DataFrame, client: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """``out`` (indexed by ``keys``) with client_nps (−100…100), client_nps_mean (0–10) and n_nps."""
    if len(client):
        npsd = nps_score(client, score="nps", by=keys).set_index(keys)
        out["client_nps"] = npsd["nps"]
        out["client_nps_mean"] = client.groupby(keys)["nps"].mean()
        out["n_nps"] = npsd["n"]
    else:
        out["client_nps"], out["client_nps_mean"], out["n_nps"] = np.nan, np.nan, 0
    out["n_nps"] = out["n_nps"].fillna(0).astype(int)
    return out


def _with_accounts(out: pd.DataFrame, accounts: pd.DataFrame, *, by_wave: bool) -> pd.DataFrame:
    """The account columns and the outcome (outcome_known, churned) joined to the scores.

    Pooled over waves, every account keeps a row, with zero counts and NaN
    scores when it has no answers.
    """
    acc_cols = [c for c in ("account_id", "name", "segment", "annual_value", "status", "contract_start",
                            "renewal_date") if c in accounts.columns]
    acc = accounts[acc_cols].copy()
    if by_wave:
        out = acc.merge(out, on="account_id", how="right")
    else:
        out = acc.merge(out, on="account_id", how="outer")
        for c in ("n_client", "n_staff", "n_nps"):
            out[c] = out[c].fillna(0).astype(int)
        out["staff_suppressed"] = out["staff_suppressed"].astype("boolean").fillna(False).astype(bool)
    status = out["status"] if "status" in out else pd.Series(pd.NA, index=out.index)
    out["outcome_known"] = status.isin(KNOWN_OUTCOMES).astype(bool)
    out["churned"] = np.where(status == "churned", 1.0, np.where(status == "renewed", 0.0, np.nan))
    for c in ("contract_start", "renewal_date"):
        if c in out:
            out[c] = pd.to_datetime(out[c], errors="coerce")
    return out


def _account_columns(out: pd.DataFrame, *, by_wave: bool, dims: list[str]) -> list[str]:
    """The columns of :func:`account_table`, in order."""
    lead = ["account_id", *(["wave"] if by_wave else []),
            *[c for c in ("name", "segment", "annual_value", "status", "contract_start", "renewal_date") if c in out],
            "outcome_known", "churned", "n_client", "n_staff", "staff_suppressed", "client_nps", "client_nps_mean",
            "n_nps"]
    return lead + [f"{s}_{d}" for s in ("client", "staff", "gap") for d in dims]


def _no_timing_rule() -> dict:
    """The timing attrs of :func:`account_table` when every response is kept (``before_renewal=False``)."""
    return {"before_renewal": False, "n_after_renewal": 0, "n_accounts_after_renewal": 0,
            "n_no_answers_before_renewal": 0, "n_timing_unknown": 0}


def _before_renewal(resp: pd.DataFrame, accounts: pd.DataFrame) -> tuple[pd.DataFrame, dict, list[str]]:
    """Drop responses of decided accounts given on or after the renewal date (see :func:`account_table`)."""
    acc = accounts.drop_duplicates("account_id").set_index("account_id")
    status = resp["account_id"].map(acc["status"]) if "status" in acc else pd.Series(pd.NA, index=resp.index)
    known = status.isin(KNOWN_OUTCOMES).to_numpy()
    renewal = pd.to_datetime(resp["account_id"].map(acc["renewal_date"]), errors="coerce") \
        if "renewal_date" in acc else pd.Series(pd.NaT, index=resp.index, dtype="datetime64[ns]")
    if "submitted_at" in resp:
        when = pd.to_datetime(resp["submitted_at"], errors="coerce")
        if getattr(when.dt, "tz", None) is not None:
            when = when.dt.tz_localize(None)
        when = when.fillna(when.groupby(resp["wave"]).transform("median"))
    else:
        when = pd.Series(pd.NaT, index=resp.index, dtype="datetime64[ns]")
    unknown = known & (when.isna() | renewal.isna()).to_numpy()
    after = known & ~unknown & (when >= renewal).to_numpy()
    kept = resp[~after]
    decided = set(resp.loc[known, "account_id"])
    n_after, n_acc = int(after.sum()), int(resp.loc[after, "account_id"].nunique())
    n_empty = len(decided - set(kept["account_id"]))
    timing = {"before_renewal": True, "n_after_renewal": n_after, "n_accounts_after_renewal": n_acc,
              "n_no_answers_before_renewal": n_empty, "n_timing_unknown": int(unknown.sum())}
    messages = []
    if n_after:
        messages.append(f"{n_after} response(s) of {n_acc} account(s) with a known outcome were given on or after "
                        "the renewal date and were left out, so that the scores come before the decision they are "
                        "used to predict" + (f"; {n_empty} of these accounts have no earlier answers and no scores."
                                             if n_empty else "."))
    if unknown.any():
        n_unknown_acc = resp.loc[unknown, "account_id"].nunique()
        messages.append(f"{int(unknown.sum())} response(s) of {n_unknown_acc} account(s) with a known outcome have no "
                        "submission time or no renewal date, so whether they came before the renewal decision "
                        "cannot be checked; they were kept.")
    return kept, timing, messages
