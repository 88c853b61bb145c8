"""The account report's opening: overall scores, the summary band and the headline JSON for the index."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from helpers.data import store as st
from helpers.data.disclosure import DIFFERENCE
from helpers.report.account import band, display, load, overall, report_data
from helpers.stats.scores import respondent_scores

WAVE = "2026Q3"


@pytest.fixture(scope="module")
def opening(sample_store):
    """(account, report data, band) of an account in a language, computed once per module."""
    cache = {}

    def get(account_id: str, language: str = "en"):
        if (account_id, language) not in cache:
            data = report_data.account_report_data(account_id, WAVE, store=sample_store, language=language)
            account = load.load_account(account_id, WAVE, store=sample_store, language=language)
            summary_band = band.summary_band(account, headline=data["headline"], gaps=data["gaps"],
                                             overall=data["overall"], meeting=data["next_meeting"],
                                             voice=data["comments"])
            cache[(account_id, language)] = account, data, summary_band
        return cache[(account_id, language)]

    return get


def tiles(summary_band) -> dict:
    return {t.label: t for t in summary_band.tiles}


# --- the overall score -------------------------------------------------------------------
def test_respondent_overall_by_hand():
    sc = pd.DataFrame({"response_id": ["r1", "r1", "r2", "r3", "r3"], "side": "client", "wave": "W1",
                       "dimension": ["care", "dare", "care", "care", "dare"], "score": [4.0, 3.0, 5.0, 2.0, np.nan]})
    out = overall.respondent_overall(sc, dimensions=["care", "dare"])
    assert out[["response_id", "overall"]].to_dict("records") == [{"response_id": "r1", "overall": 3.5}]
    loose = overall.respondent_overall(sc, dimensions=["care", "dare"], min_dimensions=1)
    assert loose.set_index("response_id")["overall"].to_dict() == {"r1": 3.5, "r2": 5.0, "r3": 2.0}
    with pytest.raises(ValueError, match="min_dimensions must be between 1 and 2, not 3"):
        overall.respondent_overall(sc, dimensions=["care", "dare"], min_dimensions=3)


def test_overall_score_agrees_with_an_independent_calculation(opening, sample_store):
    _, data, _ = opening("A001")
    o = data["overall"].set_index("side")
    sc = respondent_scores(st.load_answers(account="A001", wave=WAVE, store=sample_store))
    for side in ("client", "staff"):
        per = sc[sc["side"] == side].groupby("response_id")["score"].mean()
        lo, hi = stats.t.interval(0.95, len(per) - 1, loc=per.mean(), scale=per.std(ddof=1) / math.sqrt(len(per)))
        assert o.loc[side, "n"] == len(per) and o.loc[side, "mean"] == pytest.approx(per.mean())
        assert (o.loc[side, "ci_low"], o.loc[side, "ci_high"]) == pytest.approx((lo, hi))
        # every respondent answered every dimension: the overall is the mean of the dimension means
        view = data["view_360"]
        assert o.loc[side, "mean"] == pytest.approx(view.loc[view["side"] == side, "mean"].mean())
    assert data["headline"]["client_score"] == pytest.approx(o.loc["client", "mean"])
    assert data["headline"]["team_score"] == pytest.approx(o.loc["staff", "mean"])


def test_overall_score_is_hidden_with_its_side(opening):
    _, a002, _ = opening("A002")  # two team answers
    team = a002["overall"].set_index("side").loc["staff"]
    assert team["n"] == 2 and team["suppressed"] and math.isnan(team["mean"]) and math.isnan(team["ci_low"])
    assert math.isnan(a002["headline"]["team_score"]) and not math.isnan(a002["headline"]["client_score"])
    _, a003, _ = opening("A003")  # three clients, two team members
    assert a003["overall"]["mean"].isna().all() and a003["overall"]["suppressed"].all()


def test_overall_score_is_hidden_while_one_of_its_dimensions_is(opening):
    """With four shown dimension means, an overall mean would give the fifth away."""
    account, _, _ = opening("A001")
    pub = account.publication.copy()
    care = (pub["side"] == "client") & (pub["wave"] == WAVE) & (pub["measure"] == "care")
    pub.loc[care, ["shown", "reason"]] = [False, DIFFERENCE]
    held = dataclasses.replace(account, publication=pub, audit=type(account.audit)())
    out = overall.overall_scores(held).set_index("side")
    assert out.loc["client", "suppressed"] and math.isnan(out.loc["client", "mean"])
    assert out.loc["client", "reason"] == overall.DIMENSION_HIDDEN
    assert not out.loc["staff", "suppressed"] and out.loc["staff", "mean"] > 0
    assert {"figure": "overall score", "reason": overall.DIMENSION_HIDDEN, "results": 1} in held.audit.summary()


# --- the headline and its JSON for the index ------------------------------------------------
def test_headline_names_the_gaps_and_flags(opening):
    assert opening("A036")[1]["headline"]["blind_spots"] == ["care"]
    h8 = opening("A008")[1]["headline"]
    gaps = opening("A008")[1]["gaps"].set_index("dimension")["gap"]
    assert set(h8["blind_spots"]) == {"care", "professionalism", "impact"}
    assert list(gaps[h8["blind_spots"]]) == sorted(gaps[h8["blind_spots"]])  # the largest gap first
    assert h8["possible_blind_spots"] == ["dare"] and h8["hidden_strengths"] == []
    assert opening("A003")[1]["headline"]["few_answers"] and not opening("A001")[1]["headline"]["few_answers"]
    hidden = opening("A002")[1]["headline"]  # the team's view is hidden: no gap is named
    assert hidden["blind_spots"] == hidden["possible_blind_spots"] == hidden["hidden_strengths"] == []


def test_headline_json_carries_what_the_index_needs_and_nothing_hidden(opening):
    j = display.headline_json(opening("A036")[1]["headline"]).data
    assert j["name"] == "Nordic Freight Ab" and j["previous_wave"] == "2026Q2"
    assert j["blind_spots"] == ["care"] and j["hidden_strengths"] == [] and j["few_answers"] is False
    assert j["nps_change"] == pytest.approx(-17.647059) and j["nps_change_clear"] is False
    assert j["nps_change_ci_low"] < j["nps_change"] < j["nps_change_ci_high"]
    assert 1 <= j["client_score"] <= 5 and 1 <= j["team_score"] <= 5
    j3 = display.headline_json(opening("A003")[1]["headline"]).data  # three clients, two team members
    assert j3["nps"] is None and j3["client_score"] is None and j3["team_score"] is None
    assert j3["few_answers"] is True and j3["nps_change"] is None and j3["nps_change_clear"] is False
    j13 = display.headline_json(opening("A013")[1]["headline"]).data  # NPS held back: differencing
    assert j13["nps"] is None and j13["nps_change"] is None and j13["nps_change_ci_low"] is None
    j2 = display.headline_json(opening("A002")[1]["headline"]).data
    assert j2["team_score"] is None and j2["blind_spots"] == [] and j2["client_score"] is not None
    for payload in (j, j3, j13, j2):
        json.dumps(payload, allow_nan=False)
        assert all(isinstance(payload[k], list) and all(isinstance(d, str) for d in payload[k])
                   for k in ("blind_spots", "possible_blind_spots", "hidden_strengths"))


# --- the band --------------------------------------------------------------------------------
def test_band_of_a001_in_english(opening):
    _, _, b = opening("A001")
    t = tiles(b)
    assert list(t) == ["Client NPS", "Client overall score (1–5)", "Team overall score (1–5)",
                       "Answers: clients / team", "Clear gaps"]
    nps_tile = t["Client NPS"]
    assert nps_tile.value == "0" and nps_tile.detail == "n = 10 · 95% CI −41 to +41"
    assert nps_tile.change == "no comparison with 2026Q2" and nps_tile.direction == ""  # 2026Q2 is not shown
    assert t["Client overall score (1–5)"].value == "4.0" and t["Client overall score (1–5)"].tone == "client"
    assert t["Team overall score (1–5)"].value == "4.1" and t["Team overall score (1–5)"].tone == "team"
    assert t["Answers: clients / team"].value == "10 / 15"
    assert t["Clear gaps"].value == "none" and t["Clear gaps"].detail == "no clear gap on any dimension"
    assert b.sentences == [
        "Client NPS is 0 (n = 10; 95% CI −41 to +41); it is not compared with 2026Q2, whose figure is not shown.",
        "No clear gap between the client's and the team's view on any dimension.",
        "Clients rate Professionalism highest (4.4) and Care lowest (3.4) on the 1–5 scale (n = 10).",
    ]
    assert b.focus == "For the next meeting: raise Care."


def test_band_in_finnish_names_a_blind_spot_with_decimal_commas(opening):
    _, _, b = opening("A036", "fi")
    t = tiles(b)
    gaps = t["Selvät näkemyserot"]
    assert gaps.value == "1" and gaps.tone == "attention" and gaps.detail == "sokea piste: Välittäminen"
    nps_tile = t["Asiakkaiden NPS"]
    assert nps_tile.value == "−24" and nps_tile.direction == "flat"  # the change's interval includes 0
    assert nps_tile.change == "−18 kierroksesta 2026Q2, ei selvä" and "muutos −56…+26" in nps_tile.detail
    assert t["Asiakkaan kokonaisarvio (1–5)"].value == "3,2"
    assert "luottamusväli 3,0…3,3" in t["Asiakkaan kokonaisarvio (1–5)"].detail
    assert b.sentences[1] == ("Sokea piste: tiimi arvioi itsensä korkeammalle kuin asiakas ulottuvuudessa "
                              "Välittäminen (1,0 pistettä).")
    assert b.focus == "Seuraavaan tapaamiseen: ota puheeksi Välittäminen, Uskallus ja Vaikutus."
    three = tiles(opening("A008")[2])["Clear gaps"]
    assert three.value == "3" and three.detail == "blind spot: Care, Professionalism and Impact"


def test_band_keeps_hidden_figures_hidden_and_says_why(opening, sample_store):
    _, a002, b2 = opening("A002")
    t = tiles(b2)
    assert t["Team overall score (1–5)"].value == "–"
    assert t["Team overall score (1–5)"].detail == "not shown: 2 answers"
    assert t["Clear gaps"].value == "–" and t["Clear gaps"].detail == "not shown: 2 answers"
    assert b2.sentences[1] == "The team's view is not shown: 2 team members answered, fewer than 5."
    team_text = " ".join(f"{x.value} {x.detail} {x.change}" for x in (t["Team overall score (1–5)"], t["Clear gaps"]))
    assert not re.search(r"\d[.,]\d", team_text)  # no mean, interval or gap of the hidden team
    sc = respondent_scores(st.load_answers(account="A002", wave=WAVE, side="staff", store=sample_store))
    team_mean = sc.groupby("response_id")["score"].mean().mean()
    assert f"{team_mean:.2f}" not in b2.to_html()
    _, _, b3 = opening("A003")  # three clients
    t3 = tiles(b3)
    assert t3["Client NPS"].value == "–" and t3["Client NPS"].detail == "not shown: 3 answers"
    assert t3["Client overall score (1–5)"].value == "–" and t3["Answers: clients / team"].tone == "attention"
    assert b3.sentences[0] == "Client NPS is not shown: 3 clients answered, fewer than the 5 a figure needs."
    assert b3.focus.startswith("For the next meeting: too few client scores")
    _, _, b13 = opening("A013")  # five clients, but showing their NPS would give away who left since 2026Q1
    assert tiles(b13)["Client NPS"].detail == "not shown: it would give away who joined or left"
    assert b13.sentences[0].startswith("Client NPS is not shown: beside an earlier wave's figure")


def test_nps_tile_arrow_only_for_a_clear_change(opening):
    account, data, _ = opening("A001")
    head = {**data["headline"], "nps": 20.0, "nps_ci_low": 2.0, "nps_ci_high": 38.0, "nps_previous": -5.0,
            "nps_change": 25.0, "change_ci_low": 5.0, "change_ci_high": 45.0, "change_clear": True}
    up = band.nps_tile(account, head)
    assert (up.value, up.change, up.direction, up.tone) == ("+20", "+25 since 2026Q2", "up", "good")
    assert band.nps_finding(account, head) == ("Client NPS is +20 (n = 10; 95% CI +2 to +38), up 25 points from −5 "
                                               "in 2026Q2 (95% CI of the change +5 to +45).")
    down = band.nps_tile(account, {**head, "nps_change": -25.0, "change_ci_low": -45.0, "change_ci_high": -5.0})
    assert (down.direction, down.tone) == ("down", "attention")
    unclear = band.nps_tile(account, {**head, "change_ci_low": -5.0, "change_clear": False})
    assert (unclear.direction, unclear.tone, unclear.change) == ("flat", "", "+25 since 2026Q2, not clear")
    first = band.nps_tile(account, {**head, "previous_wave": None})
    assert first.change == "first survey wave"
    assert '<span class="fk-arrow">▲</span>' in up.to_html() and "▲" not in unclear.to_html()


def test_focus_line_when_nothing_stands_out(opening):
    account, data, _ = opening("A001")
    flat = {**data["next_meeting"], "focus": data["next_meeting"]["focus"].iloc[0:0], "status": "none_stand_out"}
    assert band.focus_line(account, flat) == ("For the next meeting: no dimension stands out; start from what "
                                              "clients say.")
    both = {**data["next_meeting"], "strengths": data["next_meeting"]["focus"].assign(dimension="professionalism")}
    assert band.focus_line(account, both) == "For the next meeting: raise Care; build on Professionalism."


def test_names_are_joined_as_people_write_lists():
    assert band.join_names(["Care"], "en") == "Care"
    assert band.join_names(["Dare", "Care", "Impact"], "en") == "Dare, Care and Impact"
    assert band.join_names(["Uskallus", "Vaikutus"], "fi") == "Uskallus ja Vaikutus"


def test_band_html_is_escaped(opening):
    account, data, _ = opening("A001")
    hostile = dataclasses.replace(account, wave="<img src=x onerror=alert(1)>")
    html = band.summary_band(hostile, headline=data["headline"], gaps=data["gaps"], overall=data["overall"],
                             meeting=data["next_meeting"], voice=data["comments"]).to_html()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
