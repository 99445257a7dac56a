"""Tracing: every HTTP exchange between the parties, recorded once, in order, per flow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.tracing.events import KINDS, Event, Trace
from sim.tracing.hooks import party_session, trace_session
from sim.tracing.middleware import TracingMiddleware
from sim.tracing.store import TraceStore

Annotator = Callable[[Event], tuple[str, str | None]]


def build_trace(
    records: list[dict[str, Any]], title: str = "", annotate: Annotator | None = None
) -> Trace:
    """Turn store records (already in order) into a numbered Trace; `annotate` writes each
    step's note and RFC reference when the events are first read."""
    events = []
    for seq, record in enumerate(records, 1):
        data = {k: v for k, v in record.items() if k != "sender_ms"}
        data["seq"] = seq
        events.append(Event.from_dict(data))
    return Trace(events, title, annotate)


__all__ = [
    "KINDS",
    "Event",
    "Trace",
    "TraceStore",
    "TracingMiddleware",
    "build_trace",
    "party_session",
    "trace_session",
]
