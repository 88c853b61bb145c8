"""Charts of the account report: the 360° view (dot chart), the trend, and the gap and flame charts.

Each takes a section frame of :mod:`helpers.report.account` (results the
report may not publish already blank), draws and returns the Axes (or the
Figure of a multi-panel chart); labels come from the frame's instrument and
words from the catalogue (``account_plots``).  Colours come from
:mod:`helpers.report.style`: the client vermillion, the team blue, a blind
spot wine and a hidden strength green, on every chart.  Tick labels are
numbers in the page's language (a decimal comma in Finnish).

The page shows :func:`dot_plot` (with the gap readings written beside it) and
:func:`trend_plot`; :func:`gap_plot` and :func:`flame_chart` are kept for
notebooks that want them.
"""

from __future__ import annotations

from collections.abc import Iterator

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from helpers.data.instrument import Instrument, instrument_of, load_instrument
from helpers.data.privacy import MIN_GROUP_SIZE
from helpers.report import style
from helpers.report.formatting import check_language, number
from helpers.words import LANGUAGES, section
from helpers.stats.gaps import (BLIND_SPOT, CLEAR, HIDDEN_STRENGTH, LABEL_TEXT, NO_TEST, POSSIBLE_BLIND_SPOT,
                                POSSIBLE_HIDDEN_STRENGTH, SIDE_TEXT)

SIDE_COLORS = style.SIDE_COLORS
#: A possible gap has its clear gap's colour, drawn lighter (its evidence is not "clear").
LABEL_COLORS = {BLIND_SPOT: style.ATTENTION, HIDDEN_STRENGTH: style.CELEBRATE, POSSIBLE_BLIND_SPOT: style.ATTENTION,
                POSSIBLE_HIDDEN_STRENGTH: style.CELEBRATE}
NEUTRAL = style.NEUTRAL
INK = style.INK

TEXT = {lang: section("account_plots", lang) for lang in LANGUAGES}


def _hidden(data: pd.DataFrame) -> pd.Series:
    """True for the rows flagged ``suppressed`` (False everywhere when there is no such column)."""
    if "suppressed" not in data:
        return pd.Series(False, index=data.index)
    return data["suppressed"].fillna(False).astype(bool)


def _blank_hidden(data: pd.DataFrame, columns: str | list[str]) -> pd.DataFrame:
    """``data`` with ``columns`` set to NaN in the suppressed rows, so a hidden value is never drawn."""
    hidden = _hidden(data)
    if not hidden.any():
        return data
    out = data.copy()
    out.loc[hidden, columns] = np.nan
    return out


def number_ticks(axis: Axis, language: str, digits: int = 0) -> None:
    """Tick labels of ``axis`` as numbers in ``language``: "0,5" in Finnish, a real minus sign in both."""
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: number(v, language, digits)))


def _side_rows(summary: pd.DataFrame, side: str, dims: list[str], value: str) -> pd.DataFrame:
    """The rows of one side in instrument order, one per dimension (missing → NaN)."""
    rows = summary[summary["side"] == side].drop_duplicates("dimension").set_index("dimension")
    return _blank_hidden(rows.reindex(dims), value)


def _prepare(summary: pd.DataFrame, name: str, language: str, instrument: str | Instrument | None
             ) -> tuple[str, Instrument, list[str], dict[str, str]]:
    """Check that ``summary`` holds one account and wave; return the language, instrument, its dimensions and labels."""
    language = check_language(language)
    for col in ("account_id", "wave"):
        if col in summary and summary[col].nunique() > 1:
            raise ValueError(f"{name} draws one account and wave; the data have several {col} values "
                             f"({sorted(summary[col].astype(str).unique())[:5]}…). Filter first.")
    inst = load_instrument(instrument) if instrument is not None else instrument_of(summary)
    return language, inst, inst.dimension_ids, inst.labels(language)


def _absent_notes(summary: pd.DataFrame, dims: list[str], value: str, language: str, min_group_size: int,
                  labels: dict[str, str]) -> tuple[dict[str, pd.DataFrame], list[str]]:
    """Rows per side in instrument order, and a note for every side or dimension not drawn."""
    t = TEXT[language]
    per_side, notes = {}, []
    for side in ("client", "staff"):
        rows = _side_rows(summary, side, dims, value)
        per_side[side] = rows
        n = _side_n(rows)
        missing = [d for d in dims if pd.isna(rows.loc[d, value])]
        if len(missing) == len(dims):
            notes.append(t["hidden"].format(side=SIDE_TEXT[language][side], k=min_group_size, n=n))
        elif missing:
            notes.append(t["hidden_some"].format(side=SIDE_TEXT[language][side],
                                                 dims=", ".join(labels[d] for d in missing), k=min_group_size))
    return per_side, notes


