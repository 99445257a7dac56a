"""Compute the sequence diagram's geometry: columns, vertical slots, label boxes, arrows.

Theory of operation
-------------------
Graphviz's own ranking cannot keep lifelines in a fixed order, so every coordinate is
computed here and Graphviz only draws. Parties get one column each, in `PARTY_ORDER`.

Each arrow owns a horizontal band (a "slot") tall enough for its label; the label sits in
that band just above the arrow, so labels can never overlap each other or another arrow.
Horizontally, a label sits inside one gap between two neighbouring lifelines: the gap next
to the arrow's sender (for an arrow to itself, the gap to the right of its column). Each gap
is made as wide as the widest label it holds, so labels never cross a lifeline either.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.diagrams.measure import text_width
from sim.diagrams.messages import LABEL_SIZE, Message, messages
from sim.diagrams.model import Box, Diagram, Line, TextBox
from sim.diagrams.style import (
    ATTACKER,
    ATTACKER_FILL,
    DEFENCE_OFF,
    DEFENCE_ON,
    HEADER_BORDER,
    HEADER_FILL,
    HEADER_TEXT,
    LIFELINE,
    TITLE_COLOR,
    pen,
    response_width,
)
from sim.tracing import Trace
from sim.tracing.names import ATTACKER as ATTACKER_PARTY
from sim.tracing.names import PARTY_ORDER

MARGIN = 16.0
LINE_H = 15.0
PAD_X = 6.0
PAD_Y = 3.0
GAP_PAD = 10.0
MIN_GAP = 150.0
HEADER_SIZE = 14.0
HEADER_H = 30.0
HEADER_PAD = 16.0
HEADER_MIN_W = 110.0
HEADER_SPACING = 30.0
TITLE_SIZE = 16.0
TITLE_H = 24.0
ARROW_CLEAR = 3.0
AFTER_ARROW = 7.0
EVENT_SPACING = 6.0
LOOP_W = 30.0
LOOP_H = 14.0
DEFENCE_LIMIT = 340.0


def parties(trace: Trace) -> list[str]:
    """Columns, left to right: `PARTY_ORDER`, then any unknown party by first appearance."""
    seen: list[str] = []
    for event in trace.events:
        for party in (event.sender, event.to):
            if party not in seen:
                seen.append(party)
    known = [p for p in PARTY_ORDER if p in seen]
    return known + [p for p in seen if p not in PARTY_ORDER]


def _text_size(lines: tuple[str, ...], size: float, bold_first: bool) -> tuple[float, float]:
    widths = [text_width(line, size, bold_first and i == 0) for i, line in enumerate(lines)]
    return max(widths, default=0.0) + 2 * PAD_X, len(lines) * LINE_H + 2 * PAD_Y


def _wrap(text: str, limit: float) -> tuple[str, ...]:
    """Word-wrap `text` to lines of at most `limit` points (a long word stays whole)."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", LABEL_SIZE) <= limit:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return tuple(lines)


def _defence_lines(message: Message) -> tuple[str, ...]:
    return _wrap(message.defence.text, DEFENCE_LIMIT) if message.defence else ()


def _gap_of(message: Message, index: dict[str, int]) -> int:
    start, end = index[message.sender], index[message.to]
    return start if end >= start else start - 1


def _column_xs(
    msgs: list[Message],
    index: dict[str, int],
    header_w: list[float],
    gap_floor: tuple[float, ...],
) -> tuple[list[float], float]:
    """Lifeline x of each column, and the right edge: each gap fits its widest label."""
    count = len(header_w)
    need = [0.0] * count
    for msg in msgs:
        gap = _gap_of(msg, index)
        width, _ = _text_size(msg.lines, LABEL_SIZE, not msg.response)
        mark, _ = _text_size(_defence_lines(msg), LABEL_SIZE, False)
        need[gap] = max(need[gap], width + 2 * GAP_PAD, mark + 2 * GAP_PAD)
        if msg.sender == msg.to:
            need[gap] = max(need[gap], LOOP_W + GAP_PAD)
    if not count:
        return [], MARGIN
    floor = list(gap_floor[:count]) + [0.0] * (count - len(gap_floor))
    xs = [MARGIN + header_w[0] / 2]
    for i in range(count - 1):
        gap = max(MIN_GAP, need[i], (header_w[i] + header_w[i + 1]) / 2 + HEADER_SPACING)
        xs.append(xs[-1] + max(gap, floor[i]))
    return xs, xs[-1] + max(header_w[-1] / 2, need[-1], floor[-1])


