"""A plain-language note and the defining RFC section for each step of a trace.

Rules are checked top to bottom; the first that matches explains the event. They look only
at what crossed the wire (who, which endpoint, which parameters, which status), so the same
rules explain a scripted run and a real browser's session.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from sim import reasons
from sim.parties import ATTACKER, AUTHORIZATION_SERVER, CLIENT, CLIENTS, RESOURCE_SERVER, USER_AGENT
from sim.reasons import REASON_HEADER
from sim.teaching.beyond_notes import BEYOND_RULES
from sim.teaching.rule_tests import at, because, both, grant, sender, status, to
from sim.tracing import Event
from sim.tracing.params import header


class Step:
    """An event as the rules read it: its parameters come from the event's one parsed view
    (`Event.params`), never parsed again here."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self.params = event.params

    @property
    def path(self) -> str:
        return self.params.url.path

    def param(self, name: str) -> str:
        """A parameter from the query, the body or the Location, in that order."""
        return self.params.get(name)

    def location_param(self, name: str) -> str:
        return self.params.returned(name)

    @property
    def reason(self) -> str:
        """Which check of ours refused this step (`sim.reasons`), from its response."""
        return header(self.event.response_headers, REASON_HEADER)

    @property
    def status(self) -> int:
        return self.event.status


Rule = tuple[Callable[[Step], bool], str, str | None]


AS, C, RS = AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER
TOKEN = at(AS, "POST", "/token")


#: Who a token acts for when no user is involved (client credentials): a client itself.
CLIENT_IDS = frozenset(c.client_id for c in CLIENTS)


def _acts_for_a_client(s: Step) -> bool:
    """The API answered for a client's own token: its owner is a client, not a user."""
    return s.params.answered("owner") in CLIENT_IDS


def _narrowed_consent(s: Step) -> bool:
    """An approval with fewer scopes ticked than the client asked for."""
    form = s.params.form
    granted = {value for name, value in form if name == "grant_scope"}
    if ("decision", "approve") not in form or not granted:
        return False
    return bool(set(s.param("scope").split()) - granted)


