"""Outbound recording: the one hook point on a party's HTTP client (a requests session).

`trace_session` makes a session identify its party on every request, carry the flow id the
party is serving (or its own), and give each request an exchange id; the sender's round-trip
time is then stored under that id, where the receiver's record of the same exchange lands.
It works on any `requests.Session`, including Authlib's `OAuth2Session`.
"""

from __future__ import annotations

import time
import uuid

import requests
from requests.adapters import HTTPAdapter

from sim.parties import EXCHANGE_HEADER, FLOW_HEADER, PARTY_HEADER
from sim.tracing.context import current_flow
from sim.tracing.store import TraceStore


class TracingAdapter(HTTPAdapter):
    def __init__(self, store: TraceStore | None, flow: str | None = None) -> None:
        super().__init__()
        self.store = store
        self.flow = flow

    def send(self, request, **kwargs):  # type: ignore[override]
        flow = request.headers.get(FLOW_HEADER) or current_flow.get() or self.flow
        if flow:
            request.headers[FLOW_HEADER] = flow
        exchange = uuid.uuid4().hex
        request.headers[EXCHANGE_HEADER] = exchange
        started = time.perf_counter()
        response = super().send(request, **kwargs)
        if self.store is not None:
            self.store.record_sender(exchange, round((time.perf_counter() - started) * 1000, 3))
        return response


def trace_session(
    session: requests.Session, party: str, store: TraceStore | None, flow: str | None = None
) -> requests.Session:
    """Identify `party` on every request of `session` and record its side of each exchange."""
    session.headers[PARTY_HEADER] = party
    session.trust_env = False  # loopback only: skip per-request proxy lookups from the env
    adapter = TracingAdapter(store, flow)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def party_session(party: str, store: TraceStore | None = None, flow: str | None = None):
    """A new requests session for `party` (used by servers for their back-channel calls)."""
    return trace_session(requests.Session(), party, store, flow)
