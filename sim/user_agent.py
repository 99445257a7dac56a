"""The resource owner's browser, scripted: follows redirects one hop at a time, keeps
cookies like a browser (per host, shared across ports, hence each app's own cookie name),
finds forms in the HTML and submits them. It never talks back-channel: everything it does is
front-channel, exactly what a real browser would do on the user's behalf.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import DefaultCookiePolicy
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.cookies import MockRequest, MockResponse, RequestsCookieJar, get_cookie_header
from requests.structures import CaseInsensitiveDict
from requests.utils import check_header_validity, requote_uri
from urllib3.util import parse_url
from urllib3.util.retry import Retry

from sim.parties import EXCHANGE_HEADER, FLOW_HEADER, PARTY_HEADER, USER_AGENT
from sim.tracing import wire

MAX_HOPS = 20


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    #: Submit buttons as (name, value); a browser sends only the one clicked.
    buttons: list[tuple[str, str]] = field(default_factory=list)
    #: Checkboxes as (name, value, checked).
    checkboxes: list[tuple[str, str, bool]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        #: How many </form> end tags were read (comments and scripts hold none).
        self.closed = 0

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").upper()))
        elif not self.forms:
            return
        elif tag == "input":
            kind, name = a.get("type", "text").lower(), a.get("name")
            if not name:
                return
            if kind == "checkbox":
                self.forms[-1].checkboxes.append((name, a.get("value", "on"), "checked" in a))
            elif kind == "submit":
                self.forms[-1].buttons.append((name, a.get("value", "")))
            else:
                self.forms[-1].fields.append((name, a.get("value", "")))
        elif tag == "button" and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.closed += 1


_FORM_START = re.compile(r"<form[\s>]", re.IGNORECASE)
_FORM_END = re.compile(r"</form\s*>", re.IGNORECASE)


def parse_forms(html: str) -> list[Form]:
    # Only the part from the first <form> on can hold a form: the head and the styles
    # before it need no parsing (the page is parsed on every form the script submits).
    start = _FORM_START.search(html)
    if start is None:
        return []
    parser = _FormParser()
    parser.feed(html[start.start() :])
    return parser.forms


def closed_forms(html: str) -> Iterator[Form]:
    """The page's forms, each as soon as its </form> is read: a script that needs only the
    first form (the one it submits) or the first CSRF token stops reading there, instead of
    parsing the whole page (the client's home page is ~4 KB of HTML after its first form;
    parsing it whole was ~0.5 ms of a happy path). A form yielded is the one `parse_forms`
    returns at that place, for any page where no field stands outside a form."""
    start = _FORM_START.search(html)
    if start is None:
        return
    parser, given, at = _FormParser(), 0, start.start()
    while at < len(html):
        end = _FORM_END.search(html, at)
        upto = end.end() if end else len(html)
        parser.feed(html[at:upto])  # fed whole tags: HTMLParser keeps what is cut anyway
        at = upto
        while given < min(parser.closed, len(parser.forms)):
            yield parser.forms[given]
            given += 1
    parser.close()
    yield from parser.forms[given:]


class BrowserError(RuntimeError):
    """The page did not hold what the script expected (no form, too many redirects)."""


class _HopByHopSession(requests.Session):
    """A session that never follows redirects itself: requests would otherwise prepare the
    next hop of every 3xx (even with allow_redirects=False), work the browser script does."""

    def resolve_redirects(self, *args, **kwargs):
        return iter(())


class _SharedPool(HTTPAdapter):
    """Keep-alive connections shared by every scripted browser of this process. Cookies stay
    each browser's own (its session's jar); only the TCP connections are reused, as one
    browser reuses them across tabs. A browser per flow with pools of its own opened new
    connections to the client and the authorization server on every flow."""

    def close(self) -> None:
        """Shared: one browser closing must not close the others' connections."""


_POOL = _SharedPool(pool_connections=16, pool_maxsize=64)


def close_idle_connections() -> None:
    """Close the shared pool's idle connections (e.g. when a simulation's servers stop)."""
    HTTPAdapter.close(_POOL)
    _WIRE.clear()
    _CONNECTIONS.close()


