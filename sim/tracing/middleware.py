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
from urllib.parse import quote, urlsplit

from sim.tracing import live
from sim.tracing.context import current_exchange, current_flow
from sim.tracing.kinds import classify
from sim.tracing.limits import refuse_too_large, too_large
from sim.tracing.names import EXCHANGE_HEADER, FLOW_HEADER, PARENT_HEADER, PARTY_HEADER, USER_AGENT
from sim.tracing.params import Params
from sim.tracing.store import TraceStore
from sim.tracing.values import protocol_values

BODY_LIMIT = 4096
#: Plumbing that is not part of any protocol exchange.
UNTRACED_PREFIXES = ("/healthz", "/trace", "/static/", "/favicon.ico")
#: The classroom console reads (e.g. the JWKS) without being part of any flow.
WATCHER = "console"
DROPPED_HEADERS = {
    h.lower() for h in (PARTY_HEADER, FLOW_HEADER, EXCHANGE_HEADER, PARENT_HEADER, "Connection")
}


def _environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


PARTY_KEY, FLOW_KEY, EXCHANGE_KEY, PARENT_KEY = map(
    _environ_key, (PARTY_HEADER, FLOW_HEADER, EXCHANGE_HEADER, PARENT_HEADER)
)


#: Recorded name of each `HTTP_*` environ key seen so far (None: plumbing, not recorded).
_HEADER_NAMES: dict[str, str | None] = {}
#: Names WSGI's upper-casing loses and `str.title` cannot restore, spelled as their RFCs do
#: (names are case-insensitive, RFC 9110 §5.1; this is only so the trace reads as taught).
_SPELLED = {"Dpop": "DPoP"}


def _header_name(key: str) -> str | None:
    """The recorded name of environ key `key` (None: not a header, or plumbing)."""
    name = _HEADER_NAMES.get(key, "")
    if name == "":
        if key.startswith("HTTP_"):
            name = key[5:].replace("_", "-").title()
            name = _SPELLED.get(name, name)
            if name.lower() in DROPPED_HEADERS:
                name = None
        else:
            name = None
        if len(_HEADER_NAMES) < 1024:  # header names come from anyone: keep the cache bounded
            _HEADER_NAMES[key] = name
    return name


def _request_headers(environ: dict[str, Any]) -> dict[str, str]:
    headers = {}
    known = _HEADER_NAMES
    for key, value in environ.items():
        # One look-up per key, the WSGI keys that are no header included (cached as None).
        name = known.get(key, "")
        if name == "":
            name = _header_name(key)
        if name is not None:
            headers[name] = value
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    if live.COOKIE in headers.get("Cookie", ""):
        headers["Cookie"] = live.strip_cookie(headers["Cookie"])
        if not headers["Cookie"]:
            del headers["Cookie"]
    return headers


def _decode(data: bytes) -> str:
    text = data[: BODY_LIMIT + 4].decode("utf-8", errors="replace")
    if len(data) > BODY_LIMIT:
        return f"{text[:BODY_LIMIT]}…[{len(data) - BODY_LIMIT} more bytes not kept]"
    return text


def _url(environ: dict[str, Any]) -> str:
    """The request's absolute URL, with the Host header as sent. A host that does not parse
    (`Host: [`) is percent-encoded, so every reader of the record can still split the URL."""
    path = environ.get("PATH_INFO", "")
    query = environ.get("QUERY_STRING", "")
    host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME", "")
    url = f"{environ.get('wsgi.url_scheme', 'http')}://{host}{path}"
    if query:
        url += f"?{query}"
    if host.isascii() and "[" not in host and "]" not in host:
        return url  # urlsplit refuses only brackets that do not parse and non-ASCII hosts
    try:
        urlsplit(url)
    except ValueError:
        url = url.replace(host, quote(host, safe=""), 1)
    return url


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
        duration_ms = (time.perf_counter() - started) * 1000
        status = int(str(captured.get("status", "500")).split(" ", 1)[0])
        response_headers = {k: v for k, v in captured.get("headers", [])}
        location = response_headers.get("Location")
        sender = environ.get(PARTY_KEY) or USER_AGENT
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        url = _url(environ)
        request_headers = _request_headers(environ)
        request_body = _decode(body)
        response_text = _decode(response_body)
        record = {
            "exchange": environ[EXCHANGE_KEY],
            "parent": environ.get(PARENT_KEY, ""),
            "flow": flow,
            "time": start_ns / 1e9,
            "duration_ms": round(duration_ms, 3),
            "from": sender,
            "to": self.party,
            "method": method,
            "url": url,
            "status": status,
            "location": location,
            "kind": classify(sender, self.party, method, path, status, request_headers),
            "request_headers": request_headers,
            "request_body": request_body,
            "response_headers": response_headers,
            "response_body": response_text,
        }
        links = ()
        if flow != live.DEFAULT_FLOW and getattr(self.store, "live", False):
            # Live flows link codes and tokens as they are issued, so their values are
            # needed now; otherwise (and for browsing outside every flow, which links
            # nothing) they are parsed when the trace is read (`Event.from_record`).
            params = Params.parse(
                url, request_headers, request_body, location, response_headers, response_text
            )
            record["values"] = protocol_values(params)
            links = live.links(flow, record, environ.get("HTTP_ORIGIN"))
        self.store.record(record["exchange"], flow, start_ns, record, links)

    def _record_minimal(self, environ, captured, flow, start_ns, error) -> None:
        """What is known for sure, when the full record could not be made: the exchange
        still ends (a reader waiting for it never hangs) and says why it is thin."""
        status = int(str(captured.get("status", "500")).split(" ", 1)[0])
        sender = environ.get(PARTY_KEY) or USER_AGENT
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        record = {
            "exchange": environ[EXCHANGE_KEY],
            "parent": environ.get(PARENT_KEY, ""),
            "flow": flow,
            "time": start_ns / 1e9,
            "duration_ms": 0.0,
            "from": sender,
            "to": self.party,
            "method": method,
            "url": "http://" + quote(environ.get("HTTP_HOST", ""), safe="") + quote(path),
            "status": status,
            "location": None,
            "kind": classify(sender, self.party, method, path, status),
            "request_headers": {},
            "request_body": "",
            "response_headers": {},
            "response_body": f"(not recorded: {type(error).__name__})",
            "values": [],
        }
        self.store.record(record["exchange"], flow, start_ns, record)


#: A response of declared length up to this is collected before it is sent (see the top).
BOUNDED = 1024 * 1024


def _bounded(headers: list[tuple[str, str]]) -> bool:
    for name, value in headers:
        if name.lower() == "content-length":
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
