"""The legend under a diagram: one sample per arrow style and defence marker in use.

Only what the diagram actually shows is explained, so a client-credentials diagram does not
list redirects. Entries flow left to right and wrap to the diagram's width.
"""

from __future__ import annotations

from sim.diagrams.layout import LINE_H, MARGIN, PAD_X
from sim.diagrams.measure import text_width
from sim.diagrams.model import Box, Diagram, Line, TextBox
from sim.diagrams.style import (
    DEFENCE_OFF,
    DEFENCE_ON,
    LEGEND_ORDER,
    LEGEND_TEXT,
    LIFELINE,
    pen,
    response_width,
)

LEGEND_SIZE = 11.0
SAMPLE_W = 34.0
ENTRY_SPACING = 18.0
ROW_H = 22.0


def _browser_text(styles: frozenset[str]) -> str:
    """The grey entry names what is drawn: pages, form posts, or both."""
    drawn = [s for s in ("page", "form-post") if s in styles]
    if len(drawn) == 2:
        return "page / form post (browser)"
    return pen(drawn[0]).legend


def _entries(diagram: Diagram) -> list[tuple[str, str, bool | None]]:
    """(kind of sample, text, defence flag) for each entry: only what the diagram draws."""
    styles = {"page" if s == "form-post" else s for s in diagram.styles}
    out: list[tuple[str, str, bool | None]] = [
        (s, _browser_text(diagram.styles) if s == "page" else pen(s).legend, None)
        for s in LEGEND_ORDER
        if s in styles
    ]
    if diagram.styles:
        out.append(("response", "response (dashed)", None))
    for on in (True, False):
        if on in diagram.defences:
            out.append(("defence", "✔ defence acted" if on else "⚠ defence switched off", on))
    return out


def with_legend(diagram: Diagram) -> Diagram:
    """`diagram` with its legend added below it (the canvas grows to hold it)."""
    entries = _entries(diagram)
    if not entries:
        return diagram
    texts: list[TextBox] = []
    lines: list[Line] = []
    widths = []
    for kind, text, _ in entries:
        label_w = text_width(text, LEGEND_SIZE) + 2 * PAD_X
        widths.append(label_w if kind == "defence" else SAMPLE_W + 4 + label_w)
    width = max(diagram.width, max(widths) + 2 * MARGIN)
    x, y = MARGIN, diagram.height
    for (kind, text, on), entry_w in zip(entries, widths, strict=True):
        if x > MARGIN and x + entry_w > width - MARGIN:
            x, y = MARGIN, y + ROW_H
        mid = y + ROW_H / 2
        if kind == "defence":
            fill, border, ink = DEFENCE_ON if on else DEFENCE_OFF
            box = Box(x, mid - LINE_H / 2 - 2, x + entry_w, mid + LINE_H / 2 + 2)
            texts.append(TextBox(box, (text,), LEGEND_SIZE, ink, "legend", fill, border))
        else:
            dashed = kind == "response"
            colour = LIFELINE if dashed else pen(kind).color
            thick = response_width("page") if dashed else pen(kind).width
            head = "vee" if dashed else "normal"
            lines.append(Line(x, mid, x + SAMPLE_W, mid, colour, "legend", thick, dashed, head))
            box = Box(x + SAMPLE_W + 4, mid - LINE_H / 2, x + entry_w, mid + LINE_H / 2)
            ink = colour if kind == "attacker" else LEGEND_TEXT
            texts.append(TextBox(box, (text,), LEGEND_SIZE, ink, "legend"))
        x += entry_w + ENTRY_SPACING
    return Diagram(
        width,
        y + ROW_H + MARGIN / 2,
        diagram.texts + tuple(texts),
        diagram.lines + tuple(lines),
        diagram.columns,
        diagram.styles,
        diagram.defences,
    )
