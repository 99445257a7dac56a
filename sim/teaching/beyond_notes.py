"""Step notes for the flows beyond the authorization code: OpenID Connect, DPoP, the device
authorization grant and the backend-for-frontend. Rules in the shape of `explain.RULES`
(test, note, citation), checked before the seed's rules because each names an endpoint, a
header or a parameter of its own.

The tests only read what crossed the wire, through the `Step` that explain builds (path,
parameters, status, headers), so a real browser's session is explained the same way.
"""

from __future__ import annotations

from sim import reasons
from sim.parties import AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER
from sim.teaching.rule_tests import Test, at, because, both, grant, sender, status

AS, C, RS = AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def header(name: str) -> Test:
    wanted = name.lower()
    return lambda s: any(k.lower() == wanted for k in s.event.request_headers)


def authorization_scheme(scheme: str) -> Test:
    def test(s) -> bool:
        for key, value in s.event.request_headers.items():
            if key.lower() == "authorization":
                return value.split(" ", 1)[0].lower() == scheme.lower()
        return False

    return test


def error(code: str) -> Test:
    """The answer's OAuth `error` value is `code` (RFC 6749 §5.2, RFC 6750 §3.1)."""
    return lambda s: s.params.answered("error") == code


def answered(member: str, value: str | None = None) -> Test:
    """The JSON answer has `member` (with `value`, if given)."""
    if value is None:
        return lambda s: bool(s.params.answered(member))
    return lambda s: s.params.answered(member) == value


def openid_requested(s) -> bool:
    return "openid" in s.param("scope").split()


TOKEN = at(AS, "POST", "/token")

OIDC_RULES: list[tuple[Test, str, str | None]] = [
    (
        both(at(C, "GET", "/login"), lambda s: s.param("openid") == "1"),
        "OpenID Connect sign-in starts like any code flow, plus scope openid and a nonce: a "
        "random value the client keeps in this browser's session. It will come back inside "
        "the ID token, tying that token to this very login.",
        "OIDC Core §3.1.2.1, §15.5.2",
    ),
    (
        both(at(AS, "GET", "/authorize"), openid_requested, status(300, 399)),
        "An authentication request: response_type=code with scope openid and a nonce. The "
        "server checks it like any authorization request, then asks the user to log in.",
        "OIDC Core §3.1.2.1, §3.1.2.2",
    ),
    (
        both(TOKEN, sender(C), status(200), answered("id_token")),
        "The code exchange answers with an ID token beside the access token. The ID token is "
        "for the client: signed by the server, aud = the client's id, sub = who logged in, "
        "auth_time, exp, and the nonce. The access token is for the API (aud = the resource "
        "server) and proves nothing to the client about a login.",
        "OIDC Core §3.1.3.3, §2",
    ),
    (
        at(AS, "GET", "/jwks.json"),
        "The client fetches the server's public keys (JWKS) and checks the ID token: the "
        "signature with the key named by kid, iss = the server, aud holds its client_id, exp "
        "not passed, nonce = the one in this browser's session. Only then does it believe who "
        "logged in.",
        "OIDC Core §3.1.3.7",
    ),
    (
        both(lambda s: s.path == "/userinfo", status(200)),
        "The client asks UserInfo for the user's name, sending the access token as a Bearer "
        "token; the answer's sub must equal the ID token's sub. With a code flow the profile "
        "claims come from here, not from the ID token.",
        "OIDC Core §5.3, §5.3.2, §5.4",
    ),
    (
        lambda s: s.path == "/userinfo",
        "UserInfo refuses: no valid access token granted openid (an RFC 6750 error).",
        "OIDC Core §5.3.3, RFC 6750 §3.1",
    ),
    (
        both(at(C, "GET", "/callback"), status(400), because(reasons.ID_TOKEN_INVALID)),
        "The client refuses the login: a check of the ID token failed (its page names which), "
        "so nobody is signed in with it.",
        "OIDC Core §3.1.3.7",
    ),
]


