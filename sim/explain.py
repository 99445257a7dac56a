"""A plain-language note and the defining RFC section for each step of a trace.

Rules are checked top to bottom; the first that matches explains the event. They look only
at what crossed the wire (who, which endpoint, which parameters, which status), so the same
rules explain a scripted run and a real browser's session.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from sim.parties import AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER
from sim.tracing import Event


@dataclass(frozen=True)
class Step:
    event: Event

    @property
    def path(self) -> str:
        return urlsplit(self.event.url).path

    def param(self, name: str) -> str:
        """A parameter from the query, the form body or the Location, in that order."""
        for source in (urlsplit(self.event.url).query, self.event.request_body):
            values = parse_qs(source).get(name)
            if values:
                return values[0]
        return self.location_param(name)

    def location_param(self, name: str) -> str:
        location = urlsplit(self.event.location or "")
        values = parse_qs(location.query).get(name) or parse_qs(location.fragment).get(name)
        return values[0] if values else ""

    def body_has(self, text: str) -> bool:
        return text in self.event.response_body

    @property
    def status(self) -> int:
        return self.event.status


Rule = tuple[Callable[[Step], bool], str, str | None]


def _at(party: str, method: str, path: str) -> Callable[[Step], bool]:
    return lambda s: s.event.to == party and s.event.method == method and s.path == path


def _all(*tests: Callable[[Step], bool]) -> Callable[[Step], bool]:
    return lambda s: all(t(s) for t in tests)


def _status(low: int, high: int | None = None) -> Callable[[Step], bool]:
    return lambda s: low <= s.status <= (high or low)


def _grant(kind: str) -> Callable[[Step], bool]:
    return lambda s: s.param("grant_type") == kind


AS, C, RS = AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER
TOKEN = _at(AS, "POST", "/token")

RULES: list[Rule] = [
    (
        _at(C, "GET", "/login"),
        "The client starts the flow: it makes a random state (bound to this browser's session) "
        "and a secret PKCE code_verifier, and sends the browser to the authorization server "
        "with code_challenge = BASE64URL(SHA256(code_verifier)).",
        "RFC 6749 §4.1.1, RFC 7636 §4.3",
    ),
    (
        _all(_at(AS, "GET", "/authorize"), _status(400)),
        "Refused with an error page, not a redirect: the client_id or redirect_uri cannot be "
        "trusted, and redirecting could hand the response to an attacker.",
        "RFC 6749 §4.1.2.1",
    ),
    (
        _all(_at(AS, "GET", "/authorize"), lambda s: bool(s.location_param("error"))),
        "The request is invalid but the redirect_uri is verified, so the error goes back to "
        "the client by redirect, with state and iss.",
        "RFC 6749 §4.1.2.1, RFC 9207 §2",
    ),
    (
        _all(_at(AS, "GET", "/authorize"), _status(300, 399)),
        "The authorization server checks client_id and the exact redirect_uri, and notes the "
        "code_challenge; the user is not logged in here yet, so it sends them to log in.",
        "RFC 6749 §4.1.1, RFC 9700 §4.1.3",
    ),
    (
        _at(AS, "GET", "/authorize"),
        "The consent page: the user sees which app asks for which scopes, and decides.",
        "RFC 6749 §4.1.1, §3.3",
    ),
    (
        _at(AS, "GET", "/login"),
        "The login page of the authorization server: only this server ever sees the password.",
        "RFC 6749 §1.1, §3.1",
    ),
    (
        _all(_at(AS, "POST", "/login"), _status(300, 399)),
        "The user logs in at the authorization server, which sets its own session cookie and "
        "sends the browser back to the authorization request.",
        "RFC 6749 §3.1",
    ),
    (_at(AS, "POST", "/login"), "Wrong username or password: try again.", None),
    (
        _all(_at(AS, "POST", "/authorize"), lambda s: s.location_param("error") == "access_denied"),
        "The user said no: the browser goes back to the client with error=access_denied.",
        "RFC 6749 §4.1.2.1",
    ),
    (
        _all(_at(AS, "POST", "/authorize"), lambda s: bool(s.location_param("access_token"))),
        "Implicit flow: the access token itself comes back in the URL fragment, where browser "
        "history and any script on the page can read it. Deprecated for that reason.",
        "RFC 6749 §4.2.2, RFC 9700 §2.1.2",
    ),
    (
        _at(AS, "POST", "/authorize"),
        "The user approves. The authorization server redirects the browser to the registered "
        "redirect_uri with a short-lived one-time code, the client's state unchanged, and iss "
        "naming itself.",
        "RFC 6749 §4.1.2, RFC 9207 §2",
    ),
    (
        _all(_at(C, "GET", "/callback"), _status(400)),
        "The client refuses this authorization response (see its page): nothing is redeemed.",
        "RFC 6749 §10.12, RFC 9207 §2.4",
    ),
    (
        _at(C, "GET", "/callback"),
        "The client checks that state matches this browser's session (CSRF) and that iss is "
        "the server it asked, redeems the code on the back channel, then redirects to a clean "
        "URL so the code does not linger in history.",
        "RFC 6749 §4.1.2, §10.12, RFC 9207 §2.4",
    ),
    (
        _all(TOKEN, _grant("authorization_code"), _status(200)),
        "Code exchange on the back channel: the client authenticates and sends the "
        "code_verifier; the server checks SHA256(verifier) against the stored challenge and "
        "answers with tokens (never through the browser, Cache-Control: no-store).",
        "RFC 6749 §4.1.3-4.1.4, RFC 7636 §4.5-4.6",
    ),
    (
        _all(TOKEN, _status(401)),
        "Client authentication failed: invalid_client, with a WWW-Authenticate challenge.",
        "RFC 6749 §5.2",
    ),
    (
        _all(TOKEN, _grant("authorization_code")),
        "The token endpoint refuses the code (invalid_grant): wrong or missing verifier, "
        "redirect_uri mismatch, an expired code, or a code that was already used.",
        "RFC 6749 §5.2, §4.1.2, RFC 7636 §4.6",
    ),
    (
        _all(TOKEN, _grant("refresh_token"), _status(200)),
        "Refresh: a new access token, and a new refresh token (rotation); the old refresh "
        "token is spent and its reuse would revoke the whole family.",
        "RFC 6749 §6, RFC 9700 §4.14.2",
    ),
    (
        _all(TOKEN, _grant("refresh_token")),
        "The refresh token is refused (invalid_grant): revoked, or reused after rotation, "
        "which revokes every token of its family.",
        "RFC 6749 §5.2, RFC 9700 §4.14.2",
    ),
    (
        _all(TOKEN, _grant("client_credentials")),
        "Client credentials: a machine client gets a token for itself; no user, no browser, "
        "no refresh token.",
        "RFC 6749 §4.4",
    ),
    (TOKEN, "A token request.", "RFC 6749 §3.2"),
    (
        _at(AS, "POST", "/introspect"),
        "The resource server asks the authorization server whether this token is active and "
        "what it allows; a revoked token is refused at once.",
        "RFC 7662 §2",
    ),
    (
        _at(AS, "POST", "/revoke"),
        "Logout: the client revokes its refresh token, and the server revokes the whole grant.",
        "RFC 7009 §2",
    ),
    (
        _all(lambda s: s.event.to == RS, _status(200, 201)),
        "API call with the access token in the Authorization header; the resource server "
        "serves only this user's data within the granted scope.",
        "RFC 6750 §2.1",
    ),
    (
        _all(lambda s: s.event.to == RS, _status(403)),
        "insufficient_scope: the token is valid but was not granted this scope.",
        "RFC 6750 §3.1",
    ),
    (
        _all(lambda s: s.event.to == RS, _status(401)),
        "The resource server refuses the token (missing, expired or revoked) with a "
        "WWW-Authenticate: Bearer challenge.",
        "RFC 6750 §3.1",
    ),
    (lambda s: s.event.to == RS, "An API call.", "RFC 6750 §2"),
    (
        _at(C, "POST", "/refresh"),
        "The user asks the client to refresh its access token now.",
        "RFC 6749 §6",
    ),
    (
        _at(C, "POST", "/logout"),
        "The user logs out of the client, which revokes the tokens at the server.",
        "RFC 7009 §2",
    ),
    (
        _all(_at(C, "GET", "/"), _status(200)),
        "The client's page, built on its server with the user's data from the resource "
        "server: the browser never holds a token.",
        "RFC 6749 §1.2",
    ),
]


def annotate(event: Event) -> tuple[str, str | None]:
    step = Step(event)
    for test, note, rfc in RULES:
        if test(step):
            return note, rfc
    return "", None
