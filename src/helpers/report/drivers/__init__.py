"""The drivers page: what drives NPS and retention across the portfolio.

``notebooks/drivers.ipynb`` calls these functions one section at a time
(``from helpers.report import drivers as dr``): :func:`driver_setup` assembles
the data for one outcome and side (:mod:`.setup`); the sections run the
models of :mod:`helpers.stats` on it and collect their warnings
(:mod:`.sections`); :mod:`.summary` turns the results into the summary band
and the plain sentences of the page's body; :mod:`.images` draws the charts
of :mod:`.plots` (key drivers, importance against performance),
:mod:`.check_plots` (model checks) and :mod:`.surface_plots` (the response
surface) with their alt text; :mod:`.appendix` gives the complete tables for
analysts, and :mod:`.notes` puts the models' warnings into the page's
language.  Every word comes from the catalogue (``drivers.*``).
"""

from ..portfolio.risk import baseline_verdict
from .appendix import (
                    agreement_tables,
                    baseline_tables,
                    checks_tables,
                    importance_tables,
                    ipa_table,
                    measurement_table,
                    model_tables,
                    other_side_table,
                    page_scope,
                    provenance_table,
)
from .images import check_image, drivers_image, ipa_image, outcome_name, surface_image
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
                    other_side_importance,
)
from .setup import OUTCOMES, SIDES, DriverSetup, driver_setup
from .summary import (
                    agreement_points,
                    answer_sentence,
                    confidence_points,
                    driver_band,
                    ipa_points,
                    views_sentence,
)

__all__ = [
    "OUTCOMES", "SIDES", "DriverSetup", "agreement_points", "agreement_tables", "answer_sentence",
    "baseline_comparison", "baseline_tables", "baseline_verdict", "check_image", "checks_tables",
    "confidence_points", "congruence_summary", "congruence_verdict", "driver_band", "driver_importance", "driver_ipa",
    "driver_models", "driver_setup", "drivers_image", "importance_tables", "ipa_image", "ipa_points", "ipa_table",
    "label_terms", "measurement_table", "model_heading", "model_tables", "other_side_importance", "other_side_table", "outcome_name",
    "page_scope",
    "plot_calibration", "plot_congruence", "plot_diagnostics", "plot_drivers", "plot_importance_performance",
    "plot_influence", "plot_model_check", "plot_residuals", "plot_response_surface", "provenance_table",
    "surface_image", "views_sentence",
]
