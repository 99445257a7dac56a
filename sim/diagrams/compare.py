"""Two sequence diagrams on one canvas, each under its own title, with one shared legend.

Used for "defence on vs off": the same attack drawn twice, so the step where the defence
stops it can be found at once in the run where, switched off, the attack goes through.
Stacked one above the other by default: side by side, two full diagrams are ~3000 px wide
and their text unreadable on a projector.
"""

from __future__ import annotations

from sim.diagrams.layout import MARGIN, layout, parties
from sim.diagrams.legend import with_legend
from sim.diagrams.model import Diagram, Line
from sim.diagrams.style import SEPARATOR
from sim.tracing import Trace
from sim.tracing.names import PARTY_ORDER

PANEL_GAP = 40.0


def _gaps(diagram: Diagram) -> tuple[float, ...]:
    """Distances between neighbouring columns, and from the last column to the edge."""
    xs = [x for _, x in diagram.columns]
    return tuple(b - a for a, b in zip(xs, xs[1:], strict=False)) + (
        (diagram.width - MARGIN - xs[-1],) if xs else ()
    )


def _footer_top(diagram: Diagram) -> float:
    return max((t.box.y0 for t in diagram.texts if t.role == "header"), default=0.0)


def compare_layout(
    left: Trace,
    right: Trace,
    left_title: str,
    right_title: str,
    stacked: bool = True,
    compact: bool = False,
) -> Diagram:
    """Both panels on one canvas with a thin rule between them: one above the other
    (`stacked`, the default: each panel keeps a readable size on a projector or in a
    notebook) or side by side.

    When both show the same parties, their columns get the same spacing (and, side by side,
    their bottom party boxes the same height), so the eye moves straight down or across
    from a step to the same step of the other run.
    """
    # Both panels draw every party either run has, so columns line up.
    either = parties(left) + [p for p in parties(right) if p not in parties(left)]
    cols = sorted(either, key=lambda p: PARTY_ORDER.index(p) if p in PARTY_ORDER else 99)
    one = layout(left, left_title, reserve_title=True, compact=compact, columns=cols)
    two = layout(right, right_title, reserve_title=True, compact=compact, columns=cols)
    floor = tuple(max(a, b) for a, b in zip(_gaps(one), _gaps(two), strict=True))
    bottom = 0.0 if stacked else max(_footer_top(one), _footer_top(two))
    one = layout(left, left_title, True, floor, bottom, compact, cols)
    two = layout(right, right_title, True, floor, bottom, compact, cols)
    if stacked:
        two = two.shifted(0, one.height + PANEL_GAP)
        width = max(one.width, two.width)
        height = one.height + PANEL_GAP + two.height
        rule_y = one.height + PANEL_GAP / 2
        rule = Line(MARGIN, rule_y, width - MARGIN, rule_y, SEPARATOR, "separator", width=1.0)
    else:
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
