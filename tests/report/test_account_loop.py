"""The account report's "Follow-ups": the section helper on hand-checkable items, its privacy rules and its JSON.

Items are built by hand as :func:`helpers.data.followups.load_loop` returns them (with the ids, owner and
respondent a real frame carries, so the tests can check none of them reaches the page).  Times are naive UTC;
the queue's zone is Helsinki (UTC+3 in summer).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from helpers.data.disclosure import DIFFERENCE
from helpers.report.account import display, load
from helpers.report.account import loop as al
from helpers.report.loop_common import counts_only
from language import other_language_words

WAVE = "2026Q3"
NOW = pd.Timestamp("2026-10-15 09:00")
T0 = pd.Timestamp("2026-09-10 08:00")
H = pd.Timedelta(hours=1)
SECRETS = ("FU-0000000000A", "C-2026Q3-A001-0", "P-A001-00", "Maija Meikäläinen")


def items(contact_hours: list[float | None], *, source: str = "survey", wave: str | None = WAVE,
          answered: pd.Timestamp = T0, sla: float = 48.0, start: int = 0) -> pd.DataFrame:
    """One item per entry: contacted that many hours after the answer (None: not contacted)."""
    n = len(contact_hours)
    contacted = [answered + h * H if h is not None else pd.NaT for h in contact_hours]
    return pd.DataFrame({
        "item_id": [f"FU-0000000000A{i}" for i in range(start, start + n)], "source": source,
        "source_id": [f"C-2026Q3-A001-0{i}" for i in range(start, start + n)], "account_id": "A001",
        "owner": "Maija Meikäläinen", "wave": wave, "reasons": "detractor", "score": 3,
        "respondent_id": [f"P-A001-00{i}" for i in range(start, start + n)],
        "answered_at_utc": answered, "due_at_utc": answered + sla * H, "timezone": "Europe/Helsinki",
        "sla_hours": sla, "status": ["contacted" if h is not None else None for h in contact_hours],
        "status_at_utc": contacted, "contacted_at_utc": pd.to_datetime(pd.Series(contacted)),
        "first_try_utc": contacted, "n_outcomes": [int(h is not None) for h in contact_hours]})


def build(frame: pd.DataFrame | None, **kw) -> al.AccountLoop:
    kw = {"wave": WAVE, "months": ("2026-09",), "k": 5, "now": NOW, **kw}
    return al.build_account_loop(frame, **kw)


def html_of(obj) -> str:
    if obj is None:
        return ""
    return obj._repr_html_() if hasattr(obj, "_repr_html_") else obj.data


# --- the figures ---------------------------------------------------------------------------------------------
def test_five_follow_ups_by_hand_share_interval_median():
    # contacted after 2, 10 and 60 hours (the SLA is 48 h), two never: all five past due on NOW
    lp = build(items([2, 10, 60, None, None]))
    s = lp.survey.iloc[0]
    assert lp.state == al.SHOWN and lp.overdue == 2
    assert (s["n_items"], s["n_open"], s["n_overdue"], s["n_due"], s["n_in_sla"], s["n_timed"]) == (5, 2, 2, 5, 2, 3)
    assert s["share_in_sla"] == pytest.approx(0.4)
    # Wilson by hand: z = 1.959964, p = 0.4, n = 5
    z, p, n = 1.959964, 0.4, 5
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    assert (s["ci_low"], s["ci_high"]) == pytest.approx((centre - half, centre + half), abs=1e-5)
    assert np.isnan(s["median_hours_to_contact"])  # 10 h, but from 3 timed contacts (fewer than 5)
    words = al.loop_words(lp, language="en")
    assert words == ("Follow-ups of the client answers of 2026Q3: 5. Contacted within 48 h: 40% (2 of 5; 95% CI "
                     "12% to 77%). Open on 15 Oct 2026: 2, of them overdue: 2.")  # median: only 3 timed (< 5)
    fi = al.loop_words(lp, language="fi")
    assert "40\xa0% (2/5; 95 %:n luottamusväli 12\xa0%…77\xa0%)" in fi and "Avoinna 15.10.2026: 2, joista myöhässä 2." in fi


def test_the_median_needs_k_timed_contacts_and_an_item_within_its_time_is_not_judged_yet():
    lp = build(pd.concat([items([1, 2, 3, 4, 50]), items([None], answered=NOW - 2 * H, start=5)]))
    s = lp.survey.iloc[0]
    assert (s["n_items"], s["n_open"], s["n_overdue"], s["n_due"], s["n_in_sla"]) == (6, 1, 0, 5, 4)
    assert s["median_hours_to_contact"] == 3.0
    words = al.loop_words(lp, language="en")
    assert "80% (4 of 5;" in words and "median time to the first contact 3.0 h (n = 5)" in words
    assert "of them overdue: 0" in words and lp.overdue == 0


def test_fewer_items_than_the_threshold_show_counts_only():
    lp = build(items([2, 60, None]))
    s = lp.survey.iloc[0]
    assert s["n_items"] == 3 and np.isnan(s["share_in_sla"]) and np.isnan(s["ci_low"])
    assert np.isnan(s["median_hours_to_contact"])
    for language, of, few in (("en", "Contacted within 48 h: 1 of 3.", "Groups of fewer than 5 follow-ups"),
                              ("fi", "Tavoitettu ajassa 48 h: 1/3.", "alle 5 yhteydenotettavaa")):
        words = al.loop_words(lp, language=language)
        assert of in words and few in words and "%" not in words and "median" not in words
        table = html_of(al.loop_table(lp, language=language))
        body = table[table.index("<tbody>"):]
        assert "%" not in body and ">3<" in body and ">1<" in body
    assert lp.overdue == 1  # the counts stay


def test_counts_only_is_the_portfolios_rule():
    from helpers.report.portfolio import loop as pl

    assert pl.counts_only is counts_only


def test_nothing_of_the_loop_when_the_client_nps_is_held_back():
    many = items([2, 3, 4, 5, 6, None, None])
    for reason, expected in (("few", "Follow-ups are not shown for 2026Q3: too few clients answered."),
                             (DIFFERENCE, "Follow-ups are not shown for 2026Q3: like the client NPS")):
        lp = build(many, withheld=reason)
        assert lp.state == al.HIDDEN and lp.overdue is None and lp.survey.empty and lp.visits.empty
        words = al.loop_words(lp, language="en")
        assert words.startswith(expected)
        assert not re.search(r"\d", words.replace("2026Q3", ""))  # not a single figure
        assert al.loop_notes(lp, language="en") is None
        assert not re.search(r"\d", html_of(al.loop_table(lp, language="en")))
        assert display.HeadlineJSON({}, [], followups_overdue=lp.overdue).data["followups_overdue"] is None


def test_no_item_answer_respondent_owner_or_contact_reaches_the_section():
    lp = build(pd.concat([items([2, 3, 4, 5, None, None]),
                          items([1, None], source="touchpoint", wave=None, start=6)]))
    for language in ("en", "fi"):
        shown = " ".join([al.loop_words(lp, language=language), html_of(al.loop_table(lp, language=language)),
                          html_of(al.loop_notes(lp, language=language))])
        assert not [s for s in SECRETS if s in shown]
        assert not re.search(r"FU-|P-A\d|C-20", shown)
    assert set(al.loop_frame(lp).columns) == {"part", "n_items", "n_open", "n_overdue", "n_contacted", "n_due",
                                              "n_in_sla", "share_in_sla", "ci_low", "ci_high",
                                              "median_hours_to_contact", "n_timed"}


def test_visit_surveys_of_the_waves_months_are_counted_apart_in_local_time():
    survey = items([2, 3, 4, 5, 6])
    visits = pd.concat([
        items([1, 2, 3], source="touchpoint", wave=None, start=5),
        # 22:30 UTC on 31 August is 01:30 on 1 September in Helsinki: a September visit
        items([None], source="touchpoint", wave=None, answered=pd.Timestamp("2026-08-31 22:30"), start=8),
        # 20:30 UTC on 31 August is 23:30 in Helsinki: August, not counted
        items([5], source="touchpoint", wave=None, answered=pd.Timestamp("2026-08-31 20:30"), start=9)])
    lp = build(pd.concat([survey, visits]))
    v = lp.visits.iloc[0]
    assert (v["n_items"], v["n_in_sla"], v["n_due"], v["n_overdue"]) == (4, 3, 4, 1)
    assert lp.survey.iloc[0]["n_items"] == 5 and lp.overdue == 0  # the JSON counts the wave's client answers
    words = al.loop_words(lp, language="en")
    assert "Visit surveys of September 2026, counted apart — follow-ups: 4; contacted within 48 h: 3 of 4; overdue: 1." \
        in words and "Groups of fewer than 5" in words
    assert "käyntikyselyt ajalta syyskuu 2026" in al.loop_words(lp, language="fi").lower()
    assert al.wave_months(pd.Series(pd.to_datetime(["2026-07-30", "2026-09-02"]))) == ("2026-07", "2026-08",
                                                                                      "2026-09")
    assert al.months_text(("2026-07", "2026-08", "2026-09"), "en") == "July 2026–September 2026"


def test_without_follow_up_data_one_sentence_no_error():
    for frame in (None, items([])):
        lp = build(frame, n_store=0)
        assert lp.state == al.NO_LOOP and lp.overdue is None
        en = al.loop_words(lp, language="en")
        assert en.count(". ") == 0 and en.endswith(".") and "`flamekit followup`" in en
        assert al.loop_notes(lp, language="en") is None
    queued_elsewhere = build(items([]), n_store=40, wave_queued=True)
    assert al.loop_words(queued_elsewhere, language="en") == "No client answer of 2026Q3 needed a follow-up."
    assert queued_elsewhere.overdue == 0
    not_yet = build(items([]), n_store=40, wave_queued=False)
    assert not_yet.state == al.NOT_QUEUED and "flamekit followup --since 2026Q3" in al.loop_words(not_yet)


@pytest.mark.parametrize("language", ["en", "fi"])
def test_each_state_speaks_the_pages_language(language):
    states = [build(items([2, 60, None])), build(items([2, 3, 4, 5, 6, 7, None])),
              build(items([2, 3, 4, 5, 6]), withheld="few"), build(items([2]), withheld=DIFFERENCE),
              build(None, n_store=0), build(items([]), n_store=3, wave_queued=False),
              build(pd.concat([items([2, 3, 4, 5, 6]), items([1], source="touchpoint", wave=None, start=5)]))]
    for lp in states:
        text = " ".join([al.loop_words(lp, language=language), html_of(al.loop_notes(lp, language=language))])
        table = html_of(al.loop_table(lp, language=language))
        text += " " + re.sub(r"<[^>]+>", " ", table)
        assert other_language_words(text.replace("flamekit followup", ""), language) == [], lp.state


def test_the_headline_json_carries_the_overdue_count():
    lp = build(items([2, 60, None, None]))
    j = display.headline_json({"account_id": "A001", "nps": 10.0}, loop=lp).data
    assert j["followups_overdue"] == 2 and isinstance(j["followups_overdue"], int)
    assert list(j)[-2:] == ["followups_overdue", "withheld"]


def test_the_sample_store_without_a_loop_gives_one_sentence(sample_store):
    account = load.load_account("A001", WAVE, store=sample_store)
    lp = al.loop_section(account, now=NOW)
    assert lp.state == al.NO_LOOP and lp.months == ("2026-09",)
    held = load.load_account("A003", WAVE, store=sample_store)  # three clients: the NPS is held back
    assert al.loop_section(held, now=NOW).state == al.HIDDEN
