"""SLA arithmetic: durations, the --since window, due times across time zones and daylight saving time."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from helpers.data.clock import TimezoneError, check_timezone, to_local, to_utc
from helpers.data.store import query
from helpers.followup import FollowupError, run_followup
from helpers.followup.sla import parse_since, parse_sla, sla_text

NOW = pd.Timestamp("2026-12-01 09:00")


def _ts(*texts: str) -> pd.Series:
    return pd.Series(pd.to_datetime(list(texts)))


@pytest.mark.parametrize("text, hours", [("48h", 48), ("2d", 48), ("90min", 1.5), ("90m", 1.5), ("1d 12h", 36),
                                         ("36", 36), ("0,5h", 0.5), (24, 24)])
def test_sla_durations(text, hours):
    assert parse_sla(text) == pd.Timedelta(hours=hours)


@pytest.mark.parametrize("text", ["", "two days", "48 hours please", "0h", "-4h", "1w"])
def test_a_bad_sla_says_how_to_write_one(text):
    with pytest.raises(FollowupError, match="48h|more than zero"):
        parse_sla(text)


def test_sla_text():
    assert sla_text(parse_sla("2d")) == "48 h" and sla_text(parse_sla("90min")) == "90 min"


def test_since_as_date_days_or_wave():
    tz = "Europe/Helsinki"
    assert parse_since("2026-07-01", now=NOW, timezone=tz) == pd.Timestamp("2026-06-30 21:00")  # summer time, +3
    assert parse_since("1.1.2026", now=NOW, timezone=tz) == pd.Timestamp("2025-12-31 22:00")  # winter time, +2
    assert parse_since("30d", now=NOW, timezone=tz) == NOW - pd.Timedelta(days=30)
    assert parse_since(None, now=NOW, timezone=tz) == NOW - pd.Timedelta(days=30)
    assert parse_since("2026Q3", now=NOW, timezone=tz) == pd.Timestamp("2026-06-30 21:00")
    with pytest.raises(FollowupError, match="not a date.*30d.*2026Q3"):
        parse_since("last spring", now=NOW, timezone=tz)


def test_due_across_the_spring_change_in_helsinki():
    """48 hours from Saturday 10:00 (winter time, +2) is Monday 11:00 (summer time, +3), not 10:00."""
    answered = to_utc(_ts("2026-03-28 10:00"), "Europe/Helsinki")
    assert answered.iloc[0] == pd.Timestamp("2026-03-28 08:00")
    due = answered + parse_sla("48h")
    assert to_local(due, "Europe/Helsinki").iloc[0] == pd.Timestamp("2026-03-30 11:00")


def test_due_across_the_autumn_change_in_helsinki():
    """48 hours from Saturday 10:00 (summer time) is Monday 09:00 (winter time)."""
    due = to_utc(_ts("2026-10-24 10:00"), "Europe/Helsinki") + parse_sla("48h")
    assert to_local(due, "Europe/Helsinki").iloc[0] == pd.Timestamp("2026-10-26 09:00")


def test_times_that_do_not_exist_or_happen_twice():
    t = to_utc(_ts("2026-03-29 03:30", "2026-10-25 03:30"), "Europe/Helsinki")
    assert t.iloc[0] == pd.Timestamp("2026-03-29 01:00")  # 03:30 skipped: the moment the clocks jumped to (04:00)
    assert t.iloc[1] == pd.Timestamp("2026-10-25 00:30")  # 03:30 twice: the first, summer-time one


def test_another_zone_changes_on_other_days():
    """New York moves its clocks on 8 March 2026, three weeks before Helsinki."""
    due = to_utc(_ts("2026-03-07 12:00"), "America/New_York") + parse_sla("24h")
    assert to_local(due, "America/New_York").iloc[0] == pd.Timestamp("2026-03-08 13:00")
    same = to_utc(_ts("2026-03-07 12:00"), "Europe/Helsinki") + parse_sla("24h")
    assert to_local(same, "Europe/Helsinki").iloc[0] == pd.Timestamp("2026-03-08 12:00")


def test_one_zone_per_row():
    t = to_utc(_ts("2026-07-01 12:00", "2026-07-01 12:00"), pd.Series(["Europe/Helsinki", "UTC"]))
    assert t.tolist() == [pd.Timestamp("2026-07-01 09:00"), pd.Timestamp("2026-07-01 12:00")]


def test_an_unknown_zone_is_named():
    with pytest.raises(TimezoneError, match="Europe/Helsinkii.*Europe/Helsinki"):
        check_timezone("Europe/Helsinkii")


def test_the_queue_keeps_the_due_time_across_dst_and_shows_it_in_local_time(tiny_store, tmp_path):
    store = tiny_store([{"response_id": "R1", "submitted_at": "28.3.2026 10.00", "nps": 3}], wave="2026Q1")
    res = run_followup(store=store, out=tmp_path / "q", since="2026-03-01", now=NOW)
    item = query("SELECT answered_at_utc, due_at_utc, timezone, sla_hours FROM followup_items", store=store).iloc[0]
    assert item["answered_at_utc"] == pd.Timestamp("2026-03-28 08:00")
    assert item["due_at_utc"] == pd.Timestamp("2026-03-30 08:00")
    assert (item["timezone"], item["sla_hours"]) == ("Europe/Helsinki", 48.0)
    ws = load_workbook(res.workbooks["Aino Mäkelä"]).worksheets[0]
    header = [c.value for c in ws[1]]
    assert ws.cell(row=2, column=header.index("Due") + 1).value == pd.Timestamp("2026-03-30 11:00").to_pydatetime()
    assert ws.cell(row=2, column=header.index("Answered") + 1).value == \
        pd.Timestamp("2026-03-28 10:00").to_pydatetime()


def test_the_queue_in_another_zone(tiny_store, tmp_path):
    store = tiny_store([{"response_id": "R1", "submitted_at": "2026-03-07 12:00", "nps": 3}], wave="2026Q1")
    run_followup(store=store, out=tmp_path / "q", since="2026-03-01", sla="24h", timezone="America/New_York",
                 now=NOW)
    item = query("SELECT due_at_utc, timezone FROM followup_items", store=store).iloc[0]
    assert item["due_at_utc"] == pd.Timestamp("2026-03-08 17:00")  # 13:00 EDT
    assert item["timezone"] == "America/New_York"


def test_an_item_keeps_its_due_time_when_the_sla_changes(tiny_store, tmp_path):
    store = tiny_store([{"response_id": "R1", "submitted_at": "2026-09-10 10:00", "nps": 3}])
    run_followup(store=store, out=tmp_path / "q", since="2026-09-01", sla="48h", now=NOW)
    run_followup(store=store, out=tmp_path / "q", since="2026-09-01", sla="24h", now=NOW)
    assert query("SELECT sla_hours FROM followup_items", store=store)["sla_hours"].tolist() == [48.0]
