"""The Graphviz outputs of a trace: DOT text, SVG text or file, PNG file, comparisons.

Each function is layout, then DOT, then render: the layout decides every coordinate and
Graphviz only draws, so the SVG is the same byte for byte for the same trace and engine.
"""

from __future__ import annotations

import re
from pathlib import Path

from sim.diagrams.compare import compare_layout
from sim.diagrams.dot import diagram_to_dot
from sim.diagrams.layout import layout
from sim.diagrams.legend import with_legend
from sim.diagrams.render import SYSTEM, rasterise, render, render_engine
from sim.diagrams.style import FONT
from sim.tracing import Trace


def only_steps(trace: Trace, steps: tuple[int, int] | None) -> Trace:
    """The trace cut to steps `first..last` (by `seq`, so the numbers stay those of the
    step table): one page of a long flow for a slide."""
    if steps is None:
        return trace
    first, last = steps
    return trace.with_events([e for e in trace.events if first <= e.seq <= last])


def to_dot(trace: Trace, compact: bool = False, steps: tuple[int, int] | None = None) -> str:
    """DOT source of the trace's sequence diagram (render it with `neato`); `compact`
    draws fewer parameter lines with shorter values, `steps` only that range of steps."""
    return diagram_to_dot(with_legend(layout(only_steps(trace, steps), compact=compact)))


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


def to_svg(
    trace: Trace,
    path: str | None = None,
    compact: bool = False,
    steps: tuple[int, int] | None = None,
) -> str:
    """SVG text of the sequence diagram; also written to `path` when one is given."""
    return _svg(to_dot(trace, compact, steps), path)


def fit_width(svg: str) -> str:
    """The SVG scaled to the width it is shown in (a notebook cell), never beyond its own
    size: no horizontal scrolling. The viewBox keeps the proportions."""
    head, sep, rest = svg.partition("<svg ")
    match = re.match(r'width="([\d.]+)pt" height="[\d.]+pt"', rest)
    if not sep or match is None:
        return svg
    natural = match.group(1)
    sized = f'width="100%" style="max-width: {natural}pt; height: auto"'
    return head + sep + sized + rest[match.end() :]


def to_png(
    trace: Trace, path: str, compact: bool = False, steps: tuple[int, int] | None = None
) -> None:
    """Write the diagram as PNG: system Graphviz if present, else the SVG rasterised.

    Raises DiagramError (one line saying what to install) when neither is possible.
    """
    if render_engine() == SYSTEM:
        png = render(to_dot(trace, compact, steps), "png")
    else:
        png = rasterise(to_svg(trace, compact=compact, steps=steps))
    Path(path).write_bytes(png)


def compare_dot(
    left_trace: Trace,
    right_trace: Trace,
    left_title: str,
    right_title: str,
    stacked: bool = True,
    compact: bool = False,
) -> str:
    """DOT source of two diagrams on one canvas (see `compare_svg`)."""
    return diagram_to_dot(
        compare_layout(left_trace, right_trace, left_title, right_title, stacked, compact)
    )


def compare_svg(
    left_trace: Trace,
    right_trace: Trace,
    left_title: str,
    right_title: str,
    path: str | None = None,
    stacked: bool = True,
    compact: bool = False,
) -> str:
    """One SVG with two panels, each under its title (defence on vs off): one above the
    other by default, side by side with `stacked=False`."""
    dot = compare_dot(left_trace, right_trace, left_title, right_title, stacked, compact)
    return _svg(dot, path)
