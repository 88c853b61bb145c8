"""The report batch: slugs, parameters, sanitising, atomic files, execution, failures, skipping, CLI."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from helpers.batch import errors as batch_errors
from helpers.batch import files as batch_files
from helpers.batch import html as batch_html
from helpers.batch import index as batch_index
from helpers.batch import kernel, parameters, pool, results
from helpers.batch import plan as batch_plan
from helpers.batch import run as batch_run
from helpers.batch import worker as batch_worker
from helpers.cli import main
from helpers.data.store import data_hash
from helpers.words import has

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = Path(__file__).parents[1] / "fixtures" / "report_fixture.ipynb"
OVERVIEW = Path(__file__).parents[1] / "fixtures" / "overview_fixture.ipynb"
ACCOUNT_REPORT = ROOT / "notebooks" / "account_report.ipynb"
WAVE = "2026Q3"
# Sample accounts A001…A005: Pohjolan Energia, Mäkelä Rakennus, Åbo Logistik, Järvi-Suomen Vesi, Kärkkäinen Retail.
EXTERNAL = re.compile(r"<(?:script|link|img|iframe|source|video|audio|embed)\b[^>]*\b(?:src|href)\s*=\s*[\"']?\s*"
                      r"(?:https?:)?//", re.I)


def _tags(page: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag of an HTML page with its attributes, as a browser's tokenizer sees them."""
    from html.parser import HTMLParser

    found = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.append((tag, attrs))

    Collect().feed(page)
    return found


def manifest_front_page(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))["front_page"]


def _no_tmp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def _batch(store, tmp_path, accounts, **kw):
    kw.setdefault("notebook", FIXTURE)
    kw.setdefault("extra_notebooks", {})
    kw.setdefault("progress", False)
    return batch_run.run_batch(WAVE, accounts=accounts, store=store, out_root=tmp_path / "reports", **kw)


# ---------------------------------------------------------------------------
# Slugs
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../../etc/x", "..\\..\\windows\\system32", "/etc/passwd", "a/../../b", ".hidden",
                                  "con", "x\x00y", "..", "./."])
def test_slug_cannot_leave_its_folder(name, tmp_path):
    slug = batch_files.account_slugs(pd.DataFrame({"account_id": ["A1"], "name": [name]}))["A1"]
    assert re.fullmatch(r"[^\W_]+(?:-[^\W_]+)*", slug), slug
    assert "/" not in slug and "\\" not in slug and ".." not in slug and not slug.startswith(".")
    assert (tmp_path / f"{slug}.html").resolve().parent == tmp_path.resolve()
    assert slug.endswith("a1")  # the id is always there, so 'con' cannot be a device name
    assert batch_files.slugify("../../etc/x") == "etc-x"


@pytest.mark.parametrize("name", ['"\'; import os', "$(rm -rf ~)", "`reboot`", "a|b&c;d", "x\ny\rz", "*?[]{}<>",
                                  "'; DROP TABLE accounts; --", "\u202eevil\u202c"])
def test_slug_of_quotes_and_shell_characters_is_harmless(name):
    slug = batch_files.slugify(name)
    assert re.fullmatch(r"(?:[^\W_]+(?:-[^\W_]+)*)?", slug), slug
    assert batch_files.slugify('"\'; import os') == "import-os"


def test_slug_keeps_finnish_letters_readable():
    assert batch_files.slugify("Mäkelä Rakennus") == "mäkelä-rakennus"
    assert batch_files.slugify("Åbo Logistik Ab") == "åbo-logistik-ab"
    assert batch_files.slugify("ÖLJYHUOLTO RÖNKÄ") == "öljyhuolto-rönkä"
    # decomposed input (a + combining diaeresis, as macOS file names have it) gives the same slug
    assert batch_files.slugify("Ma\u0308kela\u0308") == batch_files.slugify("Mäkelä") == "mäkelä"
    assert batch_files.slugify("Ｍäkelä／Oy") == "mäkelä-oy"  # full-width look-alikes become plain letters and a hyphen
    assert batch_files.slugify("Koskela & Co.") == "koskela-co"


def test_wave_folder_is_the_label_when_safe():
    assert batch_files.wave_folder("2026Q3") == "2026Q3" and batch_files.wave_folder("Syksy 2025") == "Syksy 2025"
    assert batch_files.wave_folder("../../x") == "x" and batch_files.wave_folder("a/b") == "a-b" and batch_files.wave_folder(".w") == "w"
    assert batch_files.wave_folder("W1; rm -rf ~") == "w1-rm-rf"
    with pytest.raises(batch_errors.ReportError):
        batch_files.wave_folder("../")


def test_account_slugs_never_collide():
    acc = pd.DataFrame({"account_id": ["A1", "A2", "A-3", "a/3", "A5"],
                        "name": ["Metsä & Meri", "Metsä & Meri", "Sama", "Sama", ""]})
    slugs = batch_files.account_slugs(acc)
    assert len(set(slugs.values())) == len(acc)
    assert slugs["A1"] == "metsä-meri-a1" and slugs["A2"] == "metsä-meri-a2"
    assert slugs["A-3"] != slugs["a/3"] and slugs["A-3"].startswith("sama-a-3-")
    assert slugs["A5"] == "a5"
    # the same slugs whatever the order of the rows
    assert batch_files.account_slugs(acc.iloc[::-1]) == slugs


