"""The trace as PlantUML, for tools and wikis that render it.

PlantUML's Creole markup reads doubled `*`, `/`, `-`, `_`, `~`, `"` as styling, `<` as a
tag and `\\` as an escape; each is escaped with `~` so parameter values print as they are.
Arrows carry the same colours as the Graphviz diagram.
"""

from __future__ import annotations

from sim.diagrams.aliases import participants
from sim.diagrams.messages import messages
from sim.diagrams.style import ATTACKER_FILL, DEFENCE_OFF, DEFENCE_ON, pen
from sim.tracing import Trace
from sim.tracing.names import ATTACKER

_DOUBLED = frozenset('*/-_~"')
_NEWLINE = "\\n"  # PlantUML's line break inside a message


def escape(text: str) -> str:
    """Text safe in a PlantUML message, note or title."""
    out = []
    for i, ch in enumerate(text):
        in_run = ch in _DOUBLED and (text[i - 1 : i] == ch or text[i + 1 : i + 2] == ch)
        out.append("~" + ch if ch in "<\\" or in_run else ch)
    return "".join(out)


def to_plantuml(trace: Trace) -> str:
    """PlantUML source: `@startuml`, participants in column order, `->`/`-->` per step."""
    ids = participants(trace)
    alias = {party: a for a, party in ids}
    out = ["@startuml"]
    if trace.title.strip():
        out.append(f"title {escape(' '.join(trace.title.split()))}")
    for a, party in ids:
        colour = f" {ATTACKER_FILL}" if party == ATTACKER else ""
        name = party.replace('"', "'")
        out.append(f'participant "{name}" as {a}{colour}')
    for msg in messages(trace):
        colour = pen(msg.style).color
        arrow = f"-[{colour}]->" if msg.response else f"-[{colour}]>"
        lines = [escape(line) for line in msg.lines]
        if not msg.response:
            lines[0] = f"**{lines[0]}**"
        out.append(f"{alias[msg.sender]} {arrow} {alias[msg.to]} : {_NEWLINE.join(lines)}")
        if msg.defence:
            fill = (DEFENCE_ON if msg.defence.on else DEFENCE_OFF)[0]
            over = (
                alias[msg.to] if msg.sender == msg.to else f"{alias[msg.to]}, {alias[msg.sender]}"
            )
            out.append(f"note over {over} {fill} : {escape(msg.defence.text)}")
    out.append("@enduml")
    return "\n".join(out) + "\n"
