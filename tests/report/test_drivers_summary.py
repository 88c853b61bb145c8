"""The drivers page in plain words: the answer sentence, the summary band and the body's sentences.

Small hand-checkable frames shaped like the results of
:func:`helpers.report.drivers.driver_importance`, :func:`driver_ipa`,
:func:`driver_models` and :func:`helpers.stats.diagnostics.trust_checks`.
"""

from __future__ import annotations

import pandas as pd
import pytest

from helpers.report.drivers import summary
from helpers.report.drivers.setup import DriverSetup

TERMS = ["care", "impact", "professionalism", "dare", "excitement"]


def _importance(**over) -> pd.DataFrame:
    """Care 61% and Impact 35% of what is explained; the other three share the rest."""
    frame = pd.DataFrame({
        "term": TERMS, "share": [0.61, 0.35, 0.02, 0.01, 0.01],
        "share_ci_low": [0.55, 0.28, 0.01, 0.0, 0.0], "share_ci_high": [0.66, 0.41, 0.05, 0.03, 0.03],
        "rank": [1, 2, 3, 4, 5], "rank_share": [1.0, 1.0, 0.84, 0.58, 0.63], "top_share": [1.0, 0.0, 0.0, 0.0, 0.0],
        "n_boot": 200, "r2": 0.56, "n": 3529, "n_clusters": 60, "method": "dominance", "outcome": "nps"})
    return frame.assign(**over)


def _setup(kind: str = "nps", side: str = "client", data: pd.DataFrame | None = None) -> DriverSetup:
    return DriverSetup(data=pd.DataFrame() if data is None else data, outcome="nps" if kind == "nps" else "churned",
                       predictors=list(TERMS), level="respondent" if kind == "nps" else "account", kind=kind,
                       side=side, cluster="account_id" if kind == "nps" else None, table=pd.DataFrame(),
                       description="")


def _ipa() -> pd.DataFrame:
    return pd.DataFrame({
        "term": ["care", "impact", "professionalism", "dare"], "label": ["Care", "Impact", "Professionalism", "Dare"],
        "importance": [0.61, 0.35, 0.03, 0.01], "importance_ci_low": [0.55, 0.28, 0.01, 0.0],
        "importance_ci_high": [0.66, 0.41, 0.05, 0.03], "performance": [3.62, 3.46, 3.99, 3.19],
        "performance_ci_low": [3.51, 3.33, 3.87, 3.06], "performance_ci_high": [3.74, 3.59, 4.11, 3.33],
        "importance_cut": 0.2, "performance_cut": 3.57, "n": 60, "scope": "portfolio", "outcome": "nps",
        "quadrant": ["keep up the good work", "concentrate here", "possible overkill", "low priority"]})


def _fit(coef: list[float], low: list[float], high: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"term": TERMS, "coef": coef, "ci_low": low, "ci_high": high})


def test_answer_sentence_names_the_top_drivers_with_share_interval_and_n():
    en = summary.answer_sentence(_setup(), _importance())
    assert en == ("Care explains about 61% (95% interval 55 to 66%) and Impact about 35% (28 to 41%) of what the "
                  "5 dimensions together explain of client NPS (3,529 answers from 60 accounts).")
    fi = summary.answer_sentence(_setup(), _importance(), language="fi")
    assert fi.startswith("Välittäminen selittää noin 61\u00a0% (95\u00a0%:n luottamusväli 55…66\u00a0%) ja vaikutus")
    assert "3\u00a0529 vastausta 60 asiakkuudesta" in fi


def test_top_drivers_are_those_above_an_even_split_or_else_the_first():
    assert summary.top_drivers(_importance())["term"].tolist() == ["care", "impact"]
    flat = _importance(share=[0.2] * 5)
    assert len(summary.top_drivers(flat)) == 1  # nothing stands out: only the largest is named
    assert summary.top_drivers(_importance(share=float("nan"))).empty


def test_answer_sentence_without_shares_says_why():
    text = summary.answer_sentence(_setup(), _importance(share=float("nan"), n=12))
    assert "12" in text and "%" not in text


def test_band_has_the_drivers_the_fit_and_the_n_as_tiles():
    band = summary.driver_band(_setup(), _importance(), _ipa(), waves=["2025Q4", "2026Q1", "2026Q3"])
    labels = [t.label for t in band.tiles]
    assert labels == ["Care", "Impact", "Explained by the ratings together", "Answers"]
    assert [t.value for t in band.tiles] == ["61%", "35%", "56%", "3,529"]
    assert "55 to 66%" in band.tiles[0].detail
    assert band.tiles[0].tone == "client" and band.tiles[2].tone == ""
    assert "60 accounts, 3 survey waves (2025Q4 to 2026Q3)" in band.tiles[3].detail
    assert band.heading.startswith("Care explains about 61%")
    assert any("Impact" in s for s in band.sentences)  # where improvement pays most
    html = band.to_html()
    assert html.count('class="fk-tile') >= 4 and "_" not in "".join(labels)


def test_band_for_the_team_uses_the_teams_colour():
    band = summary.driver_band(_setup(side="staff"), _importance(), _ipa())
    assert band.tiles[0].tone == "team"


def test_stability_sentence_follows_the_bootstrap():
    from helpers.data.instrument import load_instrument

    inst = load_instrument()
    stable = summary.stability_sentence(_importance(), "en", inst)
    assert "100%" in stable and "200" in stable
    shaky = summary.stability_sentence(_importance(top_share=[0.55, 0.45, 0, 0, 0]), "en", inst)
    assert "55%" in shaky and shaky != stable
    assert summary.stability_sentence(_importance(n_boot=0), "en", inst)  # no resamples: said, not hidden