def test_sample_accounts_have_unique_slugs(sample_store):
    from helpers.data.store import load_accounts

    acc = load_accounts(store=sample_store)
    slugs = batch_files.account_slugs(acc)
    assert len(set(slugs.values())) == len(acc) == 60
    assert slugs["A002"] == "mäkelä-rakennus-a002"


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------
def test_misspelt_parameter_is_a_clear_error(tmp_path):
    with pytest.raises(batch_errors.ParameterError, match=r"Unknown parameter 'acount_id'.*Did you mean 'account_id'"):
        parameters.check_parameters(FIXTURE, {"acount_id": "A001"})
    with pytest.raises(batch_errors.ParameterError, match="Unknown parameter 'acount_id'"):
        batch_run.render_notebook(FIXTURE, tmp_path / "x.html", parameters={"acount_id": "A001"})
    assert not list(tmp_path.iterdir())  # nothing ran, nothing written


def test_parameter_types_are_checked():
    with pytest.raises(batch_errors.ParameterError, match="'account_id'.*must be a string"):
        parameters.check_parameters(FIXTURE, {"account_id": 1})
    with pytest.raises(batch_errors.ParameterError, match="'min_group_size'.*whole number"):
        parameters.check_parameters(FIXTURE, {"min_group_size": "5"})
    with pytest.raises(batch_errors.ParameterError, match="'min_group_size'"):
        parameters.check_parameters(FIXTURE, {"min_group_size": True})
    assert parameters.check_parameters(FIXTURE, {"account_id": "A001", "min_group_size": 3}) == {
        "account_id": "A001", "min_group_size": 3}


def test_injected_strings_stay_strings():
    nb = nbformat.read(FIXTURE, as_version=4)
    payload = '"\'; import os; raise SystemExit("injected") #\\ \n ä'
    out = parameters.inject_parameters(nb, {"account_id": payload, "min_group_size": 3})
    params_at = next(i for i, c in enumerate(out.cells) if "parameters" in c.metadata.get("tags", []))
    cell = out.cells[params_at + 1]
    assert cell.metadata["tags"] == ["injected-parameters"] and cell.id == "injected-parameters"
    ns: dict = {}
    exec(compile(cell.source, "<injected>", "exec"), ns)  # noqa: S102 - the point of the test
    assert ns["account_id"] == payload and ns["min_group_size"] == 3
    # injecting again replaces the cell; the result does not depend on the run (no random ids, no times)
    again = parameters.inject_parameters(out, {"account_id": "A002"})
    assert sum("injected-parameters" in c.metadata.get("tags", []) for c in again.cells) == 1
    assert parameters.inject_parameters(nb, {"account_id": "A1"}) == parameters.inject_parameters(nb, {"account_id": "A1"})
    assert len(nb.cells) + 1 == len(out.cells)  # the input notebook is untouched


# ---------------------------------------------------------------------------
# Sanitising and the index page
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("payload", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '<img src="https://example.com/pixel.png">',
    "<svg/onload=alert(2)>",
    '<a href="javascript:alert(3)">click</a>',
    '<a href="data:text/html,<script>alert(4)</script>">x</a>',
    '<iframe src="https://example.com"></iframe>',
    "<style>body{background:url(https://example.com/x.png)}</style>",
    '<p onclick="alert(5)" style="background:url(https://example.com/y)">p</p>',
    '<td style="background-image:url(https://example.com/z)">z</td>',
    "<object data=x></object><embed src=x><form action=x><input></form>",
    '<div id="x"><scr<script>ipt>alert(6)</script></div>',
])
def test_sanitize_makes_payloads_inert(payload):
    out = batch_html.sanitize_html(payload)
    tags = [(t, dict(a)) for t, a in _tags(out)]
    assert not [t for t, _ in tags if t in ("script", "iframe", "svg", "style", "object", "embed", "form", "input")]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
    assert not [v for _, attrs in tags for k, v in attrs.items() if k in ("href", "src") and v
                and not v.startswith(("#", "data:image/"))]
    assert not [attrs for t, attrs in tags if t == "img" and "src" not in attrs]
    assert "url(" not in " ".join(attrs.get("style", "") for _, attrs in tags)


def test_sanitize_keeps_report_markup_and_escaped_text():
    table = pd.DataFrame({"comment": ["Hyvä <b>palvelu</b>"]}, index=["r1"]).to_html()
    out = batch_html.sanitize_html(table)
    assert "<thead>" in out and "<th>comment</th>" in out and "Hyvä &lt;b&gt;palvelu&lt;/b&gt;" in out
    md = '<h2 id="Care">Care<a class="anchor-link" href="#Care">¶</a></h2><p><em>x</em> &lt;script&gt;</p>'
    assert batch_html.sanitize_html(md) == md
    png = '<img alt="flame chart" src="data:image/png;base64,iVBORw0KGgo=">'
    assert 'src="data:image/png;base64,iVBORw0KGgo="' in batch_html.sanitize_html(png)
    cell = batch_html.sanitize_html('<table><tr><td style="text-align: right; position: fixed">1</td></tr></table>')
    assert [dict(a).get("style") for t, a in _tags(cell) if t == "td"] == ["text-align:right"]


