"""Exchanges with a server outside the simulation (an external authorization server, with
`oauth-sim up --issuer`): no middleware of ours sees them arrive, so the sender's hook
records the whole exchange, in the same record shape the middleware writes.

A party registers the origins of the foreign server and the party name it plays
(`register("https://as.example", "authorization-server")`); everything else is unchanged.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

from sim.tracing.kinds import classify
from sim.tracing.names import (
    EXCHANGE_HEADER,
    FLOW_HEADER,
    PARENT_HEADER,
    PARTY_HEADER,
    USER_AGENT,
)
from sim.tracing.params import Params
from sim.tracing.seen import BODY_LIMIT
from sim.tracing.values import protocol_values

_HIDDEN = {h.lower() for h in (PARTY_HEADER, FLOW_HEADER, EXCHANGE_HEADER, PARENT_HEADER)}
_origins: dict[str, str] = {}
_lock = threading.Lock()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def register(url: str, party: str) -> None:
    """Requests to `url`'s origin go to a foreign server playing `party`."""
    with _lock:
        _origins[_origin(url)] = party


def party_for(url: str) -> str | None:
    return _origins.get(_origin(url)) if _origins else None


def _text(body: Any) -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        body = body[:BODY_LIMIT].decode("utf-8", errors="replace")
    return str(body)[:BODY_LIMIT]


def record(store, request, response, receiver: str, start_ns: int, duration_ms: float) -> None:
    """Store one exchange seen only by its sender (a `requests` request and response)."""
    headers = {k: v for k, v in request.headers.items() if k.lower() not in _HIDDEN}
    sender = request.headers.get(PARTY_HEADER) or USER_AGENT
    flow = request.headers.get(FLOW_HEADER) or "live"
    response_headers = dict(response.headers)
    location = response_headers.get("Location")
    request_body = _text(request.body)
    response_body = _text(response.content)
    params = Params.parse(
        request.url, headers, request_body, location, response_headers, response_body
    )
    exchange = request.headers[EXCHANGE_HEADER]
    store.record(
        exchange,
        flow,
        start_ns,
        {
            "exchange": exchange,
            "parent": request.headers.get(PARENT_HEADER, ""),
            "flow": flow,
            "time": start_ns / 1e9,
            "duration_ms": round(duration_ms, 3),
            "from": sender,
            "to": receiver,
            "method": request.method,
            "url": request.url,
            "status": response.status_code,
            "location": location,
            "kind": classify(
                sender, receiver, request.method, urlsplit(request.url).path, response.status_code
            ),
            "request_headers": headers,
            "request_body": request_body,
            "response_headers": response_headers,
            "response_body": response_body,
            "values": protocol_values(params),
        },
    )
