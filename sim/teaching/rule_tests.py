"""The small tests step-note rules are built from (who answered, which endpoint, which
status, which of our checks refused), shared by the seed's rules (`explain`) and the rules
of the flows beyond it (`beyond_notes`), so both read a step the same way.

Each takes explain's `Step` (an event with its one parsed view) and looks only at what
crossed the wire.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Test = Callable[[Any], bool]


def at(party: str, method: str, path: str) -> Test:
    return lambda s: s.event.to == party and s.event.method == method and s.path == path


def both(*tests: Test) -> Test:
    return lambda s: all(t(s) for t in tests)


def status(low: int, high: int | None = None) -> Test:
    return lambda s: low <= s.status <= (high or low)


def sender(party: str) -> Test:
    return lambda s: s.event.sender == party


def to(party: str) -> Test:
    return lambda s: s.event.to == party


def grant(kind: str) -> Test:
    return lambda s: s.param("grant_type") == kind


def because(code: str) -> Test:
    """Refused by our check `code` (a `sim.reasons` code, named in the response, never
    page text)."""
    return lambda s: s.reason == code