def test_index_escapes_everything():
    evil = '<script>alert("x")</script>'
    reports = [
        results.ReportResult(name=evil, kind="account", slug="a-a1", status="ok", account_id="A1",
                        headline={"n_client": 3, "n_staff": 2, "nps": -33.3, "nps_ci_low": -80, "nps_ci_high": 40}),
        results.ReportResult(name="Åbo", kind="account", slug="åbo-a2", status="failed", account_id="A2",
                        error=f"ValueError: {evil}", failed_ipynb="x"),
    ]
    page = batch_index._index_html(reports, wave=WAVE, language="fi", data_hash="abc")
    # the page's own script is the only one (tests/batch/test_index.py proves the rest of the escaping)
    assert page.count("<script") == 1 and "&lt;script&gt;" in page
    assert 'href="%C3%A5bo-a2.failed.ipynb"' in page and 'href="a-a1.html"' in page
    assert 'href="%C3%A5bo-a2.html"' not in page  # no link to a report that failed
    assert ">−33<" in page and ">−80…+40<" in page and 'lang="fi"' in page


def test_index_isolates_names_and_the_wave_from_the_text_around_them():
    evil = "Oy Ab\u202e1A\u0007 (evil)"  # as an older store may still hold it: an override that is never closed
    reports = [results.ReportResult(name=evil, kind="account", slug="oy-ab-a1", status="ok", account_id="A1"),
               results.ReportResult(name="שלום Oy", kind="account", slug="x-a2", status="failed", account_id="A2",
                                    error="boom"),
               results.ReportResult(name="portfolio", kind="portfolio", slug="portfolio", status="ok",
                                    title="Portfolio · 2026Q3")]
    for language in ("en", "fi"):
        page = batch_index._index_html(reports, wave=WAVE, language=language, data_hash="abc")
        assert f'href="oy-ab-a1.html"><bdi>{evil}</bdi></a>' in page
        assert re.search(r'<td class="fk-name"[^>]*><bdi>שלום Oy</bdi> <span class="fk-failed">', page)  # not linked
        heading = re.search(r"<h1>(.*?)</h1>", page).group(1)
        assert heading == ("Reports <bdi>2026Q3</bdi>" if language == "en" else "Raportit <bdi>2026Q3</bdi>")
        footer = re.search(r"<footer>(.*?)</footer>", page).group(1)
        assert "<bdi>2026Q3</bdi>" in footer and "<bdi>" not in footer.replace("<bdi>2026Q3</bdi>", "")
        assert "<title>Reports 2026Q3</title>" in page or "<title>Raportit 2026Q3</title>" in page
        # with the tags taken out, the footer says what the batch did
        assert "Wave 2026Q3 · data abc · 2 of 3 reports rendered, 1 failed." in footer.replace(
            "<bdi>", "").replace("</bdi>", "") or language == "fi"


def test_images_are_embedded_with_escaped_metadata():
    png = "iVBORw0KGgo="
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    cell = nbformat.v4.new_code_cell("chart", execution_count=1)
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={"image/png": png},
                               metadata={"image/png": {"alt": 'flame "chart" <x>', "width": 300, "height": 200}}),
        nbformat.v4.new_output("display_data", data={"image/jpeg": png}, metadata={"image/jpeg": {"width": 10}}),
    ]
    nb.cells = [cell]
    page = batch_html.to_html(nb, title="images")
    images = [dict(a) for t, a in _tags(page) if t == "img"]
    assert images == [{"alt": 'flame "chart" <x>', "height": "200", "src": f"data:image/png;base64,{png}",
                       "width": "300"},
                      {"alt": "No description has been provided for this image",  # nbconvert's default
                       "src": f"data:image/jpeg;base64,{png}", "width": "10"}]


@pytest.mark.parametrize("with_code", [False, True])
def test_accessibility_pass_matches_nbconvert(with_code):
    # The exporter skips nbconvert's BeautifulSoup pass and inserts the same attributes on the tags alone.
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    png = "iVBORw0KGgo="
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    md = nbformat.v4.new_markdown_cell(f"## Kuvat ja taulut\n\n![](data:image/png;base64,{png}) "
                                       f"<img alt='kuvaus' src='data:image/png;base64,{png}'>")
    code = nbformat.v4.new_code_cell("x = 1", execution_count=1)
    tricky = ('<table><tr><td title="a > b <div class=\'jp-OutputArea-output\'> <img src=x>">Hyvä &amp; ööö</td>'
              "</tr></table><!-- <img src=y> -->")
    code.outputs = [
        nbformat.v4.new_output("execute_result", data={"text/html": tricky, "text/plain": "t"}, execution_count=1),
        nbformat.v4.new_output("display_data", data={"image/png": png}, metadata={"image/png": {"alt": "flame"}}),
        nbformat.v4.new_output("display_data", data={"image/png": png}),
        nbformat.v4.new_output("stream", name="stdout", text="<b>not bold</b>\n"),
    ]
    nb.cells = [md, code]
    exporter = batch_html.html_exporter(with_code=with_code)
    resources = {"metadata": {"name": "t", "path": ""}}
    ours, _ = exporter.from_notebook_node(batch_html._export_copy(nb, title="t"), resources=dict(resources))
    stock, _ = HTMLExporter.from_notebook_node(exporter, batch_html._export_copy(nb, title="t"), resources=dict(resources))
    assert str(BeautifulSoup(ours, features="html.parser")) == stock
    assert ours.count('tabindex="0"') == stock.count('tabindex="0"') >= 3
    assert "<!-- <img src=y> -->" not in ours  # comments are not even kept by the sanitiser


