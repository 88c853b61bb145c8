"""notebooks/portfolio.ipynb and notebooks/drivers.ipynb run with papermill against the sample store."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"


def _run(name: str, tmp_path: Path, **parameters) -> nbformat.NotebookNode:
    tag = "-".join(f"{k}={v}" for k, v in parameters.items() if k != "store")
    out = tmp_path / f"{name}{'-' + tag if tag else ''}.ipynb"
    return pm.execute_notebook(str(NOTEBOOKS / f"{name}.ipynb"), str(out), parameters=parameters,
                               kernel_name="python3", progress_bar=False, cwd=str(NOTEBOOKS))


def _errors(nb) -> list:
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
            if o.get("output_type") == "error"]


def _text(nb) -> str:
    """Every output as text: streams, plain text and HTML."""
    parts = []
    for c in nb.cells:
        for o in c.get("outputs", []) if c.cell_type == "code" else []:
            parts.append(str(o.get("text", "")))
            data = o.get("data", {})
            parts.append(str(data.get("text/plain", "")))
            parts.append(str(data.get("text/html", "")))
            parts.append(str(data.get("text/markdown", "")))
    return "\n".join(parts)


def _images(nb) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code"
               for o in c.get("outputs", []))


@pytest.fixture(scope="module")
def store_path(sample_store) -> str:
    return str(sample_store)


@pytest.fixture(scope="module")
def module_tmp(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("notebooks")


@pytest.fixture(autouse=True)
def _sample_as_default_store(monkeypatch, sample_store):
    """The notebooks also find the sample store the way the README's papermill command does."""
    monkeypatch.setenv("FLAMEKIT_STORE", str(sample_store))


@pytest.mark.slow
def test_portfolio_runs_with_defaults(module_tmp):
    nb = _run("portfolio", module_tmp)
    assert not _errors(nb)
    text = _text(nb)
    for expected in ("Client NPS", "accounts with ≥ 5 team answers", "2026Q3", "Data hash",
                     "churn", "is not shown", "For analysts"):
        assert expected in text, expected
    assert _images(nb) >= 4  # NPS per account, dimension map, gap map, trend
    # free text is escaped in the HTML tables: the sample has "Metsä & Meri"
    html = "".join(str(o.get("data", {}).get("text/html", "")) for c in nb.cells if c.cell_type == "code"
                   for o in c.get("outputs", []))
    assert "Metsä &amp; Meri" in html and "Metsä & Meri" not in html
    assert "<script" not in html.lower()
    # nothing printed: every output is a table, a chart or words from the catalogue
    assert not [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "stream"]


@pytest.mark.slow
def test_portfolio_shows_no_small_team_group(module_tmp, store_path):
    """With a threshold above every team size, no team result may appear."""
    nb = _run("portfolio", module_tmp, store=store_path, min_group_size=99)
    assert not _errors(nb)
    text = _text(nb)
    assert "No account has a team view to compare with this wave." in text
    assert re.search(r"Accounts without a team view \(fewer than 99 team or 5 client answers, or a held-back "
                     r"result\): 60\.", text)
    assert "Largest blind spots" not in text
    assert _images(nb) == 3  # NPS per account, dimension map, trend: no gap map


@pytest.mark.slow
@pytest.mark.parametrize("outcome,side", [("nps", "client"), ("retention", "client"), ("retention", "both")])
def test_drivers_runs(module_tmp, store_path, outcome, side):
    extra = {"min_group_size": 17} if side == "both" else {}  # the team means of smaller teams stay out
    nb = _run("drivers", module_tmp, store=store_path, outcome=outcome, side=side, **extra)
    assert not _errors(nb)
    text = _text(nb)
    for expected in ("Data hash", "General dominance", "Relative weights", "Quadrant", "Churn (", "read the items",
                     "Smaller outcome group for each rating" if outcome == "retention"
                     else "Condition number"):
        assert expected in text, expected
    assert _images(nb) >= 4  # key drivers, importance–performance, model check, response surface
    if outcome == "retention":
        assert "Logistic regression of churn" in text and "Cox model of time to churn" in text
        assert "AUC" in text and "NPS alone" in text
    else:
        assert "Least squares (OLS)" in text and "Mixed model, random intercept per account" in text
        assert "checked on the renewal version of this page" in text  # no empty comparison table
        assert "The team's own NPS" in text  # do clients and the team value the same things?
    if side == "both":
        assert ("(gap, client − team)" if outcome == "retention" else "(team)") in text
        assert "fewer than 17 team answers" in text


