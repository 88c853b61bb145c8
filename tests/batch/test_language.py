"""A notebook in one language: cells tagged for the other language are removed before it runs."""

from __future__ import annotations

import nbformat
import pytest

from helpers.batch.language import keep_language

NOTEBOOKS = ["account_report.ipynb", "portfolio.ipynb", "drivers.ipynb", "explore.ipynb"]


def _nb():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("## Client view", metadata={"tags": ["lang-en"]}),
                nbformat.v4.new_markdown_cell("## Asiakkaan näkemys", metadata={"tags": ["lang-fi"]}),
                nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})]
    return nb


@pytest.mark.parametrize("language, kept", [("en", "## Client view"), ("fi", "## Asiakkaan näkemys")])
def test_only_the_page_language_stays(language, kept):
    nb = keep_language(_nb(), language)
    assert [c.source for c in nb.cells] == [kept, "x = 1"]
    assert nb.metadata["flamekit"]["language"] == language


def test_an_unknown_language_tag_is_an_error():
    nb = _nb()
    nb.cells[0].metadata["tags"] = ["lang-sv"]
    with pytest.raises(ValueError, match="lang-sv.*lang-en"):
        keep_language(nb, "en")
    with pytest.raises(ValueError, match="language must be one of"):
        keep_language(_nb(), "de")