def test_accessible_html_changes_only_tags():
    page = ('<html><body class="jp-Notebook"><style>img{x:1}</style><!-- <img> -->'
            '<div class="a jp-OutputArea-output" title="<img>"><img src="data:,"></div>'
            "<div class='jp-Cell-inputWrapper' tabindex=\"-1\"></div><div class='jp-OutputArea-outputs'></div>")
    out, missing = batch_html.accessible_html(page)
    assert missing == 1
    assert out == page.replace('title="<img>">', 'title="<img>" tabindex="0">').replace(
        '<img src="data:,">', f'<img src="data:," alt="{batch_html._MISSING_ALT}">')
    assert batch_html.accessible_html("<p>no notebook <div class='jp-OutputArea-output'></div>") == (
        "<p>no notebook <div class='jp-OutputArea-output'></div>", 0)


# ---------------------------------------------------------------------------
# Atomic writes
# ---------------------------------------------------------------------------
def test_atomic_write_leaves_no_partial_file(tmp_path, monkeypatch):
    target = tmp_path / "r.html"
    batch_files.atomic_write(target, "old")

    def boom(fd):
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(OSError, match="disk full"):
        batch_files.atomic_write(target, "new " * 100_000)
    assert target.read_text() == "old"
    with pytest.raises(OSError):
        batch_files.atomic_write(tmp_path / "new.html", "x")
    assert not (tmp_path / "new.html").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.html"]


# ---------------------------------------------------------------------------
# One notebook
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_render_hides_code_by_default_and_shows_it_with_code(sample_store, tmp_path):
    params = {"account_id": "A001", "wave": WAVE, "store": str(sample_store)}
    res = batch_run.render_notebook(FIXTURE, tmp_path / "mgmt" / "a001.html", parameters=params)
    page = Path(res.html).read_text(encoding="utf-8")
    assert res.ok and Path(res.ipynb).is_file()
    body = page.split("<main>", 1)[1]
    assert "load_responses" not in body and "jp-CodeMirrorEditor" not in body  # no code
    assert "<title>Fixture report: A001, 2026Q3</title>" in page
    assert '<nav class="fk-toc"' in page and 'href="#Flame-chart"' in page and 'id="Flame-chart"' in page
    assert "<script" not in page.lower() and not EXTERNAL.search(page)
    assert not re.search(r"(?:src|href)=[\"']?https?://", page)
    assert re.search(r'<img[^>]+src="data:image/png;base64,', page)
    # the comment with markup stays text: escaped by the notebook, not un-escaped by the exporter
    assert 'Hyvä palvelu &lt;script&gt;alert("x")&lt;/script&gt; – kiitos!' in page
    assert "leak_marker" not in page
    # the headline JSON is read, not shown
    assert res.headline == {"account_id": "A001", "wave": WAVE, "n_client": 10, "n_staff": 15, "nps": 0.0}
    assert '"n_client"' not in page

    code = batch_run.render_notebook(FIXTURE, tmp_path / "analyst" / "a001.html", parameters=params, with_code=True)
    page = Path(code.html).read_text(encoding="utf-8")
    body = page.split("<main>", 1)[1]
    assert "load_responses" in body and "jp-CodeMirrorEditor" in body
    assert "<script" not in page.lower() and not EXTERNAL.search(page)


@pytest.mark.slow
def test_render_failure_keeps_partial_notebook(sample_store, tmp_path):
    with pytest.raises(batch_errors.RenderError, match=r"No answers from A999 in 2026Q3") as info:
        batch_run.render_notebook(FIXTURE, tmp_path / "a999.html",
                           parameters={"account_id": "A999", "wave": WAVE, "store": str(sample_store)})
    assert not (tmp_path / "a999.html").exists() and not (tmp_path / "a999.ipynb").exists()
    partial = nbformat.read(tmp_path / "a999.failed.ipynb", as_version=4)
    errors = [o for c in partial.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.output_type == "error"]
    assert errors and errors[0].ename == "ValueError"
    assert info.value.result.failed_ipynb == str(tmp_path / "a999.failed.ipynb")
    assert _no_tmp_files(tmp_path)


@pytest.mark.slow
def test_worker_runs_the_notebook_text_it_was_given(tmp_path):
    # the batch hashes each notebook once and sends that text: a file edited meanwhile does not mix versions
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                           "language": "python"}})
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
                nbformat.v4.new_markdown_cell("# Sent")]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    sent = path.read_text(encoding="utf-8")
    nb.cells[1].source = "# Edited since"
    nbformat.write(nb, path)
    with batch_worker.ReportWorker() as worker:
        res = worker.render({"notebook": str(path), "source": sent, "parameters": {"x": 2}, "out_dir": str(tmp_path),
                             "slug": "out", "name": "nb"})
    assert res["status"] == "ok", res["error"]
    assert "source" not in res and res["title"] == "Sent"
    assert "<title>Sent</title>" in Path(res["html"]).read_text(encoding="utf-8")


