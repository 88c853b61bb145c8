"""The catalogue of words: both languages complete, the same placeholders, no text in the other language."""

from __future__ import annotations

import re

import pytest

from helpers.words import LANGUAGES, catalogue, placeholders, say, say_list, section
from language import other_language_words


def test_both_languages_have_the_same_keys_and_placeholders():
    en, fi = catalogue("en"), catalogue("fi")
    assert set(en) == set(fi), f"only en: {sorted(set(en) - set(fi))}; only fi: {sorted(set(fi) - set(en))}"
    for key in en:
        e, f = en[key], fi[key]
        assert type(e) is type(f), key
        if isinstance(e, list):
            assert len(e) == len(f), key
            pairs = zip(e, f)
        else:
            pairs = [(e, f)]
        for a, b in pairs:
            assert placeholders(a) == placeholders(b), (key, placeholders(a) ^ placeholders(b))


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_in_the_other_language(language):
    leaks = {}
    for key, text in catalogue(language).items():
        for t in text if isinstance(text, list) else [text]:
            words = other_language_words(re.sub(r"\{[^}]*\}", " ", t), language)
            if words:
                leaks[key] = words
    assert not leaks, leaks


def test_lookup_fills_placeholders_and_names_a_missing_key():
    assert say("common.yes", "fi") == "kyllä"
    assert "fewer than the 5" in say("account.why_few", "en", n=3, k=5)
    assert section("gaps.side", "fi") == {"client": "Asiakas", "staff": "Tiimi"}
    assert len(say_list("account.methods", "en")) == len(say_list("account.methods", "fi")) > 5
    with pytest.raises(KeyError, match="no_such_key.*fi catalogue"):
        say("account.no_such_key", "fi")
    with pytest.raises(ValueError, match="language must be one of"):
        say("common.yes", "sv")


def test_the_language_check_finds_leaks_both_ways():
    assert other_language_words("Client NPS is 12 and the team agrees.", "fi") == ["and", "client", "is", "team",
                                                                                   "the"]
    assert other_language_words("Asiakkaiden NPS on 12 ja tiimi on samaa mieltä.", "en") == ["asiakkaiden", "ja",
                                                                                              "mieltä", "tiimi"]
    assert other_language_words("Client NPS is 12 (n = 14).", "en") == []