def _side_n(rows: pd.DataFrame, n: str = "n") -> int:
    """The largest count in column ``n`` (0 when there is none)."""
    return int(rows[n].max()) if n in rows and rows[n].notna().any() else 0


def _error_bars(values: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """Lengths of the error bars below and above each value (0 where a limit is missing)."""
    return np.vstack([np.nan_to_num(values - low), np.nan_to_num(high - values)])


def _drawn_sides(per_side: dict[str, pd.DataFrame], value: str, language: str
                 ) -> Iterator[tuple[str, pd.DataFrame, np.ndarray, str]]:
    """(side, rows, values, legend label) of every side with something to draw, client first."""
    for side, rows in per_side.items():
        vals = rows[value].to_numpy(dtype=float)
        if np.isnan(vals).all():
            continue
        yield side, rows, vals, TEXT[language]["legend"].format(side=SIDE_TEXT[language][side], n=_side_n(rows))


def _write_notes(ax: Axes, notes: list[str], *, x: float, top: float, step: float, ha: str) -> None:
    """The notes on what is not drawn, one under the other below the chart, in italics."""
    for i, note in enumerate(notes):
        ax.text(x, top - step * i, note, transform=ax.transAxes, ha=ha, va="top", fontsize=9, style="italic",
                color=INK)


def flame_chart(
    summary: pd.DataFrame,
    *,
    language: str = "en",
    ax: Axes | None = None,
    value: str = "mean",
    min_group_size: int = MIN_GROUP_SIZE,
    instrument: str | Instrument | None = None,
) -> Axes:
    """Radar ("flame") chart of the client's and the team's dimension means.

    Not on the account page (its :func:`dot_plot` shows the same means with
    their intervals in a third of the height); kept for notebooks.

    Parameters
    ----------
    summary : DataFrame
        One account and wave: side, dimension, ``value`` (mean), n and
        optionally suppressed — e.g. :func:`helpers.report.account.sections.view_360`.
    language : {"en", "fi"}
        Language of labels and notes.
    ax : polar Axes, optional
        Where to draw; a new polar figure when None.
    value : str
        Column to draw.
    min_group_size : int
        Only used in the note that explains a hidden side.
    instrument : path or Instrument, optional
        Dimension order, labels and scale (default: the instrument that made
        ``summary``, see :func:`helpers.data.instrument.instrument_of`).

    Returns
    -------
    Axes
        One closed line per drawn side (``ax.lines``), dimension labels as
        x tick labels, a note (``ax.texts``) for every side not drawn.  The
        axes' gid is ``"flame-chart"``.

    Notes
    -----
    A side whose values are all NaN or suppressed is not drawn at all — a
    hidden team view is absent, not zero.  The radial axis spans the scale.

    Examples
    --------
    >>> s = pd.DataFrame({"side": "client", "dimension": load_instrument().dimension_ids,
    ...                   "mean": [3.5, 3.1, 4.2, 3.6, 3.9], "n": 12})
    >>> ax = flame_chart(s)
    >>> len(ax.lines), len(ax.texts)
    (1, 1)
    >>> plt.close(ax.figure)
    """
    language, inst, dims, labels = _prepare(summary, "flame_chart", language, instrument)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 6.0), subplot_kw={"projection": "polar"})
    elif ax.name != "polar":
        raise ValueError("flame_chart needs a polar Axes: plt.subplots(subplot_kw={'projection': 'polar'}).")
    angles = np.linspace(0, 2 * np.pi, len(dims), endpoint=False)
    closed = np.append(angles, angles[0])
    per_side, notes = _absent_notes(summary, dims, value, language, min_group_size, labels)
    for side, _, vals, name in _drawn_sides(per_side, value, language):
        y = np.append(vals, vals[0])
        ax.plot(closed, y, color=SIDE_COLORS[side], linewidth=2, marker="o", label=name)
        ok = ~np.isnan(y)
        ax.fill(closed[ok], y[ok], color=SIDE_COLORS[side], alpha=0.15)
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    ax.set_xticks(angles)
    ax.set_xticklabels([labels[d] for d in dims])
    ax.set_ylim(inst.scale_min, inst.scale_max)
    ax.set_yticks(range(inst.scale_min, inst.scale_max + 1))
    number_ticks(ax.yaxis, language)
    ax.set_title(TEXT[language]["flame_title"], pad=24)
    if ax.lines:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.06), ncol=2, frameon=False)
    _write_notes(ax, notes, x=0.5, top=-0.16, step=0.06, ha="center")
    ax.set_gid("flame-chart")
    return ax


