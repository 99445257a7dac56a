"""The scripted browser's wire for plain http: keep-alive `http.client` connections shared
by every scripted browser of this process, one request on the wire at a time each.

Why not urllib3 (which requests uses, and which the browser used before): on a scenario's
nine browser hops its pool manager, URL re-parsing and response wrapping cost ~0.25 ms of
CPU per request more than `http.client` alone, ~2 ms of a happy path's ~40, and in threads
mode every party shares that one interpreter. What stays urllib3's is kept exactly:

- the request line and header block are the same bytes: the target is urllib3's own
  `parse_url(url).request_uri` (dot segments removed, invalid characters encoded, no
  fragment), and `http.client` writes Host, then Content-Length, then our headers, as
  urllib3's `HTTPConnection.request` (built on it) does;
- a pooled connection is checked for a close by the server before reuse (urllib3's
  `is_connection_dropped`), and not retried when it fails (the browser's `Retry(0)`);
- TCP_NODELAY, as urllib3 sets it: a form POST is not held back by Nagle's algorithm;
- a gzip or deflate body is decoded (the browser says it accepts them, like requests);
- at most `MAX_IDLE` idle connections per server, at most `MAX_SERVERS` servers (the
  least recently used one's are closed), like the pool manager's `maxsize`/`num_pools`.

Errors are requests' own (`ConnectTimeout`, `ReadTimeout`, `ConnectionError`), as before.
https (an external authorization server) keeps going through urllib3: see user_agent.
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import zlib
from collections import OrderedDict
from typing import Any

import requests
from urllib3.util import parse_url

MAX_IDLE = 64
MAX_SERVERS = 16

_idle: OrderedDict[tuple[str, int], list[http.client.HTTPConnection]] = OrderedDict()
_lock = threading.Lock()


def _dropped(sock: socket.socket) -> bool:
    """True when an idle connection became readable: the server closed it (or sent
    something unasked), so it cannot carry the next request."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _take(server: tuple[str, int]) -> http.client.HTTPConnection | None:
    with _lock:
        idle = _idle.get(server)
        while idle:
            conn = idle.pop()
            if conn.sock is not None and not _dropped(conn.sock):
                _idle.move_to_end(server)
                return conn
            conn.close()
    return None


def _give(server: tuple[str, int], conn: http.client.HTTPConnection) -> None:
    closing = []
    with _lock:
        idle = _idle.setdefault(server, [])
        _idle.move_to_end(server)
        if len(idle) < MAX_IDLE:
            idle.append(conn)
        else:
            closing.append(conn)
        while len(_idle) > MAX_SERVERS:
            closing += _idle.popitem(last=False)[1]
    for extra in closing:
        extra.close()


def close_idle() -> None:
    """Close every idle connection (when a simulation's servers stop)."""
    with _lock:
        conns = [c for idle in _idle.values() for c in idle]
        _idle.clear()
    for conn in conns:
        conn.close()


def _connect(host: str, port: int, timeout: float, request: Any) -> http.client.HTTPConnection:
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.connect()
        conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except TimeoutError as error:
        conn.close()
        raise requests.ConnectTimeout(error, request=request) from None
    except OSError as error:
        conn.close()
        raise requests.ConnectionError(error, request=request) from None
    return conn


def _decoded(body: bytes, encoding: str | None) -> bytes:
    encoding = (encoding or "").strip().lower()
    if encoding == "gzip":
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:  # raw deflate, as some servers send it
            return zlib.decompress(body, -zlib.MAX_WBITS)
    return body


def exchange(
    request: requests.PreparedRequest, body: bytes | None, timeout: float
) -> tuple[http.client.HTTPResponse, bytes]:
    """Send `request` (its method, URL and headers; `body` already encoded) on a pooled
    connection and read the whole answer, so the connection can go back to the pool.
    Returns the closed `http.client` response (status, reason, `msg`) and the body."""
    url = parse_url(request.url)
    server = (url.host or "", url.port or 80)
    conn = _take(server) or _connect(*server, timeout, request)
    try:
        conn.request(request.method, url.request_uri, body=body, headers=dict(request.headers))
        raw = conn.getresponse()
        content = _decoded(raw.read(), raw.getheader("Content-Encoding"))
    except TimeoutError as error:
        conn.close()
        raise requests.ReadTimeout(error, request=request) from None
    except (OSError, http.client.HTTPException, zlib.error) as error:
        conn.close()
        raise requests.ConnectionError(error, request=request) from None
    if raw.will_close:
        conn.close()
    else:
        _give(server, conn)
    return raw, content
