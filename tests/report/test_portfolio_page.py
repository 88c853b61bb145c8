"""The portfolio page for people: which accounts a chart draws, words with names as data, the band, the sections.

Small hand-checkable frames for the helpers; the sections on the sample store in both languages.
"""

from __future__ import annotations

import html
import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers.report import style
from helpers.report.band import SummaryBand, Tile
from helpers.report.portfolio import attention, display, plots, select, summary
from helpers.report.portfolio import appendix, sections
from helpers.report.portfolio.setup import Portfolio, _names, portfolio_setup
from language import other_language_words, page_text


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ---------------------------------------------------------------------------
# Which accounts a chart draws
# ---------------------------------------------------------------------------
def _accounts(n: int, *, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    nps = rng.uniform(-90, 90, n).round(1)
    clear = np.abs(nps) > 70
    return pd.DataFrame({"account_id": [f"A{i:03d}" for i in range(n)], "nps": nps, "clear": clear})


def test_chart_accounts_takes_the_flagged_then_the_named_then_the_extremes():
    d = pd.DataFrame({"account_id": list("ABCDEFG"), "nps": [-50, 10, 0, 40, 90, 5, np.nan],
                      "clear": [True, False, False, False, False, False, True]})
    assert select.chart_accounts(d, score="nps", flagged="clear", cap=3) == ["A", "C", "E"]
    # a named account comes before the extremes; G has no NPS and is never drawn
    assert select.chart_accounts(d, score="nps", flagged="clear", also=["F", "G"], cap=3) == ["A", "F", "E"]
    assert select.chart_accounts(d, score="nps", cap=10) == ["A", "C", "F", "B", "D", "E"]  # sorted, all six
    assert select.chart_accounts(d, score="nps", cap=2, ascending=False) == ["E", "A"]
    assert select.chart_accounts(d, score="nps", cap=0) == []


def test_chart_accounts_keeps_the_clearest_when_flagged_accounts_exceed_the_cap():
    d = _accounts(300)
    picked = select.chart_accounts(d, score="nps", flagged="clear", cap=25)
    assert len(picked) == 25 and d["clear"].sum() > 25
    furthest = d[d["clear"]].assign(far=lambda x: x["nps"].abs()).nlargest(25, "far")["account_id"]
    assert set(picked) == set(furthest)
    assert d.set_index("account_id").loc[picked, "nps"].is_monotonic_increasing


def test_charts_of_a_large_portfolio_draw_at_most_the_cap():
    """300 accounts: the NPS chart and the heatmap draw at most MAX_ROWS rows, however many accounts there are."""
    from helpers.stats import comparisons

    d = _accounts(300)
    table = d.assign(n=12, ci_low=d["nps"] - 20, ci_high=d["nps"] + 20,
                     direction=np.where(d["clear"], np.where(d["nps"] > 0, "above", "below"), ""))
    rows = select.chart_accounts(table, score="nps", flagged="clear")
    ax = plots.plot_nps_distribution(table, rows=rows, portfolio=0.0)
    assert len(ax.get_yticklabels()) == select.MAX_ROWS == 25
    rng = np.random.default_rng(2)
    scores = pd.DataFrame([{"response_id": f"{a}-{i}", "account_id": a, "side": "client", "wave": "W",
                            "dimension": dim, "score": float(np.clip(rng.normal(3.5 + (k % 7 - 3) / 4, 0.6), 1, 5))}
                           for k, a in enumerate(d["account_id"]) for i in range(6)
                           for dim in ("impact", "care")])
    heat = comparisons.dimension_heatmap(scores)
    per = select.account_summary(heat, value="diff")
    assert len(per) == 300
    picked = select.chart_accounts(per, score="mean", flagged="clear", cap=20)
    ax = plots.plot_heatmap(heat, rows=picked)
    assert len(ax.get_yticklabels()) == 20 and len(ax.texts) == 40


def test_account_summary_counts_clear_cells_by_direction():
    t = pd.DataFrame({"account_id": ["A", "A", "B", "B"], "diff": [-0.6, 0.2, 0.5, np.nan],
                      "significant": [True, False, True, False]})
    s = select.account_summary(t, value="diff").set_index("account_id")
    assert s.loc["A", "mean"] == pytest.approx(-0.2) and s.loc["A", "low"] == pytest.approx(-0.6)
    assert s["clear"].tolist() == [True, True] and s["n_clear"].tolist() == [1, 1]
    below = select.account_summary(t, value="diff", direction="below").set_index("account_id")
    assert below["clear"].tolist() == [True, False]


# ---------------------------------------------------------------------------
# Words with names as data
# ---------------------------------------------------------------------------
def test_words_with_names_isolate_and_escape_names():
    out = display.words_with_names("portfolio.band.first", "en",
                                   names={"names": ["Metsä & Meri", "<script>alert(1)</script>"]})
    assert out == ("First on the list: <bdi>Metsä &amp; Meri</bdi>, "
                   "<bdi>&lt;script&gt;alert(1)&lt;/script&gt;</bdi>.")
    assert "<script" not in out
    # plain fields are escaped too; Html fields are kept
    assert display.words_with_names("portfolio.band.movers", "en", previous="<b>", moves=display.Html("<bdi>x</bdi>")) \
        == "Largest NPS moves since &lt;b&gt;: <bdi>x</bdi>."
    # the language check leaves names out
    assert other_language_words(page_text(f"<p>{out}</p>"), "en") == []


def test_band_with_findings_puts_the_findings_inside_the_band():
    band = SummaryBand(tiles=[Tile("Client NPS", "+4")], focus="Next: <call>")
    page = display.band_with_findings(band, ["First: <bdi>A &amp; B</bdi>", ""]).fragment
    assert page.startswith('<div class="fk-band">') and page.endswith("</div>")
    assert page.index('<ul class="fk-findings"><li>First: <bdi>A &amp; B</bdi></li></ul>') < page.index("fk-focus")
    assert "Next: &lt;call&gt;" in page
    with pytest.raises(ValueError, match="without sentences"):
        display.band_with_findings(SummaryBand(tiles=[], sentences=["x"]), ["y"])


def test_details_and_chart_image():
    d = display.details("All <3> accounts", display.Html("<p>x</p>")).fragment
    assert d == "<details><summary>All &lt;3&gt; accounts</summary><p>x</p></details>"
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.imshow(np.random.default_rng(0).random((20, 20)), cmap=style.diverging_cmap())
    img = display.chart_image(ax, alt="a chart")
    assert img.data[:8] == b"\x89PNG\r\n\x1a\n" and img._data_and_metadata()[1] == {"alt": "a chart"}
    assert not plt.get_fignums()  # closed


def test_names_carry_the_id_only_when_two_accounts_share_a_name():
    acc = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "name": ["Oy X", "Oy X", "Ab Y"]})
    assert _names(acc) == {"A1": "Oy X (A1)", "A2": "Oy X (A2)", "A3": "Ab Y"}


