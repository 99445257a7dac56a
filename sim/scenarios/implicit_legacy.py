"""implicit-legacy: the deprecated implicit flow (RFC 6749 §4.2), enabled only for its own
client `demo-implicit`, shown so a learner sees why RFC 9700 §2.1.2 says not to use it.

The access token comes back in the redirect's URL fragment: it lands in browser history,
every script on the page can read it, it is bound to no client authentication or PKCE, and
no refresh token comes with it. The fragment never reaches the client's server. At the end a
confidential client asks for response_type=token too, and is refused.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from authlib.common.security import generate_token

from sim.parties import CLIENT, client_by_id
from sim.scenarios.base import Scenario, ScenarioError, log_in_and_consent
from sim.scenarios.stage import Stage

LEGACY = client_by_id("demo-implicit")
WEB = client_by_id("demo-client")


def implicit_request(sim: Stage, client_id: str, redirect_path: str, scope: str, state: str) -> str:
    """An authorization request with response_type=token (Authlib's client has no helper
    for a flow it rightly treats as legacy, so the URL is built from RFC 6749 §4.2.1)."""
    query = urlencode(
        {
            "response_type": "token",
            "client_id": client_id,
            "redirect_uri": sim.client_url + redirect_path,
            "scope": scope,
            "state": state,
        }
    )
    return f"{sim.authorization_server_url}/authorize?{query}"


class ImplicitLegacy(Scenario):
    name = "implicit-legacy"
    description = "Deprecated implicit flow: the token arrives in the URL fragment (don't use)"
    rfc = "RFC 6749 §4.2, RFC 9700 §2.1.2"

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        state = generate_token(20)
        start = ua.get(
            implicit_request(sim, LEGACY.client_id, LEGACY.redirect_path, LEGACY.scope, state)
        )
        redirect = log_in_and_consent(ua, start, stop_at=sim.client_url)
        location = ua.location(redirect) or ""
        fragment = parse_qs(urlsplit(location).fragment)
        if "access_token" not in fragment:
            raise ScenarioError(f"no token in the implicit redirect: {location}")
        # The browser loads the callback page; the fragment stays behind in the browser.
        ua.get(location)
        # The page's script reads location.hash and calls the API with what it found.
        token = fragment["access_token"][0]
        profile = ua.request(
            "GET",
            sim.resource_server_url + "/api/profile",
            headers={"Authorization": "Bearer " + token, "Origin": sim.client_url},
        )
        # Contrast: the confidential web client may not use this flow.
        refused = ua.get(
            implicit_request(sim, WEB.client_id, WEB.redirect_path, "profile", generate_token(20))
        )
        refused_params = parse_qs(urlsplit(ua.location(refused) or "").fragment)
        return {
            "client": LEGACY.client_id,
            "tokens_issued": sorted(k for k in ("access_token", "refresh_token") if k in fragment),
            "token_in_url_fragment": "access_token" not in parse_qs(urlsplit(location).query),
            "fragment_reached_server": _server_saw(sim.trace(flow), token),
            "token_in_browser_history": token in location,
            "refresh_token_issued": "refresh_token" in fragment,
            "api_status": profile.status_code,
            "other_clients_refused": refused_params.get("error", [f"HTTP {refused.status_code}"])[
                0
            ],
            "instead_use": "authorization code + PKCE (public-client-pkce), RFC 9700 §2.1.2",
        }


def _server_saw(trace, token: str) -> bool:
    """Did the client's server receive the token? Its own record of the callback request
    is the proof: browsers strip the fragment before sending."""
    return any(
        token in e.url or token in str(e.request_headers) or token in e.request_body
        for e in trace
        if e.to == CLIENT
    )


SCENARIOS = [ImplicitLegacy()]
