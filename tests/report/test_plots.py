"""Plots are tested by what they draw: lines, points, bars, labels and notes (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from helpers.data.instrument import load_instrument  # noqa: E402
from helpers.report import figures, style  # noqa: E402
from helpers.report.account import plots

INST = load_instrument()
DIMS = INST.dimension_ids


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def summary(staff_n: int = 8, suppressed: bool = False) -> pd.DataFrame:
    rows = []
    for side, base, n in (("client", 3.5, 12), ("staff", 3.9, staff_n)):
        for i, d in enumerate(DIMS):
            m = base + 0.1 * i
            rows.append({"account_id": "A001", "wave": "2026Q3", "side": side, "dimension": d, "n": n,
                         "mean": np.nan if side == "staff" and suppressed else m,
                         "ci_low": np.nan if side == "staff" and suppressed else m - 0.3,
                         "ci_high": np.nan if side == "staff" and suppressed else m + 0.3,
                         "suppressed": side == "staff" and suppressed})
    return pd.DataFrame(rows)


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


# --- flame chart -------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "fi"])
def test_flame_chart_draws_both_sides_with_instrument_labels(language):
    ax = plots.flame_chart(summary(), language=language)
    assert ax.name == "polar" and ax.get_gid() == "flame-chart"
    assert len(ax.lines) == 2
    assert all(len(line.get_xdata()) == len(DIMS) + 1 for line in ax.lines)  # closed polygons
    assert [t.get_text() for t in ax.get_xticklabels()] == [INST.label(d, language) for d in DIMS]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].endswith("(n = 12)") and legend[1].endswith("(n = 8)")
    assert ax.get_ylim() == (INST.scale_min, INST.scale_max)
    assert not ax.texts  # no notes when everything is shown
    np.testing.assert_allclose(ax.lines[0].get_ydata()[:-1], summary().query("side == 'client'")["mean"])


def test_flame_chart_leaves_out_a_suppressed_side_with_a_note():
    ax = plots.flame_chart(summary(staff_n=3, suppressed=True))
    assert len(ax.lines) == 1
    assert to_hex(ax.lines[0].get_color()) == to_hex(style.CLIENT)
    assert any("Team view not shown" in t and "n = 3" in t for t in texts(ax))
    ax_fi = plots.flame_chart(summary(staff_n=3, suppressed=True), language="fi")
    assert any(t.startswith("Tiimi") and "alle 5" in t for t in texts(ax_fi))


def test_flame_chart_treats_suppressed_flag_as_absent_even_with_values():
    s = summary()
    s.loc[s["side"] == "staff", "suppressed"] = True  # values present but flagged: never drawn
    ax = plots.flame_chart(s)
    assert len(ax.lines) == 1


def test_flame_chart_uses_the_given_polar_axes_and_refuses_others():
    fig, ax = plt.subplots(subplot_kw={"projection": "polar"})
    assert plots.flame_chart(summary(), ax=ax) is ax
    _, flat = plt.subplots()
    with pytest.raises(ValueError, match="polar"):
        plots.flame_chart(summary(), ax=flat)
    two = pd.concat([summary(), summary().assign(account_id="A002")])
    with pytest.raises(ValueError, match="one account"):
        plots.flame_chart(two)
    with pytest.raises(ValueError, match="language"):
        plots.flame_chart(summary(), language="sv")


# --- dot plot --------------------------------------------------------------------------
def test_dot_plot_draws_means_and_intervals_per_side():
    ax = plots.dot_plot(summary(), language="fi")
    assert len(ax.containers) == 2
    client = ax.containers[0]
    np.testing.assert_allclose(client.lines[0].get_xdata(), summary().query("side == 'client'")["mean"])
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == sorted(INST.label(d, "fi") for d in DIMS)
    ypos = dict(zip(labels, ax.get_yticks()))
    assert ypos[INST.label(DIMS[0], "fi")] > ypos[INST.label(DIMS[-1], "fi")]  # first dimension on top


def test_dot_plot_hidden_side_and_hidden_dimension():
    ax = plots.dot_plot(summary(staff_n=2, suppressed=True))
    assert len(ax.containers) == 1 and any("Team view not shown" in t for t in texts(ax))
    s = summary()
    s.loc[(s["side"] == "staff") & (s["dimension"] == "care"), ["mean", "suppressed"]] = [np.nan, True]
    ax2 = plots.dot_plot(s)
    assert len(ax2.containers) == 2
    assert any("Care" in t and "not shown" in t for t in texts(ax2))


def test_dot_plot_names_each_gaps_reading_beside_its_row_in_its_colour():
    ax = plots.dot_plot(summary(), gaps=gaps_frame())
    readings = {t.get_text(): to_hex(t.get_color()) for t in ax.texts}
    assert readings["blind spot"] == to_hex(style.ATTENTION)
    assert readings["hidden strength"] == to_hex(style.CELEBRATE)
    assert readings["no clear gap"] == to_hex(style.NEUTRAL)
    assert len(readings) == 4  # nothing beside the dimension whose gap is hidden
    ticks = {t.get_text(): to_hex(t.get_color()) for t in ax.get_yticklabels()}
    assert ticks[INST.label("care")] == to_hex(style.ATTENTION)  # a clear gap also marks the dimension's name
    assert all(t.get_position()[0] > 1 for t in ax.texts)  # to the right of the plot, never on the data


def test_dot_plot_legend_sits_above_the_data():
    ax = plots.dot_plot(summary(), language="fi")
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Asiakas (n = 12)", "Tiimi (n = 8)"]
    ax.figure.canvas.draw()
    box = legend.get_window_extent().transformed(ax.transAxes.inverted())
    assert box.y0 >= 0.99  # outside the axes: a legend never covers a dot
    assert [to_hex(c.lines[0].get_color()) for c in ax.containers] == [to_hex(style.CLIENT), to_hex(style.TEAM)]
    assert ax.get_title(loc="left").startswith("Näin asiakas ja tiimi")


# --- gap plot ----------------------------------------------------------------------------
def gaps_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "account_id": "A001", "wave": "2026Q3", "dimension": DIMS,
        "n_staff": [8, 8, 8, 8, 8],
        "gap": [0.6, 0.1, np.nan, -0.2, -0.9], "ci_low": [0.2, -0.3, np.nan, -0.7, -1.3],
        "ci_high": [1.0, 0.5, np.nan, 0.3, -0.5],
        "label": ["hidden strength", "no clear gap", None, "aligned strong", "blind spot"],
        "evidence": ["clear", "unclear", "suppressed", "clear", "clear"],
        "suppressed": [False, False, True, False, False],
    })


def test_gap_plot_bars_colours_and_hidden_dimension():
    ax = plots.gap_plot(gaps_frame())
    assert len(ax.patches) == 4  # one bar per shown gap
    widths = sorted(p.get_width() for p in ax.patches)
    assert widths == pytest.approx(sorted([0.6, 0.1, -0.2, -0.9]))
    by_width = {round(p.get_width(), 3): to_hex(p.get_facecolor()) for p in ax.patches}
    assert by_width[-0.9] == to_hex(style.ATTENTION)  # the one colour of a blind spot on every page
    assert by_width[0.6] == to_hex(style.CELEBRATE)
    assert by_width[0.1] == to_hex(style.NEUTRAL)
    t = texts(ax)
    assert "hidden" in t and "blind spot" in t and "hidden strength" in t
    assert any("not shown where the client's or the team's view is hidden" in x for x in t)
    assert [x.get_text() for x in ax.get_yticklabels()] == [INST.label(d) for d in DIMS]


def test_gap_plot_possible_gap_lighter_and_untested_gap_said_so():
    g = gaps_frame()
    g.loc[1, ["label", "evidence", "gap", "ci_low", "ci_high"]] = ["possible blind spot", "possible", -0.5, -0.9, -0.1]
    g.loc[3, ["label", "evidence", "ci_low", "ci_high"]] = [None, "no test", np.nan, np.nan]
    ax = plots.gap_plot(g)
    bars = {round(p.get_width(), 3): p for p in ax.patches}
    assert to_hex(bars[-0.5].get_facecolor()) == to_hex(style.ATTENTION)
    assert bars[-0.5].get_alpha() < bars[-0.9].get_alpha()  # possible: the same colour, lighter
    assert to_hex(bars[-0.2].get_facecolor()) == to_hex(style.NEUTRAL)
    t = texts(ax)
    assert "possible blind spot" in t and "no test: answers all the same" in t


def test_gap_plot_never_draws_a_suppressed_value():
    g = gaps_frame()
    g.loc[2, ["gap", "ci_low", "ci_high"]] = [0.4, 0.1, 0.7]  # a value that should not be there
    ax = plots.gap_plot(g)
    assert len(ax.patches) == 4 and 0.4 not in [round(p.get_width(), 3) for p in ax.patches]


# --- trend -------------------------------------------------------------------------------
def trend_frames():
    waves = ["2025Q4", "2026Q1", "2026Q2"]
    dims = pd.DataFrame([{"wave": w, "side": side, "dimension": d, "mean": 3.5 + 0.1 * i + 0.05 * j,
                          "suppressed": side == "staff" and w == "2026Q1"}
                         for i, w in enumerate(waves) for side in ("client", "staff")
                         for j, d in enumerate(DIMS)])
    net = pd.DataFrame({"wave": waves * 2, "side": ["client"] * 3 + ["staff"] * 3,
                        "nps": [10.0, 20.0, -5.0, 50, 60, 70], "ci_low": [-20.0, -5, -30, 0, 0, 0],
                        "ci_high": [40.0, 45, 20, 90, 90, 90]})
    return dims, net


def panels(fig):
    return [ax for ax in fig.axes if ax.get_visible()]


def test_trend_plot_small_multiples_nps_first_then_one_panel_per_dimension():
    dims, net = trend_frames()
    fig = plots.trend_plot(dims, nps=net, language="fi")
    assert isinstance(fig, matplotlib.figure.Figure)
    shown = panels(fig)
    assert len(shown) == 1 + len(DIMS)
    assert [ax.get_title(loc="left") for ax in shown] == ["Asiakkaiden NPS", *[INST.label(d, "fi") for d in DIMS]]
    nps_ax = shown[0]
    assert len(nps_ax.containers) == 1
    np.testing.assert_allclose(nps_ax.containers[0].lines[0].get_ydata(), [10, 20, -5])  # client NPS only
    for ax in shown[1:]:
        assert len(ax.containers) == 2  # client and team
        colours = [to_hex(c.lines[0].get_color()) for c in ax.containers]
        assert colours == [to_hex(style.CLIENT), to_hex(style.TEAM)]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["2025Q4", "2026Q1", "2026Q2"]
        assert ax.get_legend() is None  # the side names are in one legend above the panels, not on the data
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["Asiakas", "Tiimi"]


def test_trend_plot_blanks_suppressed_waves_of_the_team_and_says_why():
    dims, _ = trend_frames()
    fig = plots.trend_plot(dims)
    for ax in panels(fig):
        client, team = ax.containers
        y = np.asarray(team.lines[0].get_ydata(), dtype=float)
        assert np.isnan(y[1]) and np.isfinite(y[[0, 2]]).all()
        assert np.isfinite(np.asarray(client.lines[0].get_ydata(), dtype=float)).all()
    assert any("too few answers" in t.get_text() for t in fig.texts)


def test_trend_plot_draws_each_waves_interval():
    dims, _ = trend_frames()
    dims = dims.assign(ci_low=dims["mean"] - 0.3, ci_high=dims["mean"] + 0.3)
    first = panels(plots.trend_plot(dims, sides=("client",)))[0].containers[0]
    assert first.has_yerr
    segments = first.lines[2][0].get_segments()  # one vertical interval per wave
    assert len(segments) == 3 and all(abs(seg[1][1] - seg[0][1] - 0.6) < 1e-9 for seg in segments)


def test_trend_plot_orders_waves_naturally_not_by_text():
    tr = pd.DataFrame({"wave": ["W10", "W9", "W11"], "side": "client", "dimension": DIMS[0], "mean": [3.0, 2.5, 3.5]})
    ax = panels(plots.trend_plot(tr))[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W9", "W10", "W11"]
    np.testing.assert_allclose(ax.containers[0].lines[0].get_ydata(), [2.5, 3.0, 3.5])


def test_tick_labels_speak_the_page_language():
    """Finnish ticks have a decimal comma and every page a real minus sign (the tables' format)."""
    dims, net = trend_frames()
    fig = plots.trend_plot(dims, nps=net, language="fi")
    fig.canvas.draw()
    assert "\u2212100" in [t.get_text() for t in panels(fig)[0].get_yticklabels()]
    gap_ax = plots.gap_plot(gaps_frame(), language="fi")
    gap_ax.figure.canvas.draw()
    ticks = [t.get_text() for t in gap_ax.get_xticklabels()]
    assert any("," in t for t in ticks) and not any("." in t for t in ticks)
    assert any(t.startswith("\u2212") for t in ticks) and not any(t.startswith("-") for t in ticks)


# --- embedding ---------------------------------------------------------------------------
def test_to_image_sets_alt_text_and_closes_the_figure():
    ax = plots.flame_chart(summary())
    img = figures.to_image(ax, alt="flame chart: test")
    assert img.data[:8] == b"\x89PNG\r\n\x1a\n"
    data, md = img._repr_png_()
    assert md == {"alt": "flame chart: test"}  # the output's image/png metadata; nbconvert writes it as alt
    assert not plt.get_fignums()


def test_plots_never_call_show(monkeypatch):
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("plt.show() called"))
    dims, net = trend_frames()
    plots.flame_chart(summary())
    plots.dot_plot(summary())
    plots.gap_plot(gaps_frame())
    plots.trend_plot(dims, nps=net)
    plots.dot_plot(summary(), gaps=gaps_frame())
