"""The drivers page's charts as embedded images, each with alt text that says what it shows.

Takes the page's :class:`helpers.report.drivers.setup.DriverSetup` and a
result frame, draws the chart of :mod:`.plots` in the page's language and
hands on :func:`helpers.report.figures.to_image` (a PNG with alt text from
``drivers.alt.*``), so a notebook cell is one call.
"""

from __future__ import annotations

import pandas as pd

from helpers.data.instrument import Instrument, load_instrument
from helpers.report import formatting as fmt
from helpers.report.figures import to_image
from helpers.stats.fitting import term_label
from helpers.words import say

from .setup import DriverSetup
from .summary import outcome_key

__all__ = ["outcome_name", "drivers_image", "ipa_image", "check_image", "surface_image"]


def outcome_name(setup: DriverSetup, language: str = "en") -> str:
    """What the page explains, in words: "client NPS", "the team's NPS", "churn" (``drivers.outcome.*``)."""
    return say(f"drivers.outcome.{outcome_key(setup)}", language)


def drivers_image(setup: DriverSetup, importance: pd.DataFrame, *, language: str = "en",
                  instrument: str | Instrument | None = None):
    """The answer chart: each rating's share with its interval (:func:`.plots.plot_drivers`), alt text with the shares."""
    from .plots import plot_drivers

    inst = load_instrument(instrument)
    tab = importance.dropna(subset=["share"]).sort_values("share", ascending=False)
    shares = "; ".join(f"{term_label(r.term, language=language, instrument=inst)} {fmt.percent(r.share, language)}"
                       for r in tab.itertuples())
    ax = plot_drivers(importance, outcome=outcome_name(setup, language), side=setup.side, language=language,
                      instrument=inst)
    return to_image(ax, alt=say("drivers.alt.drivers", language, what=outcome_name(setup, language), shares=shares))


def ipa_image(setup: DriverSetup, ipa: pd.DataFrame, *, language: str = "en"):
    """Importance against performance with the quadrants named (:func:`.plots.plot_importance_performance`)."""
    from .plots import plot_importance_performance

    ax = plot_importance_performance(ipa, outcome=outcome_name(setup, language), language=language)
    return to_image(ax, alt=say("drivers.alt.ipa", language))


def check_image(setup: DriverSetup, *, baseline: pd.DataFrame | None = None, language: str = "en"):
    """The model check: residual diagnostics for NPS, calibration for retention (:func:`.plots.plot_model_check`)."""
    from .plots import plot_model_check

    return to_image(plot_model_check(setup, baseline=baseline, language=language),
                    alt=say(f"drivers.alt.check_{setup.kind}", language), dpi=90)  # four panels of points: lighter


def surface_image(setup: DriverSetup, agreement: pd.DataFrame, *, min_client_group_size: int = 5,
                  language: str = "en", instrument: str | Instrument | None = None):
    """The response surface of the page's outcome on the dimension with the clearest a4, accounts on it.

    For retention the surface is churn; for NPS the client NPS mean of each
    account (:func:`.plots.plot_congruence`).
    """
    from .plots import plot_congruence

    outcome = "churned" if setup.kind == "retention" else "client_nps_mean"
    ax = plot_congruence(setup.table, agreement, outcome=outcome, language=language,
                         min_client_group_size=min_client_group_size, instrument=instrument)
    return to_image(ax, alt=say("drivers.alt.surface", language,
                                what=term_label(outcome, language=language, instrument=instrument)))
