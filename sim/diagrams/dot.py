"""Write a `Diagram` as Graphviz DOT for neato, every node pinned where the layout put it.

Text boxes become fixed-size box nodes at their centre; every line becomes an edge between
two invisible point nodes, so arrows are exactly horizontal and lifelines exactly vertical.
`outputorder=edgesfirst` draws the white label boxes over anything beneath them. Node
names are counters, so the same diagram always gives the same DOT, byte for byte.
"""

from __future__ import annotations

from dataclasses import replace

from sim.diagrams.layout import LINE_H, PAD_Y
from sim.diagrams.model import Box, Diagram, Line, TextBox
from sim.diagrams.style import FONT, FONT_BOLD

_POINTS_PER_INCH = 72.0


def _num(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _label(lines: tuple[str, ...]) -> str:
    """A centred multi-line label (the WASM Graphviz has no HTML-like labels)."""
    return _quote("\n".join(lines)).replace("\n", "\\n")


class _Writer:
    def __init__(self, height: float) -> None:
        self.height = height
        self.out: list[str] = []
        self.count = 0

    def pos(self, x: float, y: float) -> str:
        return f'"{_num(x / _POINTS_PER_INCH)},{_num((self.height - y) / _POINTS_PER_INCH)}!"'

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def text(self, text: TextBox) -> None:
        """A box node; a bold first line is a node of its own in the bold font."""
        box = text.box
        if text.bold_first and len(text.lines) > 1:
            split = box.y0 + PAD_Y + LINE_H
            head = replace(text, box=Box(box.x0, box.y0, box.x1, split), lines=text.lines[:1])
            rest = replace(text, box=Box(box.x0, split, box.x1, box.y1), lines=text.lines[1:])
            self.text(replace(head, bold_first=False, bold_all=True))
            self.text(replace(rest, bold_first=False))
            return
        bold = text.bold_all or text.bold_first
        attrs = {
            "pos": self.pos(box.cx, box.cy),
            "width": _num(box.width / _POINTS_PER_INCH),
            "height": _num(box.height / _POINTS_PER_INCH),
            "label": _label(text.lines),
            "fontsize": _num(text.size),
            "fontcolor": _quote(text.color),
            "fillcolor": _quote(text.fill),
            "color": _quote(text.border or text.fill),
            "penwidth": "1.2" if text.border else "0",
            "style": '"rounded,filled"' if text.rounded else "filled",
        }
        if bold:
            attrs["fontname"] = _quote(FONT_BOLD)
        self.node(self.name("t"), attrs)

    def line(self, line: Line) -> None:
        ends = []
        for x, y in ((line.x0, line.y0), (line.x1, line.y1)):
            ends.append(self.name("p"))
            self.node(ends[-1], {"pos": self.pos(x, y), "shape": "point", "style": "invis"})
        attrs = {
            "color": _quote(line.color),
            "penwidth": _num(line.width),
            "arrowhead": line.head,
        }
        if line.dashed:
            attrs["style"] = "dashed"
        self.out.append(f"  {ends[0]} -> {ends[1]} [{_attrs(attrs)}];")

    def node(self, name: str, attrs: dict[str, str]) -> None:
        self.out.append(f"  {name} [{_attrs(attrs)}];")


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in attrs.items())


def diagram_to_dot(diagram: Diagram) -> str:
    """DOT source for neato (`-n` is not needed: every node is pinned with `!`)."""
    writer = _Writer(diagram.height)
    # Lifelines and separators first, so message arrows are drawn over them.
    for line in sorted(diagram.lines, key=lambda ln: ln.role not in ("lifeline", "separator")):
        writer.line(line)
    for text in diagram.texts:
        writer.text(text)
    head = [
        "digraph sequence {",
        "  graph [splines=line, outputorder=edgesfirst, bgcolor=white, pad=0.15];",
        f"  node [shape=box, fixedsize=true, margin=0, fontname={_quote(FONT)}];",
        "  edge [arrowsize=0.8, dir=forward];",
    ]
    return "\n".join(head + writer.out + ["}", ""])
