"""What the tracing middleware saw of one exchange, and the record made from it.

The middleware keeps what it saw as it came (`keep`: the request's text values, the bodies'
first bytes, the status and headers of the answer) and the record, the dict every reader of
the store gets, is made from it by `record_of`. Threads mode's store keeps what was seen and
makes its record when the trace is first read: on the request path, naming the headers,
decoding the bodies, classifying the exchange and bounding its values cost about 30 us per
exchange, and most runs of a benchmark or a loop never read their trace. Every other store
(and live mode, which links codes and tokens as they are issued) makes the record at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain
from typing import Any
from urllib.parse import quote, urlsplit

from sim.tracing import live
from sim.tracing.kinds import classify
from sim.tracing.names import EXCHANGE_HEADER, FLOW_HEADER, PARENT_HEADER, PARTY_HEADER, USER_AGENT

#: Bytes of a request or response body a record keeps.
BODY_LIMIT = 4096
DROPPED_HEADERS = {
    h.lower() for h in (PARTY_HEADER, FLOW_HEADER, EXCHANGE_HEADER, PARENT_HEADER, "Connection")
}


def environ_key(header: str) -> str:
    return "HTTP_" + header.upper().replace("-", "_")


PARTY_KEY, FLOW_KEY, EXCHANGE_KEY, PARENT_KEY = map(
    environ_key, (PARTY_HEADER, FLOW_HEADER, EXCHANGE_HEADER, PARENT_HEADER)
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


def request_headers(environ: dict[str, Any]) -> dict[str, str]:
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


def decode(data: bytes, length: int | None = None) -> str:
    """A body's first `BODY_LIMIT` bytes as text, and how many more there were (`length`:
    the whole body's, when `data` is only its start)."""
    length = len(data) if length is None else length
    text = data[: BODY_LIMIT + 4].decode("utf-8", errors="replace")
    if length > BODY_LIMIT:
        return f"{text[:BODY_LIMIT]}…[{length - BODY_LIMIT} more bytes not kept]"
    return text


def request_url(environ: dict[str, Any]) -> str:
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


def _status(status: Any) -> int:
    return int(str(status).split(" ", 1)[0])


#: What the middleware saw of one exchange, kept for later (`keep`): one flat tuple of text,
#: bytes and numbers. The garbage collector stops tracking such a tuple at its first pass,
#: so a store holding thousands does not make every full collection longer, nor come due
#: sooner; an instance of a class of ours would stay tracked for ever, and so would a tuple
#: holding a dict, or (for a pass or two more) one holding tuples. Measured in threads mode
#: before: the traced side ran 47 young and 4 full collections per 600 happy paths, the
#: untraced side 18 and 0, at up to 90 ms a full one.
Seen = tuple
#: Fixed fields of a `Seen`; then the environ's text items, then the answer's headers, each
#: as name, value, name, value...
_FIXED = 9


def keep(
    to: str,
    environ: dict[str, Any],
    body: bytes,
    status: str,
    headers: list[tuple[str, str]],
    response_body: bytes,
    flow: str,
    start_ns: int,
    duration_ms: float,
) -> Seen:
    """One exchange as the middleware of party `to` saw it, for `record_of` to make its
    record later. Only the environ's text values are kept (the request's line, its headers,
    WSGI's names): its objects (the app's request, the connection) must not outlive the
    request; and only the start of the request's body, with its length."""
    text = [item for item in environ.items() if type(item[1]) is str]
    return (
        to,
        body if len(body) <= BODY_LIMIT else body[: BODY_LIMIT + 4],
        len(body),
        status,
        response_body,
        flow,
        start_ns,
        duration_ms,
        len(text),
        *chain.from_iterable(text),
        *chain.from_iterable(headers),
    )


def record_of(seen: Seen) -> dict[str, Any]:
    """The record of an exchange kept by `keep`."""
    to, body, length, status, response_body, flow, start_ns, duration_ms = seen[:8]
    end = _FIXED + 2 * seen[8]
    environ = dict(zip(seen[_FIXED:end:2], seen[_FIXED + 1 : end : 2], strict=True))
    headers = zip(seen[end::2], seen[end + 1 :: 2], strict=True)
    return make_record(
        to, environ, body, status, headers, response_body, flow, start_ns, duration_ms, length
    )


def make_record(
    to: str,
    environ: dict[str, Any],
    body: bytes,
    status: str,
    headers: Iterable[tuple[str, str]],
    response_body: bytes,
    flow: str,
    start_ns: int,
    duration_ms: float,
    body_length: int | None = None,
) -> dict[str, Any]:
    """The record of one exchange (what every reader of the store gets); what is known for
    sure (`minimal_record`) if it cannot be made whole. `body_length`: the whole request
    body's, when `body` is only its start. The arguments are `keep`'s."""
    try:
        code = _status(status)
        response_headers = {k: v for k, v in headers}
        sender = environ.get(PARTY_KEY) or USER_AGENT
        method = environ.get("REQUEST_METHOD", "GET")
        request = request_headers(environ)
        return {
            "exchange": environ[EXCHANGE_KEY],
            "parent": environ.get(PARENT_KEY, ""),
            "flow": flow,
            "time": start_ns / 1e9,
            "duration_ms": round(duration_ms, 3),
            "from": sender,
            "to": to,
            "method": method,
            "url": request_url(environ),
            "status": code,
            "location": response_headers.get("Location"),
            "kind": classify(sender, to, method, environ.get("PATH_INFO", ""), code, request),
            "request_headers": request,
            "request_body": decode(body, body_length),
            "response_headers": response_headers,
            "response_body": decode(response_body),
        }
    except Exception as error:
        return minimal_record(to, environ, status, flow, start_ns, error)


def minimal_record(
    to: str,
    environ: dict[str, Any],
    status_line: Any,
    flow: str,
    start_ns: int,
    error: Exception,
) -> dict[str, Any]:
    """What is known for sure, when the full record could not be made: the exchange still
    ends (a reader waiting for it never hangs) and says why it is thin."""
    try:
        status = _status(status_line)
    except ValueError:
        status = 500
    sender = environ.get(PARTY_KEY) or USER_AGENT
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    return {
        "exchange": environ[EXCHANGE_KEY],
        "parent": environ.get(PARENT_KEY, ""),
        "flow": flow,
        "time": start_ns / 1e9,
        "duration_ms": 0.0,
        "from": sender,
        "to": to,
        "method": method,
        "url": "http://" + quote(environ.get("HTTP_HOST", ""), safe="") + quote(path),
        "status": status,
        "location": None,
        "kind": classify(sender, to, method, path, status),
        "request_headers": {},
        "request_body": "",
        "response_headers": {},
        "response_body": f"(not recorded: {type(error).__name__})",
        "values": [],
    }
