"""Tracing: every HTTP exchange between the parties, recorded once, in order, per flow."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sim.tracing.events import KINDS, Event
from sim.tracing.hooks import party_session, trace_session
from sim.tracing.middleware import TracingMiddleware
from sim.tracing.params import Params, url_param
from sim.tracing.store import TraceStore
from sim.tracing.trace import Annotator, Trace


def build_trace(
    records: list[dict[str, Any]] | Callable[[], list[dict[str, Any]]],
    title: str = "",
    annotate: Annotator | None = None,
    kind: type[Trace] = Trace,
) -> Trace:
    """Turn store records (already in order) into a numbered Trace (of type `kind`);
    `annotate` writes each step's note and RFC reference when the events are first read.
    `seq` is given here, once: every rendering numbers its steps from it. The events are
    made when first read too: a run whose trace nobody reads does not pay for them; nor,
    given a store's `snapshot` (`records` a callable), for the records."""

    def events() -> list[Event]:
        made = records() if callable(records) else records
        return [Event.from_record(seq, record) for seq, record in enumerate(made, 1)]

    return kind.from_source(events, title, annotate)


__all__ = [
    "KINDS",
    "Annotator",
    "Event",
    "Params",
    "Trace",
    "TraceStore",
    "TracingMiddleware",
    "build_trace",
    "party_session",
    "trace_session",
    "url_param",
]
