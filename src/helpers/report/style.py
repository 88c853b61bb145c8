"""The kit's one visual language: a colour per meaning, the same on every chart of every page and notebook.

Client and team keep their colours everywhere (the Okabe–Ito vermillion and
blue, told apart with any colour vision); what needs attention is wine, what
to celebrate green, everything else grey (Paul Tol's muted scheme, also safe
for colour-blind readers).  Charts take their colours from here, never their
own.
"""

from __future__ import annotations

#: The client's and the team's colour (keys as in the data: "client", "staff").
SIDE_COLORS = {"client": "#D55E00", "staff": "#0072B2"}
CLIENT = SIDE_COLORS["client"]
TEAM = SIDE_COLORS["staff"]
#: A blind spot, a fall, an account that needs attention.
ATTENTION = "#882255"
#: A hidden strength, a rise, something to celebrate.
CELEBRATE = "#117733"
#: Context: the portfolio, a reference line, "no clear difference".
NEUTRAL = "#868E96"
#: Text and axes.
INK = "#343A40"
#: A diverging colour map for above/below a reference (green above, wine below, pale in between).
DIVERGING = ("#882255", "#F7F7F7", "#117733")

__all__ = ["SIDE_COLORS", "CLIENT", "TEAM", "ATTENTION", "CELEBRATE", "NEUTRAL", "INK", "DIVERGING",
           "diverging_cmap", "side_color"]


def side_color(side: str) -> str:
    """The colour of "client" or "staff" (also "team")."""
    return SIDE_COLORS["staff" if side == "team" else side]


def diverging_cmap():
    """A matplotlib colour map from :data:`DIVERGING` (missing cells pale grey)."""
    from matplotlib.colors import LinearSegmentedColormap

    return LinearSegmentedColormap.from_list("flamekit", list(DIVERGING)).with_extremes(bad="#DDDDDD")
