"""HTTP/1.1 for our own HTTP clients on loopback: keep-alive `http.client` connections, one
request on the wire at a time each, answered as `requests.Response`s.

Why not urllib3 (which requests uses): its pool manager, URL re-parsing and response
wrapping cost ~0.15–0.25 ms of CPU per request more than `http.client` alone, and a happy
path makes 15 requests; in threads mode every party shares the one interpreter. Three users:

- the scripted browser (`sim.user_agent`) sends its own requests through `exchange()`;
- `WireAdapter`, a requests `HTTPAdapter` (the base of the parties' `TracingAdapter`),
  sends plain-http requests that way too and leaves anything else to urllib3 (https, a
  proxy, a streamed answer or body, a urllib3 `Timeout` object);
- `LeanRequests`, mixed into a `requests.Session` (the client's `OAuth2Session`), prepares
  a request with requests' own `PreparedRequest` steps, skipping `Session.request`'s merging
  of settings, cookies and environment when the session has none of them to merge.

What stays urllib3's and requests' is kept exactly (tests compare the bytes):

- the request line and header block are the same bytes: the target is urllib3's own
  (`parse_url(url).request_uri` for the browser, `PreparedRequest.path_url` re-encoded as
  urllib3 does for the adapter), and `http.client` writes Host, then Content-Length, then
  the headers in order, as urllib3's `HTTPConnection.request` (built on it) does;
- a pooled connection is checked for a close by the server before reuse (urllib3's
  `is_connection_dropped`), and not retried when it fails (requests' `Retry(0, read=False)`);
- TCP_NODELAY, as urllib3 sets it; a gzip or deflate body is decoded (requests asks for them);
- `http.client`'s connection with two costs taken out (`sim.tracing.http11`): a body
  leaves in the same send as the header block, and an answer's plain header block is read
  without the `email` package's parser, into the same `HTTPMessage`;
- a repeated answer header is joined with ", " under its first spelling (HTTPHeaderDict);
- errors are requests' own (`ConnectTimeout`, `ReadTimeout`, `ConnectionError`).
"""

from __future__ import annotations

import functools
import http.client
import select
import socket
import threading
import time
import weakref
import zlib
from collections import Counter, OrderedDict
from collections.abc import Mapping
from datetime import timedelta
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.cookies import MockRequest, MockResponse, RequestsCookieJar, cookiejar_from_dict
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3.util.url import _encode_target

from sim.tracing import http11

#: Like urllib3's PoolManager(num_pools=16, maxsize=64): idle connections kept per server,
#: and servers kept (the least recently used one's connections are closed).
MAX_IDLE = 64
MAX_SERVERS = 16


class Connections:
    """Idle keep-alive connections by (host, port), shared by the threads of one client."""

    def __init__(self) -> None:
        self._idle: OrderedDict[tuple[str, int], list[http.client.HTTPConnection]] = OrderedDict()
        self._lock = threading.Lock()
        #: Connections opened, by server (how a test sees that keep-alive works).
        self.opened: Counter[tuple[str, int]] = Counter()
        # Like urllib3's pools: idle connections are closed when the pool goes (at exit,
        # for the pools a process keeps for its whole life), never left to the collector.
        weakref.finalize(self, _close_all, self._idle)

    def take(self, server: tuple[str, int]) -> http.client.HTTPConnection | None:
        with self._lock:
            idle = self._idle.get(server)
            while idle:
                conn = idle.pop()
                if conn.sock is not None and not _dropped(conn.sock):
                    self._idle.move_to_end(server)
                    return conn
                conn.close()
        return None

    def give(self, server: tuple[str, int], conn: http.client.HTTPConnection) -> None:
        closing = []
        with self._lock:
            idle = self._idle.setdefault(server, [])
            self._idle.move_to_end(server)
            if len(idle) < MAX_IDLE:
                idle.append(conn)
            else:
                closing.append(conn)
            while len(self._idle) > MAX_SERVERS:
                closing += self._idle.popitem(last=False)[1]
        for extra in closing:
            extra.close()

    def idle(self) -> list[http.client.HTTPConnection]:
        with self._lock:
            return [c for conns in self._idle.values() for c in conns]

    def close(self) -> None:
        """Close every idle connection (when a simulation's servers stop)."""
        with self._lock:
            _close_all(self._idle)


def _close_all(idle: OrderedDict[tuple[str, int], list[http.client.HTTPConnection]]) -> None:
    conns = [c for conns in idle.values() for c in conns]
    idle.clear()
    for conn in conns:
        conn.close()


