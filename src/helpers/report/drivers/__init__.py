"""The drivers page: what drives NPS and retention across the portfolio.

``notebooks/drivers.ipynb`` calls these functions one section at a time
(``from helpers.report import drivers as dr``): :func:`driver_setup` assembles
the data for one outcome and side (:mod:`.setup`); the sections run the
models of :mod:`helpers.stats` on it, collect their warnings and put the
results into labelled tables and sentences (:mod:`.sections`); :mod:`.plots`
draws the key drivers, importance against performance, the model checks and
the response surface.
"""

from ..portfolio.risk import baseline_verdict
from .plots import (
                    plot_calibration,
                    plot_congruence,
                    plot_diagnostics,
                    plot_drivers,
                    plot_importance_performance,
                    plot_influence,
                    plot_model_check,
                    plot_residuals,
                    plot_response_surface,
)
from .sections import (
                    baseline_comparison,
                    congruence_summary,
                    congruence_verdict,
                    driver_importance,
                    driver_ipa,
                    driver_models,
                    label_terms,
                    model_heading,
)
from .setup import OUTCOMES, SIDES, DriverSetup, driver_setup

__all__ = [
    "OUTCOMES", "SIDES", "DriverSetup", "baseline_comparison", "baseline_verdict", "congruence_summary", "congruence_verdict",
    "driver_importance", "driver_ipa", "driver_models", "driver_setup", "label_terms", "model_heading",
    "plot_calibration", "plot_congruence", "plot_diagnostics", "plot_drivers", "plot_importance_performance",
    "plot_influence", "plot_model_check", "plot_residuals", "plot_response_surface",
]
