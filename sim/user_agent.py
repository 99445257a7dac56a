"""The resource owner's browser, scripted: follows redirects one hop at a time, keeps
cookies like a browser (per host, shared across ports, hence each app's own cookie name),
finds forms in the HTML and submits them. It never talks back-channel: everything it does is
front-channel, exactly what a real browser would do on the user's behalf.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests
from requests.adapters import HTTPAdapter

from sim.parties import EXCHANGE_HEADER, FLOW_HEADER, PARTY_HEADER, USER_AGENT

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


_FORM_START = re.compile(r"<form[\s>]", re.IGNORECASE)


def parse_forms(html: str) -> list[Form]:
    # Only the part from the first <form> on can hold a form: the head and the styles
    # before it need no parsing (the page is parsed on every form the script submits).
    start = _FORM_START.search(html)
    if start is None:
        return []
    parser = _FormParser()
    parser.feed(html[start.start() :])
    return parser.forms


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
        headers = {**kwargs.pop("headers", {}), EXCHANGE_HEADER: uuid.uuid4().hex}
        response = self.session.request(
            method, url, allow_redirects=False, timeout=15, headers=headers, **kwargs
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
        forms = parse_forms(response.text)
        if not forms:
            raise BrowserError(f"no form on {response.url}")
        form = forms[0]
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
