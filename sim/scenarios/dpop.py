"""dpop: the single-page app gets sender-constrained tokens (RFC 9449). Every token request
and API call carries a DPoP proof signed by a key that never leaves the page; the server
binds the tokens to the key's thumbprint (`cnf.jkt`), the resource server accepts the
access token only with a fresh proof of that key, and the public client's refresh token
works only with a proof by the same key.

What it costs: one signature per request, a JWT in a header, a replay cache at each
server. What it buys: a copied token is worthless elsewhere (see `token-replay`).
"""

from __future__ import annotations

from typing import Any

from sim.dpop import htu_of
from sim.scenarios.base import Scenario, ScenarioError
from sim.scenarios.dpop_spa import DPoPPage
from sim.tracing.jwt import decode_unverified


class DPoPFlow(Scenario):
    name = "dpop"
    description = "Sender-constrained tokens (DPoP): the SPA proves its key on every request"
    rfc = "RFC 9449 §5, §7"

    def play(self, sim, flow: str, _off: Any = None) -> dict[str, Any]:
        page = DPoPPage(sim, sim.user_agent(flow))
        answer = page.log_in()
        if answer.status_code != 200:
            raise ScenarioError(f"the token endpoint refused: {answer.text[:200]}")
        tokens = answer.json()
        photos = page.call_api("/api/photos", tokens["access_token"], tokens["token_type"])
        refreshed = page.refresh(tokens["refresh_token"])
        if refreshed.status_code != 200:
            raise ScenarioError(f"the refresh was refused: {refreshed.text[:200]}")
        again = page.call_api(
            "/api/profile", refreshed.json()["access_token"], refreshed.json()["token_type"]
        )
        claims = (decode_unverified(tokens["access_token"]) or {"claims": {}})["claims"]
        return {
            "client": "demo-spa",
            "token_type": tokens.get("token_type"),
            "refreshed_token_type": refreshed.json().get("token_type"),
            "key_thumbprint": page.key.jkt,
            "access_token_cnf_jkt": claims.get("cnf", {}).get("jkt"),
            "bound_to_the_page_key": claims.get("cnf", {}).get("jkt") == page.key.jkt,
            "token_endpoint_htu": htu_of(sim.authorization_server_url + "/token"),
            "api_status": {"photos": photos.status_code, "profile": again.status_code},
            "photos": [p["title"] for p in photos.json().get("photos", [])] if photos.ok else [],
        }


SCENARIOS = [DPoPFlow()]
