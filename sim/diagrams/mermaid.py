"""The trace as a Mermaid `sequenceDiagram`, for Markdown and GitHub pages.

Mermaid reads `;` as a line break, `#` as the start of an entity code and `%%` as a
comment, and treats `<`…`>` as HTML, so such characters in labels are written as its
entity codes (`#59;`); label lines are joined with `<br/>`. Steps carry their own numbers
(`autonumber` would count requests and responses alike and disagree with the step table).
"""

from __future__ import annotations

from sim.diagrams.aliases import participants
from sim.diagrams.messages import messages
from sim.tracing import Trace

_CODED = frozenset(';#:<>&%"')


def escape(text: str) -> str:
    """Text safe inside a Mermaid message or note."""
    return "".join(f"#{ord(ch)};" if ch in _CODED else ch for ch in text)


def _title(text: str) -> str:
    # The title rule stops at `#` and `;` and knows no entity codes.
    return " ".join(text.replace("#", "No.").replace(";", ",").replace("%%", "%").split())


def to_mermaid(trace: Trace) -> str:
    """Mermaid source: participants in column order, one `->>` and one `-->>` per step."""
    ids = participants(trace)
    alias = {party: a for a, party in ids}
    out = ["sequenceDiagram"]
    if _title(trace.title):
        out.append(f"    title {_title(trace.title)}")
    out += [f"    participant {a} as {escape(party)}" for a, party in ids]
    in_rect = False
    for msg in messages(trace):
        red = msg.style == "attacker"
        if red and not in_rect:
            out.append("    rect rgb(255, 235, 238)")
            in_rect = True
        elif not red and in_rect:
            out.append("    end")
            in_rect = False
        arrow = "-->>" if msg.response else "->>"
        text = "<br/>".join(escape(line) for line in msg.lines)
        out.append(f"    {alias[msg.sender]}{arrow}{alias[msg.to]}: {text}")
        if msg.defence:
            over = ",".join(dict.fromkeys((alias[msg.to], alias[msg.sender])))
            out.append(f"    Note over {over}: {escape(msg.defence.text)}")
    if in_rect:
        out.append("    end")
    return "\n".join(out) + "\n"