#: The other flows (public SPA client, implicit, client credentials, consent choices).
#: Specific enough to go first: each names a page, a sender or a parameter of its own.
FLOW_RULES: list[Rule] = [
    (
        lambda s: s.event.method == "OPTIONS",
        "CORS preflight: before letting a page's script send this call, the browser asks "
        "the server whether scripts from the page's origin may, and may read the answer.",
        "Fetch Standard",
    ),
    (
        at(C, "GET", "/spa"),
        "The single-page app loads. Its code is public, so it cannot keep a secret: it is a "
        "public client and proves itself with PKCE instead. Its script makes a random "
        "code_verifier (Web Crypto), keeps it in sessionStorage only while the browser is away "
        "at the authorization server, and sends only "
        "code_challenge = BASE64URL(SHA256(code_verifier)) to the authorization server.",
        "RFC 6749 §2.1, RFC 7636 §4.1-4.3",
    ),
    (
        at(C, "GET", "/spa/callback"),
        "The code arrives at the SPA's own page. The server only serves static HTML: the "
        "script checks state and iss, removes the code from the address bar, and redeems it "
        "itself. The code alone is useless without the verifier, which never left this browser.",
        "RFC 6749 §4.1.2, RFC 9207 §2.4, RFC 7636 §1",
    ),
    (
        at(C, "GET", "/implicit/callback"),
        "The browser loads the callback page, but not the fragment (#access_token=…): "
        "browsers never send it, so the server never sees the token. Scripts on the page read "
        "it from location.hash (every script, injected ones too), and the full URL stays in "
        "browser history.",
        "RFC 6749 §4.2, §4.2.2, RFC 9700 §2.1.2, §4.3.2",
    ),
    (
        both(
            at(AS, "GET", "/authorize"),
            lambda s: s.param("response_type") == "token",
            lambda s: bool(s.location_param("error")),
        ),
        "The implicit request is refused by redirect: the error goes back in the fragment, "
        "with state, as the implicit grant's errors do.",
        "RFC 6749 §4.2.2.1",
    ),
    (
        both(at(AS, "GET", "/authorize"), lambda s: s.param("response_type") == "token"),
        "The consent page of an implicit request: the user decides, as in any grant.",
        "RFC 6749 §4.2.1",
    ),
    (
        both(at(C, "GET", "/callback"), lambda s: s.param("error") == "access_denied"),
        "The client gets error=access_denied instead of a code: there is nothing to redeem and "
        "no token. It checks state like any response, then shows a friendly page.",
        "RFC 6749 §4.1.2.1",
    ),
    (
        both(
            at(AS, "GET", "/authorize"),
            lambda s: s.param("response_type") == "token",
            status(300, 399),
            lambda s: not s.location_param("error"),
        ),
        "An implicit request (response_type=token): no code, no PKCE, no client "
        "authentication; the server will hand the token itself to the browser. It is allowed "
        "only for the one client registered for it (this server's policy).",
        "RFC 6749 §4.2, §4.2.1, RFC 9700 §2.1.2",
    ),
    (
        both(at(AS, "POST", "/authorize"), _narrowed_consent),
        "The user approves but unticks a scope: the code, and every token from it, carry only "
        "what was granted, and the token response says which scope it has.",
        "RFC 6749 §3.3, §5.1",
    ),
    (
        both(TOKEN, grant("authorization_code"), sender(USER_AGENT), status(200)),
        "The SPA's script redeems the code from the browser (fetch, with CORS): client_id "
        "and code_verifier, no secret (a public client has none). PKCE is not client "
        "authentication, since anyone can send client_id=demo-spa: it proves that whoever "
        "redeems the code is who asked for it. The server checks SHA256(verifier) against the "
        "challenge and answers with Cache-Control: no-store.",
        "RFC 7636 §4.5-4.6, RFC 6749 §2.1, §4.1.3",
    ),
    (
        both(lambda s: s.event.to == RS, sender(USER_AGENT), status(200)),
        "The page's script calls the API itself (fetch, with CORS), the token in the "
        "Authorization header. A token in a page is within reach of every script on it: "
        "keeping it in memory rather than localStorage makes it harder to find, not safe. An "
        "injected script can steal it once, keep stealing new ones, get fresh tokens itself, "
        "or simply use the page to call the API.",
        "RFC 6750 §2.1, RFC 10017 §5.1",
    ),
    (
        both(lambda s: s.event.to == RS, _acts_for_a_client),
        "The service calls the API with its own token. It acts for no user, so the API "
        "answers for the client itself: no user's photos.",
        "RFC 6749 §4.4, RFC 6750 §2.1",
    ),
]


REGISTERED_PATHS = frozenset(c.redirect_path for c in CLIENTS if c.redirect_path)


def _unregistered(uri: str) -> bool:
    """A redirect URI no registered client uses: another path, or a userinfo (`@`) trick."""
    parts = urlsplit(uri)
    return "@" in parts.netloc or parts.path not in REGISTERED_PATHS


def _tampered_redirect(s: Step) -> bool:
    uri = s.param("redirect_uri")
    return bool(uri) and _unregistered(uri)


def _code_sent_elsewhere(s: Step) -> bool:
    location = s.event.location or ""
    return bool(s.location_param("code")) and _unregistered(location)


def _same_refresh_token(s: Step) -> bool:
    """The refresh answer carries the very refresh token that was sent: no rotation."""
    sent = s.param("refresh_token")
    return bool(sent) and s.params.answered("refresh_token") == sent


