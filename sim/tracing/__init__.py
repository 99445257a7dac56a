"""Tracing: every HTTP exchange between the parties, recorded once, in order, per flow."""

from __future__ import annotations

from typing import Any

from sim.tracing.events import KINDS, Event
from sim.tracing.hooks import party_session, trace_session
from sim.tracing.middleware import TracingMiddleware
from sim.tracing.params import Params, url_param
from sim.tracing.store import TraceStore
from sim.tracing.trace import Annotator, Trace
from sim.tracing.values import protocol_values


def build_trace(
    records: list[dict[str, Any]],
    title: str = "",
    annotate: Annotator | None = None,
    kind: type[Trace] = Trace,
) -> Trace:
    """Turn store records (already in order) into a numbered Trace (of type `kind`);
    `annotate` writes each step's note and RFC reference when the events are first read.
    `seq` is given here, once: every rendering numbers its steps from it. The events are
    made when first read too: a run whose trace nobody reads does not pay for them."""

    def events() -> list[Event]:
        return [_event(seq, record) for seq, record in enumerate(records, 1)]

    return kind.from_source(events, title, annotate)


def _event(seq: int, record: dict[str, Any]) -> Event:
    data = {k: v for k, v in record.items() if k != "sender_ms"}
    data["seq"] = seq
    params = None
    if "values" not in data:  # recorded without them (see the middleware): parsed here, once
        params = Params.parse(
            data.get("url", ""),
            data.get("request_headers"),
            data.get("request_body", ""),
            data.get("location"),
            data.get("response_headers"),
            data.get("response_body", ""),
        )
        data["values"] = protocol_values(params)
    event = Event.from_dict(data)
    if params is not None:
        event.__dict__["params"] = params  # `Event.params` is a cached_property: seed it
    return event


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