def dot_plot(
    summary: pd.DataFrame,
    *,
    gaps: pd.DataFrame | None = None,
    language: str = "en",
    ax: Axes | None = None,
    value: str = "mean",
    min_group_size: int = MIN_GROUP_SIZE,
    instrument: str | Instrument | None = None,
) -> Axes:
    """The 360° view: the client's and the team's mean on each dimension with its 95% interval.

    Parameters
    ----------
    summary : DataFrame
        One account and wave: side, dimension, mean, ci_low, ci_high, n
        (+ suppressed), e.g. :func:`helpers.report.account.sections.view_360`.
    gaps : DataFrame, optional
        :func:`helpers.report.account.sections.gaps_section` of the same
        account and wave: each dimension's reading (blind spot, hidden
        strength …) is written at the right end of its row, in its colour,
        and the dimension's name in the reading's colour when the gap is clear.
    language : {"en", "fi"}
    ax : Axes, optional
    value : str
        The point estimate column.
    min_group_size : int
        Only used in the note for hidden results.
    instrument : path or Instrument, optional

    Returns
    -------
    Axes
        One errorbar container per drawn side (``ax.containers``, client
        first), dimension labels on the y axis (instrument order, top to
        bottom), the side names with their n in a legend above the plot
        (outside the data), the readings as texts to the right of the plot,
        notes below it for hidden results.

    Examples
    --------
    >>> s = pd.DataFrame({"side": ["client", "staff"], "dimension": "care", "mean": [3.4, 4.1],
    ...                   "ci_low": [3.1, 3.8], "ci_high": [3.7, 4.4], "n": [12, 8]})
    >>> ax = dot_plot(s)
    >>> len(ax.containers)
    2
    >>> plt.close(ax.figure)
    """
    language, inst, dims, labels = _prepare(summary, "dot_plot", language, instrument)
    t = TEXT[language]
    if ax is None:
        _, ax = plt.subplots(figsize=(7.6, 0.42 * len(dims) + 1.25))
    per_side, notes = _absent_notes(summary, dims, value, language, min_group_size, labels)
    y = np.arange(len(dims))[::-1].astype(float)
    offset = {"client": 0.14, "staff": -0.14}
    for side, rows, vals, name in _drawn_sides(per_side, value, language):
        lo = rows["ci_low"].to_numpy(dtype=float) if "ci_low" in rows else np.full(len(dims), np.nan)
        hi = rows["ci_high"].to_numpy(dtype=float) if "ci_high" in rows else np.full(len(dims), np.nan)
        ax.errorbar(vals, y + offset[side], xerr=_error_bars(vals, lo, hi), fmt="o", color=SIDE_COLORS[side],
                    markersize=7, capsize=3, elinewidth=1.6, label=name)
    ax.set_yticks(y)
    ax.set_yticklabels([labels[d] for d in dims])
    ax.set_ylim(-0.6, len(dims) - 0.4)
    if gaps is not None:
        _readings(ax, gaps, dims=dims, y=y, language=language)
    ax.set_xlim(inst.scale_min, inst.scale_max)
    ax.set_xticks(range(inst.scale_min, inst.scale_max + 1))
    number_ticks(ax.xaxis, language)
    ax.set_xlabel(t["score_axis"].format(lo=inst.scale_min, hi=inst.scale_max))
    ax.set_title(t["view_title"], loc="left", pad=24, fontsize=11)
    ax.grid(axis="x", alpha=0.3)
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    if ax.containers:
        ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, frameon=False, fontsize=9,
                  borderaxespad=0.2, handletextpad=0.3)
    _write_notes(ax, notes, x=0.0, top=-0.22, step=0.08, ha="left")
    return ax