@dataclass(frozen=True)
class Columns:
    """Where the parties stand: their order, lifeline x and header box widths."""

    parties: tuple[str, ...]
    xs: tuple[float, ...]
    header_w: tuple[float, ...]

    @property
    def index(self) -> dict[str, int]:
        return {party: i for i, party in enumerate(self.parties)}

    def x(self, party: str) -> float:
        return self.xs[self.index[party]]

    def label_centre(self, msg: Message, box_w: float) -> float:
        """A label's x: centred in its gap; next to the lifeline for a loop or in the last
        column."""
        gap = _gap_of(msg, self.index)
        if gap + 1 < len(self.xs) and msg.sender != msg.to:
            return (self.xs[gap] + self.xs[gap + 1]) / 2
        return self.xs[gap] + GAP_PAD + box_w / 2


def _columns(
    cols: list[str], msgs: list[Message], gap_floor: tuple[float, ...]
) -> tuple[Columns, float]:
    """The columns, and the right edge of the drawing."""
    header_w = [
        max(HEADER_MIN_W, text_width(p, HEADER_SIZE, bold=True) + 2 * HEADER_PAD) for p in cols
    ]
    index = {party: i for i, party in enumerate(cols)}
    xs, right = _column_xs(msgs, index, header_w, gap_floor)
    return Columns(tuple(cols), tuple(xs), tuple(header_w)), right


def _title(title: str, width: float, y: float) -> tuple[TextBox | None, float]:
    """The title box centred on a canvas of `width` (None when there is no title)."""
    if not title:
        return None, width
    title_w = text_width(title, TITLE_SIZE, bold=True) + 2 * PAD_X
    width = max(width, title_w + 2 * MARGIN)
    box = Box(width / 2 - title_w / 2, y, width / 2 + title_w / 2, y + TITLE_H)
    return TextBox(box, (title,), TITLE_SIZE, TITLE_COLOR, "title", bold_all=True), width


def _headers(columns: Columns, top: float) -> list[TextBox]:
    """One rounded box per party at `top` (drawn above and below the lifelines)."""
    boxes = []
    for party, cx, w in zip(columns.parties, columns.xs, columns.header_w, strict=True):
        red = party == ATTACKER_PARTY
        boxes.append(
            TextBox(
                Box(cx - w / 2, top, cx + w / 2, top + HEADER_H),
                (party,),
                HEADER_SIZE,
                ATTACKER if red else HEADER_TEXT,
                "header",
                fill=ATTACKER_FILL if red else HEADER_FILL,
                border=ATTACKER if red else HEADER_BORDER,
                rounded=True,
                bold_all=True,
            )
        )
    return boxes


def _arrow(msg: Message, x0: float, x1: float, y: float) -> tuple[list[Line], float]:
    """The arrow of a message at height `y` (a small loop when a party calls itself), and
    the y where it ends."""
    colour = pen(msg.style).color
    role = "response" if msg.response else "request"
    style = {
        "color": colour,
        "width": response_width(msg.style) if msg.response else pen(msg.style).width,
        "dashed": msg.response,
    }
    head = "vee" if msg.response else "normal"
    if x0 != x1:
        return [Line(x0, y, x1, y, role=role, head=head, **style)], y
    corner_y = y + LOOP_H
    return [
        Line(x0, y, x0 + LOOP_W, y, role="loop", **style),
        Line(x0 + LOOP_W, y, x0 + LOOP_W, corner_y, role="loop", **style),
        Line(x0 + LOOP_W, corner_y, x0, corner_y, role=role, head=head, **style),
    ], corner_y


