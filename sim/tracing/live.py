"""Live flows: which login attempt a real browser's request belongs to.

A scripted browser names its flow in a header on every request. A real browser (a student
clicking through `oauth-sim up`) sends no such header, so in live mode the flow is found in
this order:

1. The client starting a login (`/login`, the SPA at `/spa`) or an action (`/refresh`,
   `/logout`, `/photos`) starts a new flow and hands the browser a `sim_flow` cookie.
   Browsers send cookies of one host to every port of it, so the same cookie reaches the
   authorization server (127.0.0.1:9001) during login and consent.
2. The cookie, while the flow lasts: the client's first page that is not a redirect ends
   the flow (the cookie is cleared with it).
3. A value the flow issued: a code or token (the SPA's token request and API calls are
   cross-origin `fetch`es, which carry no cookie; the victim's browser delivering an
   attacker's code joins the flow that issued that code, and the client's redirect then
   hands it that flow's cookie).
4. A CORS preflight has no value: it joins the flow last seen from its `Origin`, or
   the flow whose client page was loaded last (its script sends that page's origin)
   (a simplification: two SPAs of one origin logging in at the same instant may swap
   their preflights).
Anything else is browsing outside a login and lands in the flow `live`.

`LiveFlows` wraps each app (outside everything else the simulator adds), so the flow it
finds reaches every layer inside as if the browser had sent the flow header: the per-flow
defence switches, the tracing middleware, the app's own back-channel calls. The cookie is
plumbing of the trace, not of the protocol: it is left out of the recorded headers.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable, Iterable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

from sim.tracing.names import CLIENT, FLOW_HEADER
from sim.tracing.params import UrlParams, request_pairs

COOKIE = "sim_flow"
DEFAULT_FLOW = "live"
#: Paths of the client that start a flow, with the flow's name prefix.
STARTS = {
    ("GET", "/login"): "login",
    ("GET", "/spa"): "spa",
    ("POST", "/refresh"): "refresh",
    ("POST", "/logout"): "logout",
    ("POST", "/photos"): "photos",
}
#: Values that tie a later request to the flow that issued them.
LINKED_NAMES = ("code", "access_token", "refresh_token")
FLOW_ID = re.compile(r"^[a-z][a-z0-9-]{0,40}-[0-9a-f]{12}$")


def valid_flow_id(flow: str) -> bool:
    """A flow id as the simulator makes them (so a cookie or URL cannot inject markup)."""
    return bool(FLOW_ID.match(flow)) or flow == DEFAULT_FLOW


def new_flow_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def cookie_flow(environ: dict[str, Any]) -> str | None:
    raw = environ.get("HTTP_COOKIE", "")
    if COOKIE not in raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(COOKIE)
    except Exception:  # noqa: BLE001  (http.cookies raises CookieError and others)
        return None
    if morsel is None or not FLOW_ID.match(morsel.value):
        return None
    return morsel.value


def strip_cookie(header: str) -> str:
    """The Cookie header without our own `sim_flow` (tracing plumbing)."""
    parts = [p for p in header.split(";") if p.strip().split("=", 1)[0] != COOKIE]
    return ";".join(parts).strip()


#: The bytes of a request body read for the values it carries.
VALUES_READ = 4096


def request_values(environ: dict[str, Any], body: bytes) -> list[tuple[str, str]]:
    """The request's parameters (query, Authorization, body), as the one parsed view reads
    them (`params.request_pairs`)."""
    return list(
        request_pairs(
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_AUTHORIZATION", ""),
            environ.get("CONTENT_TYPE", ""),
            body[:VALUES_READ].decode("utf-8", errors="replace"),
        )
    )


#: How a linked name shows in a raw query or body (lowered): as a form or query parameter,
#: inside a URL-encoded URL (a lure), or as a JSON key. (One search of a lowered copy: a
#: case-blind pattern costs 3x more, and so does a search for each name and ending.)
_LINKED_MARK = re.compile(b"(?:" + b"|".join(map(str.encode, LINKED_NAMES)) + b')(?:=|%3d|")')


def _may_carry_linked_value(environ: dict[str, Any], body: bytes) -> bool:
    """Whether the request can carry a code or token to look up: most requests of a login
    (authorize, login and consent pages) carry none, and are then not parsed at all. A
    false yes only costs the parse; a no is certain: every form a linked name can take in
    what `request_values` reads (query, body, `Authorization`) contains one of the marks."""
    if environ.get("HTTP_AUTHORIZATION"):
        return True
    search = _LINKED_MARK.search
    query = environ.get("QUERY_STRING", "")
    if query and search(query.encode("latin-1", "replace").lower()):
        return True
    return search(body[:VALUES_READ].lower()) is not None


class Resolution:
    """The flow of one request, and whether to set or clear the browser's cookie."""

    __slots__ = ("flow", "set_cookie", "via")

    def __init__(self, flow: str, via: str, set_cookie: str | None = None) -> None:
        self.flow, self.via, self.set_cookie = flow, via, set_cookie


