"""Outbound recording: the one hook point on a party's HTTP client (a requests session).

`trace_session` makes a session identify its party on every request, carry the flow id the
party is serving (or its own), and give each request an exchange id; the sender's round-trip
time is then stored under that id, where the receiver's record of the same exchange lands.
It works on any `requests.Session`, including Authlib's `OAuth2Session`.

All sessions of one party share one adapter, and so one keep-alive connection pool: the
client builds a fresh OAuth2Session per request (Authlib keeps the token on it), and a pool
per session would open a new connection each time and leave it idle on the server.
"""

from __future__ import annotations

import os
import threading
import time

import requests

from sim.tracing import foreign
from sim.tracing.context import current_exchange, current_flow
from sim.tracing.names import EXCHANGE_HEADER, FLOW_HEADER, PARENT_HEADER, PARTY_HEADER
from sim.tracing.store import TraceStore
from sim.tracing.wire import WireAdapter

POOL_SIZE = 64


class TracingAdapter(WireAdapter):
    def __init__(self, store: TraceStore | None) -> None:
        super().__init__(pool_connections=8, pool_maxsize=POOL_SIZE)
        self.store = store

    def send(self, request, **kwargs):  # type: ignore[override]
        # The flow this party is serving wins; a session's own flow is the fallback for
        # parties that start flows (the attacker, a scenario's direct calls).
        flow = current_flow.get() or request.headers.get(FLOW_HEADER)
        if flow:
            request.headers[FLOW_HEADER] = flow
        exchange = os.urandom(16).hex()  # 32 hex digits as uuid4().hex, for a quarter the CPU
        request.headers[EXCHANGE_HEADER] = exchange
        parent = current_exchange.get()
        if parent:
            request.headers[PARENT_HEADER] = parent
        start_ns, started = time.time_ns(), time.perf_counter()
        response = super().send(request, **kwargs)
        if self.store is not None:
            elapsed = round((time.perf_counter() - started) * 1000, 3)
            receiver = foreign.party_for(request.url)
            if receiver is not None:  # no middleware of ours will record it: we do
                foreign.record(self.store, request, response, receiver, start_ns, elapsed)
            self.store.record_sender(exchange, elapsed)
        return response

    def close(self) -> None:
        """Shared by every session of a party: a session closing must not close the pool."""


_adapters: dict[tuple[str, int], TracingAdapter] = {}
_adapters_lock = threading.Lock()


def _adapter(party: str, store: TraceStore | None) -> TracingAdapter:
    key = (party, id(store))
    with _adapters_lock:
        adapter = _adapters.get(key)
        if adapter is None or adapter.store is not store:
            adapter = _adapters[key] = TracingAdapter(store)
        return adapter


def trace_session(
    session: requests.Session, party: str, store: TraceStore | None, flow: str | None = None
) -> requests.Session:
    """Identify `party` on every request of `session` and record its side of each exchange."""
    session.headers[PARTY_HEADER] = party
    if flow:
        session.headers[FLOW_HEADER] = flow
    session.trust_env = False  # loopback only: skip per-request proxy lookups from the env
    adapter = _adapter(party, store)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def party_session(party: str, store: TraceStore | None = None, flow: str | None = None):
    """A new requests session for `party` (used by servers for their back-channel calls)."""
    return trace_session(requests.Session(), party, store, flow)


def release(store: TraceStore | None) -> None:
    """Close the pools of every party on `store` (when its simulation stops)."""
    with _adapters_lock:
        for key in [k for k, a in _adapters.items() if a.store is store]:
            WireAdapter.close(_adapters.pop(key))
