"""Errors of the batch: a report that cannot start, a bad parameter, a report that failed.
"""

from __future__ import annotations

from .results import ReportResult

__all__ = [
    "ParameterError",
    "RenderError",
    "ReportError",
]


class ReportError(ValueError):
    """A report or batch cannot start: unknown account, wave without data, missing notebook, …"""


class ParameterError(ReportError):
    """A parameter the notebook does not declare, or a value of the wrong type."""


class RenderError(RuntimeError):
    """A notebook failed to execute or export; ``result`` says why and where the partial notebook is."""

    def __init__(self, message: str, result: ReportResult | None = None):
        super().__init__(message)
        self.result = result