def resolve(environ: dict[str, Any], party: str, store: Any, body: bytes) -> Resolution:
    """The flow of a request that carried no flow header (a real browser's)."""
    method = environ.get("REQUEST_METHOD", "GET")
    path = environ.get("PATH_INFO", "")
    if party == CLIENT:
        prefix = STARTS.get((method, path))
        if prefix is not None:
            flow = new_flow_id(prefix)
            return Resolution(flow, "start", _cookie(flow))
    flow = cookie_flow(environ)
    if flow is not None:
        return Resolution(flow, "cookie")
    if not store.has_links():
        # No value or origin is linked to any flow yet (no browser has started one): the
        # lookups below cannot match, so the request's values are not parsed for them.
        return Resolution(DEFAULT_FLOW, "none")
    if _may_carry_linked_value(environ, body):
        pairs = request_values(environ, body)
        # A link that carries a whole URL (the attacker's lure: /go?to=<callback?code=…>).
        links = [v for _, v in pairs if v.startswith(("http://", "https://"))]
        pairs += [p for link in links for p in UrlParams.parse(link).pairs]
        for name, value in pairs:
            if name in LINKED_NAMES:
                linked = store.linked(value)
                if linked:
                    return Resolution(linked, "value")
    origin = environ.get("HTTP_ORIGIN")
    if origin and method == "OPTIONS":
        linked = store.linked("origin " + origin)
        if linked:
            return Resolution(linked, "origin")
    return Resolution(DEFAULT_FLOW, "none")


def ends_flow(party: str, resolution: Resolution, status: int, path: str) -> bool:
    """The client's first page that is not a redirect ends a browser's flow (the SPA's
    start page does not: the login begins when its button is clicked)."""
    if party != CLIENT or 300 <= status < 400:
        return False
    if resolution.via == "start":
        return path != "/spa"
    return resolution.via == "cookie"


def hands_over(party: str, resolution: Resolution, status: int) -> bool:
    """A browser that joined a flow by a value it carried (a delivered code) keeps it for
    the rest of the flow: the client's redirect hands it the flow's cookie."""
    return party == CLIENT and resolution.via == "value" and 300 <= status < 400


def _cookie(flow: str, clear: bool = False) -> str:
    if clear:
        return f"{COOKIE}=; Path=/; Max-Age=0; SameSite=Lax; HttpOnly"
    return f"{COOKIE}={flow}; Path=/; SameSite=Lax; HttpOnly"


def flow_cookie(flow: str) -> str:
    return _cookie(flow)


def clear_cookie() -> str:
    return _cookie("", clear=True)


def links(flow: str, record: dict[str, Any], origin: str | None) -> tuple[str, ...]:
    """The codes and tokens this exchange carried (and the `Origin` it came from), so
    requests that carry them later without a cookie (cross-origin fetches, a delivered
    code) join this flow; the store links them in the same write as the record."""
    if flow == DEFAULT_FLOW:
        return ()
    found = [value for name, value in record.get("values", ()) if name in LINKED_NAMES]
    if origin:
        found.append("origin " + origin)
    elif record.get("to") == CLIENT and record.get("method") == "GET" and record["status"] < 300:
        # A page of the client: its script's cross-origin calls send this page's origin, and
        # a CORS preflight carries nothing else (the SPA's DPoP token request is preflighted
        # before any request of this flow carried an Origin header).
        parts = urlsplit(record.get("url", ""))
        found.append(f"origin {parts.scheme}://{parts.netloc}")
    return tuple(found)


FLOW_KEY = "HTTP_" + FLOW_HEADER.upper().replace("-", "_")
#: Plumbing that never starts, joins or ends a flow.
PLUMBING = ("/healthz", "/trace", "/static/", "/favicon.ico", "/sim/")


class LiveFlows:
    """WSGI wrapper: the flow of each real browser's request (no flow header), named in the
    flow header's environ key; the flow cookie handed out and taken back.
    `on_start(flow)` runs when a browser starts a flow (e.g. to apply the console's
    defence switches to it)."""

    def __init__(
        self,
        app: Callable,
        party: str,
        store: Any,
        on_start: Callable[[str], None] | None = None,
    ) -> None:
        self.app, self.party, self.store, self.on_start = app, party, store, on_start

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if environ.get(FLOW_KEY) or path.startswith(PLUMBING):
            return self.app(environ, start_response)
        resolution = resolve(environ, self.party, self.store, buffer_body(environ))
        if resolution.flow != DEFAULT_FLOW:
            environ[FLOW_KEY] = resolution.flow
        if resolution.via == "start" and self.on_start is not None:
            self.on_start(resolution.flow)
        if self.party != CLIENT:
            return self.app(environ, start_response)  # only the client hands out the cookie

        def with_cookie(status, headers, exc_info=None):
            code = int(str(status).split(" ", 1)[0])
            cookie = _cookie_header(self.party, resolution, code, path)
            if cookie:
                headers = [*headers, ("Set-Cookie", cookie)]
            return start_response(status, headers, exc_info)

        return self.app(environ, with_cookie)


#: Where `buffer_body` keeps the body it read, so the next layer asking does not read again.
BODY_KEY = "sim.tracing.body"


def buffer_body(environ: dict[str, Any]) -> bytes:
    """The request body, read once and put back for the app (and the layers inside it)."""
    body = environ.get(BODY_KEY)
    if body is not None and environ["wsgi.input"] is body[1]:
        return body[0]
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= 0:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    environ[BODY_KEY] = (body, environ["wsgi.input"])
    return body


def _cookie_header(party: str, resolution: Resolution, status: int, path: str) -> str | None:
    """Hand the browser its flow cookie at a flow's start; take it back at its end."""
    if ends_flow(party, resolution, status, path):
        return clear_cookie() if resolution.via == "cookie" else None
    if resolution.set_cookie:
        return resolution.set_cookie
    if hands_over(party, resolution, status):
        return flow_cookie(resolution.flow)
    return None
