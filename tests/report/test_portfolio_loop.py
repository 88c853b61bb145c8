"""The portfolio's "Closing the loop" section: hand-checkable frames for its rules (small groups show counts only,
accounts named only from the threshold, the adjusted comparison first and always the caveat), then the section on
the sample store with its follow-up loop run, in both languages: aggregates only, one language."""

from __future__ import annotations

import re
import shutil
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from helpers.report.portfolio import loop, summary
from helpers.stats.loop import wilson_interval
from language import other_language_words, page_text

T = pd.Timestamp("2026-09-01 08:00")
NOW = T + pd.Timedelta(days=10)
H = pd.Timedelta(hours=1)


def _items() -> pd.DataFrame:
    """Aino (A1): 6 items, 3 contacted in time (5 h), 1 late (60 h), 2 open; Jussi (A2): 3 items, 1 in time, 2 open;
    one item of an earlier wave and one visit item, open."""
    rows = [("A1", "Aino Mäkelä", "2026Q3", c) for c in (5, 5, 5, 60, None, None)]
    rows += [("A2", "Jussi Härkönen", "2026Q3", c) for c in (3, None, None)]
    rows += [("A2", "Jussi Härkönen", "2026Q2", None)]
    out = pd.DataFrame([{"item_id": f"FU-{i:012d}", "source": "survey", "source_id": f"R{i}", "account_id": a,
                         "owner": o, "wave": w, "reasons": "detractor", "score": 3, "respondent_id": None,
                         "answered_at_utc": T, "due_at_utc": T + 48 * H, "timezone": "Europe/Helsinki",
                         "sla_hours": 48.0, "status": None if c is None else "contacted",
                         "status_at_utc": pd.NaT if c is None else T + c * H,
                         "contacted_at_utc": pd.NaT if c is None else T + c * H, "first_try_utc": pd.NaT,
                         "n_outcomes": 0 if c is None else 1} for i, (a, o, w, c) in enumerate(rows)])
    visit = out.iloc[[0]].assign(item_id="FU-VISIT", source="touchpoint", wave=None, status=None,
                                 contacted_at_utc=pd.NaT, status_at_utc=pd.NaT)
    return pd.concat([out, visit], ignore_index=True)


NO_VISITS = pd.DataFrame(columns=["touchpoint_id", "account_id", "visit_at", "answered_at", "score", "comment"])
VISITS = pd.DataFrame({"touchpoint_id": ["T1", "T2"], "account_id": "A1", "visit_at": T, "answered_at": T,
                       "score": [3, 10], "comment": None})
NO_ANSWERS = pd.DataFrame(columns=["account_id", "respondent_id", "nps", "submitted_at", "side", "wave"])


def _page(language="en", items=None, visits=NO_VISITS, **kw) -> SimpleNamespace:
    L = loop.build_loop(_items() if items is None else items, touchpoints=visits, responses=NO_ANSWERS,
                        wave="2026Q3", waves=["2026Q2", "2026Q3"], names={"A1": "Mäkelä Oy", "A2": "Åbo Ab"},
                        language=language, k=5, now=NOW, **kw)
    return SimpleNamespace(language=language, wave="2026Q3", loop=L)


def _text(obj) -> str:
    return obj if isinstance(obj, str) else obj._repr_html_() if hasattr(obj, "_repr_html_") else obj.data


def test_counts_only_blanks_rates_of_small_groups():
    s = pd.DataFrame({"n_items": [3, 9, 9], "n_due": [3, 4, 9], "n_timed": [3, 9, 4], "share_in_sla": [1.0, 0.5, 0.5],
                      "ci_low": 0.2, "ci_high": 0.9, "median_hours_to_contact": [5.0, 20.0, 30.0]})
    out = loop.counts_only(s, k=5)
    assert out["share_in_sla"].isna().tolist() == [True, True, False]
    assert out["ci_low"].isna().tolist() == [True, True, False]
    assert out["median_hours_to_contact"].isna().tolist() == [True, False, True]
    assert out["n_items"].tolist() == [3, 9, 9]


