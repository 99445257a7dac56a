"""public-client-pkce: the single-page app `demo-spa`, a public client with no secret,
logs alice in with the authorization code grant and PKCE S256, all from the browser.

In `oauth-sim up` the page at /spa does this in a real browser with Web Crypto. Headless,
the scripted browser plays the same steps: it computes the verifier and challenge (with
Authlib, as the page does with Web Crypto), redeems the code at /token with no secret, and
calls the API with the token it holds in memory.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from sim.parties import AUTHORIZATION_SERVER, USER_AGENT, client_by_id
from sim.scenarios.base import Scenario, ScenarioError, log_in_and_consent

SPA = client_by_id("demo-spa")
FRONT_CHANNEL = ("redirect", "page", "form-post")


class PublicClientPKCE(Scenario):
    name = "public-client-pkce"
    description = "Single-page app (public client, no secret): code + PKCE S256 from the browser"
    rfc = "RFC 7636, RFC 9700 §2.1.1"

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        origin = sim.client_url
        redirect_uri = sim.client_url + SPA.redirect_path
        ua.get(sim.client_url + "/spa")  # the app's page and script
        # What the page's script does with Web Crypto: verifier, challenge, state.
        verifier = generate_token(48)
        # Authlib builds the URL (no secret: a public client has none).
        url, state = OAuth2Session(
            SPA.client_id, scope=SPA.scope, redirect_uri=redirect_uri, code_challenge_method="S256"
        ).create_authorization_url(
            sim.authorization_server_url + "/authorize", code_verifier=verifier
        )
        callback = log_in_and_consent(ua, ua.get(url))
        params = parse_qs(urlsplit(callback.url).query)
        if callback.status_code != 200 or "code" not in params:
            raise ScenarioError(f"expected the SPA callback with a code, got {callback.url}")
        if (
            params["state"][0] != state
            or params.get("iss", [""])[0] != sim.authorization_server_url
        ):
            raise ScenarioError("the callback's state or iss does not match")
        # The page's script redeems the code itself: a CORS request from the SPA's origin.
        answer = ua.request(
            "POST",
            sim.authorization_server_url + "/token",
            data={
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": redirect_uri,
                "client_id": SPA.client_id,
                "code_verifier": verifier,
            },
            headers={"Origin": origin},
        )
        if answer.status_code != 200:
            raise ScenarioError(f"the token endpoint refused the code: {answer.text}")
        tokens = answer.json()  # held in the page's memory only
        bearer = {"Authorization": "Bearer " + tokens["access_token"], "Origin": origin}
        profile = ua.request("GET", sim.resource_server_url + "/api/profile", headers=bearer)
        photos = ua.request("GET", sim.resource_server_url + "/api/photos", headers=bearer)
        trace = sim.trace(flow)
        challenge = create_s256_code_challenge(verifier)
        return {
            "client": SPA.client_id,
            "client_secret_exists": SPA.secret is not None,
            "client_secret_sent": _spa_secret_sent(trace),
            "pkce_method": "S256",
            "challenge_is_sha256_of_verifier": _independent_s256(verifier) == challenge,
            "verifier_only_in_token_request": _where(trace, "code_verifier") == ["POST /token"],
            "challenge_only_on_front_channel": _challenge_front_only(trace),
            "cors_allowed_for_spa_origin": answer.headers.get("Access-Control-Allow-Origin")
            == origin,
            "tokens_issued": sorted(k for k in ("access_token", "refresh_token") if k in tokens),
            "tokens_held_in": "the page's memory (a JavaScript variable), never localStorage",
            "api_status": {"profile": profile.status_code, "photos": photos.status_code},
            "logged_in_as": profile.json().get("username") if profile.ok else None,
        }


def _independent_s256(verifier: str) -> str:
    """RFC 7636 §4.2 by hand, to check Authlib's challenge against another derivation."""
    import base64  # noqa: PLC0415
    import hashlib  # noqa: PLC0415

    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _where(trace, name: str) -> list[str]:
    """The steps (method and path) whose request or response carried a value `name`."""
    return [
        f"{e.method} {urlsplit(e.url).path}" for e in trace if any(n == name for n, _ in e.values)
    ]


def _spa_secret_sent(trace) -> bool:
    """Did anything the SPA sent carry a client secret or client authentication? (The
    resource server's own introspection credential, demo-rs, belongs to another client.)"""
    for e in trace:
        if e.sender != USER_AGENT:
            continue
        if any(n == "client_secret" for n, _ in e.values):
            return True
        if e.to == AUTHORIZATION_SERVER and "Authorization" in e.request_headers:
            return True
    return False


def _challenge_front_only(trace) -> bool:
    carrying = [e for e in trace if any(n == "code_challenge" for n, _ in e.values)]
    return bool(carrying) and all(
        e.kind in FRONT_CHANNEL and e.sender == USER_AGENT for e in carrying
    )


SCENARIOS = [PublicClientPKCE()]
