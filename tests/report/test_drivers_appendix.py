"""The drivers page's appendix and the models' warnings: complete tables in the page's words, nothing left raw."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from helpers.report.drivers import appendix, notes


def _headers(html: str) -> list[str]:
    return re.findall(r"<th[^>]*>(.*?)</th>", html, re.S)


def _cells(html: str) -> list[str]:
    return [c.strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)]


def test_model_terms_in_words():
    assert appendix.model_term("threshold 6|7", "fi") == "Kynnys 6 | 7"
    assert appendix.model_term("Intercept", "fi") == "Vakiotermi"
    assert appendix.model_term("sd(account_id)", "en") == "SD between accounts"
    assert appendix.model_term("staff_care", "fi") == "Välittäminen (tiimi)"
    assert "_" not in appendix.model_term("sd(residual)", "en")


@pytest.mark.parametrize("language", ["en", "fi"])
def test_model_tables_are_complete_with_headers_in_the_page_language(language):
    fit = pd.DataFrame({"term": ["Intercept", "care", "threshold 1|2", "threshold 2|3"],
                        "coef": [0.06, 1.27, 2.72, -4.39], "se": [0.33, 0.04, 0.99, 0.68],
                        "ci_low": [-0.6, 1.18, 0.77, -5.73], "ci_high": [0.72, 1.36, 4.67, -3.06],
                        "p_val": [0.854, 1e-9, 0.006, 1e-6], "model": "ordinal", "estimator": "ordinal logit",
                        "n": 3529, "n_groups": 60})
    fit.attrs["warnings"] = ["56 of 3585 rows were left out because nps or a predictor was missing."]
    html = appendix.model_tables({"ordinal logit": fit}, language=language).to_html()
    headers = _headers(html)
    assert len(headers) == 6 and not [h for h in headers if "_" in h]
    cells = _cells(html)
    assert sum("|" in c for c in cells) == 2  # every threshold row is kept
    assert "−4" + ("," if language == "fi" else ".") + "39" in cells  # real minus, decimal by locale
    assert re.search(r"&lt; ?0[.,]001", html)  # small p-values as "< 0.001"
    assert "56" in html and "3585" not in html  # the warning in the page's words, count by locale


def test_checks_table_says_yes_or_no_never_true_or_false():
    checks = pd.DataFrame({"check": ["n", "vif", "clusters"], "value": [352.9, 1.42, 60.0],
                           "threshold": [10.0, 5.0, 30.0], "passed": [True, True, False],
                           "message": ["", "", "Only 60 accounts: standard errors that allow for respondents of one "
                                               "account being alike need about 30 or more"]})
    vif = pd.DataFrame({"term": ["care", "dare"], "vif": [1.4, 1.2], "tolerance": [0.7, 0.8], "r2": [0.3, 0.2],
                        "n": [3529, 3529], "n_dropped": [56, 56], "flag": [False, False]})
    html = appendix.checks_tables(checks, vif, language="fi").to_html()
    cells = _cells(html)
    assert "kyllä" in cells and "ei" in cells
    assert not {"True", "False"} & set(cells)
    assert not [h for h in _headers(html) if re.search(r"\w_\w", h)]
    assert "3\u00a0529" in cells and "353" in cells  # counts whole, by locale


def test_baseline_on_an_nps_page_is_one_sentence_not_an_empty_table():
    na = pd.DataFrame()
    na.attrs["not_applicable"] = True
    html = appendix.baseline_tables(na, language="en").to_html()
    assert "<table" not in html and "renewal version" in html


def test_page_scope_shows_the_command_for_another_version_not_an_instruction_to_the_reader():
    from helpers.report.drivers.setup import DriverSetup

    setup = DriverSetup(data=pd.DataFrame(), outcome="nps", predictors=["care"], level="respondent", kind="nps",
                        side="client", cluster="account_id", table=pd.DataFrame(), description="Client NPS …",
                        notes=["Staff means of 3 account row(s) were hidden because fewer than 5 staff answered."])
    html = appendix.page_scope(setup, parameters={"waves": "2026Q3", "outcome": "nps", "side": "client"},
                               language="fi").to_html()
    assert "render_notebook" in html and "&#x27;outcome&#x27;: &#x27;retention&#x27;" in html
    assert "outcome = nps" in html and "fk-data" in html  # settings shown as code, kept out of the language check
    assert "Tiimin keskiarvot on piilotettu 3 asiakkuudelta" in html


def test_notes_translate_known_sentences_and_mark_unknown_ones():
    text, known = notes.translate("care: Only 29 units for a six-term surface (needs more)", "fi")
    assert known and text.startswith("Välittäminen: ")
    html = notes.notes_html(["Something <new> happened."], "fi")
    assert 'class="fk-data" lang="en"' in html and "&lt;new&gt;" in html  # shown as the model's words, escaped
    merged = notes.translate_all(["care: Only 29 units for a six-term surface", "dare: Only 29 units for a "
                                  "six-term surface"], "en")
    assert len(merged) == 1 and merged[0][0].startswith("Care and Dare: ")
    assert notes.notes_html([], "en") == ""