def test_the_waves_loop_by_hand():
    p = _page()
    L = p.loop
    w = L.wave.iloc[0]
    assert (w["n_items"], w["n_due"], w["n_in_sla"], w["n_open"], w["n_overdue"]) == (9, 9, 4, 4, 4)
    lo, hi = wilson_interval(4, 9)
    text = page_text(_text(loop.loop_words(p)))
    assert "9 client answers of 2026Q3 needed a follow-up" in text
    assert f"Contacted within 48 h: 44% (4 of 9; 95% CI {lo:.0%} to {hi:.0%})." in text
    assert "Median time from the answer to the first contact: 5.0 h (n = 5 contacted)." in text
    assert "As of 11 Sept 2026, 4 are still open, 4 of them overdue." in text
    assert "Follow-ups of visit surveys overdue as well: 1." in text


def test_the_owner_table_shows_a_small_owner_by_counts_only():
    t = loop.owner_table(_page())
    rows = t.frame.set_index("Owner")
    assert rows.loc["Aino Mäkelä", "Contacted in time"] == "50% (3/6)"
    assert rows.loc["Aino Mäkelä", "Median time to contact"] == "–"  # 4 timed contacts: below 5
    assert rows.loc["Jussi Härkönen", "Contacted in time"] == "1/3"  # 3 items: counts only
    assert rows.loc["Jussi Härkönen", "95% CI"] == "–"
    assert rows["Overdue"].tolist() == ["2", "2"] and rows["Follow-ups"].tolist() == ["6", "3"]
    assert t.caption and "11 Sept 2026" in t.caption
    assert "Owner" in t.verbatim  # names are data: isolated, left out of the language check


def test_accounts_are_named_only_from_the_threshold():
    html = _text(loop.overdue_accounts(_page()))
    assert "<bdi>Mäkelä Oy</bdi> 2 of 6" in html
    assert "Åbo" not in html and "1 more accounts with overdue follow-ups have fewer than 5 items" in html
    fi = page_text(_text(loop.overdue_accounts(_page("fi"))))
    assert "Muilla 1 asiakkuudella" in fi and not other_language_words(fi, "fi")


def test_the_band_line_only_when_follow_ups_are_overdue():
    assert loop.band_finding(_page()) == ("4 of the 9 follow-ups of the 2026Q3 client answers are overdue "
                                          "(as of 11 Sept 2026).")
    done = _items().assign(contacted_at_utc=T + 5 * H, status="contacted")
    assert loop.band_finding(_page(items=done)) == ""


def test_no_follow_ups_at_all_is_one_sentence_and_no_error():
    for language in ("en", "fi"):
        p = _page(language, items=_items().iloc[0:0], visits=VISITS)
        text = page_text(_text(loop.loop_words(p)))
        assert "flamekit followup" in text and text.count(".") <= 3
        for f in (loop.owner_table, loop.overdue_accounts, loop.visits_table, loop.later_words,
                  loop.analysts_table, loop.overdue_details):
            assert _text(f(p)) == ""
        assert loop.band_finding(p) == "" and loop.analysts_notes(p).data == ""


def test_a_wave_without_items_says_how_to_add_them():
    p = _page(items=_items().query("wave != '2026Q3'"))
    assert "flamekit followup --since 2026Q3" in page_text(_text(loop.loop_words(p)))


def _later(adjusted=(0.2, -0.3, 0.7), n=(42, 170)) -> pd.DataFrame:
    rows = [("followed_up", n[0], 5.5, 1.7, 1.1, 2.2, np.nan), ("not_followed_up", n[1], 6.3, 0.9, 0.6, 1.2, np.nan),
            ("difference", sum(n), -0.8, 0.8, 0.2, 1.4, 0.01), ("difference_adjusted", sum(n), np.nan, *adjusted, 0.5)]
    out = pd.DataFrame(rows, columns=["estimate", "n", "baseline", "mean", "ci_low", "ci_high", "p_val"])
    out.attrs.update(n_items=670, n_linked=sum(n))
    return out