# -- the wire ------------------------------------------------------------------------------
# What a browser's request needs (its headers, its cookie jar, a form body) sent on the
# browsers' own keep-alive connections (`sim.tracing.wire`, the same bytes urllib3 would send) and
# answered as a `requests.Response`, so every caller reads it as before. requests' own path
# (Session.request: merging settings, preparing the URL, body and cookies, then building the
# response) cost ~0.74 ms of CPU per request against ~0.31 ms for urllib3 alone, and
# urllib3's pool manager ~0.25 ms more than http.client. The cookie rules stay requests'
# and the standard library's (`get_cookie_header`, `extract_cookies` on the session's jar);
# redirects are never followed here. https (an external authorization server) goes
# through urllib3, with its TLS defaults.

TIMEOUT = 15
_CONNECTIONS = wire.Connections()
_WIRE = urllib3.PoolManager(num_pools=16, maxsize=64, retries=Retry(0, read=False))


def _send(
    session: requests.Session, method: str, url: str, headers: dict[str, str], data: Any
) -> requests.Response:
    request = requests.PreparedRequest()
    request.method, request.url = method.upper(), _requoted(url)
    # CaseInsensitiveDict(session.headers), updated with `headers`, None values dropped:
    # a name keeps its first place, takes its last spelling and value.
    merged: dict[str, tuple[str, Any]] = {}
    for name, value in (*session.headers.items(), *headers.items()):
        merged[name.lower()] = (name, value)
    request.headers = CaseInsensitiveDict()
    request.headers._store.update((k, nv) for k, nv in merged.items() if nv[1] is not None)
    body = None
    if data is not None:
        if isinstance(data, str | bytes):
            body = data
        else:
            pairs = data.items() if isinstance(data, dict) else data
            body = urlencode([(k, v) for k, v in pairs if v is not None], doseq=True)
            request.headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
    request.body = body
    for name, value in request.headers.items():
        if not (type(name) is type(value) is str and (name, value) in _VALID_HEADERS):
            check_header_validity((name, value))
            if type(name) is type(value) is str:
                if len(_VALID_HEADERS) >= 1024:
                    _VALID_HEADERS.clear()
                _VALID_HEADERS.add((name, value))
    cookie = _cookie_header(session.cookies, request)
    if cookie:
        request.headers["Cookie"] = cookie
    started = time.perf_counter()
    if request.url.startswith("http://"):
        wired = body.encode() if isinstance(body, str) else body  # utf-8, as urllib3 does
        target, server = _target_and_server(request.url)
        timeouts = (TIMEOUT, TIMEOUT)
        raw, content = wire.exchange(_CONNECTIONS, request, server, target, wired, timeouts)
    else:
        raw = _urllib3_exchange(request, body)
        content = raw.data
    response = wire.Answer.of(request, raw, content, started)
    session.cookies.extract_cookies(MockResponse(response.raw_msg), MockRequest(request))
    return response


#: Which of a jar's cookies (by place) a request is sent, as the standard library's cookie
#: policy chose them, by everything its choice depends on: the jar's shape (each cookie's
#: place, the domain and path it is filed under, its name, and the attributes the policy
#: reads: version, secure, port, domain, domain_specified, expired now or not), the
#: request's scheme, host, path and Host header, whether it brings a Cookie header of its
#: own, and the policy's settings. Not the values: they only go into the header.
_PICKS: dict[tuple, tuple[int, ...]] = {}
_POLICY_FIELDS = (
    "netscape",
    "rfc2965",
    "rfc2109_as_netscape",
    "hide_cookie2",
    "strict_domain",
    "strict_rfc2965_unverifiable",
    "strict_ns_unverifiable",
    "strict_ns_domain",
    "strict_ns_set_initial_dollar",
    "strict_ns_set_path",
    "secure_protocols",
    "_blocked_domains",
    "_allowed_domains",
)