# ---------------------------------------------------------------------------
# Batch: validation before anything runs
# ---------------------------------------------------------------------------
def test_batch_unknown_account(sample_store, tmp_path):
    with pytest.raises(batch_errors.ReportError, match=r"Unknown account id\(s\): 'A999'.*'a001 ' \(did you mean 'A001'\?\)"):
        _batch(sample_store, tmp_path, ["A001", "A999", "a001 "])
    assert not (tmp_path / "reports").exists()


def test_batch_wave_without_data(sample_store, tmp_path):
    with pytest.raises(batch_errors.ReportError, match=r"No survey answers for wave '2027Q1'.*2025Q4, 2026Q1, 2026Q2, 2026Q3"):
        batch_run.run_batch("2027Q1", store=sample_store, out_root=tmp_path / "reports", notebook=FIXTURE,
                     extra_notebooks={}, progress=False)
    assert not (tmp_path / "reports").exists()


def test_batch_rejects_misspelt_extra_parameter(sample_store, tmp_path):
    with pytest.raises(batch_errors.ParameterError, match=r"Unknown parameter 'min_grup_size'.*'min_group_size'"):
        _batch(sample_store, tmp_path, ["A001"], parameters={"min_grup_size": 3})
    with pytest.raises(batch_errors.ParameterError, match="set by the batch"):
        _batch(sample_store, tmp_path, ["A001"], parameters={"account_id": "A002"})
    with pytest.raises(batch_errors.ReportError, match="language"):
        _batch(sample_store, tmp_path, ["A001"], language="sv")


