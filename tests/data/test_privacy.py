"""Privacy helpers: scrubbing, escaping, suppression, isolation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.data.privacy import (
    EMAIL_MASK,
    PHONE_MASK,
    IsolationError,
    assert_single_account,
    escape_text,
    scrub_contacts,
    suppress_small_groups,
)


@pytest.mark.parametrize("text", [
    "Soita 040 123 4567", "Please call +358 50 765 4321 about it", "puh. (09) 123 4567", "puh. 09–123 4567",
    "040.123.4567", "040/1234567", "(555) 123-4567", "0401234567.", "+46 8 123 456 78",
])
def test_phone_numbers_are_scrubbed(text):
    out = scrub_contacts(text)
    assert PHONE_MASK in out and not any(ch.isdigit() for ch in out.replace(PHONE_MASK, ""))


def test_two_numbers_back_to_back():
    assert scrub_contacts("Soita 040 123 4567 050 765 4321") == f"Soita {PHONE_MASK}"


@pytest.mark.parametrize("text", ["matti.meikalainen@example.fi", "matti(at)example.fi", "m [at] ex [dot] fi",
                                  "matti at example dot fi", "Sofia.Åström@yritys.fi"])
def test_emails_are_scrubbed(text):
    assert scrub_contacts(f"Kirjoita: {text} kiitos") == f"Kirjoita: {EMAIL_MASK} kiitos"


@pytest.mark.parametrize("text", ["Päivä 14.3.2026 ja summa 1 200 000 €", "vuonna 2026 oli 15 käyntiä",
                                  "kokous 01.02.2026 klo 09.15", "Meet at noon. Thanks", "look at the results. Next",
                                  "tilaus 12345678"])
def test_ordinary_text_is_kept(text):
    assert scrub_contacts(text) == text


def test_escape_and_non_strings():
    assert escape_text('<script>alert("x")</script>') == "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    assert escape_text(np.nan) == "" and scrub_contacts(None) is None


def test_suppress_small_groups():
    d = pd.DataFrame({"side": ["client", "staff", "staff"], "n": [3, 4, 6], "mean": [4.0, 3.0, 2.0]})
    out = suppress_small_groups(d, only=d["side"] == "staff")
    assert out["mean"].tolist()[0] == 4.0 and np.isnan(out["mean"].iloc[1]) and out["mean"].iloc[2] == 2.0
    assert out["suppressed"].tolist() == [False, True, False] and out["n"].tolist() == [3, 4, 6]
    assert suppress_small_groups(d)["suppressed"].tolist() == [True, True, False]


def test_assert_single_account():
    d = pd.DataFrame({"account_id": ["A", "A"]})
    assert assert_single_account(d, "A") is d
    with pytest.raises(IsolationError):
        assert_single_account(pd.DataFrame({"account_id": ["A", "B"]}), "A")


def test_known_people_and_ids_are_scrubbed_with_finnish_case_forms():
    from helpers.data.privacy import ID_MASK, NAME_MASK, scrub_comment

    text = ("Respondent P-A001-003 says: Mikko Virtanen helped. Virtasen tiimi ja Lähteenmäen Pekka. "
            "Soita 040 123 4567. Kiitos Sofia Åströmille!")
    out = scrub_comment(text, names=["Mikko Virtanen", "Olli Lähteenmäki", "Sofia Åström"],
                        ids=["P-A001-003", "R0001"])
    assert "Virtanen" not in out and "Virtasen" not in out and "Lähteenmäen" not in out and "Åström" not in out
    assert "P-A001-003" not in out and ID_MASK in out and out.count(NAME_MASK) >= 4 and PHONE_MASK in out
    assert out.startswith("Respondent [id removed] says: [name removed] helped.")


@pytest.mark.parametrize("text, expected", [
    ("Thanks to Laura Smith and the team", "Thanks to [name removed] and the team"),
    ("Yhteistyö Anna-Maija Korhosen kanssa sujui", "Yhteistyö [name removed] kanssa sujui"),
    ("Matti Meikäläinen soitti", "[name removed] soitti"),
    ("Toivo paranee ja Into Oy kasvaa", "Toivo paranee ja Into Oy kasvaa"),  # words that are also names
    ("Hyvä palvelu, kiitos!", "Hyvä palvelu, kiitos!"),
    ("Tilaus R00012 ja R0001", "Tilaus R00012 ja [id removed]"),
])
def test_name_patterns_and_what_is_left_alone(text, expected):
    from helpers.data.privacy import scrub_people

    assert scrub_people(text, ids=["R0001"]) == expected