@pytest.mark.parametrize("language", ["en", "fi"])
def test_later_nps_leads_with_the_adjusted_row_and_always_says_it_is_not_an_experiment(language):
    from helpers.words import say

    p = _page(language)
    p.loop.later = _later()
    text = page_text(_text(loop.later_words(p)))
    adjusted, raw = ("+0.2", "+0.8") if language == "en" else ("+0,2", "+0,8")
    assert text.index(adjusted) < text.index(raw)
    assert ("no clear difference" if language == "en" else "selvää eroa ei ole") in text
    assert "n = 42" in text and ("170" in text)
    assert say("followup.loop.caveat", language) in text
    assert not other_language_words(text, language)
    p.loop.later = _later(adjusted=(1.0, 0.4, 1.6))
    clear = "interval excludes 0" if language == "en" else "ei sisällä nollaa"
    assert clear in page_text(_text(loop.later_words(p)))
    p.loop.later = _later(n=(3, 170))  # too few followed up: counts only, still the caveat
    few = page_text(_text(loop.later_words(p)))
    assert "+0" not in few and say("followup.loop.caveat", language) in few
    p.loop.later = pd.DataFrame()
    assert say("followup.loop.caveat", language) in page_text(_text(loop.later_words(p)))


# ---------------------------------------------------------------------------
# The section on the sample store with the loop run as `make demo` runs it
# ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def loop_store(sample_store, tmp_path_factory):
    """The sample store copied, the queue since 2026Q2, the owners' outcomes (client and visit items) back in."""
    from helpers.data.ingest import ingest
    from helpers.followup import run_followup

    base = tmp_path_factory.mktemp("portfolio-loop")
    store = base / "store.duckdb"
    shutil.copy(sample_store, store)
    now = pd.Timestamp("2026-12-01 09:00")
    run_followup(store=store, out=base / "queue", since="2026Q2", now=now)
    ingest(sample_store.parent / "exports" / "followup_outcomes.xlsx", kind="followups", store=store)
    return store


@pytest.fixture(scope="module", params=["en", "fi"])
def looped(request, loop_store):
    from helpers.report.portfolio.setup import portfolio_setup

    return portfolio_setup(wave="2026Q3", store=str(loop_store), language=request.param)


BLOCKS = [loop.loop_words, loop.owner_table, loop.overdue_accounts, loop.visits_table, loop.later_words,
          loop.analysts_table, loop.overdue_details, loop.analysts_notes]


def test_the_section_speaks_one_language_and_shows_aggregates_only(looped):
    from helpers.data import sample

    html = "".join(_text(f(looped)) for f in BLOCKS)
    text = page_text(html)
    assert not other_language_words(text, looped.language)
    assert "True" not in text and "False" not in text and "nan" not in text.split()
    assert not re.search(r"FU-[0-9A-F]{12}|TP-\d{6}|P-A\d{3}-\d{3}|C-20\d\dQ\d", html)  # no item, answer, person
    for comment in [*sample.PRAISE, *sample.IMPROVE, *sample.WITH_CONTACT]:
        assert comment not in html
    assert "@" not in html  # no e-mail


def test_the_section_counts_the_sample_loop(looped):
    from helpers.data.followups import load_loop

    L = looped.loop
    items = load_loop(store=looped.store)
    in_wave = items[(items["source"] == "survey") & (items["wave"] == "2026Q3")]
    assert L.wave["n_items"].iloc[0] == len(in_wave) and L.owners["n_items"].sum() == len(in_wave)
    assert L.overdue_all.set_index("part").loc["visit", "n_items"] == (items["source"] == "touchpoint").sum()
    # the sample's visit detractors are mostly followed up now: the loop is not dead
    assert L.visits["n_contacted"].sum() > 0.6 * L.visits["n_items"].sum()
    assert len(L.visits) == loop.VISIT_MONTHS and L.visits["period"].iloc[-1] == "2026-09"
    band = summary.summary_band(looped).fragment
    assert len(re.findall(r"<li>", band)) == 5 and ("2026Q3" in re.findall(r"<li>(.*?)</li>", band)[-1])
    later = L.later.set_index("estimate")
    # no effect is planted in the sample: the adjusted difference's interval holds 0
    assert later.loc["difference_adjusted", "ci_low"] < 0 < later.loc["difference_adjusted", "ci_high"]
