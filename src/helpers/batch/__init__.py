"""Batch: notebooks in, HTML reports out.

Takes the notebooks in ``notebooks/`` and a wave; plans one task per report
(:mod:`.plan`), checks and injects each notebook's parameters
(:mod:`.parameters`), executes it in a warm kernel (:mod:`.worker`,
:mod:`.pool`, :mod:`.kernel`), exports sanitised HTML (:mod:`.html`) and
writes ``reports/<wave>/`` with an index and a manifest (:mod:`.run`,
:mod:`.index`, :mod:`.results`); each finished report is recorded at once
(:mod:`.journal`), so an interrupted batch resumes where it stopped.  On a
Dask cluster (:mod:`.cluster`) the workers render and this process writes;
each account's task carries only its account's extract (:mod:`.extract`).
"""

from .errors import ParameterError, RenderError, ReportError
from .run import render_notebook, run_batch

__all__ = ["ParameterError", "RenderError", "ReportError", "render_notebook", "run_batch"]
