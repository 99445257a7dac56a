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

    def to_dot(self) -> str:
        return diagrams.to_dot(self)

    def to_svg(self, path: str | None = None) -> str:
        return diagrams.to_svg(self, path)

    def to_png(self, path: str) -> None:
        diagrams.to_png(self, path)

    def to_mermaid(self) -> str:
        return diagrams.to_mermaid(self)

    def to_plantuml(self) -> str:
        return diagrams.to_plantuml(self)

    def _repr_svg_(self) -> str:
        return self.to_svg()