def _readings(ax: Axes, gaps: pd.DataFrame, *, dims: list[str], y: np.ndarray, language: str) -> None:
    """Each dimension's gap reading at the right end of its row, coloured by meaning; clear gaps also colour
    the dimension's name."""
    rows = gaps.drop_duplicates("dimension").set_index("dimension").reindex(dims)
    for yi, d, tick in zip(y, dims, ax.get_yticklabels()):
        label = rows.loc[d, "label"] if "label" in rows else None
        if not isinstance(label, str) or bool(rows.loc[d].get("suppressed", False) is True):
            continue
        color = LABEL_COLORS.get(label, NEUTRAL)
        clear = rows.loc[d].get("evidence") == CLEAR and label in (BLIND_SPOT, HIDDEN_STRENGTH)
        ax.text(1.02, yi, LABEL_TEXT[language].get(label, label), transform=ax.get_yaxis_transform(),
                va="center", ha="left", fontsize=9, color=color, fontweight="bold" if clear else "normal")
        if clear:
            tick.set_color(color)
            tick.set_fontweight("bold")


def gap_plot(
    gaps: pd.DataFrame,
    *,
    language: str = "en",
    ax: Axes | None = None,
    min_group_size: int = MIN_GROUP_SIZE,
    instrument: str | Instrument | None = None,
) -> Axes:
    """Perception gap (client − team) per dimension with its Welch CI, coloured by label.

    Parameters
    ----------
    gaps : DataFrame
        One account and wave from :func:`helpers.stats.gaps.perception_gaps`:
        dimension, gap, ci_low, ci_high, label, evidence, suppressed (+ n_staff).
    language : {"en", "fi"}
    ax : Axes, optional
    min_group_size : int
        Only used in the note for a hidden team view.
    instrument : path or Instrument, optional

    Returns
    -------
    Axes
        One bar per dimension with a gap (``ax.patches``), wine for a blind
        spot, green for a hidden strength, grey otherwise; a vertical line at
        0; dimensions without a shown gap carry a text ("hidden", "too few
        answers") instead of a bar, and a note below says why team results
        are hidden.

    Notes
    -----
    Negative = the team rates itself higher than the client (blind spot side);
    positive = the client rates the team higher (hidden strength side).  Bars
    whose evidence is not ``clear`` are drawn lighter.

    Examples
    --------
    >>> g = pd.DataFrame({"dimension": ["care", "dare"], "gap": [-0.8, 0.1], "ci_low": [-1.2, -0.3],
    ...                   "ci_high": [-0.4, 0.5], "label": ["blind spot", "aligned weak"],
    ...                   "evidence": ["clear", "unclear"], "suppressed": False})
    >>> ax = gap_plot(g)
    >>> len(ax.patches)
    2
    >>> plt.close(ax.figure)
    """
    language, inst, dims, labels = _prepare(gaps, "gap_plot", language, instrument)
    t = TEXT[language]
    if ax is None:
        _, ax = plt.subplots(figsize=(7.0, 0.6 * len(dims) + 1.6))
    rows = _blank_hidden(gaps.drop_duplicates("dimension").set_index("dimension").reindex(dims),
                         ["gap", "ci_low", "ci_high"])
    y = np.arange(len(dims))[::-1].astype(float)
    for yi, d in zip(y, dims):
        _gap_bar(ax, yi, rows.loc[d], language)
    ax.axvline(0, color=INK, linewidth=1, zorder=0)
    ax.set_ylim(-0.6, len(dims) - 0.4)
    if _hidden(rows).any():
        ax.text(0.0, -0.2, t["gaps_hidden"], transform=ax.transAxes, ha="left", va="top", fontsize=9,
                style="italic")
    ax.set_yticks(y)
    ax.set_yticklabels([labels[d] for d in dims])
    lim = _gap_axis_limit(rows, span=inst.scale_max - inst.scale_min)
    ax.set_xlim(-lim, lim)
    number_ticks(ax.xaxis, language, 1)
    ax.set_xlabel(t["gap_axis"])
    ax.set_title(t["gap_title"])
    ax.grid(axis="x", alpha=0.3)
    return ax