def _cookie_header(jar: Any, request: requests.PreparedRequest) -> str | None:
    """`requests.cookies.get_cookie_header(jar, request)`: the Cookie header the standard
    library's jar makes for `request`, with its choice of cookies remembered. A browser's
    jar has the same shape from flow to flow (one session cookie per app, new values), so
    the choice (domain, path, expiry, port and secure checks for each cookie, ~30-60 us a
    request) is made once per shape and request target; the header is then built by the
    jar from the cookies' current values, and expired cookies are cleared as it does."""
    policy = jar._policy
    if type(jar) is not RequestsCookieJar or type(policy) is not DefaultCookiePolicy:
        return get_cookie_header(jar, request)
    if policy.rfc2965:  # it may add a Cookie2 header too: the jar's own way
        return get_cookie_header(jar, request)
    with jar._cookies_lock:
        now = int(time.time())
        cookies, shape = [], []
        for domain, by_path in jar._cookies.items():
            for path, by_name in by_path.items():
                for name, c in by_name.items():
                    cookies.append(c)
                    shape.append(
                        (domain, path, name, c.version, c.secure, c.port, c.domain)
                        + (c.domain_specified, c.is_expired(now))
                    )
        url = urlsplit(request.url)
        own = "Cookie" in request.headers
        policy_state = tuple(getattr(policy, name) for name in _POLICY_FIELDS)
        key = (tuple(shape), url.scheme, url.netloc, url.path, request.headers.get("Host"))
        key += (own, policy_state)
        picks = _PICKS.get(key)
        policy._now = jar._now = now  # as add_cookie_header sets them
        if picks is None:
            chosen = jar._cookies_for_request(MockRequest(request))
            places = {id(c): i for i, c in enumerate(cookies)}
            picks = tuple(places[id(c)] for c in chosen)
            if len(_PICKS) >= 1024:
                _PICKS.clear()
            _PICKS[key] = picks
        attrs = jar._cookie_attrs([cookies[i] for i in picks])
    jar.clear_expired_cookies()
    return "; ".join(attrs) if attrs and not own else None


#: Headers (name, value) that passed requests' validity check: a browser sends the same
#: few again and again (its party, flow, user agent, accept headers).
_VALID_HEADERS: set[tuple[str, str]] = set()

#: A URL that requests' `requote_uri` returns as it is: only characters it never quotes,
#: and every % the start of an escape of a character it would not unquote.
_REQUOTE_KEPT = re.compile(r"(?:[A-Za-z0-9_.~!#$&'()*+,/:;=?@\[\]-]|%[0-9A-Fa-f]{2})*")
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _requoted(url: str) -> str:
    """`requests.utils.requote_uri(url)`, without its work for a URL it keeps as it is."""
    if _REQUOTE_KEPT.fullmatch(url) and not any(
        chr(int(code, 16)) in _UNRESERVED for code in _ESCAPE.findall(url)
    ):
        return url
    return requote_uri(url)


#: A plain http URL that urllib3's `parse_url` keeps as it is: a lower-case host name or
#: IPv4 address, a port or none, a path and a query of characters it keeps, with any escape
#: already upper-case (it upper-cases them), no user info and no fragment.
_KEEPS = r"[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-F]{2}"
_PLAIN_HTTP = re.compile(
    rf"http://([a-z0-9.-]+)(?::([0-9]{{1,5}}))?((?:/(?:{_KEEPS})*)?)(?:\?((?:{_KEEPS}|\?)*))?"
)


def _target_and_server(url: str) -> tuple[str, tuple[str, int]]:
    """The request target and (host, port) urllib3's PoolManager would use for `url`:
    `parse_url(url).request_uri` and its host and port (80 if none). A URL it would change
    (dot segments, characters to escape, upper-case host, IPv6, user info) is parsed by it."""
    plain = _PLAIN_HTTP.fullmatch(url)
    if plain is not None:
        host, port, path, query = plain.groups()
        number = int(port) if port else 0
        if number <= 65535 and not ("/." in path and {".", ".."} & set(path.split("/"))):
            target = (path or "/") + ("" if query is None else "?" + query)
            return target, (host, number or 80)
    parsed = parse_url(url)
    return parsed.request_uri, (parsed.host or "", parsed.port or 80)