def _message(msg: Message, columns: Columns, y: float) -> tuple[list[TextBox], list[Line], float]:
    """One message in its band from `y` down: its defence marker, its label, its arrow.
    Returns what to draw and the y just below the arrow."""
    texts = []
    if msg.defence:
        fill, border, ink = DEFENCE_ON if msg.defence.on else DEFENCE_OFF
        mark_lines = _defence_lines(msg)
        w, h = _text_size(mark_lines, LABEL_SIZE, False)
        cx = columns.label_centre(msg, w)
        box = Box(cx - w / 2, y, cx + w / 2, y + h)
        texts.append(TextBox(box, mark_lines, LABEL_SIZE, ink, "defence", fill, border))
        y += h + 4
    w, h = _text_size(msg.lines, LABEL_SIZE, not msg.response)
    cx = columns.label_centre(msg, w)
    box = Box(cx - w / 2, y, cx + w / 2, y + h)
    colour = pen(msg.style).color
    texts.append(TextBox(box, msg.lines, LABEL_SIZE, colour, "label", bold_first=not msg.response))
    arrow, end_y = _arrow(msg, columns.x(msg.sender), columns.x(msg.to), box.y1 + ARROW_CLEAR)
    return texts, arrow, end_y + AFTER_ARROW


def layout(
    trace: Trace,
    title: str | None = None,
    reserve_title: bool = False,
    gap_floor: tuple[float, ...] = (),
    footer_floor: float = 0.0,
    compact: bool = False,
    columns: list[str] | None = None,
) -> Diagram:
    """The diagram of `trace`, without legend; `title` overrides `trace.title`.

    `compact` draws fewer parameter lines with shorter values (see `messages`). The other
    arguments line two panels up: `reserve_title` keeps the title's band even without a
    title, `gap_floor` gives minimum distances between neighbouring columns (the last one:
    from the last column to the right edge), and `footer_floor` a minimum height for the
    bottom row of party boxes; `columns` the parties to draw (a comparison draws the same
    columns in both panels, so a step and its twin sit in the same place).
    """
    title = trace.title if title is None else title
    msgs = messages(trace, compact=compact)
    cols, right = _columns(columns or parties(trace), msgs, gap_floor)
    title_box, width = _title(title, right + MARGIN, MARGIN)
    texts: list[TextBox] = [title_box] if title_box else []
    lines: list[Line] = []
    y = MARGIN + (TITLE_H + 8 if title or reserve_title else 0)
    texts += _headers(cols, y)
    lifeline_top = y + HEADER_H
    y = lifeline_top + 12
    for number, msg in enumerate(msgs):
        drawn, arrows, y = _message(msg, cols, y)
        texts += drawn
        lines += arrows
        if msg.response and number + 1 < len(msgs):
            y += EVENT_SPACING
    y = max(y + 10, footer_floor)
    lifelines = [Line(x, lifeline_top, x, y, LIFELINE, "lifeline", dashed=True) for x in cols.xs]
    texts += _headers(cols, y)
    height = y + HEADER_H + MARGIN if cols.parties else y
    return Diagram(
        width,
        height,
        tuple(texts),
        tuple(lifelines + lines),
        tuple(zip(cols.parties, cols.xs, strict=True)),
        frozenset(m.style for m in msgs),
        frozenset(m.defence.on for m in msgs if m.defence),
    )


def label_boxes(trace: Trace) -> list[tuple[float, float, float, float]]:
    """(x0, y0, x1, y1) in points of every message label and defence marker, y downwards.

    Exposed so tests (and curious readers) can check that no two labels overlap.
    """
    return [(t.box.x0, t.box.y0, t.box.x1, t.box.y1) for t in layout(trace).labels]
