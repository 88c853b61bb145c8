"""The account page's tables for people: the gaps at a glance, the comments, the analysts' tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data.instrument import load_instrument, tag_frame
from helpers.report.account import display, report_data, tables
from helpers.stats import gaps as gp

WAVE = "2026Q3"
INST = load_instrument()
DIMS = INST.dimension_ids


@pytest.fixture(scope="module")
def a001(sample_store):
    return report_data.account_report_data("A001", WAVE, store=sample_store)


def view_frame(team_n=(8, 8, 8, 8, 8), team_hidden=()) -> pd.DataFrame:
    rows = []
    for side, base, ns in (("client", 3.5, (12,) * 5), ("staff", 4.0, team_n)):
        for i, (d, n) in enumerate(zip(DIMS, ns)):
            hide = side == "staff" and d in team_hidden
            m = np.nan if hide else base + 0.1 * i
            rows.append({"side": side, "dimension": d, "n": n, "mean": m, "ci_low": m - 0.3, "ci_high": m + 0.3,
                         "suppressed": hide})
    return tag_frame(pd.DataFrame(rows), INST)


def gaps_frame(hidden=()) -> pd.DataFrame:
    g = pd.DataFrame({"dimension": DIMS, "gap": [-0.5, -0.5, -0.5, -0.5, -1.04],
                      "ci_low": [-0.9, -0.9, -0.9, -0.9, -1.4], "ci_high": [-0.1, -0.1, -0.1, -0.1, -0.7],
                      "label": [gp.POSSIBLE_BLIND_SPOT] * 4 + [gp.BLIND_SPOT], "evidence": [gp.POSSIBLE] * 4 + [gp.CLEAR],
                      "suppressed": [d in hidden for d in DIMS], "n_client": 12, "client_mean": 3.5})
    g.loc[g["suppressed"], ["gap", "ci_low", "ci_high", "label"]] = [np.nan, np.nan, np.nan, None]
    g.loc[g["suppressed"], "evidence"] = gp.SUPPRESSED
    return tag_frame(g, INST)


# --- the gaps at a glance ------------------------------------------------------------------------
def test_perception_table_one_row_per_dimension_with_n_and_interval():
    t = tables.perception_table(view_frame(), gaps_frame())
    assert list(t.frame.columns) == ["Dimension", "Client (n = 12)", "Team (n = 8)", "Gap (client − team)", "Reading"]
    care = t.frame.set_index("Dimension").loc["Care"]
    assert care["Client (n = 12)"] == "3.9 (3.6 to 4.2)" and care["Team (n = 8)"] == "4.4 (4.1 to 4.7)"
    assert care["Gap (client − team)"] == "−1.0 (−1.4 to −0.7)" and care["Reading"] == "blind spot"
    assert t.numeric == ["Client (n = 12)", "Team (n = 8)", "Gap (client − team)"]  # numbers right, words left
    html = t.to_html()
    assert 'class="fk-num" style="text-align: right; white-space: nowrap">−1.0 (−1.4 to −0.7)</td>' in html


def test_perception_table_in_finnish_and_with_hidden_results():
    t = tables.perception_table(view_frame(team_n=(8, 8, 8, 8, 3), team_hidden=("care",)), gaps_frame(("care",)),
                                language="fi")
    assert list(t.frame.columns) == ["Ulottuvuus", "Asiakas (n = 12)", "Tiimi (n = 8)", "Ero (asiakas − tiimi)",
                                     "Tulkinta"]  # n of the shown results
    care = t.frame.set_index("Ulottuvuus").loc["Välittäminen"]
    assert care["Tiimi (n = 8)"] == "–" and care["Ero (asiakas − tiimi)"] == "–"
    assert care["Tulkinta"] == "piilotettu (liian vähän vastauksia näytettäväksi)"
    dare = t.frame.set_index("Ulottuvuus").loc["Uskallus"]
    assert dare["Tiimi (n = 8)"] == "4,1 (3,8…4,4)" and dare["Ero (asiakas − tiimi)"] == "−0,5 (−0,9…−0,1)"


def test_perception_table_gives_n_per_cell_when_the_dimensions_differ():
    t = tables.perception_table(view_frame(team_n=(8, 8, 7, 8, 8)), gaps_frame())
    assert list(t.frame.columns)[2] == "Team"  # no single n to put in the header
    team = t.frame.set_index("Dimension")["Team"]
    assert team["Professionalism"] == "4.2 (3.9 to 4.5), n = 7" and team["Care"] == "4.4 (4.1 to 4.7), n = 8"


def test_no_gap_at_all_is_one_line_not_a_table_of_dashes():
    hidden = display.perception_gaps(view_frame(team_hidden=DIMS), gaps_frame(DIMS))
    assert hidden.data.startswith("- *No gap can be shown: the client's or the team's view is hidden")
    shown = display.perception_gaps(view_frame(), gaps_frame(), language="fi")
    assert isinstance(shown, tables.PeopleTable)


# --- comments -------------------------------------------------------------------------------------
def test_client_comments_in_one_table_improve_first(a001):
    voice = a001["comments"]
    t = display.comment_list(voice, "clients")
    assert list(t.frame.columns) == ["Category", "Score (0–10)", "Comment"]  # every role hidden: no role column
    categories = t.frame["Category"].tolist()
    n_improve = len(voice["improve"])
    assert categories == ["to improve"] * n_improve + ["to celebrate"] * len(voice["celebrate"])
    scores = [int(s) for s in t.frame["Score (0–10)"]]
    assert scores[:n_improve] == sorted(scores[:n_improve])  # lowest score first
    assert scores[n_improve:] == sorted(scores[n_improve:], reverse=True)  # highest first
    assert t.caption.startswith("A client's role is shown as “–”")
    html = t.to_html()
    assert '<td class="fk-text fk-data" dir="auto"' in html and "<script>" not in html


def test_comment_roles_are_shown_when_every_role_group_is_large_enough(sample_store):
    voice = report_data.account_report_data("A014", WAVE, store=sample_store, language="fi")["comments"]
    t = display.comment_list(voice, "clients", language="fi")
    assert list(t.frame.columns) == ["Luokka", "Pisteet (0–10)", "Rooli", "Kommentti"]
    assert set(t.frame["Rooli"]) <= {"päättäjä", "käyttäjä"} and t.caption is None


def test_voice_summary_counts_for_the_meeting(a001):
    voice = a001["comments"]
    md = display.voice_summary(voice).data
    assert md == (f"Comments to improve: {len(voice['improve'])}; to celebrate: {len(voice['celebrate'])}. "
                  f"Detractors to follow up (score 0–6): {len(voice['detractors'])} (1 without a comment).")
    few = {**voice, "scores_shown": False}
    assert display.voice_summary(few) is None


# --- the appendix ------------------------------------------------------------------------------------
def test_appendix_tables_have_headers_in_the_page_language(a001):
    for table, words in ((tables.view_table(a001["view_360"], language="fi"), "Yksimielisyys r_wg"),
                         (tables.gaps_table(a001["gaps"], language="fi"), "Hedgesin g"),
                         (tables.nps_table(a001["trend"]["nps"], language="fi"), "Kierros"),
                         (tables.benchmark_table(a001["benchmark"], language="fi"), "Persentiili")):
        assert words in table.frame.columns
        assert not [c for c in table.frame.columns if "_" in c and c != "Yksimielisyys r_wg"]
    gaps = tables.gaps_table(a001["gaps"], language="fi").frame
    assert gaps["p (BH)"].str.fullmatch(r"\d,\d{3}|< 0,001").all()
    assert tables.nps_changes_table(a001["trend"]["changes"]) is None  # no two published waves in a row


def test_wave_labels_in_tables_are_data(sample_store):
    trend = report_data.account_report_data("A002", WAVE, store=sample_store)["trend"]
    html = tables.nps_changes_table(trend["changes"]).to_html()
    assert '<td class="fk-text fk-data" dir="auto" style="text-align: left">2026Q2</td>' in html