def _gap_bar(ax: Axes, y: float, r: pd.Series, language: str) -> None:
    """One dimension's gap bar with its CI, coloured and named by its label; or why there is none."""
    t = TEXT[language]
    if pd.isna(r["gap"]):
        hidden = bool(r.get("suppressed", False)) if pd.notna(r.get("suppressed", np.nan)) else False
        ax.text(0, y, t["hidden_bar"] if hidden else t["no_test"], ha="center", va="center", fontsize=9,
                style="italic", color=NEUTRAL, bbox={"facecolor": "white", "edgecolor": "none"})
        return
    if r.get("evidence") == NO_TEST:  # a gap without a test: drawn grey, no interval, said why
        ax.barh(y, r["gap"], height=0.55, color=NEUTRAL, alpha=0.45)
        ax.text(1.01, y, t["no_variation"], transform=ax.get_yaxis_transform(), va="center", fontsize=9,
                color=NEUTRAL)
        return
    label = r.get("label")
    color = LABEL_COLORS.get(label, NEUTRAL) if isinstance(label, str) else NEUTRAL
    alpha = 0.9 if r.get("evidence") == CLEAR else 0.45
    lo = r["gap"] - r["ci_low"] if pd.notna(r["ci_low"]) else 0
    hi = r["ci_high"] - r["gap"] if pd.notna(r["ci_high"]) else 0
    ax.barh(y, r["gap"], height=0.55, color=color, alpha=alpha, xerr=[[lo], [hi]],
            error_kw={"ecolor": INK, "capsize": 3})
    if isinstance(label, str):
        ax.text(1.01, y, LABEL_TEXT[language].get(label, label), transform=ax.get_yaxis_transform(),
                va="center", fontsize=9, color=color)


def _gap_axis_limit(rows: pd.DataFrame, *, span: float) -> float:
    """Half-width of the gap axis: room for every CI, at least 1 point, at most the scale's range."""
    reach = np.nanmax(np.abs(rows[["ci_low", "ci_high", "gap"]].to_numpy(dtype=float))) if \
        rows[["ci_low", "ci_high", "gap"]].notna().any().any() else 0.5
    return min(max(1.0, reach * 1.15), span)