# ---------------------------------------------------------------------------
# Who needs attention and why
# ---------------------------------------------------------------------------
SIGNS = pd.DataFrame({
    "account_id": ["B", "B", "C", "D"],
    "sign": ["nps below", "dimension below", "blind spot", "nps fall"],
    "dimension": [None, "care", "impact", None],
    "value": [-31.0, -0.64, -0.8, -25.0],
    "text": ["t1", "t2", "t3", "t4"],
})
AT_RISK = pd.DataFrame({"account_id": ["D", "A", "B"], "name": ["D", "A", "B"], "risk_rank": [1, 2, 3],
                        "nps": [-10.0, 5.0, -40.0], "nps_change": [-25.0, 0.0, np.nan]})


def test_needs_attention_keeps_the_lists_order_and_says_why():
    att = attention.needs_attention(AT_RISK, SIGNS, previous="2026Q2")
    assert att["account_id"].tolist() == ["D", "B"]  # C is not on the at-risk list (renewal decided)
    assert att.set_index("account_id").loc["B", "reasons"] == \
        "Below the rest of the portfolio (difference): NPS −31, Care −0.6"
    assert att.set_index("account_id").loc["D", "reasons"] == "NPS down 25 points since 2026Q2"
    assert attention.reason_counts(att) == {"blind spot": 0, "nps below": 1, "dimension below": 1, "nps fall": 1}
    fi = attention.needs_attention(AT_RISK, SIGNS, language="fi", previous="2026Q2").set_index("account_id")
    assert fi.loc["B", "reasons"] == "Muuta salkkua heikompi (ero): NPS −31, Välittäminen −0,6"
    assert attention.needs_attention(AT_RISK, SIGNS.iloc[0:0]).empty


