"""The Graphviz outputs of a trace: DOT text, SVG text or file, PNG file, comparisons.

Each function is layout, then DOT, then render: the layout decides every coordinate and
Graphviz only draws, so the SVG is the same byte for byte for the same trace and engine.
"""

from __future__ import annotations

from pathlib import Path

from sim.diagrams.compare import compare_layout
from sim.diagrams.dot import diagram_to_dot
from sim.diagrams.layout import layout
from sim.diagrams.legend import with_legend
from sim.diagrams.render import SYSTEM, rasterise, render, render_engine
from sim.diagrams.style import FONT
from sim.tracing import Trace


def to_dot(trace: Trace) -> str:
    """DOT source of the trace's sequence diagram (render it with `neato`)."""
    return diagram_to_dot(with_legend(layout(trace)))


def _tidy(svg: str) -> str:
    """Give bold text the same font list as the rest.

    Graphviz writes the bold font as `Helvetica,sans-Serif`; some renderers (resvg) read
    the capitalised `sans-Serif` as a font name, find nothing and drop the text.
    """
    return svg.replace('font-family="Helvetica,sans-Serif"', f'font-family="{FONT}"')


def _svg(source: str, path: str | None) -> str:
    svg = _tidy(render(source, "svg").decode("utf-8"))
    if path is not None:
        Path(path).write_text(svg, encoding="utf-8")
    return svg


def to_svg(trace: Trace, path: str | None = None) -> str:
    """SVG text of the sequence diagram; also written to `path` when one is given."""
    return _svg(to_dot(trace), path)


def to_png(trace: Trace, path: str) -> None:
    """Write the diagram as PNG: system Graphviz if present, else the SVG rasterised.

    Raises DiagramError (one line saying what to install) when neither is possible.
    """
    if render_engine() == SYSTEM:
        png = render(to_dot(trace), "png")
    else:
        png = rasterise(to_svg(trace))
    Path(path).write_bytes(png)


def compare_dot(left_trace: Trace, right_trace: Trace, left_title: str, right_title: str) -> str:
    """DOT source of two diagrams side by side (see `compare_svg`)."""
    return diagram_to_dot(compare_layout(left_trace, right_trace, left_title, right_title))


def compare_svg(
    left_trace: Trace,
    right_trace: Trace,
    left_title: str,
    right_title: str,
    path: str | None = None,
) -> str:
    """One SVG with two panels side by side, each under its title (defence on vs off)."""
    return _svg(compare_dot(left_trace, right_trace, left_title, right_title), path)
