"""A figure as an embedded PNG with alt text, for pages that open offline.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure


def to_image(obj: Axes | Figure, *, alt: str, dpi: int = 110):
    """Render a plot to an embeddable PNG with alt text, and close its figure.

    Parameters
    ----------
    obj : Axes or Figure
        What a plot function returned.
    alt : str
        Alternative text; stored in the output's metadata (``image/png`` →
        ``alt``), which nbconvert writes into the ``<img>`` tag.
    dpi : int
        Resolution.

    Returns
    -------
    IPython.display.Image
        Display it (or make it the cell's last expression).  Closing the
        figure keeps the inline backend from showing it a second time.
    """
    from IPython.display import Image

    fig = obj if isinstance(obj, Figure) else obj.figure
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return Image(data=buf.getvalue(), format="png", alt=alt)