def test_batch_needs_the_batch_parameters(tmp_path, sample_store):
    nb = nbformat.read(FIXTURE, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace("store: str", "store_path: str")
    broken = tmp_path / "broken.ipynb"
    nbformat.write(nb, broken)
    with pytest.raises(batch_errors.ReportError, match="broken.ipynb has no 'store' parameter"):
        _batch(sample_store, tmp_path, ["A001"], notebook=broken)


def test_batch_rejects_a_file_that_is_not_a_notebook(sample_store, tmp_path):
    bad = tmp_path / "bad.ipynb"
    for content in (b"\xff\xfe not text", b"not json"):
        bad.write_bytes(content)
        with pytest.raises(batch_errors.ReportError, match="bad.ipynb is not a readable notebook"):
            _batch(sample_store, tmp_path, ["A001"], notebook=bad)
    assert not (tmp_path / "reports").exists()


# ---------------------------------------------------------------------------
# Batch: end to end
# ---------------------------------------------------------------------------
@pytest.mark.slow
def test_batch_of_ten_with_one_failing_account(sample_store, tmp_path):
    ids = [f"A{i:03d}" for i in range(1, 11)]
    res = _batch(sample_store, tmp_path, ids, jobs=2, parameters={"fail_account": "A004"},
                 extra_notebooks={"overview": OVERVIEW})
    out = tmp_path / "reports" / WAVE
    assert res.exit_code == 1 and res.out_dir == out
    assert [r.account_id for r in res.failed] == ["A004"]
    ok = [r for r in res.reports if r.kind == "account" and r.ok]
    assert sorted(r.account_id for r in ok) == [i for i in ids if i != "A004"]
    for r in ok:
        assert Path(r.html).is_file() and Path(r.ipynb).is_file() and Path(r.html).parent == out
    # the failed account: listed with its error, partial notebook kept, no HTML
    failed = res.failed[0]
    assert failed.error.startswith("RuntimeError: planted failure for A004")
    assert not (out / "järvi-suomen-vesi-a004.html").exists() and not (out / "järvi-suomen-vesi-a004.ipynb").exists()
    partial = nbformat.read(out / "järvi-suomen-vesi-a004.failed.ipynb", as_version=4)
    assert any(o.get("ename") == "RuntimeError" for c in partial.cells for o in c.get("outputs", []))
    # the overview notebook is rendered and listed
    assert (out / "overview.html").is_file()
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="overview.html">Fixture overview · 2026Q3</a>' in index
    assert "<title>Mäkelä Rakennus (A002) · Fixture report · 2026Q3</title>" in (
        out / "mäkelä-rakennus-a002.html").read_text(encoding="utf-8")
    assert "planted failure for A004" in index and 'href="j%C3%A4rvi-suomen-vesi-a004.failed.ipynb"' in index
    assert 'href="m%C3%A4kel%C3%A4-rakennus-a002.html"><bdi>Mäkelä Rakennus</bdi></a>' in index
    assert 'href="j%C3%A4rvi-suomen-vesi-a004.html"' not in index
    assert index.count("<script") == 1 and not EXTERNAL.search(index)
    # headline figures: from the notebook's JSON, and only the counts from the store for the failed account
    row = re.search(r'<tr class="ok" data-search="Pohjolan Energia A001".*?</tr>', index).group(0)
    assert ">10 / 15</td>" in row
    row = re.search(r'<tr class="failed" data-search="Järvi-Suomen Vesi A004".*?</tr>', index).group(0)
    assert ">38 / 6</td>" in row and "Report failed" in row
    # the failed report comes first: it needs someone's attention before the meeting
    assert index.index('data-search="Järvi-Suomen Vesi A004"') < index.index('data-search="Pohjolan Energia A001"')
    # the store's facts: owner, segment, renewal date; and the portfolio's at-risk rule
    assert 'data-owner="Jussi Härkönen"' in row and ">Logistics</td>" in row and ">16 Dec 2026<" in row
    assert manifest_front_page(out)["at_risk"] is not None
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["data_hash"] == data_hash(store=sample_store)
    assert {"papermill", "nbconvert", "nbclient", "pandas", "python"} <= set(manifest["versions"])
    assert manifest["parameters"]["jobs"] == 2 and manifest["timings"]["failed"] == 1
    by_id = {r["account_id"]: r for r in manifest["reports"]}
    assert by_id["A004"]["status"] == "failed" and "planted failure" in by_id["A004"]["error"]
    assert by_id["A004"]["failed_ipynb"].endswith("järvi-suomen-vesi-a004.failed.ipynb")
    assert by_id["A001"]["status"] == "ok" and by_id["A001"]["parameters"]["account_id"] == "A001"
    assert by_id["A001"]["seconds"] > 0 and by_id["A001"]["key"]
    assert _no_tmp_files(out)


@pytest.mark.slow
def test_outputs_identical_for_any_number_of_jobs_and_nothing_leaks(sample_store, tmp_path):
    ids = ["A001", "A002", "A003", "A005"]
    one = _batch(sample_store, tmp_path / "one", ids, jobs=1)
    two = _batch(sample_store, tmp_path / "two", ids, jobs=2)
    assert one.exit_code == two.exit_code == 0
    assert len({r.worker_pid for r in two.reports}) == 2  # two kernels, each reused
    assert len({r.worker_pid for r in one.reports}) == 1
    files = sorted(p.name for p in one.out_dir.iterdir() if p.suffix in (".html", ".ipynb"))
    assert files == sorted(p.name for p in two.out_dir.iterdir() if p.suffix in (".html", ".ipynb"))
    assert len(files) == 2 * len(ids) + 1  # + index.html
    for name in files:
        assert (one.out_dir / name).read_bytes() == (two.out_dir / name).read_bytes(), name
    for r in one.reports:
        page = Path(r.html).read_text(encoding="utf-8")
        assert "left over from an earlier report: []" in page, r.account_id
        assert f"Fixture report: {r.account_id}, 2026Q3" in page
        assert not re.search(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}", Path(r.ipynb).read_text(encoding="utf-8"))


def _kernels_of(marker: str, *, within: float = 0.0) -> list[int]:
    """Kernel processes whose environment has FLAMEKIT_TEST_BATCH=marker, after waiting up to ``within`` s for none."""
    import time

    deadline = time.monotonic() + within
    while True:
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
                environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            except OSError:  # gone meanwhile, or not ours to read
                continue
            if b"ipykernel_launcher" in cmdline and f"FLAMEKIT_TEST_BATCH={marker}".encode() in environ:
                found.append(int(pid))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc to find the kernels")
def test_the_batch_leaves_no_kernel_behind(sample_store, tmp_path, monkeypatch):
    # Kernels inherit the batch's environment: a marker finds this test's kernels, whoever else runs some.
    marker = f"{os.getpid()}-{tmp_path.name}"
    monkeypatch.setenv("FLAMEKIT_TEST_BATCH", marker)
    ok = _batch(sample_store, tmp_path / "ok", ["A001"], jobs=2, extra_notebooks={"overview": OVERVIEW})
    assert ok.exit_code == 0
    assert _kernels_of(marker, within=10) == []
    # a misspelt parameter stops the batch after its workers started their kernels
    with pytest.raises(batch_errors.ParameterError, match="min_grup_size"):
        _batch(sample_store, tmp_path / "bad", ["A001", "A002"], jobs=2, parameters={"min_grup_size": 3})
    assert _kernels_of(marker, within=10) == []

    def interrupted(self, tasks, **_):
        raise KeyboardInterrupt

    monkeypatch.setattr(pool._Pool, "render", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _batch(sample_store, tmp_path / "stop", ["A001", "A002"], jobs=2)
    assert _kernels_of(marker, within=10) == []


@pytest.mark.slow
def test_kernel_readiness_wait_connects_iopub_and_names_a_dead_kernel(tmp_path):
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    async def run() -> None:
        km = AsyncKernelManager(kernel_name=kernel.KERNEL_NAME, transport="ipc", ip=str(tmp_path / "k"))
        await km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            await kernel._wait_for_kernel(kc, timeout=60)
            seen: list[str] = []  # IOPub is connected: the first execution's output arrives
            reply = await kc.execute_interactive("print('Hyvä')", timeout=30,
                                                 output_hook=lambda m: seen.append(m["content"].get("text", "")))
            assert reply["content"]["status"] == "ok" and "Hyvä\n" in seen
            await km.shutdown_kernel(now=True)
            with pytest.raises(RuntimeError, match="Kernel died"):
                await kernel._wait_for_kernel(kc, timeout=60)
        finally:
            kc.stop_channels()
            await km.cleanup_resources()

    asyncio.run(run())


@pytest.mark.slow
def test_killed_kernel_and_timeout_fail_only_their_account(sample_store, tmp_path):
    # order of rendering (by name): Järvi A004, Kärkkäinen A005 (sleeps), Mäkelä A002 (kills its kernel),
    # Pohjolan A001, Åbo A003 — the last two run in fresh kernels of the same worker
    res = _batch(sample_store, tmp_path, ["A001", "A002", "A003", "A004", "A005"], jobs=1, timeout=6,
                 parameters={"kill_account": "A002", "slow_account": "A005"})
    status = {r.account_id: r for r in res.reports}
    assert res.exit_code == 1
    assert {a for a, r in status.items() if r.ok} == {"A001", "A003", "A004"}
    assert "kernel died" in status["A002"].error and "in cell 5" in status["A002"].error
    assert status["A005"].error.startswith("Timeout: a cell ran longer than 6 s")
    assert status["A001"].kernel_starts == status["A003"].kernel_starts == 3
    out = res.out_dir
    for slug in ("mäkelä-rakennus-a002", "kärkkäinen-retail-a005"):
        assert (out / f"{slug}.failed.ipynb").is_file() and not (out / f"{slug}.html").exists()
    assert "Fixture report: A001, 2026Q3" in Path(status["A001"].html).read_text(encoding="utf-8")
    assert _no_tmp_files(out)


@pytest.mark.slow
def test_unchanged_reports_are_skipped_unless_forced(sample_store, tmp_path):
    first = _batch(sample_store, tmp_path, ["A001", "A002"])
    assert [r.action for r in first.reports] == ["rendered", "rendered"]
    html = {r.account_id: Path(r.html) for r in first.reports}
    stamps = {a: p.stat().st_mtime_ns for a, p in html.items()}

    again = _batch(sample_store, tmp_path, ["A001", "A002"])
    assert [r.action for r in again.reports] == ["unchanged", "unchanged"] and again.exit_code == 0
    assert {a: p.stat().st_mtime_ns for a, p in html.items()} == stamps
    assert again.reports[0].headline == first.reports[0].headline
    manifest = json.loads(again.manifest.read_text(encoding="utf-8"))
    assert manifest["timings"]["unchanged"] == 2 and manifest["timings"]["rendered"] == 0

    # a changed parameter changes the key of every report it reaches
    changed = _batch(sample_store, tmp_path, ["A001", "A002"], parameters={"min_group_size": 3})
    assert [r.action for r in changed.reports] == ["rendered", "rendered"]

    forced = _batch(sample_store, tmp_path, ["A001"], parameters={"min_group_size": 3}, force=True)
    assert forced.reports[0].action == "rendered" and forced.reports[0].account_id == "A001"
    assert html["A001"].stat().st_mtime_ns != stamps["A001"]
    # A002 was not part of the forced run but stays listed
    kept = [r for r in forced.reports if r.account_id == "A002"]
    assert kept and kept[0].action == "kept"
    assert "Mäkelä Rakennus" in forced.index.read_text(encoding="utf-8")


@pytest.mark.slow
def test_cli_reports(sample_store, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(batch_plan, "ACCOUNT_NOTEBOOK", FIXTURE)
    monkeypatch.setattr(batch_plan, "EXTRA_NOTEBOOKS", {})
    argv = ["--store", str(sample_store), "reports", "--wave", WAVE, "--accounts", "A001", "A003",
            "--out", str(tmp_path / "r"), "--jobs", "2", "--lang", "fi", "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1] == str(tmp_path / "r" / WAVE / "index.html")
    assert "2 rendered, 0 unchanged, 0 failed" in out[0]
    index = (tmp_path / "r" / WAVE / "index.html").read_text(encoding="utf-8")
    assert 'lang="fi"' in index and "Asiakkuudet" in index

    # a notebook whose default fails for A003: non-zero exit, error on stderr
    nb = nbformat.read(FIXTURE, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    cell.source = cell.source.replace('fail_account: str = ""', 'fail_account: str = "A003"')
    failing = tmp_path / "failing.ipynb"
    nbformat.write(nb, failing)
    monkeypatch.setattr(batch_plan, "ACCOUNT_NOTEBOOK", failing)
    assert main([*argv[:-1], "--force", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "failed: Åbo Logistik (A003): RuntimeError: planted failure for A003" in captured.err
    assert captured.out.strip().splitlines()[-1].endswith("index.html")

    assert main(["--store", str(sample_store), "reports", "--wave", "1999Q1", "--out", str(tmp_path / "r")]) == 2
    assert "No survey answers for wave '1999Q1'" in capsys.readouterr().err


def test_cli_bad_input_exits_2_before_anything_runs(sample_store, tmp_path, capsys):
    base = ["--store", str(sample_store), "reports", "--wave", WAVE, "--out", str(tmp_path / "r")]
    for extra, message in [(["--accounts", "A999"], "Unknown account id(s): 'A999'"),
                           (["--jobs", "0"], "jobs must be at least 1"),
                           (["--timeout", "0"], "timeout must be a positive number of seconds")]:
        assert main([*base, *extra]) == 2, extra
        assert f"error: {message}" in capsys.readouterr().err
    assert main(["--store", str(tmp_path / "none.duckdb"), "reports", "--wave", WAVE]) == 2
    assert "No store at" in capsys.readouterr().err
    for extra, message in [(["--lang", "sv"], "invalid choice: 'sv'"), (["--jobs", "two"], "invalid int value")]:
        with pytest.raises(SystemExit) as info:
            main([*base, *extra])
        assert info.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_cli_help_documents_exit_codes(capsys):
    with pytest.raises(SystemExit) as info:
        main(["reports", "--help"])
    assert info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit code: 0 when every report rendered" in text and "1 when any report failed" in text
    assert "2 when the batch cannot start" in text and "--store before the command" in text


def test_batch_processes_skip_the_slow_optional_import():
    import subprocess
    import sys

    code = ("import sys, time, helpers.batch._startup, nbformat; "
            "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell('Hyvä')]); nbformat.validate(nb); "
            "print(sys.modules.get('rfc3987_syntax') is None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "True"
    # the fork server imports it before anything else; a process that already has jsonschema is left alone
    assert pool._PRELOAD[0] == "helpers.batch._startup"
    code = ("import sys, jsonschema, helpers.batch._startup; "
            "print('rfc3987_syntax' in sys.modules and sys.modules['rfc3987_syntax'] is None)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_import_stays_light():
    # `flamekit --help` imports the command line and the batch; the fork server preloads the batch for every worker
    import subprocess
    import sys

    code = ("import sys, helpers.cli; "
            "print(sorted(m for m in ('duckdb', 'pandas', 'nbconvert', 'papermill', 'nh3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    from helpers.data.instrument import LANGUAGES
    from helpers.data.store import PROJECT_ROOT

    assert batch_files.NOTEBOOKS == PROJECT_ROOT / "notebooks"
    assert all(has("index.title", language) and has("pages.nav.index", language) for language in LANGUAGES)


# ---------------------------------------------------------------------------
# The real notebooks
# ---------------------------------------------------------------------------
needs_account_report = pytest.mark.skipif(not ACCOUNT_REPORT.is_file(),
                                          reason="notebooks/account_report.ipynb is not written yet")


@needs_account_report
@pytest.mark.slow
def test_account_report_batch_end_to_end(sample_store, tmp_path):
    res = batch_run.run_batch(WAVE, accounts=["A001", "A002", "A003"], jobs=2, store=sample_store,
                       out_root=tmp_path / "reports", extra_notebooks={}, progress=False)
    assert res.exit_code == 0, [r.error for r in res.reports if not r.ok]
    accounts = {r.account_id: r for r in res.reports if r.kind == "account"}
    assert set(accounts) == {"A001", "A002", "A003"}
    head = accounts["A001"].headline
    assert head["account_id"] == "A001" and head["n_client"] == 10 and head["n_staff"] == 15
    page = Path(accounts["A001"].html).read_text(encoding="utf-8")
    assert "<title>Pohjolan Energia (A001) · Partnership report · 2026Q3</title>" in page
    assert "<script" not in page.lower() and not EXTERNAL.search(page)
    images = [dict(a) for t, a in _tags(page) if t == "img"]
    # the 360° view (client and team per dimension) and the trend; charts embedded, never linked
    assert len(images) == 2 and all(i["src"].startswith("data:image/png;base64,") for i in images)
    assert [i.get("alt", "").split(":")[0] for i in images] == ["dot chart", "trend chart"]
    assert "&lt;script&gt;" in page and "ar.load_account" not in page
    assert '<nav class="fk-toc"' in page
    index = res.index.read_text(encoding="utf-8")
    assert index.count("<script") == 1 and ">10 / 15</td>" in index


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(batch_files.EXTRA_NOTEBOOKS))
def test_overview_notebooks_render_in_the_batch(name, sample_store, tmp_path):
    path = batch_files.EXTRA_NOTEBOOKS[name]
    if not path.is_file():
        pytest.skip(f"notebooks/{path.name} is not written yet")
    res = batch_run.run_batch(WAVE, accounts=["A001"], store=sample_store, out_root=tmp_path / "reports",
                       notebook=FIXTURE, extra_notebooks={name: path}, progress=False)
    overview = next(r for r in res.reports if r.kind == name)
    assert overview.ok, overview.error
    page = Path(overview.html).read_text(encoding="utf-8")
    assert "<script" not in page.lower() and not EXTERNAL.search(page)
    assert f'href="{name}.html"' in res.index.read_text(encoding="utf-8")


def test_code_hash_follows_the_instrument_in_use(tmp_path, monkeypatch):
    from helpers.data.instrument import DEFAULT_INSTRUMENT

    monkeypatch.setenv("FLAMEKIT_INSTRUMENT", "")
    shipped = batch_files.code_hash()
    own = tmp_path / "own.yml"
    own.write_bytes(DEFAULT_INSTRUMENT.read_bytes())
    monkeypatch.setenv("FLAMEKIT_INSTRUMENT", str(own))
    first = batch_files.code_hash()
    own.write_bytes(DEFAULT_INSTRUMENT.read_bytes() + b"\n# edited\n")
    assert shipped != first != batch_files.code_hash()  # an edited instrument re-renders the reports