DPOP_RULES: list[tuple[Test, str, str | None]] = [
    (
        both(TOKEN, header("DPoP"), error("invalid_dpop_proof")),
        "The token endpoint refuses the DPoP proof (invalid_dpop_proof): wrong method or URL, "
        "too old, replayed, or not signed by the key it carries. No token is issued.",
        "RFC 9449 §4.3, §5",
    ),
    (
        both(TOKEN, header("DPoP"), grant("refresh_token"), status(200)),
        "Refresh with a DPoP proof: a public client's refresh token is bound to its key, so "
        "only a proof by that same key gets new tokens, again bound to it.",
        "RFC 9449 §5",
    ),
    (
        both(TOKEN, grant("refresh_token"), because(reasons.REFRESH_TOKEN_DPOP_BOUND)),
        "Refused: this refresh token is bound to a DPoP key and the request carries no proof "
        "by it. A copy of the refresh token alone is worthless.",
        "RFC 9449 §5",
    ),
    (
        both(TOKEN, header("DPoP"), status(200), answered("token_type", "DPoP")),
        "The token request carries a DPoP proof: a JWT signed by the app's own key, holding "
        "that public key, the method and URL of this request, a time and a unique id. The "
        "server checks it and binds the token to the key's thumbprint (cnf.jkt): "
        "token_type DPoP.",
        "RFC 9449 §4.2, §5, §6.1",
    ),
    (
        both(TOKEN, header("DPoP"), status(200)),
        "The token request carries a DPoP proof, but with the dpop defence off the server "
        "binds nothing: token_type Bearer, usable by whoever holds it.",
        "RFC 9449 §5",
    ),
    (
        both(lambda s: s.event.to == RS, authorization_scheme("DPoP"), status(200, 201)),
        "An API call the DPoP way: Authorization: DPoP <token> and a fresh proof for this "
        "method and URL with ath, the token's hash. The resource server checks the proof and "
        "that its key is the one the token is bound to (cnf.jkt, from introspection).",
        "RFC 9449 §7.1, §4.3, §6.2",
    ),
    (
        both(lambda s: s.event.to == RS, authorization_scheme("DPoP"), error("invalid_dpop_proof")),
        "The resource server refuses the proof itself (invalid_dpop_proof): missing, "
        "replayed, too old, or for another method, URL or token.",
        "RFC 9449 §4.3, §7.1",
    ),
    (
        both(lambda s: s.event.to == RS, authorization_scheme("DPoP"), status(401)),
        "Refused: the proof is signed by another key than the one the token is bound to "
        "(invalid_token, WWW-Authenticate: DPoP). Without the private key a stolen token "
        "cannot be used.",
        "RFC 9449 §7.1",
    ),
    (
        both(
            lambda s: s.event.to == RS,
            authorization_scheme("Bearer"),
            because(reasons.DPOP_TOKEN_AS_BEARER),
        ),
        "Refused: a DPoP-bound token sent as a plain Bearer token. Accepting it would let a "
        "thief simply drop the proof.",
        "RFC 9449 §7.2",
    ),
]


def poll_answer(code: str) -> Test:
    return both(TOKEN, grant(DEVICE_GRANT), error(code))