A = ATTACKER
#: The attack scenarios: steps sent or answered by the attacker, and the steps where a
#: defence refuses something. Each names the party and the endpoint, so they go first.
ATTACK_RULES: list[Rule] = [
    (
        both(to(A), lambda s: s.path == "/go"),
        "The victim opens a page of the attacker's (a link in an email, an ad, a hidden "
        "frame); it sends the browser on, with a redirect, to an address the attacker chose.",
        "RFC 9700 §3",
    ),
    (
        both(to(A), sender(C), lambda s: s.path == "/log"),
        "A misconfigured log shipper sends the client's debug log of its token request to a "
        "collector the attacker can read: the code, the PKCE verifier and the client's own "
        "credentials (HTTP Basic) leak in one line.",
        "RFC 6749 §10.5",
    ),
    (
        both(sender(A), at(C, "GET", "/callback")),
        "The attacker injects the stolen code into their own session at the client, with the "
        "state of their own login: the client redeems it with the verifier of that login.",
        "RFC 9700 §4.5.1",
    ),
    (
        both(sender(A), at(C, "GET", "/"), status(200)),
        "The client's page, in the attacker's browser: the attacker's session at the client "
        "now shows the victim's data.",
        "RFC 9700 §4.5",
    ),
    (
        both(to(A), lambda s: s.path == "/authorize"),
        "Mix-up: the client sent the user to the attacker's authorization server, which "
        "forwards the browser to the honest server's /authorize with the client's client_id "
        "there, its redirect_uri and state, but the code_challenge of the attacker's own "
        "login at the client. The user sees the honest login page.",
        "RFC 9700 §4.4.1",
    ),
    (
        both(to(A), sender(C), lambda s: s.path == "/token"),
        "The client redeems the code where it believes this login went: the attacker's token "
        "endpoint. The honest server's code leaks to the attacker (and so does the victim's "
        "verifier, useless to the attacker: the code is bound to the attacker's challenge).",
        "RFC 9700 §4.4.1",
    ),
    (
        both(to(A), lambda s: bool(s.param("refresh_token") or s.param("access_token"))),
        "A script injected into the app's page (XSS) sends the app's token to the attacker's "
        "drop box: tokens held by a page are within reach of every script on it.",
        "RFC 9700 §4.14, RFC 10017 §5.1",
    ),
    (
        both(to(A), lambda s: bool(s.param("code"))),
        "The authorization response reaches the attacker's server: the attacker now holds "
        "the code.",
        "RFC 9700 §3",
    ),
    (
        both(to(A), lambda s: bool(s.param("error"))),
        "Only an error reaches the attacker: the server issued no code.",
        "RFC 6749 §4.1.2.1",
    ),
    (
        both(sender(A), at(C, "GET", "/login")),
        "The attacker starts a login at the client in their own browser: the client makes a "
        "state (and PKCE verifier) bound to the attacker's session.",
        "RFC 6749 §4.1.1",
    ),
    (
        both(sender(A), at(AS, "GET", "/authorize"), status(400)),
        "The attacker probes the authorization server with a crafted redirect_uri: it is not "
        "exactly a registered one, so the answer is an error page, never a redirect.",
        "RFC 9700 §4.1.3, RFC 6749 §4.1.2.1",
    ),
    (
        both(at(AS, "GET", "/authorize"), status(300, 399), _tampered_redirect),
        "The server accepts a redirect_uri that is not a registered one (prefix matching): a "
        "code for this request will go wherever that URI points.",
        "RFC 9700 §4.1.1, §4.1.3",
    ),
    (
        both(sender(A), at(AS, "GET", "/authorize"), status(300, 399)),
        "The attacker's own browser brings the client's authorization request to the "
        "authorization server, which asks it to log in first.",
        "RFC 6749 §4.1.1",
    ),
    (
        both(sender(A), at(AS, "GET", "/login")),
        "The login page, in the attacker's browser.",
        "RFC 6749 §3.1",
    ),
    (
        both(sender(A), at(AS, "POST", "/login")),
        "The attacker logs in with their own account (bob), like any user.",
        "RFC 6749 §3.1",
    ),
    (
        both(sender(A), at(AS, "GET", "/authorize")),
        "The consent page, in the attacker's browser: the attacker approves their own login.",
        "RFC 6749 §4.1.1",
    ),
    (
        both(sender(A), at(AS, "POST", "/authorize")),
        "The code for the attacker's account comes back to the attacker's own browser, which "
        "stops here instead of delivering it: the attacker keeps the callback URL for later.",
        "RFC 6749 §10.12",
    ),
    (
        both(sender(A), TOKEN, grant("authorization_code"), status(200)),
        "The attacker redeems the stolen code and gets tokens for the victim's account.",
        "RFC 6749 §4.1.3, §10.5",
    ),
    (
        both(sender(A), TOKEN, grant("authorization_code"), because(reasons.CODE_REUSED)),
        "Replay refused: this code was already redeemed. The server answers invalid_grant and "
        "revokes the tokens it issued from the code, cutting off whoever holds them.",
        "RFC 6749 §4.1.2, §10.5",
    ),
    (
        both(sender(A), TOKEN, grant("authorization_code")),
        "The token endpoint refuses the attacker's code (invalid_grant): the code is bound to "
        "a PKCE code_challenge, and the attacker has no code_verifier for it.",
        "RFC 7636 §4.6, RFC 9700 §4.5.3.1",
    ),
    (
        both(sender(C), TOKEN, grant("authorization_code"), because(reasons.PKCE_DOWNGRADE)),
        "PKCE downgrade refused: the client sent a code_verifier, but the authorization "
        "request this code was issued for carried no code_challenge, so someone removed it. "
        "The server refuses (invalid_grant).",
        "RFC 9700 §4.8.2",
    ),
    (
        both(sender(C), TOKEN, grant("authorization_code"), status(400, 499)),
        "The client redeems the code with the PKCE verifier bound to this browser's session. "
        "It does not match the code_challenge the code was issued for (the code comes from "
        "someone else's login), so the server refuses it: invalid_grant. PKCE stops an "
        "injected code even where the state check is missing.",
        "RFC 9700 §4.7.1, §4.5.3.1",
    ),
    (
        both(sender(A), TOKEN, grant("refresh_token"), status(200)),
        "The attacker uses the stolen refresh token and gets a fresh access token; without "
        "rotation the same refresh token works again, as long as it is not revoked.",
        "RFC 6749 §6, RFC 9700 §4.14.2",
    ),
    (
        both(sender(A), TOKEN, grant("refresh_token")),
        "Reuse detected: this refresh token was already rotated away, so the server revokes "
        "the whole token family, the real app's tokens included (it cannot tell which holder "
        "is the thief).",
        "RFC 9700 §4.14.2",
    ),
    (
        both(sender(A), to(RS), status(200, 201)),
        "The attacker calls the API with a token issued for the victim. The resource server "
        "cannot tell who holds a bearer token: it serves the victim's data.",
        "RFC 6750 §1.2",
    ),
    (
        both(at(C, "GET", "/login"), lambda s: bool(s.param("as"))),
        "The user picks another authorization server at the client (here, one the attacker "
        "runs). The client remembers, with the state, which server this login went to.",
        "RFC 9700 §4.4",
    ),
    (
        both(at(C, "GET", "/callback"), status(400), because(reasons.ISS_MISMATCH)),
        "Mix-up refused: the response's iss names the honest server, but this login (its "
        "state) went to another. The client does not redeem the code anywhere.",
        "RFC 9207 §2.4, RFC 9700 §4.4.2",
    ),
    (
        both(at(C, "GET", "/callback"), status(400), because(reasons.STATE_MISMATCH)),
        "Login CSRF refused: this state was never issued to this browser's session, so the "
        "code (someone else's) is not redeemed.",
        "RFC 6749 §10.12, RFC 9700 §4.7",
    ),
    (
        both(
            at(AS, "GET", "/authorize"),
            lambda s: s.location_param("error") == "invalid_request",
            lambda s: (
                "challenge" in s.location_param("error_description").lower()
                or "pkce" in s.location_param("error_description").lower()
            ),
        ),
        "PKCE is enforced at the authorization endpoint: a code_challenge is required and only "
        "S256 is accepted. The redirect_uri is valid, so the error goes back by redirect; no "
        "code is issued.",
        "RFC 9700 §2.1.1, §4.8.2",
    ),
]

