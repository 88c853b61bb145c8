"""The explore notebook's views on the sample store: labelled, in one language, and hiding what the reports hide."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from helpers.report import explore as ex
from helpers.report.explore.html import as_html
from language import other_language_words, page_text


@pytest.fixture(scope="module")
def explorers(sample_store):
    return {lang: ex.Explorer(store=sample_store, language=lang) for lang in ("en", "fi")}


VIEWS = [ex.glance_band, ex.nps_chart, ex.accounts_table, ex.dimensions_table, ex.account_band, ex.account_chart,
         ex.account_table, ex.analyst_nps, ex.analyst_gaps, ex.analyst_agreement, ex.analyst_reliability]


@pytest.mark.parametrize("language", ["en", "fi"])
def test_every_view_speaks_one_language_with_labels_not_identifiers(explorers, language):
    explorer = explorers[language]
    selection = explorer.select(segment="Energy")
    for view in VIEWS:
        html = as_html(view(explorer, selection))
        text = page_text(html)
        assert not other_language_words(text, language), (view.__name__, other_language_words(text, language))
        headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
        assert not [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z]+)+", h)], (view.__name__, headers)
        assert not re.search(r">(True|False|nan|None)<", html), view.__name__
        assert "dtype" not in html and "Name:" not in html
        for img in re.findall(r"<img [^>]*>", html):
            assert re.search(r'alt="[^"]{20,}"', img), view.__name__
    means = re.findall(r'<td class="fk-num"[^>]*>([^<]*)<', as_html(ex.dimensions_table(explorer, selection)))
    assert means and all(re.fullmatch(r"\d,\d\d" if language == "fi" else r"\d\.\d\d", m) for m in means[::2])


def test_the_default_account_is_the_lowest_client_nps_shown(explorers):
    explorer = explorers["en"]
    sel = explorer.select()
    rows = ex.selection_rows(explorer, sel)
    assert sel.account_why == "lowest_nps" and sel.account_id == rows.loc[rows["nps"].notna(), "account_id"].iloc[0]
    assert len(sel.accounts) == len(explorer.accounts)


def test_bad_choices_are_named(explorers):
    explorer = explorers["en"]
    with pytest.raises(ValueError, match="wave '1999Q1' is not in the store"):
        explorer.select(wave="1999Q1")
    with pytest.raises(ValueError, match="segment 'Energi'"):
        explorer.select(segment="Energi")
    acc = explorer.accounts
    outsider = acc.loc[acc["segment"] != "Energy", "account_id"].iloc[0]
    with pytest.raises(ValueError, match=f"account_id '{outsider}' is not in the selection"):
        explorer.select(segment="Energy", account_id=outsider)
    pairs = set(zip(acc["segment"], acc["owner"]))
    lonely = next((s, o) for s in acc["segment"].unique() for o in acc["owner"].unique() if (s, o) not in pairs)
    with pytest.raises(ValueError, match="an owner of any account in segment"):
        explorer.select(segment=lonely[0], owner=lonely[1])


def test_an_account_the_reports_hide_is_hidden_here_too(explorers):
    explorer = explorers["en"]
    sel = explorer.select()
    data = explorer.wave_data(sel.wave)
    hidden = data.account_nps[data.account_nps["nps"].isna() & (data.account_nps["n"] > 0)]
    assert len(hidden)  # the sample has accounts with too few client answers
    victim = hidden["account_id"].iloc[0]
    name = explorer.name(victim)
    rows = ex.selection_rows(explorer, sel).set_index("account_id")
    assert np.isnan(rows.loc[victim, "nps"]) and rows.loc[victim, "hidden"] in ("few", "difference")
    # its NPS from the raw answers never appears; its name is not in the NPS chart's labels
    raw = data.responses[(data.responses["account_id"] == victim) & (data.responses["wave"] == sel.wave)
                         & (data.responses["side"] == "client")]
    shown = ex.selection_rows(explorer, sel)
    plotted = ex.plot_account_nps(shown[shown["nps"].notna()], language="en", wave=sel.wave, most=200)
    assert name not in [t.get_text() for t in plotted.get_yticklabels()]
    plt.close(plotted.figure)
    table = ex.accounts_table(explorer, sel).fragment
    row = next(r for r in table.split("<tr>") if f">{name}<" in r)
    assert "not shown" in row or "held back" in row
    assert re.findall(r'class="fk-num"[^>]*>([^<]*)<', row)[2] == "–"
    # a selection of only that account pools nothing: no NPS figure at all
    only = ex.Selection(wave=sel.wave, accounts=(victim,), account_id=victim, account_why="given")
    band = as_html(ex.glance_band(explorer, only))
    assert len(raw) > 0 and 'fk-tile-value">–<' in band


def test_the_pooled_nps_counts_only_shown_accounts(explorers):
    explorer = explorers["en"]
    sel = explorer.select()
    data = explorer.wave_data(sel.wave)
    pooled = ex.selection_nps(data.responses, data.decisions, accounts=sel.accounts, wave=sel.wave, n_boot=0)
    shown = data.account_nps[data.account_nps["nps"].notna()]
    assert pooled["n"] == shown["n"].sum() and pooled["n_accounts"] == len(shown)
    assert pooled["n_selection"] > pooled["n_accounts"]


def test_plots_draw_the_accounts_and_sides_with_locale_ticks():
    rows = pd.DataFrame({"name": [f"Account {i}" for i in range(30)], "nps": np.linspace(-60, 80, 30),
                         "ci_low": np.linspace(-90, 50, 30), "ci_high": np.linspace(-20, 100, 30)})
    ax = ex.plot_account_nps(rows, language="fi", wave="2026Q3", reference=12.0, most=20)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(ax.containers) == 1 and len(labels) == 20 and labels[0] == "Account 0" and labels[-1] == "Account 29"
    assert "10 matalinta ja 10 korkeinta" in ax.get_title(loc="left")
    ax.figure.canvas.draw()
    ticks = [t.get_text() for t in ax.get_xticklabels()]
    assert "\u221250" in ticks and "-50" not in ticks
    plt.close(ax.figure)
    view = pd.DataFrame({"side": ["client"] * 2 + ["staff"] * 2, "dimension": ["care", "dare"] * 2,
                         "mean": [3.4, 3.9, 4.1, 4.0], "ci_low": [3.1, 3.5, 3.8, 3.6],
                         "ci_high": [3.7, 4.3, 4.4, 4.4]})
    ax = ex.plot_client_team(view, language="fi", title="Otsikko")
    ax.figure.canvas.draw()
    assert len(ax.containers) == 2 and [t.get_text() for t in ax.get_yticklabels()] == ["Uskallus", "Välittäminen"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Asiakas", "Tiimi"]
    assert any("," in t.get_text() for t in ax.get_xticklabels())
    assert [c.lines[0].get_color().lower() for c in ax.containers] == ["#d55e00", "#0072b2"]
    plt.close(ax.figure)


def test_the_account_table_fits_a_page_and_gives_the_answers_under_it(explorers):
    for language, note in (("en", r"Each mean is from \d+(–\d+)? client answers and \d+(–\d+)? team answers"),
                           ("fi", r"Keskiarvot perustuvat \d+(–\d+)? asiakkaan ja \d+(–\d+)? tiimin jäsenen")):
        explorer = explorers[language]
        sel = explorer.select()
        html = as_html(ex.account_table(explorer, sel))
        headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
        assert len(headers) == 7, headers  # dimension, two means with intervals, gap, reading
        assert re.search(note, page_text(html))
        head = explorer.account_view(sel.account_id, sel.wave).headline
        assert f"{head['n_client']} " in page_text(html).split(".")[-2]