def test_reasons_and_evidence_in_one_line():
    assert attention.reasons_text(SIGNS).loc["C"] == "Clear blind spot (client − team): Impact −0.8"
    ev = pd.DataFrame({"account_id": ["A", "A", "A"], "evidence": ["NPS up", "NPS above portfolio",
                                                                   "score above portfolio"],
                       "dimension": ["nps", None, "dare"], "estimate": [34.0, 65.2, 0.94]})
    assert attention.evidence_text(ev, previous="2026Q2").loc["A"] == (
        "Up since 2026Q2 (change): NPS +34; above the rest of the portfolio (difference): NPS +65, Dare +0.9")


def test_portfolio_list_puts_attention_first_then_the_rule():
    accounts = pd.DataFrame({"account_id": list("ABCDE"), "name": list("ABCDE"),
                             "status": ["active", "active", "renewed", "active", "churned"],
                             "renewal_date": ["2027-01-01"] * 5})
    nps = pd.DataFrame({"account_id": list("ABCDE"), "n": [10, 12, 8, 9, 3]})
    current = pd.DataFrame({"account_id": list("ABCDE"), "nps": [5.0, -40.0, -50.0, -10.0, np.nan],
                            "nps_change": [0.0, np.nan, np.nan, -25.0, np.nan]})
    out = attention.portfolio_list(accounts, account_nps=nps, current=current, signs=SIGNS, at_risk=AT_RISK,
                                   celebrated=["A"], n_staff=pd.Series({"A": 6}))
    assert out["account_id"].tolist() == ["D", "B", "C", "A", "E"]
    assert out["attention"].tolist() == [True, True, False, False, False]
    assert out.set_index("account_id").loc["A", "celebrated"] and out["n_staff"].tolist() == [0, 0, 0, 6, 0]
    assert out["n_client"].dtype.kind == "i"


def test_movers_are_the_largest_rises_and_falls():
    ch = pd.DataFrame({"account_id": list("ABCDE"), "change": [30.0, -40.0, 5.0, -2.0, np.nan],
                       "significant": [False, True, False, False, False], "n_from": 9, "n_to": 10})
    m = summary.movers(ch, top=1)
    assert m["account_id"].tolist() == ["A", "B"] and m["direction"].tolist() == ["up", "down"]
    assert summary.movers(ch.iloc[0:0]).empty


# ---------------------------------------------------------------------------
# Charts: names, colours, locale
# ---------------------------------------------------------------------------
def test_nps_chart_uses_names_house_colours_locale_and_a_legend_outside_the_data():
    from matplotlib.colors import to_hex

    table = pd.DataFrame({"account_id": ["A1", "A2", "A3"], "n": [10, 12, 9], "nps": [-50.5, 10.0, 60.0],
                          "ci_low": [-80, -20, 30], "ci_high": [-20, 40, 85],
                          "direction": ["below", "", "above"]})
    names = {"A1": "Metsä & Meri", "A2": "Oy B", "A3": "Ab C"}
    ax = plots.plot_nps_distribution(table, names=names, portfolio=4.2, language="fi", title="t")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Metsä & Meri (n=10)", "Oy B (n=12)", "Ab C (n=9)"]
    colours = {to_hex(c.lines[0].get_color()).upper() for c in ax.containers}
    assert colours == {style.ATTENTION, style.CELEBRATE, style.NEUTRAL}
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "−50" in ticks and "-50" not in ticks
    assert any(t.get_text() == " salkku +4" for t in ax.texts)  # the portfolio line, labelled on the line
    legend = ax.get_legend().get_window_extent()
    assert legend.y1 < ax.get_window_extent().y0  # below the axes: it never covers a point


def test_heatmap_and_trend_by_locale_with_the_house_colours():
    from helpers.stats import comparisons

    rows = [{"response_id": f"{a}-{i}", "account_id": a, "side": "client", "wave": "W", "dimension": "care",
             "score": v} for a, vals in {"A": [5, 5, 4, 5, 5, 5], "B": [3, 3, 4, 3, 3, 4],
                                          "C": [3, 4, 3, 3, 4, 3]}.items() for i, v in enumerate(vals)]
    heat = comparisons.dimension_heatmap(pd.DataFrame(rows))
    ax = plots.plot_heatmap(heat, rows=["B", "A"], names={"A": "Alpha", "B": "Beta"}, language="fi")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Beta", "Alpha"]
    assert ax.images[0].get_cmap().name == "flamekit"
    assert "4,8 (n=6)" in [t.get_text() for t in ax.texts]
    trend = pd.DataFrame({"wave": ["W1", "W2"], "n": [1200, 1100], "nps": [-3.4, 5.0], "cluster_low": [-9, -1],
                          "cluster_high": [2, 11]})
    ax = plots.plot_nps_trend(trend, language="fi")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["W1\nn = 1\u00a0200", "W2\nn = 1\u00a0100"]
    assert [t.get_text() for t in ax.texts] == ["−3", "+5"]
    from matplotlib.colors import to_hex

    assert to_hex(ax.lines[0].get_color()).upper() == style.SIDE_COLORS["client"]