def _dropped(sock: socket.socket) -> bool:
    """True when an idle connection became readable: the server closed it (or sent
    something unasked), so it cannot carry the next request."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _connect(
    server: tuple[str, int], timeouts: tuple[float | None, float | None], request: Any
) -> http.client.HTTPConnection:
    conn = http11.Connection(*server, timeout=timeouts[0])
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
    if encoding in ("", "identity"):
        return body
    if encoding == "gzip":
        return zlib.decompress(body, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":
        try:
            return zlib.decompress(body)
        except zlib.error:  # raw deflate, as some servers send it
            return zlib.decompress(body, -zlib.MAX_WBITS)
    # Anything else requests may ask for (br, zstd when their packages are installed):
    # urllib3's own decoders.
    answer = urllib3.HTTPResponse(
        body=body, headers={"Content-Encoding": encoding}, preload_content=False
    )
    return answer.read(decode_content=True)


def exchange(
    pool: Connections,
    request: requests.PreparedRequest,
    server: tuple[str, int],
    target: str,
    body: bytes | None,
    timeouts: tuple[float | None, float | None],
) -> tuple[http.client.HTTPResponse, bytes]:
    """Send `request` (its method and headers; `target` as the request line's, `body`
    already encoded) on a pooled connection to `server` (host, port), and read the whole
    answer, so the connection can go back to the pool. `timeouts` = (connect, read), None =
    wait. Returns the closed `http.client` response (status, reason, `msg`) and the body.
    The caller parses the URL once, the way the client it stands for did (urllib3's
    `parse_url` for the browser, `urlsplit` for requests' adapter)."""
    conn = pool.take(server)
    if conn is None:
        conn = _connect(server, timeouts, request)
        pool.opened[server] += 1
    conn.sock.settimeout(timeouts[1])
    try:
        conn.request(request.method, target, body=body, headers=dict(request.headers))
        raw = conn.getresponse()
        content = _decoded(raw.read(), raw.getheader("Content-Encoding"))
    except TimeoutError as error:
        conn.close()
        raise requests.ReadTimeout(error, request=request) from None
    except (OSError, http.client.HTTPException, zlib.error, urllib3.exceptions.HTTPError) as error:
        conn.close()
        raise requests.ConnectionError(error, request=request) from None
    if raw.will_close:
        conn.close()
    else:
        pool.give(server, conn)
    # What requests reads of a urllib3 response for cookies: `_original_response.msg`.
    raw._original_response = raw  # type: ignore[attr-defined]
    return raw, content


def headers_of(msg: Message) -> CaseInsensitiveDict:
    """The answer's headers as requests shows them: a repeated header (Set-Cookie) once,
    its values joined by ", " under its first spelling, as urllib3's HTTPHeaderDict does."""
    joined: dict[str, tuple[str, str]] = {}
    for name, value in msg.items():
        key = name.lower()
        if key in joined:
            joined[key] = (joined[key][0], f"{joined[key][1]}, {value}")
        else:
            joined[key] = (name, value)
    headers = CaseInsensitiveDict()
    headers._store.update(joined)
    return headers


class Answer(requests.Response):
    """A `requests.Response` read whole, whose own `cookies` jar (what this one answer
    set) is made and filled when first read: callers read their session's jar, seldom an
    answer's, and extracting cookies twice per request cost ~50 us each time (a jar of its
    own, made by `Response.__init__` for every answer, a few us more)."""

    _set_cookies: tuple[Message, requests.PreparedRequest] | None = None
    _jar: RequestsCookieJar | None = None
    #: The answer's header block as `http.client` parsed it (what cookie jars read).
    raw_msg: Message | None = None

    @classmethod
    def of(
        cls,
        request: requests.PreparedRequest,
        raw: Any,
        content: bytes,
        started: float,
    ) -> Answer:
        """The answer to `request`: `raw` is an `http.client` response from `exchange()`
        or a urllib3 one, read whole (`content`, decoded); `started` its perf_counter."""
        msg = raw._original_response.msg  # http.client's, under urllib3's too
        headers = headers_of(msg)
        answer = cls.__new__(cls)
        # What `Response.__init__` sets, with this answer's values; the jar when first read.
        answer.__dict__.update(
            _content=content,
            _content_consumed=False,
            _next=None,
            status_code=raw.status,
            headers=headers,
            raw=raw,
            url=request.url.decode() if isinstance(request.url, bytes) else request.url,
            encoding=get_encoding_from_headers(headers),
            history=[],
            reason=raw.reason,
            elapsed=timedelta(seconds=time.perf_counter() - started),
            request=request,
            raw_msg=msg,
            _set_cookies=(msg, request),
        )
        return answer

    @property
    def cookies(self) -> RequestsCookieJar:  # type: ignore[override]
        if self._jar is None:
            self._jar = cookiejar_from_dict({})
        if self._set_cookies is not None:
            msg, request = self._set_cookies
            self._set_cookies = None
            self._jar.extract_cookies(MockResponse(msg), MockRequest(request))
        return self._jar

    @cookies.setter
    def cookies(self, jar: RequestsCookieJar) -> None:
        self._jar = jar


def _timeouts(timeout: Any) -> tuple[float | None, float | None] | None:
    """(connect, read) from what requests accepts; None for a urllib3 Timeout object."""
    if timeout is None or isinstance(timeout, int | float):
        return timeout, timeout
    if isinstance(timeout, tuple) and len(timeout) == 2:
        return timeout
    return None


class WireAdapter(HTTPAdapter):
    """requests' adapter, sending plain http through `exchange()`; the rest through urllib3."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connections = Connections()

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):  # type: ignore[override]
        timeouts = _timeouts(timeout)
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")  # as urllib3 encodes a str body
        if (
            stream
            or proxies
            or timeouts is None
            or not request.url.startswith("http://")
            or not (body is None or isinstance(body, bytes))
            or (body is not None and "Content-Length" not in request.headers)
        ):
            return super().send(request, stream, timeout, verify, cert, proxies)
        self.add_headers(
            request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies=proxies
        )
        target = _encode_target(self.request_url(request, proxies))
        url = urlsplit(request.url)  # as requests keys urllib3's pools (host, port)
        server = (url.hostname or "", url.port or 80)
        started = time.perf_counter()
        raw, content = exchange(self.connections, request, server, target, body, timeouts)
        answer = Answer.of(request, raw, content, started)
        answer.connection = self
        return answer

    def close(self) -> None:
        super().close()
        self.connections.close()


@functools.lru_cache(maxsize=256)
def _prepared_url(url: str) -> str:
    prepared = requests.PreparedRequest()
    prepared.prepare_url(url, None)
    return prepared.url


def prepare_url(request: requests.PreparedRequest, url: Any, params: Any) -> None:
    """`request.prepare_url(url, params)`. Without params, a URL string's result is
    remembered: a party calls the same few endpoints again and again, and requests' URL
    preparation (urllib3's parse, IDNA check, re-quoting, and the runtime protocol checks of
    an empty params' encoding) cost 20-60 us a call. No params of any kind add nothing to
    the URL, as in `prepare_url`; a URL it refuses raises each time."""
    if type(url) is str and not params:
        request.url = _prepared_url(url)
    else:
        request.prepare_url(url, params)


class LeanRequests(requests.Session):
    """`Session.request` without its merging when there is nothing to merge: no session
    cookies, params, auth, proxies or environment, no files, no per-call cookies, hooks,
    proxies or TLS settings. The request is then prepared by requests' own
    `PreparedRequest` steps, in `prepare()`'s order, from the same merged headers and hooks,
    and sent by `Session.send` (hooks, cookies, redirects as ever). `Session.request`'s
    settings merge, with requests 2.34's runtime protocol checks, was ~0.15 ms a call."""

    def request(  # type: ignore[override]
        self,
        method,
        url,
        params=None,
        data=None,
        headers=None,
        cookies=None,
        files=None,
        auth=None,
        timeout=None,
        allow_redirects=True,
        proxies=None,
        hooks=None,
        stream=None,
        verify=None,
        cert=None,
        json=None,
    ):
        if (
            (files or cookies or hooks or proxies or stream or cert or verify is not None)
            or (headers is not None and not isinstance(headers, Mapping))
            or (
                self.trust_env
                or len(self.cookies)
                or self.params
                or self.auth
                or self.proxies
                or self.stream
                or self.cert
                or self.verify is not True
            )
        ):
            return super().request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
                cookies=cookies,
                files=files,
                auth=auth,
                timeout=timeout,
                allow_redirects=allow_redirects,
                proxies=proxies,
                hooks=hooks,
                stream=stream,
                verify=verify,
                cert=cert,
                json=json,
            )
        merged = self.headers  # merge_setting's result when the call adds no headers
        if headers is not None:
            merged = CaseInsensitiveDict(self.headers)
            merged.update(headers)
            for name in [n for n, v in merged.items() if v is None]:
                del merged[name]
        prepared = requests.PreparedRequest()
        prepared.prepare_method(method.upper())
        prepare_url(prepared, url, params)
        prepared.prepare_headers(merged)
        prepared._cookies = RequestsCookieJar()  # what a redirect would add to
        prepared.prepare_body(data or {}, None, json)
        prepared.prepare_auth(auth, url)
        prepared.prepare_hooks(self.hooks)
        return self.send(
            prepared,
            timeout=timeout,
            allow_redirects=allow_redirects,
            proxies={},
            stream=False,
            verify=True,
            cert=None,
        )
