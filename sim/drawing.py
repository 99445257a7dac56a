"""`DrawnTrace`: a trace that draws itself, the thin layer above tracing and diagrams.

`sim.tracing` records and holds traces and knows nothing of drawing; `sim.diagrams` draws
any trace and knows nothing of how it was made. This type joins the two for the Python API
(`result.trace.to_svg("happy-path.svg")`) and for Jupyter, where a trace displays as its
sequence diagram. It is what `sim.Trace` names.
"""

from __future__ import annotations

from sim import diagrams
from sim.tracing import Trace


class DrawnTrace(Trace):
    """A `Trace` with its renderings; displays as its sequence diagram in Jupyter."""

    @classmethod
    def of(cls, trace: Trace) -> DrawnTrace:
        """The same events and title, drawable (the trace itself if it already is)."""
        return trace if isinstance(trace, cls) else cls(trace.events, trace.title)

    def to_dot(self, compact: bool = False, steps: tuple[int, int] | None = None) -> str:
        return diagrams.to_dot(self, compact, steps)

    def to_svg(
        self, path: str | None = None, compact: bool = False, steps: tuple[int, int] | None = None
    ) -> str:
        """The sequence diagram as SVG (also written to `path`); `compact` for a projector
        (fewer parameter lines, long values elided), `steps=(first, last)` for one page."""
        return diagrams.to_svg(self, path, compact, steps)

    def to_png(
        self, path: str, compact: bool = False, steps: tuple[int, int] | None = None
    ) -> None:
        diagrams.to_png(self, path, compact, steps)

    def to_mermaid(self) -> str:
        return diagrams.to_mermaid(self)

    def to_plantuml(self) -> str:
        return diagrams.to_plantuml(self)

    def _repr_svg_(self) -> str:
        """In Jupyter: the diagram scaled to the cell's width, no horizontal scrolling."""
        return diagrams.fit_width(self.to_svg())