def _urllib3_exchange(request: requests.PreparedRequest, body: Any) -> urllib3.BaseHTTPResponse:
    """https: urllib3, read whole (the connection goes back to its pool)."""
    try:
        raw = _WIRE.urlopen(
            request.method,
            request.url,
            body=body,
            headers=dict(request.headers),
            redirect=False,
            timeout=urllib3.Timeout(connect=TIMEOUT, read=TIMEOUT),
        )
    except urllib3.exceptions.MaxRetryError as error:
        reason = error.reason
        if isinstance(reason, urllib3.exceptions.ConnectTimeoutError):
            raise requests.ConnectTimeout(reason, request=request) from None
        if isinstance(reason, urllib3.exceptions.ReadTimeoutError):
            raise requests.ReadTimeout(reason, request=request) from None
        raise requests.ConnectionError(reason, request=request) from None
    except urllib3.exceptions.ReadTimeoutError as error:
        raise requests.ReadTimeout(error, request=request) from None
    except urllib3.exceptions.HTTPError as error:
        raise requests.ConnectionError(error, request=request) from None
    raw.data  # noqa: B018  (read whole, so the connection goes back to the pool)
    return raw


class UserAgent:
    """A browser for one flow. `hops` lists every response it received, in order."""

    def __init__(self, flow: str, party: str = USER_AGENT) -> None:
        self.session = _HopByHopSession()
        self.session.mount("http://", _POOL)
        self.session.trust_env = False  # no proxy lookups: loopback only, and ~1 ms faster
        self.session.headers[PARTY_HEADER] = party
        self.session.headers[FLOW_HEADER] = flow
        self.session.headers["User-Agent"] = f"oauth-sim {party}"
        self.hops: list[requests.Response] = []

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, url: str, **kwargs) -> requests.Response:
        """One request, with an exchange id of its own: a scenario finds this request's step
        in the trace by it (for example the step that proves an attack worked)."""
        headers = {**kwargs.pop("headers", {}), EXCHANGE_HEADER: secrets.token_hex(16)}
        if set(kwargs) <= {"data"}:
            response = _send(self.session, method, url, headers, kwargs.get("data"))
        else:  # anything else a browser script might pass: requests' own preparation
            response = self.session.request(
                method, url, allow_redirects=False, timeout=TIMEOUT, headers=headers, **kwargs
            )
        self.hops.append(response)
        return response

    def get(self, url: str) -> requests.Response:
        return self.request("GET", url)

    def follow(self, response: requests.Response, stop_at: str | None = None) -> requests.Response:
        """Follow redirects hop by hop; stop before a URL starting with `stop_at`."""
        for _ in range(MAX_HOPS):
            if not response.is_redirect:
                return response
            target = urljoin(response.url, response.headers["Location"])
            if stop_at and target.startswith(stop_at):
                return response
            response = self.get(target)
        raise BrowserError(f"more than {MAX_HOPS} redirects")

    def open(self, url: str, stop_at: str | None = None) -> requests.Response:
        return self.follow(self.get(url), stop_at)

    def submit(
        self,
        response: requests.Response,
        values: dict[str, str] | None = None,
        button: str | None = None,
        checked: set[str] | None = None,
        follow: bool = True,
        stop_at: str | None = None,
    ) -> requests.Response:
        """Fill the page's first form with `values`, click `button` (its value), and tick
        only the checkboxes in `checked` (all pre-ticked ones if None)."""
        form = next(closed_forms(response.text), None)
        if form is None:
            raise BrowserError(f"no form on {response.url}")
        data = [(k, v) for k, v in form.fields if not values or k not in values]
        data += list((values or {}).items())
        for name, value, is_checked in form.checkboxes:
            if (checked is None and is_checked) or (checked is not None and value in checked):
                data.append((name, value))
        if button is not None:
            data += [(n, v) for n, v in form.buttons if v == button]
        target = urljoin(response.url, form.action or response.url)
        result = self.request(form.method, target, data=data)
        return self.follow(result, stop_at) if follow else result

    def location(self, response: requests.Response) -> str | None:
        location = response.headers.get("Location")
        return urljoin(response.url, location) if location else None
