"""Numbers, dates and tables by locale: the one formatting module of the pages and the index."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.report import formatting as fmt

NBSP = "\u00a0"


@pytest.mark.parametrize("fn, args, en, fi", [
    (fmt.number, (4.13,), "4.1", "4,1"),
    (fmt.number, (-0.04,), "0.0", "0,0"),                   # never "−0.0"
    (fmt.number, (-7.0, 0), "−7", "−7"),                    # the real minus sign
    (fmt.number, (1234.5,), "1,234.5", f"1{NBSP}234,5"),
    (fmt.count, (3529.0,), "3,529", f"3{NBSP}529"),         # whole numbers for counts, not 3529.00
    (fmt.money, (282352.09,), "€282,352", f"282{NBSP}352{NBSP}€"),
    (fmt.percent, (0.613,), "61%", f"61{NBSP}%"),
    (fmt.points, (12,), "+12", "+12"),
    (fmt.points, (-7,), "−7", "−7"),
    (fmt.points, (0.2,), "0", "0"),
    (lambda lo, lang, hi, d: fmt.interval(lo, hi, lang, d), (-12, 8, 0), "−12 to 8", "−12…8"),
    (fmt.date, ("2026-12-07",), "7 Dec 2026", "7.12.2026"),
    (fmt.p_value, (0.0004,), "<0.001", "< 0,001"),
    (fmt.p_value, (0.0312,), "0.031", "0,031"),
    (fmt.yes_no, (True,), "yes", "kyllä"),
    (fmt.number, (np.nan,), "–", "–"),
    (fmt.date, (pd.NaT,), "–", "–"),
])
def test_values_by_locale(fn, args, en, fi):
    assert fn(args[0], "en", *args[1:]) == en
    assert fn(args[0], "fi", *args[1:]) == fi


def test_no_hyphen_minus_anywhere():
    for x in (-1e-9, -0.5, -3, -1234.56):
        for lang in ("en", "fi"):
            assert "-" not in fmt.number(x, lang, 2) + fmt.money(x * 1000, lang) + fmt.percent(x / 10, lang)


def test_people_table_headers_in_the_page_language_and_values_by_kind():
    d = pd.DataFrame({"n_client": [3.0, 1200.0], "churned": [True, False], "name": ["Metsä & <Meri>", "B"],
                      "mean": [4.125, np.nan]})
    html = fmt.people_table(d, language="fi", verbatim=["name"],
                            headers={"n_client": "Asiakasvastauksia", "churned": "Päättynyt", "name": "Asiakkuus",
                                     "mean": "Keskiarvo"},
                            columns={"name": "text", "n_client": "count", "churned": "bool", "mean": "number:2"}
                            ).to_html()
    assert "Asiakasvastauksia" in html and "n_client" not in html
    assert f"1{NBSP}200<" in html and "3.00" not in html and ">3<" in html
    assert "kyllä" in html and ">ei<" in html and "True" not in html
    assert "4,12" in html or "4,13" in html
    assert "Metsä &amp; &lt;Meri&gt;" in html and "<Meri>" not in html
    # the name column is left-aligned, the numbers right-aligned
    assert '<td class="fk-text fk-data" dir="auto" style="text-align: left">Metsä' in html
    assert '<td class="fk-num" style="text-align: right; white-space: nowrap">3<' in html


def test_people_table_refuses_a_column_without_a_header():
    with pytest.raises(ValueError, match="'p_fdr' has no en header"):
        fmt.people_table(pd.DataFrame({"p_fdr": [0.1]}), language="en")


def test_people_table_guesses_kinds_from_dtypes():
    d = pd.DataFrame({"a": [1.0, 2.0], "b": [True, False], "c": pd.to_datetime(["2026-01-05", "2026-02-01"])})
    html = fmt.people_table(d, language="en", headers={"a": "A", "b": "B", "c": "C"}).to_html()
    assert ">1<" in html and "yes" in html and "5 Jan 2026" in html