DEVICE_RULES: list[tuple[Test, str, str | None]] = [
    (
        both(at(AS, "POST", "/device_authorization"), status(200)),
        "The TV (a public client with no keyboard and no browser) asks for a device code. "
        "It gets a device_code to poll with, a short user_code and a verification_uri to show "
        "(or a QR code of verification_uri_complete), how long they live and how often it "
        "may poll (interval).",
        "RFC 8628 §3.1, §3.2",
    ),
    (
        at(AS, "POST", "/device_authorization"),
        "The device authorization request is refused (an unknown client, a client not "
        "registered for the device flow, or a scope it may not have).",
        "RFC 8628 §3.2, RFC 6749 §5.2",
    ),
    (
        both(at(AS, "GET", "/device"), status(300, 399)),
        "On her phone, alice opens the verification URI with the code already in it; the "
        "authorization server asks her to log in first. The TV never sees her password.",
        "RFC 8628 §3.3, §3.3.1",
    ),
    (
        # 200 with a user_code: the code was valid (a wrong one is a 400), so the consent page.
        both(at(AS, "GET", "/device"), status(200), lambda s: bool(s.param("user_code"))),
        "The consent page on the phone names the device and shows the user code again, so "
        "alice can check it is the one on her TV (a code sent by someone else would connect "
        "their device to her account).",
        "RFC 8628 §3.3.1, §5.4",
    ),
    (
        at(AS, "GET", "/device"),
        "The page where the user types the code shown by the device (a wrong, expired or "
        "spent code is refused; wrong guesses are limited).",
        "RFC 8628 §3.3, §5.1",
    ),
    (
        at(AS, "POST", "/device/decision"),
        "Alice decides on her phone. The decision is recorded once for this user code; the "
        "TV learns it on its next poll.",
        "RFC 8628 §3.3",
    ),
    (
        poll_answer("authorization_pending"),
        "The TV polls the token endpoint with its device_code: authorization_pending, the "
        "user has not decided yet. It waits interval seconds before each new poll.",
        "RFC 8628 §3.4, §3.5",
    ),
    (
        poll_answer("slow_down"),
        "slow_down: the TV polled sooner than the interval allows; it must now wait 5 seconds "
        "longer, for this and every later poll.",
        "RFC 8628 §3.5",
    ),
    (
        poll_answer("access_denied"),
        "access_denied: the user said no on their phone. The TV stops polling; no token.",
        "RFC 8628 §3.5",
    ),
    (
        poll_answer("expired_token"),
        "expired_token: the device code lived out its expires_in before anyone approved; the "
        "TV must start again with a new device authorization request.",
        "RFC 8628 §3.5",
    ),
    (
        both(TOKEN, grant(DEVICE_GRANT), status(200)),
        "Approved: the next poll gets the tokens, once (a device code is redeemed a single "
        "time). The TV can now call the API for alice.",
        "RFC 8628 §3.5, RFC 6749 §5.1",
    ),
    (
        both(TOKEN, grant(DEVICE_GRANT)),
        "The poll is refused (invalid_grant): an unknown device code, or one already redeemed.",
        "RFC 8628 §3.5, RFC 6749 §5.2",
    ),
]

#: The browser-based apps BCP, RFC 10017 (BCP 212): sections as numbered in its last draft
#: (draft-ietf-oauth-browser-based-apps-26), which the RFC keeps (see sim/teaching/citations.py).
BFF = "RFC 10017 §6.1"

BFF_RULES: list[tuple[Test, str, str | None]] = [
    (
        at(C, "GET", "/bff/login"),
        "Backend-for-frontend: the page sends the browser to its own backend to log in. The "
        "backend is a confidential client (it has a secret): it makes state and a PKCE "
        "verifier, keeps them in this browser's session, and redirects to /authorize.",
        "RFC 10017 §6.1.3.1, RFC 9700 §2.1.1",
    ),
    (
        both(at(C, "GET", "/bff/api/photos"), status(200)),
        "The page's script calls its own backend on its own origin, with the session cookie "
        "and the session's CSRF token in a header. The backend attaches the access token it "
        "keeps and calls the API itself: the answer carries the photos, never a token. An "
        "injected script (XSS) finds no token to steal, but while the page is open it can "
        "still make this same call through the backend (the BCP's proxying threat).",
        "RFC 10017 §6.1.4.2, §5.1.4",
    ),
    (
        both(at(C, "GET", "/bff/api/photos"), status(401)),
        "The backend refuses: this browser's session has no login, so there is no token "
        "to call the API with.",
        "RFC 10017 §6.1",
    ),
    (
        both(at(C, "GET", "/bff/api/photos"), status(403)),
        "The backend refuses: the call lacks the session's CSRF token in its header. A "
        "cross-site form or link carries the cookie but cannot set that header, so the "
        "backend's cost (a session to keep and CSRF protection) buys this check.",
        "RFC 10017 §6.1.3.3",
    ),
    (
        at(C, "GET", "/bff"),
        "The page of the backend-for-frontend: HTML and a script from the client's origin. "
        "The browser holds only this app's session cookie; the tokens stay on the server.",
        BFF,
    ),
]

#: Every rule of this module, most specific first; `explain.RULES` puts them first.
BEYOND_RULES: list[tuple[Test, str, str | None]] = [
    *OIDC_RULES,
    *DPOP_RULES,
    *DEVICE_RULES,
    *BFF_RULES,
]
