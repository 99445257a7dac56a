"""Inbound recording: a WSGI middleware that turns each request and its response into one
exchange record in the trace store.

It sits in front of every app (authorization server, resource server, client, attacker), so
every exchange between parties is seen by its receiver. It buffers the request body (the app
still reads all of it) and keeps the first few KB of the response.

When it records: a response of known, bounded length (every page, redirect and JSON answer
our apps give) is collected and recorded *before* its first byte is sent, so by the time the
sender has the answer, the exchange is in the store: one store write per exchange, and
nothing for a reader to wait for. Only a response of unknown length (a stream) is recorded
when the server closes it; that exchange is announced first (`store.begin`), so a reader
can wait until it is complete (`wait_settled`).

In live mode (`store.live`, set by `oauth-sim up`), `sim.tracing.live.LiveFlows` has named
the flow of a real browser's request before it gets here; this middleware only records, and
remembers the codes and tokens each flow issued so later requests can be matched to it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from sim.tracing import live
from sim.tracing.context import current_exchange, current_flow
from sim.tracing.limits import refuse_too_large, too_large
from sim.tracing.params import Params
from sim.tracing.seen import (
    BODY_LIMIT,
    EXCHANGE_KEY,
    FLOW_KEY,
    PARTY_KEY,
    keep,
    make_record,
    minimal_record,
)
from sim.tracing.store import TraceStore
from sim.tracing.values import protocol_values

#: Plumbing that is not part of any protocol exchange.
UNTRACED_PREFIXES = ("/healthz", "/trace", "/static/", "/favicon.ico")
#: The classroom console reads (e.g. the JWKS) without being part of any flow.
WATCHER = "console"


class TracingMiddleware:
    """Record every exchange an app answers. `party` is the app's own party name."""

    def __init__(self, app: Callable, party: str, store: TraceStore | None) -> None:
        self.app = app
        self.party = party
        self.store = store

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        app = refuse_too_large if too_large(environ) else self.app
        if (
            self.store is None
            or path.startswith(UNTRACED_PREFIXES)
            or environ.get(PARTY_KEY) == WATCHER
        ):
            return app(environ, start_response)
        start_ns = time.time_ns()
        started = time.perf_counter()
        body = b"" if app is refuse_too_large else live.buffer_body(environ)
        flow = environ.get(FLOW_KEY) or live.DEFAULT_FLOW
        # 32 random hex digits, as the senders' ids (uuid4().hex) look, for a quarter the CPU
        exchange = environ.get(EXCHANGE_KEY) or os.urandom(16).hex()
        environ[EXCHANGE_KEY] = exchange
        captured: dict[str, Any] = {}

        def recording_start_response(status, headers, exc_info=None):
            captured["status"] = status
            captured["headers"] = headers
            return start_response(status, headers, exc_info)

        def finish(chunks: list[bytes]) -> None:
            try:
                self._record(environ, body, captured, b"".join(chunks), flow, start_ns, started)
            except Exception as error:  # a begun row must never stay pending
                self._record_minimal(environ, captured, flow, start_ns, error)

        token = current_flow.set(flow)
        exchange_token = current_exchange.set(exchange)
        try:
            result = app(environ, recording_start_response)
            if "status" not in captured or not _bounded(captured["headers"]):
                # A stream: announced before its first byte, recorded when it is closed.
                self.store.begin(exchange, flow, start_ns)
                return _ClosingIterable(result, finish)
            # Bounded: collect it (the app has already built it), record, then send.
            try:
                chunks = list(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except Exception as error:
            self._record_minimal(environ, captured, flow, start_ns, error)
            raise
        finally:
            current_exchange.reset(exchange_token)
            current_flow.reset(token)
        finish(_first_bytes(chunks))
        return chunks

    def _record(self, environ, body, captured, response_body, flow, start_ns, started) -> None:
        status, headers = captured.get("status", "500"), captured.get("headers", [])
        duration_ms = (time.perf_counter() - started) * 1000
        # Live flows link codes and tokens as they are issued, so their values are needed
        # now; otherwise (and for browsing outside every flow, which links nothing) they
        # are parsed when the trace is read (`Event.from_record`).
        linking = flow != live.DEFAULT_FLOW and getattr(self.store, "live", False)
        seen = (
            self.party,
            environ,
            body,
            status,
            headers,
            response_body,
            flow,
            start_ns,
            duration_ms,
        )
        if not linking and getattr(self.store, "keeps_seen", False):
            # Threads mode's store makes the record when it is read (`sim.tracing.seen`).
            self.store.record(environ[EXCHANGE_KEY], flow, start_ns, keep(*seen))
            return
        record = make_record(*seen)
        links: tuple[str, ...] = ()
        if linking:
            params = Params.parse(
                record["url"],
                record["request_headers"],
                record["request_body"],
                record["location"],
                record["response_headers"],
                record["response_body"],
            )
            record["values"] = protocol_values(params)
            links = live.links(flow, record, environ.get("HTTP_ORIGIN"))
        self.store.record(record["exchange"], flow, start_ns, record, links)

    def _record_minimal(self, environ, captured, flow, start_ns, error) -> None:
        record = minimal_record(
            self.party, environ, captured.get("status", "500"), flow, start_ns, error
        )
        self.store.record(record["exchange"], flow, start_ns, record)


#: A response of declared length up to this is collected before it is sent (see the top).
BOUNDED = 1024 * 1024


def _bounded(headers: list[tuple[str, str]]) -> bool:
    for name, value in headers:
        # Werkzeug spells it so; any other spelling is lowered first.
        if name == "Content-Length" or (name[:1] in "cC" and name.lower() == "content-length"):
            try:
                return 0 <= int(value) <= BOUNDED
            except ValueError:
                return False
    return False


def _first_bytes(chunks: list[bytes]) -> list[bytes]:
    """The chunks that hold the first `BODY_LIMIT` bytes (what a record keeps)."""
    kept, size = [], 0
    for chunk in chunks:
        if size >= BODY_LIMIT:
            break
        kept.append(chunk)
        size += len(chunk)
    return kept


class _ClosingIterable:
    """Pass the response through while keeping its first bytes; record on close()."""

    def __init__(self, result: Iterable[bytes], on_close: Callable[[list[bytes]], None]):
        self._result = result
        self._on_close = on_close
        self._chunks: list[bytes] = []
        self._kept = 0

    def __iter__(self):
        for chunk in self._result:
            if self._kept < BODY_LIMIT:
                self._chunks.append(chunk)
                self._kept += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            if hasattr(self._result, "close"):
                self._result.close()
        finally:
            self._on_close(self._chunks)