# ---------------------------------------------------------------------------
# The page's blocks on the sample store, in both languages
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module", params=["en", "fi"])
def page(request, sample_store) -> Portfolio:
    return portfolio_setup(wave="2026Q3", store=str(sample_store), language=request.param)


def _html(obj) -> str:
    if hasattr(obj, "_repr_html_"):
        return obj._repr_html_()
    if hasattr(obj, "data") and isinstance(obj.data, str):  # Markdown
        return obj.data
    return ""


BODY = [sections.title, summary.summary_band, sections.nps_words, sections.attention_words, sections.attention_table,
        sections.full_list, sections.scores_words, sections.gaps_words, sections.celebrate_words,
        sections.celebrate_table, sections.trend_words]
APPENDIX = [appendix.headline_table, appendix.scores_table, appendix.gaps_table, appendix.nps_table,
            appendix.trend_table, appendix.risk_table, appendix.risk_notes, appendix.evidence_table, appendix.methods,
            appendix.provenance_table]
TEST_NAMES = re.compile(r"Welch|Benjamini|Hochberg|Hedges|DeLong|adjusted Wald|korjattu Wald|AUC|p \(BH")


def test_every_block_speaks_the_pages_language_only(page):
    text = page_text("".join(_html(f(page)) for f in [*BODY, *APPENDIX]))
    assert other_language_words(text, page.language) == []
    assert "True" not in text and "False" not in text and "nan" not in text.split()


def test_the_body_names_no_test_and_the_appendix_is_complete(page):
    body = page_text("".join(_html(f(page)) for f in BODY))
    assert not TEST_NAMES.search(body), TEST_NAMES.search(body)
    analysts = page_text("".join(_html(f(page)) for f in APPENDIX))
    for name in ("Welch", "Benjamini–Hochberg", "Hedges", "DeLong", "AUC"):
        assert name in analysts, name


def test_the_band_opens_with_nps_attention_movers_and_cheers(page):
    band = summary.summary_band(page).fragment
    tiles = re.findall(r'<div class="fk-tile-label">([^<]+)</div><div class="fk-tile-value">([^<]+)</div>', band)
    assert len(tiles) == 5
    label, value = tiles[0]
    row = page.trend.set_index("wave").loc["2026Q3"]
    assert value == ("+" if row["nps"] > 0 else "") + str(int(round(row["nps"])))
    # the change since 2026Q2 is not clear in the sample: no arrow up or down
    assert 'fk-tile-change fk-flat' in band and not (row["change_low"] > 0 or row["change_high"] < 0)
    n_attention = len(attention.needs_attention(page.at_risk, page.signs))
    assert tiles[1][1] == str(n_attention)
    findings = re.findall(r"<li>(.*?)</li>", band)
    assert len(findings) == 4
    assert all(f"<bdi>{html.escape(page.name(a), quote=False)}</bdi>" in band for a in page.cheers["account_id"])
    assert ("2026Q2" in findings[2]) and ("n = " in findings[2])


def test_tables_for_people_have_headers_in_words_and_whole_counts(page):
    for f in (sections.attention_table, sections.full_list, appendix.nps_table, appendix.risk_table):
        out = _html(f(page))
        headers = re.findall(r"<th[^>]*>([^<]*)</th>", out)
        assert headers and not [h for h in headers if re.search(r"[a-z]_[a-z]", h)], headers
        assert not re.search(r">\d+\.0<", out)  # counts as whole numbers
    full = _html(sections.full_list(page))
    assert full.startswith("<details>") and full.count("<tr>") == len(page.accounts) + 1


def test_held_back_figures_stay_out_of_the_body(page):
    """An NPS held back (too few answers or differencing) is never drawn or listed with a number."""
    hidden = page.account_nps.loc[page.account_nps["nps"].isna(), "account_id"]
    assert len(hidden)
    assert not set(hidden) & set(sections._nps_rows(page))
    full = attention.portfolio_list(page.accounts, account_nps=page.account_nps, current=page.current,
                                    signs=page.signs, at_risk=page.at_risk)
    assert full.set_index("account_id").loc[list(hidden), "nps"].isna().all()
