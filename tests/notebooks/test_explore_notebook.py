"""notebooks/explore.ipynb runs on the sample store in each language, as the batch runs a notebook, and reads well.

Each run removes the other language's cells first (:func:`helpers.batch.language.keep_language`), then checks the
executed notebook: no error, no printed output, no raw repr, charts with alt text, and no word of the other language
outside data (names in ``<bdi>`` or ``fk-data``, parameter names and commands in code).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

from helpers.batch.language import keep_language
from language import other_language_words, page_text

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = ROOT / "notebooks" / "explore.ipynb"


def _run(tmp_path: Path, language: str, parameters: dict) -> nbformat.NotebookNode:
    source = keep_language(nbformat.read(NOTEBOOK, as_version=4), language)
    src = tmp_path / f"explore-{language}.ipynb"
    nbformat.write(source, src)
    return pm.execute_notebook(str(src), str(tmp_path / f"explore-{language}-out.ipynb"),
                               parameters={"language": language, **parameters}, kernel_name="python3",
                               progress_bar=False, cwd=str(ROOT / "notebooks"))


def _page(nb: nbformat.NotebookNode) -> tuple[str, str]:
    """(the prose of the markdown cells without inline code, the HTML of every output)."""
    prose = "\n".join(re.sub(r"`[^`]*`", " ", c.source) for c in nb.cells if c.cell_type == "markdown")
    outputs = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            outputs.append(data.get("text/html") or data.get("text/plain", ""))
    return prose, "\n".join(outputs)


def _check_reads_well(nb: nbformat.NotebookNode, language: str) -> str:
    kinds = [o["output_type"] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert "error" not in kinds and "stream" not in kinds, kinds  # no traceback, no print(), no warning text
    prose, html = _page(nb)
    text = prose + "\n" + page_text(html)
    assert not other_language_words(text, language), other_language_words(text, language)
    for bad in ("dtype", "Name: ", "No description has been provided", "<pandas", "DataFrame", ">True<", ">False<",
                "Output(", "VBox("):
        assert bad not in html, bad
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert headers and not [h for h in headers if re.fullmatch(r"[a-z]+(_[a-z]+)+", h)]
    images = re.findall(r"<img [^>]*>", html)
    assert len(images) >= 2 and all(re.search(r'alt="[^"]{20,}"', i) for i in images)
    assert 'class="fk-band"' in html  # the summary bands
    return html


@pytest.mark.slow
def test_explore_runs_with_defaults_in_english(sample_store, tmp_path):
    nb = _run(tmp_path, "en", {"store": str(sample_store)})
    html = _check_reads_well(nb, "en")
    assert "Looking at" in html and "every segment" in html and "the lowest client NPS of the selection" in html
    assert "Client files" in html and "Rows in quarantine" in html  # data health
    assert "Dot chart: client NPS of" in html and "Cronbach" in html
    assert "flamekit" in html and "--accounts" in html and "This run does not write the report" in html
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    assert headings[-1] == "## For analysts" and "## Data health" in headings


@pytest.mark.slow
def test_explore_drills_down_in_finnish_and_writes_the_report(sample_store, tmp_path):
    from helpers.data import store as st

    accounts = st.load_accounts(store=sample_store)
    owner = accounts.loc[accounts["segment"] == "Energy", "owner"].value_counts().index[0]
    mine = accounts[(accounts["segment"] == "Energy") & (accounts["owner"] == owner)]
    nb = _run(tmp_path, "fi", {"store": str(sample_store), "segment": "Energy", "owner": owner,
                               "account_id": str(mine["account_id"].iloc[0]), "wave": "2026Q2",
                               "render_report": True, "reports_dir": str(tmp_path / "reports")})
    html = _check_reads_well(nb, "fi")
    assert "Tarkastelussa" in html and f"<bdi>{owner}</bdi>" in html and "valittu" in html
    others = set(accounts.loc[~accounts["account_id"].isin(mine["account_id"]), "name"]) - set(mine["name"])
    assert not [n for n in others if f">{n}<" in html]  # only the selection's accounts are listed
    written = list((tmp_path / "reports" / "2026Q2").glob("*.html"))
    page = next(p for p in written if p.name != "index.html")
    assert page.name.endswith(f"-{mine['account_id'].iloc[0].lower()}.html")
    assert "Raportti kirjoitettu" in html and page.name in html


def test_explore_parameters_are_documented():
    params = pm.inspect_notebook(str(NOTEBOOK))
    assert set(params) == {"store", "wave", "segment", "owner", "account_id", "language", "render_report",
                           "reports_dir", "min_group_size", "min_client_group_size"}
    assert all(p["help"] for p in params.values())
    assert params["render_report"]["default"] == "False"  # the suite stays fast unless a test asks


def test_explore_prose_is_written_once_per_language():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        tags = [t for t in cell.metadata.get("tags", []) if t.startswith("lang-")]
        assert len(tags) == 1, cell.source[:60]
    for language in ("en", "fi"):
        kept = keep_language(nbformat.read(NOTEBOOK, as_version=4), language)
        prose = " ".join(re.sub(r"`[^`]*`", " ", c.source) for c in kept.cells if c.cell_type == "markdown")
        assert not other_language_words(prose, language)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert not any(re.search(r"^\s*(def|class) ", s, re.M) or "print(" in s for s in code)
