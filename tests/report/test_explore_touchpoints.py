"""The chosen account's transactional NPS by month: months under the client threshold blank, in the page's words."""

from __future__ import annotations

import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from helpers.data.disclosure import Thresholds
from helpers.report import explore as ex
from helpers.report.explore.html import as_html
from language import other_language_words, page_text


def _touchpoints() -> pd.DataFrame:
    """Jan: 6 answers (3 promoters, 1 detractor → NPS +33); Feb: 2 answers; Mar: 5 answers, all detractors."""
    scores = [10, 9, 10, 8, 7, 3] + [10, 10] + [0, 1, 2, 3, 4]
    when = ["2026-01-10 09:00:00"] * 6 + ["2026-02-10 09:00:00"] * 2 + ["2026-03-31 23:00:00"] * 5
    return pd.DataFrame({"account_id": "A1", "score": scores, "answered_at": pd.to_datetime(when)})


def test_months_below_the_threshold_have_no_nps():
    m = ex.touchpoint_months(_touchpoints(), min_answers=5)
    assert m["period"].tolist() == ["2026-01", "2026-02", "2026-03"] and m["n"].tolist() == [6, 2, 5]
    assert m["shown"].tolist() == [True, False, True]
    assert m.loc[0, "nps"] == pytest.approx(100 * (3 - 1) / 6) and m.loc[2, "nps"] == pytest.approx(-100)
    assert m.loc[1, ["nps", "ci_low", "ci_high"]].isna().all()  # never computed for the page
    assert m.loc[0, "ci_low"] < m.loc[0, "nps"] < m.loc[0, "ci_high"]


def test_months_stop_at_the_end_of_the_wave_and_keep_the_last_ones():
    assert ex.wave_end("2026Q1") == pd.Timestamp("2026-04-01") and ex.wave_end("autumn") is None
    cut = ex.touchpoint_months(_touchpoints(), min_answers=5, until=pd.Timestamp("2026-03-31"))
    assert cut["period"].tolist() == ["2026-01", "2026-02"]
    last = ex.touchpoint_months(_touchpoints(), min_answers=1, months=2)
    assert last["period"].tolist() == ["2026-02", "2026-03"] and last["shown"].all()
    assert ex.touchpoint_months(_touchpoints().iloc[:0], min_answers=5).empty


def test_the_chart_draws_shown_months_only_with_month_names_and_locale_ticks():
    m = ex.touchpoint_months(_touchpoints(), min_answers=5)
    ax = ex.plot_touchpoint_nps(m, language="fi", title="Otsikko")
    ax.figure.canvas.draw()
    drawn = ax.containers[0].lines[0]
    assert list(drawn.get_xdata()) == [0.0, 2.0] and drawn.get_color().lower() == "#d55e00"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["tammi\n2026", "helmi", "maalis"]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert "\u221250" in ticks and "-50" not in ticks
    plt.close(ax.figure)


@pytest.mark.parametrize("language", ["en", "fi"])
def test_the_view_speaks_one_language_and_holds_back_small_months(sample_store, language):
    explorer = ex.Explorer(store=sample_store, language=language)
    sel = explorer.select()
    html = as_html(ex.account_touchpoints(explorer, sel))
    text = page_text(html)
    assert not other_language_words(text, language), other_language_words(text, language)
    assert re.search(r'<img [^>]*alt="[^"]{20,}"', html)
    assert ("Latest month shown" if language == "en" else "Viimeisin näytetty kuukausi") in text
    # a stricter threshold hides every month: words only, no chart and no NPS
    strict = ex.Explorer(store=sample_store, language=language,
                         thresholds=Thresholds(client=10_000))
    held = as_html(ex.account_touchpoints(strict, strict.select(account_id=sel.account_id)))
    assert "<img" not in held and "NPS" not in page_text(held) and "(12)" in page_text(held)
