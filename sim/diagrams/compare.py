"""Two sequence diagrams side by side, each under its own title, with one shared legend.

Used for "defence on vs off": the same attack drawn twice, so the step where the defence
stops it sits next to the step where, switched off, the attack goes through.
"""

from __future__ import annotations

from sim.diagrams.layout import MARGIN, layout
from sim.diagrams.legend import with_legend
from sim.diagrams.model import Diagram, Line
from sim.diagrams.style import SEPARATOR
from sim.tracing import Trace

PANEL_GAP = 40.0


def _gaps(diagram: Diagram) -> tuple[float, ...]:
    """Distances between neighbouring columns, and from the last column to the edge."""
    xs = [x for _, x in diagram.columns]
    return tuple(b - a for a, b in zip(xs, xs[1:], strict=False)) + (
        (diagram.width - MARGIN - xs[-1],) if xs else ()
    )


def _footer_top(diagram: Diagram) -> float:
    return max((t.box.y0 for t in diagram.texts if t.role == "header"), default=0.0)


def compare_layout(left: Trace, right: Trace, left_title: str, right_title: str) -> Diagram:
    """Both panels on one canvas, tops aligned, a thin rule between them.

    When both show the same parties, their columns get the same spacing and their bottom
    party boxes the same height, so the eye can move straight across.
    """
    one = layout(left, left_title, reserve_title=True)
    two = layout(right, right_title, reserve_title=True)
    if [p for p, _ in one.columns] == [p for p, _ in two.columns]:
        floor = tuple(max(a, b) for a, b in zip(_gaps(one), _gaps(two), strict=True))
        bottom = max(_footer_top(one), _footer_top(two))
        one = layout(left, left_title, True, floor, bottom)
        two = layout(right, right_title, True, floor, bottom)
    two = two.shifted(one.width + PANEL_GAP, 0)
    width = one.width + PANEL_GAP + two.width
    height = max(one.height, two.height)
    rule_x = one.width + PANEL_GAP / 2
    rule = Line(rule_x, MARGIN, rule_x, height - MARGIN, SEPARATOR, "separator", width=1.0)
    both = one.plus(two, width, height)
    return with_legend(
        Diagram(
            width,
            height,
            both.texts,
            both.lines + (rule,),
            both.columns,
            both.styles,
            both.defences,
        )
    )