RULES: list[Rule] = [
    *BEYOND_RULES,
    *ATTACK_RULES,
    *FLOW_RULES,
    (
        at(C, "GET", "/login"),
        "The client starts the flow: it makes a random state (bound to this browser's session) "
        "and a secret PKCE code_verifier, and sends the browser to the authorization server "
        "with code_challenge = BASE64URL(SHA256(code_verifier)).",
        "RFC 6749 §4.1.1, RFC 7636 §4.2, §4.3",
    ),
    (
        both(at(AS, "GET", "/authorize"), status(400)),
        "Refused with an error page, not a redirect: the client_id or redirect_uri cannot be "
        "trusted, and redirecting could hand the response to an attacker.",
        "RFC 6749 §4.1.2.1",
    ),
    (
        both(at(AS, "GET", "/authorize"), lambda s: bool(s.location_param("error"))),
        "The request is invalid but the redirect_uri is verified, so the error goes back to "
        "the client by redirect, with state and iss.",
        "RFC 6749 §4.1.2.1, RFC 9207 §2",
    ),
    (
        both(at(AS, "GET", "/authorize"), status(300, 399)),
        "The authorization server checks client_id and the exact redirect_uri, and notes the "
        "code_challenge; the user is not logged in here yet, so it sends them to log in.",
        "RFC 6749 §4.1.1, RFC 9700 §4.1.3",
    ),
    (
        at(AS, "GET", "/authorize"),
        "The consent page: the user sees which app asks for which scopes, and decides.",
        "RFC 6749 §4.1.1, §3.3",
    ),
    (
        at(AS, "GET", "/login"),
        "The login page of the authorization server: only this server ever sees the password.",
        "RFC 6749 §1.3.1, §3.1",
    ),
    (
        both(at(AS, "POST", "/login"), status(300, 399)),
        "The user logs in at the authorization server, which sets its own session cookie and "
        "sends the browser back to the authorization request.",
        "RFC 6749 §3.1",
    ),
    (at(AS, "POST", "/login"), "Wrong username or password: try again.", None),
    (
        both(at(AS, "POST", "/authorize"), lambda s: s.location_param("error") == "access_denied"),
        "The user said no: the browser goes back to the client with error=access_denied.",
        "RFC 6749 §4.1.2.1",
    ),
    (
        both(at(AS, "POST", "/authorize"), lambda s: bool(s.location_param("access_token"))),
        "Implicit flow: the access token itself comes back in the URL fragment, where browser "
        "history and any script on the page can read it. Deprecated for that reason.",
        "RFC 6749 §4.2.2, RFC 9700 §2.1.2",
    ),
    (
        both(at(AS, "POST", "/authorize"), _code_sent_elsewhere),
        "The user approves, and the server redirects the browser, with the code, to an address "
        "that is not a registered redirect URI: the loose check let it through, so the code "
        "goes to whoever owns that address.",
        "RFC 9700 §4.1.1, §4.1.3",
    ),
    (
        at(AS, "POST", "/authorize"),
        "The user approves. The authorization server redirects the browser to the registered "
        "redirect_uri with a short-lived one-time code, the client's state unchanged, and iss "
        "naming itself.",
        "RFC 6749 §4.1.2, RFC 9207 §2",
    ),
    (
        both(at(C, "GET", "/callback"), status(400)),
        "The client does not complete this login: it refused the response, or the code "
        "exchange failed (its page says which).",
        "RFC 6749 §10.12, RFC 9207 §2.4",
    ),
    (
        at(C, "GET", "/callback"),
        "The client checks that state matches this browser's session (CSRF) and that iss is "
        "the server it asked, redeems the code on the back channel, then redirects to a clean "
        "URL so the code does not linger in history.",
        "RFC 6749 §4.1.2, §10.12, RFC 9207 §2.4",
    ),
    (
        both(TOKEN, grant("authorization_code"), status(200)),
        "Code exchange on the back channel: the client authenticates and sends the "
        "code_verifier; the server checks SHA256(verifier) against the stored challenge and "
        "answers with tokens (never through the browser, Cache-Control: no-store).",
        "RFC 6749 §4.1.3-4.1.4, RFC 7636 §4.5-4.6",
    ),
    (
        both(TOKEN, status(401)),
        "Client authentication failed: invalid_client, with a WWW-Authenticate challenge.",
        "RFC 6749 §5.2",
    ),
    (
        both(TOKEN, grant("authorization_code")),
        "The token endpoint refuses the code (invalid_grant): wrong or missing verifier, "
        "redirect_uri mismatch, an expired code, or a code that was already used.",
        "RFC 6749 §5.2, §4.1.2, RFC 7636 §4.6",
    ),
    (
        both(TOKEN, grant("refresh_token"), status(200), _same_refresh_token),
        "Refresh without rotation: a new access token, but the same refresh token comes back, "
        "so any copy of it (a stolen one too) keeps working.",
        "RFC 6749 §6, RFC 9700 §4.14.2",
    ),
    (
        both(TOKEN, grant("refresh_token"), status(200)),
        "Refresh: a new access token, and a new refresh token (rotation); the old refresh "
        "token is spent and its reuse would revoke the whole family.",
        "RFC 6749 §6, RFC 9700 §4.14.2",
    ),
    (
        both(TOKEN, grant("refresh_token")),
        "The refresh token is refused (invalid_grant): revoked, or reused after rotation, "
        "which revokes every token of its family.",
        "RFC 6749 §5.2, RFC 9700 §4.14.2",
    ),
    (
        both(TOKEN, grant("client_credentials")),
        "Client credentials: a machine client gets a token for itself; no user, no browser, "
        "no refresh token.",
        "RFC 6749 §4.4",
    ),
    (TOKEN, "A token request.", "RFC 6749 §3.2"),
    (
        at(AS, "POST", "/introspect"),
        "The resource server asks the authorization server whether this token is active, "
        "what it allows and whom it is for (aud). Asking on every request makes an expiry or "
        "a revocation take effect at once, at the price of one call per API request; checking "
        "the JWT locally would save the call but accept a revoked token until it expires.",
        "RFC 7662 §2, §4, RFC 9068 §4",
    ),
    (
        at(C, "POST", "/logout-everywhere"),
        "Log out everywhere: the client revokes its tokens, then sends the browser to the "
        "authorization server's end_session_endpoint with its client_id, where to come back "
        "to (post_logout_redirect_uri) and a state.",
        "OIDC RP-Initiated Logout 1.0 §2, RFC 7009 §2.1",
    ),
    (
        at(AS, "GET", "/end-session"),
        "The authorization server asks whether to end the user's login there too: a bare GET "
        "could come from any page, so nothing ends until the user confirms.",
        "OIDC RP-Initiated Logout 1.0 §2",
    ),
    (
        both(at(AS, "POST", "/end-session"), status(300, 399)),
        "The user confirms: the authorization server ends its login session and sends the "
        "browser back to the client's registered post_logout_redirect_uri with the state. The "
        "next login anywhere asks for the password again.",
        "OIDC RP-Initiated Logout 1.0 §2, §3",
    ),
    (
        at(AS, "POST", "/revoke"),
        "Logout: the client revokes its refresh token, and this server revokes the whole grant "
        "with it (RFC 7009 lets revoking a token revoke the grant it came from). "
        "The user's session at the authorization server itself goes on: logging out of an "
        "app is not logging out everywhere.",
        "RFC 7009 §2.1",
    ),
    (
        both(lambda s: s.event.to == RS, status(200, 201)),
        "API call with the access token in the Authorization header; the resource server "
        "serves only this user's data within the granted scope.",
        "RFC 6750 §2.1",
    ),
    (
        both(lambda s: s.event.to == RS, status(403)),
        "insufficient_scope: the token is valid but was not granted this scope.",
        "RFC 6750 §3.1",
    ),
    (
        both(lambda s: s.event.to == RS, status(401)),
        "The resource server refuses the token (missing, expired or revoked) with a "
        "WWW-Authenticate: Bearer challenge.",
        "RFC 6750 §3, §3.1",
    ),
    (lambda s: s.event.to == RS, "An API call.", "RFC 6750 §2"),
    (
        at(C, "POST", "/refresh"),
        "The user asks the client to refresh its access token now.",
        "RFC 6749 §6",
    ),
    (
        at(C, "POST", "/logout"),
        "The user logs out of the client, which revokes the tokens at the server.",
        "RFC 7009 §2",
    ),
    (
        both(at(C, "GET", "/"), status(200)),
        "The client's page, built on its server with the user's data from the resource "
        "server: the browser never holds a token.",
        "RFC 6749 §1.3.1",
    ),
]


def annotate(event: Event) -> tuple[str, str | None]:
    step = Step(event)
    for test, note, rfc in RULES:
        if test(step):
            return note, rfc
    return "", None
