"""The drawing model: boxes of text and straight lines at computed coordinates.

Layout code builds a `Diagram` from these; the DOT writer turns each into pinned Graphviz
nodes and edges. Keeping the geometry here, in plain points (1/72 inch, y growing
downwards), lets tests check the picture (no overlaps, columns in order) without parsing
SVG, and lets two diagrams be put side by side by shifting one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Box:
    """A rectangle in points; y grows downwards."""

    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    def overlaps(self, other: Box) -> bool:
        """True when the two rectangles share any area (touching edges do not count)."""
        return (
            self.x0 < other.x1 and other.x0 < self.x1 and self.y0 < other.y1 and other.y0 < self.y1
        )

    def shifted(self, dx: float, dy: float) -> Box:
        return Box(self.x0 + dx, self.y0 + dy, self.x1 + dx, self.y1 + dy)


@dataclass(frozen=True)
class TextBox:
    """Lines of centred text in a box. `role` is title, header, label, defence or legend."""

    box: Box
    lines: tuple[str, ...]
    size: float
    color: str
    role: str
    fill: str = "white"
    border: str | None = None
    rounded: bool = False
    bold_first: bool = False
    bold_all: bool = False

    def shifted(self, dx: float, dy: float) -> TextBox:
        return replace(self, box=self.box.shifted(dx, dy))


@dataclass(frozen=True)
class Line:
    """A straight line; `head` is the arrowhead at (x1, y1): normal, vee or none.

    `role` is lifeline, request, response, loop, legend or separator.
    """

    x0: float
    y0: float
    x1: float
    y1: float
    color: str
    role: str
    width: float = 1.0
    dashed: bool = False
    head: str = "none"

    def shifted(self, dx: float, dy: float) -> Line:
        return replace(self, x0=self.x0 + dx, y0=self.y0 + dy, x1=self.x1 + dx, y1=self.y1 + dy)


@dataclass(frozen=True)
class Diagram:
    """Everything to draw, with the canvas size and what the legend must explain."""

    width: float
    height: float
    texts: tuple[TextBox, ...] = ()
    lines: tuple[Line, ...] = ()
    #: (party, lifeline x) from left to right.
    columns: tuple[tuple[str, float], ...] = ()
    #: Arrow styles used (event kinds, or "attacker").
    styles: frozenset[str] = frozenset()
    #: Defence markers used: True for "defence acted", False for "defence off".
    defences: frozenset[bool] = frozenset()

    @property
    def labels(self) -> list[TextBox]:
        """Message labels and defence markers: the boxes that must never overlap."""
        return [t for t in self.texts if t.role in ("label", "defence")]

    def shifted(self, dx: float, dy: float) -> Diagram:
        return replace(
            self,
            texts=tuple(t.shifted(dx, dy) for t in self.texts),
            lines=tuple(ln.shifted(dx, dy) for ln in self.lines),
            columns=tuple((p, x + dx) for p, x in self.columns),
        )

    def plus(self, other: Diagram, width: float, height: float) -> Diagram:
        """Both diagrams' elements on one canvas of the given size."""
        return Diagram(
            width,
            height,
            self.texts + other.texts,
            self.lines + other.lines,
            self.columns + other.columns,
            self.styles | other.styles,
            self.defences | other.defences,
        )