def test_direction_sentences_name_only_ratings_clear_in_every_model():
    from helpers.data.instrument import load_instrument

    fits = {"ols": _fit([1.3, 0.9, -0.05, 0.0, 0.1], [1.2, 0.8, -0.15, -0.1, -0.04], [1.4, 1.0, 0.05, 0.1, 0.2]),
            "mixed": _fit([1.3, 0.9, 0.0, 0.0, 0.0], [1.2, 0.8, -0.1, -0.1, 0.02], [1.4, 1.0, 0.1, 0.1, 0.1])}
    out = summary.direction_sentences(fits, _setup(), "en", load_instrument(), order=TERMS)
    assert out[0] == "In all 2 models of NPS, higher ratings of Care and Impact go with a higher NPS."
    assert out[1].startswith("Professionalism, Dare and Excitement")  # Excitement is clear in one model only


def test_checks_sentence_in_plain_words():
    ok = pd.DataFrame({"check": ["n", "vif"], "value": [500.0, 1.4], "threshold": [10.0, 5.0], "passed": [True, True],
                       "message": ["", ""]})
    assert summary.checks_sentence(ok, "en").startswith("The model checks pass")
    bad = ok.assign(value=[500.0, 7.26], passed=[True, False])
    text = summary.checks_sentence(bad, "fi")
    assert "7,3" in text and "True" not in text and "False" not in text


def test_baseline_sentence_only_says_better_when_the_difference_is_clear():
    base = pd.DataFrame({"model": ["model", "baseline"], "metric": ["auc", "auc"], "estimate": [0.71, 0.64],
                         "ci_low": [0.6, 0.52], "ci_high": [0.82, 0.76], "n": [41, 41], "n_events": [13, 13]})
    base.attrs["auc_difference"] = {"difference": 0.07, "ci_low": -0.03, "ci_high": 0.17, "p_val": 0.2}
    unclear = summary.baseline_sentence(base, "en")
    base.attrs["auc_difference"] = {"difference": 0.07, "ci_low": 0.01, "ci_high": 0.13, "p_val": 0.02}
    better = summary.baseline_sentence(base, "en")
    assert unclear != better and "71%" in better and "41" in better
    na = pd.DataFrame()
    na.attrs["not_applicable"] = True
    assert "renewal version" in summary.baseline_sentence(na, "en")


def test_ipa_points_name_each_quadrant_and_the_crosshairs():
    md = summary.ipa_points(_ipa(), language="fi").data
    assert "Keskity tähän" in md and "vaikutus (35\u00a0% selitetystä; arvio 3,46" in md
    assert "60 asiakkuutta" in md
    assert summary.ipa_points(_ipa().iloc[0:0]) is None


@pytest.mark.parametrize("language", ["en", "fi"])
def test_measurement_sentence(language):
    from helpers.data.instrument import load_instrument

    check = pd.DataFrame({"dimension": ["care", "dare"], "flag": ["ok", "caution"]})
    text = summary.measurement_sentence(check, language, load_instrument())
    assert ("Dare" if language == "en" else "Uskallus") in text
    assert summary.measurement_sentence(check.assign(flag="ok"), language, load_instrument())


def _other(shares: list[float], side: str = "staff") -> pd.DataFrame:
    other = _importance(share=shares, n=1493)
    other.attrs["side"] = side
    return other


def test_views_sentence_says_whether_both_sides_value_the_same_things():
    same = summary.views_sentence(_setup(), _importance(), _other([0.6, 0.3, 0.05, 0.03, 0.02]))
    assert same.startswith("The team's own NPS") and "agree" in same and "1,493 answers from 60 accounts" in same
    partly = summary.views_sentence(_setup(), _importance(), _other([0.6, 0.05, 0.3, 0.03, 0.02]))
    assert "then the order differs" in partly and "Professionalism 30%" in partly
    differ = summary.views_sentence(_setup(), _importance(), _other([0.0, 0.01, 0.0, 0.01, 0.98]), language="fi")
    assert differ.startswith("Tiimin oma NPS") and "eri ulottuvuuksilla kuin asiakkaiden NPS: innostus 98\u00a0%" in differ
    staff_page = summary.views_sentence(_setup(side="staff"), _importance(), _other([0.6, 0.3, 0, 0, 0.1], "client"))
    assert staff_page.startswith("Client NPS") and "the team's NPS" in staff_page
    assert summary.views_sentence(_setup(), _importance(), _importance()) == ""  # whose view is not known: silent
    empty = _other([float("nan")] * 5)
    assert summary.views_sentence(_setup(), _importance(), empty) == ""


def test_other_side_table_is_complete_or_absent():
    from helpers.report.drivers import appendix

    html = appendix.other_side_table(_other([0.6, 0.3, 0.05, 0.03, 0.02]), language="fi").to_html()
    assert html.count("<tr") == 6 and "Tiimin oma NPS" in html and "_" not in "".join(
        __import__("re").findall(r"<th[^>]*>(.*?)</th>", html))
    assert appendix.other_side_table(_importance(), language="en").to_html() == ""  # retention / both: nothing


def test_other_side_importance_only_for_one_sides_nps():
    from helpers.report.drivers import other_side_importance

    for setup in (_setup(kind="retention"), _setup(side="both")):
        assert other_side_importance(pd.DataFrame(), pd.DataFrame(), pd.DataFrame(), setup=setup,
                                     min_group_size=5).empty