@pytest.mark.slow
@pytest.mark.parametrize("waves,message", [("", "No wave given"),
                                           ("2026Q3,1999Q1", r"\['1999Q1'\] are not in the store")])
def test_drivers_says_which_waves_are_wrong(module_tmp, store_path, waves, message):
    with pytest.raises(pm.PapermillExecutionError, match=message):
        _run("drivers", module_tmp, store=store_path, waves=waves)


def test_notebooks_declare_documented_parameters():
    portfolio = pm.inspect_notebook(str(NOTEBOOKS / "portfolio.ipynb"))
    assert set(portfolio) == {"wave", "store", "language", "min_group_size", "min_client_group_size"}
    drivers = pm.inspect_notebook(str(NOTEBOOKS / "drivers.ipynb"))
    assert set(drivers) == {"waves", "store", "outcome", "side", "language", "min_group_size",
                            "min_client_group_size"}
    for params in (portfolio, drivers):
        assert all(p["help"] for p in params.values())


def test_notebooks_have_no_definitions_and_no_outputs():
    for name in ("portfolio", "drivers"):
        nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        assert nb.metadata["kernelspec"]["name"] == "python3"
        for cell in nb.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None
                assert not re.search(r"^\s*(def|class) ", cell.source, re.M), f"{name}: logic belongs in helpers"


# portfolio
@pytest.fixture(scope="module")
def portfolio_pages(tmp_path_factory, sample_store) -> dict[str, str]:
    """The portfolio page as the batch renders it (the other language's cells taken out), in each language."""
    from helpers.batch.run import render_notebook

    out = tmp_path_factory.mktemp("portfolio-pages")
    pages = {}
    for language in ("en", "fi"):
        res = render_notebook(NOTEBOOKS / "portfolio.ipynb", out / f"portfolio-{language}.html",
                              parameters={"wave": "2026Q3", "store": str(sample_store), "language": language},
                              language=language)
        pages[language] = Path(res.html).read_text(encoding="utf-8")
    return pages


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "fi"])
def test_portfolio_page_speaks_one_language(portfolio_pages, language):
    from language import other_language_words, page_text

    page = portfolio_pages[language]
    assert other_language_words(page_text(page), language) == []
    heading = {"en": "For analysts", "fi": "Analyytikoille"}[language]
    other = {"en": "Analyytikoille", "fi": "For analysts"}[language]
    assert heading in page and other not in page


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "fi"])
def test_portfolio_page_opens_with_the_band_and_keeps_statistics_for_the_appendix(portfolio_pages, language):
    page = portfolio_pages[language]
    band = page.index('class="fk-band')
    appendix = page.index({"en": '<h2 id="For-analysts"', "fi": '<h2 id="Analyytikoille"'}[language])
    first_section = page.index("<h2")
    assert band < first_section < appendix
    body = re.sub(r'src="data:[^"]*"', "", page[band:appendix])  # words and alt texts, not image data
    assert not re.search(r"Welch|Benjamini|Hochberg|Hedges|DeLong|adjusted Wald|korjattu Wald|AUC", body)
    headers = re.findall(r"<th[^>]*>([^<]*)</th>", page)
    assert headers and not [h for h in headers if re.search(r"[a-z]_[a-z]", h)]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", page)
    assert "True" not in cells and "False" not in cells
    assert not re.search(r"<pre|class=\"[^\"]*jp-RenderedText", page)  # no print() output, no repr
    assert "<details>" in page[band:appendix]  # the full list folded
    assert len(page.encode("utf-8")) < 1_500_000


# portfolio: closing the loop
def _band(page: str) -> str:
    """The page's summary band: from its start to the contents line (or the first section)."""
    start = page.index('class="fk-band')
    ends = [page.find(m, start) for m in ('<nav class="fk-toc"', "<h2")]
    return page[start:min(e for e in ends if e >= 0)]


LOOP_HEADING = {"en": ("Closing the loop", '<h2 id="Closing-the-loop"'),
                "fi": ("Palautteeseen reagointi", '<h2 id="Palautteeseen-reagointi"')}


