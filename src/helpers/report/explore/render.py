"""From exploring to a report: render the chosen account's report with the batch, and link to it.

:func:`render_account_report` runs :func:`helpers.batch.run_batch` for one
account — what ``flamekit reports --wave W --accounts ID`` does, without the
overviews — so the file, its name and its place are the batch's own
(``reports/<wave>/<name>-<id>.html``, listed in that wave's index).
"""

from __future__ import annotations

import html
import os
import shlex
from pathlib import Path
from typing import Any

from helpers.data import store as st
from helpers.data.disclosure import Thresholds

from .data import Explorer
from .html import Html, bdi, code, paragraph, say_html
from .selection import Selection

__all__ = ["render_account_report", "report_command", "report_section", "default_reports_dir"]


def default_reports_dir() -> Path:
    """Where ``flamekit reports`` writes when run from the project folder: ``<project>/reports``."""
    return st.PROJECT_ROOT / "reports"


def _changed_thresholds(explorer: Explorer) -> dict[str, int]:
    """The report parameters whose thresholds differ from the defaults (the batch's own defaults then apply)."""
    default = Thresholds()
    params = explorer.thresholds_parameters()
    base = {"min_group_size": default.team, "min_client_group_size": default.client,
            "min_comment_group_size": default.comments}
    return {k: v for k, v in params.items() if v != base[k]}


def render_account_report(explorer: Explorer, selection: Selection, *, out_root: str | Path | None = None,
                          timeout: float | None = None) -> Any:
    """Render the chosen account's report as the batch does, and return its result.

    Parameters
    ----------
    explorer : Explorer
        The store, language and thresholds to render with.
    selection : Selection
        Its wave and account.
    out_root : path, optional
        The reports' root folder (default :func:`default_reports_dir`); the page goes to ``<out_root>/<wave>/``.
    timeout : float, optional
        Seconds one cell may run (the batch's default when None).

    Returns
    -------
    helpers.batch.results.ReportResult
        ``html`` is the written page; ``status`` "ok" or "failed" (with ``error``).

    Raises
    ------
    ValueError
        No account is chosen.
    helpers.batch.ReportError
        The batch cannot start (e.g. the account has no answers in the wave).
    """
    if selection.account_id is None:
        raise ValueError(f"No account is chosen: no account of the selection has answers in {selection.wave}.")
    from helpers.batch import run_batch

    options = {"timeout": timeout} if timeout else {}
    result = run_batch(selection.wave, accounts=[selection.account_id], extra_notebooks={},
                       language=explorer.language, store=explorer.store,
                       out_root=Path(out_root) if out_root else default_reports_dir(),
                       parameters=_changed_thresholds(explorer) or None, progress=False, **options)
    return next(r for r in result.reports if r.account_id == selection.account_id and r.action != "kept")


def report_command(explorer: Explorer, selection: Selection, *, out_root: str | Path | None = None) -> str:
    """The command line that renders the same report: ``flamekit reports --wave 2026Q3 --accounts A001 --lang en``."""
    parts = ["flamekit"]
    if explorer.store is not None:
        parts += ["--store", str(explorer.store)]
    parts += ["reports", "--wave", selection.wave, "--accounts", str(selection.account_id), "--lang",
              explorer.language]
    if out_root is not None:
        parts += ["--out", str(out_root)]
    return " ".join(shlex.quote(p) for p in parts)


def report_section(explorer: Explorer, selection: Selection, *, render: bool = False,
                   out_root: str | Path | None = None, parameter: str = "render_report") -> Html:
    """Render the chosen account's report (when ``render``) and link to it; otherwise say how to.

    Returns
    -------
    Html
        A link to the written page and its path, the batch's error when it failed, or the three ways to
        write the report (the ``parameter``, the button in JupyterLab, the command line).
    """
    lang = explorer.language
    if selection.account_id is None:
        return paragraph(say_html("selection.account_none", lang, data={"wave": selection.wave}))
    name = explorer.name(selection.account_id)
    if not render:
        command = report_command(explorer, selection, out_root=out_root)
        return (paragraph(say_html("render.skipped", lang, data={"name": name}, codes={"parameter": parameter}))
                + Html(f"<pre>{code(command)}</pre>"))
    result = render_account_report(explorer, selection, out_root=out_root)
    if not result.ok:
        return paragraph(say_html("render.failed", lang, data={"name": name}), code(result.error))
    target = Path(result.html)
    try:
        href = os.path.relpath(target, Path.cwd())
    except ValueError:  # another drive
        href = target.as_uri()
    link = f'<a href="{html.escape(href)}">{bdi(name)}</a>'
    return paragraph(say_html("render.done", lang, markup={"link": link}), code(target))
