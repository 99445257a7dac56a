"""Colours, pens and fonts: how each kind of exchange looks, in one place.

Front-channel traffic goes through the browser (blue for the OAuth redirects that carry the
protocol, blue-grey for ordinary pages and form posts); back-channel calls between servers
are bold dark green; calls to the resource server with a token are purple; calls the page's
own script makes (fetch) are teal; anything the attacker sends or answers is red, whatever
its kind.
"""

from __future__ import annotations

from dataclasses import dataclass

#: A list, so a viewer without Helvetica or Arial (Linux) still finds a sans font: labels
#: are sized for the widest of Helvetica and DejaVu Sans (see measure.py).
FONT = "Helvetica,Arial,Liberation Sans,DejaVu Sans,sans-serif"
#: Graphviz maps this PostScript name to Helvetica bold in every renderer.
FONT_BOLD = "Helvetica-Bold"


@dataclass(frozen=True)
class Pen:
    color: str
    width: float
    legend: str


PENS = {
    "redirect": Pen("#1565c0", 1.4, "redirect (3xx) via the browser"),
    "page": Pen("#546e7a", 1.2, "page (browser)"),
    "form-post": Pen("#546e7a", 1.2, "form post (browser)"),
    "browser-call": Pen("#00838f", 1.4, "call by the page's script (fetch)"),
    "back-channel": Pen("#2e7d32", 2.4, "back-channel (server to server)"),
    "api-call": Pen("#7b1fa2", 1.6, "API call with access token"),
    "attacker": Pen("#d32f2f", 1.8, "sent or answered by the attacker"),
}
OTHER = Pen("#424242", 1.2, "other")
#: Legend order. Pages and form posts share a pen, so they share one entry, whose text
#: names only the ones drawn.
LEGEND_ORDER = ("redirect", "page", "browser-call", "back-channel", "api-call", "attacker")

LIFELINE = "#9e9e9e"
SEPARATOR = "#bdbdbd"
TITLE_COLOR = "#212121"
LEGEND_TEXT = "#424242"
HEADER_FILL = "#eceff1"
HEADER_BORDER = "#546e7a"
HEADER_TEXT = "#263238"
ATTACKER_FILL = "#ffebee"
ATTACKER = PENS["attacker"].color
#: (fill, border, text) of defence markers.
DEFENCE_ON = ("#e8f5e9", "#2e7d32", "#1b5e20")
DEFENCE_OFF = ("#fff3e0", "#ef6c00", "#e65100")


def pen(style: str) -> Pen:
    return PENS.get(style, OTHER)


def response_width(style: str) -> float:
    """Responses are dashed and a little lighter than their request."""
    return max(1.0, pen(style).width - 0.6)