@pytest.fixture(scope="module")
def loop_pages(tmp_path_factory, sample_store) -> dict[str, str]:
    """The portfolio page as the batch renders it, on a copy of the sample with the follow-up loop run as
    `make demo` runs it (the queue since 2026Q2, the owners' outcomes back in), in each language."""
    import shutil

    import pandas as pd

    from helpers.batch.run import render_notebook
    from helpers.data.ingest import ingest
    from helpers.followup import run_followup

    out = tmp_path_factory.mktemp("portfolio-loop-pages")
    store = out / "store.duckdb"
    shutil.copy(sample_store, store)
    run_followup(store=store, out=out / "queue", since="2026Q2", now=pd.Timestamp("2026-12-01 09:00"))
    ingest(sample_store.parent / "exports" / "followup_outcomes.xlsx", kind="followups", store=store)
    pages = {}
    for language in ("en", "fi"):
        res = render_notebook(NOTEBOOKS / "portfolio.ipynb", out / f"portfolio-{language}.html",
                              parameters={"wave": "2026Q3", "store": str(store), "language": language},
                              language=language)
        pages[language] = Path(res.html).read_text(encoding="utf-8")
    return pages


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "fi"])
def test_portfolio_page_with_the_loop_in_one_language_aggregates_only(loop_pages, language):
    from language import other_language_words, page_text

    page = loop_pages[language]
    assert other_language_words(page_text(page), language) == []
    title, anchor = LOOP_HEADING[language]
    other_title = LOOP_HEADING["fi" if language == "en" else "en"][0]
    assert title in page and other_title not in page
    appendix = page.index({"en": '<h2 id="For-analysts"', "fi": '<h2 id="Analyytikoille"'}[language])
    section = page[page.index(anchor):appendix]
    assert "fk-table" in section and ("<bdi>" in section)  # the owners' table, accounts by name
    assert not re.search(r"OLS|Wilson|HC1|Welch", re.sub(r'src="data:[^"]*"', "", section))  # detail: appendix
    assert re.search(r"OLS|PNS", page[appendix:]) and "Wilson" in page[appendix:]
    assert not re.search(r"FU-[0-9A-F]{12}|TP-\d{6}|P-A\d{3}-\d{3}|C-20\d\dQ\d", page)  # no item, answer or person
    from helpers.words import say

    assert say("followup.loop.caveat", language) in page
    band = _band(page)
    assert band.count("<li>") == 5  # the overdue follow-ups earn their line
    assert len(page.encode("utf-8")) < 1_500_000


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "fi"])
def test_portfolio_page_without_follow_ups_says_how_to_start(portfolio_pages, language):
    page = portfolio_pages[language]
    title, anchor = LOOP_HEADING[language]
    section = page[page.index(anchor):page.index({"en": '<h2 id="For-analysts"',
                                                  "fi": '<h2 id="Analyytikoille"'}[language])]
    assert "flamekit followup" in section and "fk-table" not in section
    band = _band(page)
    assert band.count("<li>") == 4


# drivers
def _drivers_page(tmp_path: Path, store: str, language: str, **parameters) -> str:
    """The drivers page as the batch renders it: one language's cells, code hidden, exported to HTML."""
    from helpers.batch import render_notebook

    out = tmp_path / language / "drivers.html"
    render_notebook(NOTEBOOKS / "drivers.ipynb", out, language=language,
                    parameters={"store": store, "language": language, **parameters})
    return out.read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "fi"])
def test_drivers_page_speaks_one_language_and_answers_first(module_tmp, store_path, language):
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from language import other_language_words, page_text

    from helpers.words import say

    page = _drivers_page(module_tmp, store_path, language)
    assert other_language_words(page_text(page), language) == []
    appendix = re.search(r"<h2[^>]*>" + re.escape(say("drivers.appendix", language)), page).start()
    band, chart = page.index("fk-band"), page.index("<img")
    assert band < chart < appendix  # the answer and its chart before anything else, the tables after
    headers = re.findall(r"<th[^>]*>(.*?)</th>", page, re.S)
    assert headers and not [h for h in headers if re.search(r"\w_\w", h)]  # no snake_case header
    cells = re.findall(r"<td[^>]*>(.*?)</td>", page, re.S)
    assert not {"True", "False"} & {c.strip() for c in cells}
    assert not re.search(r"<table", page[:appendix])  # the body speaks; every table is in the appendix
    assert say("drivers.baseline.not_applicable", language).split(" (")[0] in page  # NPS page: a sentence, no table
    assert "change outcome" not in page.lower()
    assert "output_stream" not in page and "<script" not in page.lower()
    if language == "fi":
        assert re.search(r"\d,\d", page_text(page[:appendix]))  # decimal comma in the body
