"""Polling drawn once: consecutive identical exchanges become one arrow pair marked "× N".

A device polls the token endpoint every few seconds until its user decides (RFC 8628
§3.4-3.5); drawn one by one, thirty identical `authorization_pending` answers would bury the
one that matters. Two exchanges are identical when their arrows say the same thing but for
the step number: same parties, same kind, same request and answer labels. The merged label
keeps the first and last step numbers (`8–10. POST /token × 3`), so it still matches the
step table, which lists every step.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

#: A `sim.diagrams.messages.Message` (not imported: that module imports this one).
Message = Any

_STEP = re.compile(r"^\d+\. ")


def _same(a: Message, b: Message) -> bool:
    if (a.sender, a.to, a.style, a.response, a.defence) != (
        b.sender,
        b.to,
        b.style,
        b.response,
        b.defence,
    ):
        return False
    first_a, first_b = _STEP.sub("", a.lines[0]), _STEP.sub("", b.lines[0])
    return first_a == first_b and a.lines[1:] == b.lines[1:]


def compress_repeats(messages: list[Message]) -> list[Message]:
    """Merge runs of identical request/answer pairs (see the module doc)."""
    out: list[Message] = []
    i = 0
    while i < len(messages):
        request = messages[i]
        answer = messages[i + 1] if i + 1 < len(messages) else None
        pair = answer is not None and not request.response and answer.response
        if not pair or answer.seq != request.seq:
            out.append(request)
            i += 1
            continue
        run = 1
        while i + 2 * run + 1 < len(messages):
            nxt, nxt_answer = messages[i + 2 * run], messages[i + 2 * run + 1]
            if not (_same(request, nxt) and _same(answer, nxt_answer)):
                break
            if nxt.seq != nxt_answer.seq:
                break
            run += 1
        if run == 1:
            out += [request, answer]
        else:
            last = messages[i + 2 * run - 1].seq
            head = f"{request.seq}–{last}. " + _STEP.sub("", request.lines[0]) + f" × {run}"
            out.append(replace(request, lines=(head, *request.lines[1:])))
            out.append(replace(answer, lines=(f"{answer.lines[0]} × {run}", *answer.lines[1:])))
        i += 2 * run
    return out