def trend_plot(
    trend: pd.DataFrame,
    *,
    nps: pd.DataFrame | None = None,
    language: str = "en",
    sides: tuple[str, ...] = ("client", "staff"),
    instrument: str | Instrument | None = None,
) -> Figure:
    """Small multiples over the waves: client NPS, then one panel per dimension with the client and the team.

    Parameters
    ----------
    trend : DataFrame
        wave, side, dimension, mean (+ ci_low, ci_high, suppressed), one
        account; e.g. ``trend_section(...)["dimensions"]``.
    nps : DataFrame, optional
        wave, nps, ci_low, ci_high (+ side, suppressed; only client rows are
        drawn), as from :func:`helpers.stats.scores.nps` by wave.  Its panel
        comes first.
    language : {"en", "fi"}
    sides : tuple of str
        Whose dimension means to draw ("client", "staff"); a side's hidden
        waves are gaps in its line.
    instrument : path or Instrument, optional

    Returns
    -------
    Figure
        Panels in reading order: the NPS panel (when ``nps`` is given; one
        errorbar container) and one panel per dimension titled with its
        label, one errorbar container per side with anything to draw (client
        first).  Waves are categories on a shared x axis, ordered as
        :func:`helpers.data.store.sort_waves` orders labels (``W9`` before
        ``W10``).  The side names sit in one legend above the panels, never on
        the data.

    Examples
    --------
    >>> tr = pd.DataFrame({"wave": ["2026Q2", "2026Q3"], "side": "client", "dimension": "care",
    ...                    "mean": [3.5, 3.8]})
    >>> fig = trend_plot(tr)
    >>> [ax.get_title() for ax in fig.axes if ax.containers]
    ['Care']
    >>> plt.close(fig)
    """
    from helpers.data.store import sort_waves

    language = check_language(language)
    inst = load_instrument(instrument) if instrument is not None else instrument_of(trend)
    t, labels, dims = TEXT[language], inst.labels(language), inst.dimension_ids
    waves = sort_waves(set(trend["wave"].astype(str)) | (set(nps["wave"].astype(str)) if nps is not None
                                                         else set()))
    panels = len(dims) + (nps is not None)
    ncols = 3
    nrows = -(-panels // ncols)
    fig, grid = plt.subplots(nrows, ncols, figsize=(10.0, 1.95 * nrows + 0.5), sharex=True, squeeze=False)
    axes = list(grid.ravel())
    for ax in axes[panels:]:
        ax.set_visible(False)
    axes = axes[:panels]
    if nps is not None:
        _client_nps_trend(axes.pop(0), nps, waves=waves, language=language)
    d = _blank_hidden(trend, ["mean", *[c for c in ("ci_low", "ci_high") if c in trend]])
    handles, gaps_in_lines = {}, False
    for ax, dim in zip(axes, dims):
        for side in sides:
            rows = d[(d["dimension"] == dim) & ((d["side"] == side) if "side" in d else side == "client")]
            drawn = _wave_line(ax, rows, waves=waves, side=side, shift=0.05 if side == "staff" else -0.05)
            if drawn is not None:
                handles.setdefault(side, drawn)
                gaps_in_lines |= bool(np.isnan(np.asarray(drawn.lines[0].get_ydata(), dtype=float)).any())
        ax.set_title(labels[dim], fontsize=10, loc="left")
        ax.set_ylim(inst.scale_min, inst.scale_max)
        ax.set_yticks(range(inst.scale_min, inst.scale_max + 1))
        number_ticks(ax.yaxis, language)
    for ax in fig.axes[:panels]:
        ax.set_xticks(range(len(waves)))
        ax.set_xticklabels(waves, rotation=45 if len(waves) > 5 else 0, fontsize=8,
                           ha="right" if len(waves) > 5 else "center")
        ax.set_xlim(-0.5, len(waves) - 0.5)
        ax.tick_params(axis="x", labelbottom=True)
        ax.grid(axis="y", alpha=0.3)
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
    fig.tight_layout(rect=(0, 0.04 if gaps_in_lines else 0, 1, 1 - 0.32 / fig.get_figheight()))
    fig.suptitle(t["trend_title"], x=0.01, y=0.995, ha="left", va="top", fontsize=11)
    if handles:
        names = [SIDE_TEXT[language][s] for s in handles]
        fig.legend(list(handles.values()), names, loc="upper right", ncol=len(names), frameon=False, fontsize=9,
                   bbox_to_anchor=(0.995, 1.0))
    if gaps_in_lines:
        fig.text(0.01, 0.005, t["trend_missing"], ha="left", va="bottom", fontsize=8.5, style="italic", color=INK)
    return fig


def _wave_line(ax: Axes, rows: pd.DataFrame, *, waves: list[str], side: str, shift: float):
    """One side's means over ``waves`` with each wave's interval (hidden waves are gaps); None if nothing shown."""
    s = rows.assign(wave=rows["wave"].astype(str)).drop_duplicates("wave").set_index("wave").reindex(waves)
    v = s["mean"].to_numpy(dtype=float)
    if np.isnan(v).all():
        return None
    lo = s["ci_low"].to_numpy(dtype=float) if "ci_low" in s else np.full(len(waves), np.nan)
    hi = s["ci_high"].to_numpy(dtype=float) if "ci_high" in s else np.full(len(waves), np.nan)
    return ax.errorbar(np.arange(len(waves)) + shift, v, yerr=_error_bars(v, lo, hi), marker="o", markersize=4,
                       capsize=2, elinewidth=0.9, linewidth=1.6, color=SIDE_COLORS[side])


def _client_nps_trend(ax: Axes, nps: pd.DataFrame, *, waves: list[str], language: str) -> None:
    """Client NPS per wave with its CI as error bars, on the full −100…100 range."""
    n = nps[nps["side"] == "client"] if "side" in nps else nps
    n = _blank_hidden(n.assign(wave=n["wave"].astype(str)).drop_duplicates("wave").set_index("wave")
                      .reindex(waves), ["nps", "ci_low", "ci_high"])
    xs = np.arange(len(waves))
    v = n["nps"].to_numpy(dtype=float)
    err = _error_bars(v, n["ci_low"].to_numpy(dtype=float), n["ci_high"].to_numpy(dtype=float))
    ax.errorbar(xs, v, yerr=err, fmt="o-", color=SIDE_COLORS["client"], markersize=4, capsize=2, linewidth=1.6)
    ax.axhline(0, color=INK, linewidth=0.8)
    ax.set_ylim(-100, 100)
    ax.set_yticks([-100, -50, 0, 50, 100])
    number_ticks(ax.yaxis, language)
    ax.set_title(TEXT[language]["nps_title"], fontsize=10, loc="left")
