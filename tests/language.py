"""Which words give away a page's other language: a check shared by the catalogue, notebook and browser tests.

A Finnish page must not contain the English markers, an English page neither
the Finnish markers nor a word with ä, ö or å.  Data (account and people
names, comments) are taken out before the check by the caller.
"""

from __future__ import annotations

import re

#: Common English words that are not Finnish words.
ENGLISH = frozenset("""
the and of is are with from for not this that than which when what their there these those been have has was
were will would should could into about between each only more less answers answer clients client team teams
account accounts score scores shown hidden wave waves below above higher lower read see how why who per
""".split())
#: Common Finnish words that are not English words.
FINNISH = frozenset("""
ja ei että tai kun joka jotka ovat mutta sekä kuin asiakas asiakkaat asiakkaiden asiakkaan tiimi tiimin
vastausta vastauksia vastaajia kierros kierroksella kierroksen ulottuvuus ulottuvuudet näytetä näytetään
piilotettu luottamusväli vähintään alle yli pistettä myös vain tämä tällä jos eli kanssa mukaan ilman
""".split())
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def other_language_words(text: str, language: str) -> list[str]:
    """Words of ``text`` that belong to the other language than ``language`` (empty when none)."""
    words = [w.lower() for w in _WORD.findall(text)]
    if language == "fi":
        return sorted({w for w in words if w in ENGLISH})
    return sorted({w for w in words if w in FINNISH or re.search("[äöå]", w)})


def page_text(page: str) -> str:
    """The prose of an HTML page for :func:`other_language_words`: visible text and image alt text.

    Left out: ``<script>``/``<style>``, ``<bdi>`` and any element with class
    ``fk-data`` (names and respondents' words, which may be in any language),
    and the ``<title>``'s data.
    """
    from html.parser import HTMLParser

    class _Text(HTMLParser):
        VOID = {"img", "br", "hr", "meta", "link", "input", "col", "source", "wbr", "area", "base"}

        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []
            self.stack: list[bool] = []  # per open element: whether text inside is skipped

        def _skipping(self) -> bool:
            return any(self.stack)

        def handle_starttag(self, tag, attrs):
            a = dict(attrs)
            if tag == "img" and a.get("alt") and not self._skipping():
                self.parts.append(a["alt"])
            if tag in self.VOID:
                return
            skip = tag in ("script", "style", "bdi", "title") or "fk-data" in (a.get("class") or "").split()
            self.stack.append(skip)

        def handle_endtag(self, tag):
            if tag not in self.VOID and self.stack:
                self.stack.pop()

        def handle_data(self, data):
            if not self._skipping():
                self.parts.append(data)

    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)
