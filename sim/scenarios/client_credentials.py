"""client-credentials: the machine client `demo-service` gets a token for itself with its
own credentials (RFC 6749 §4.4) and calls the photo API. No user, no browser, no consent,
no refresh token: the client can simply ask again."""

from __future__ import annotations

from typing import Any

from authlib.integrations.requests_client import OAuth2Session

from sim.parties import CLIENT, USER_AGENT, client_by_id
from sim.scenarios.base import Scenario

SERVICE = client_by_id("demo-service")


class ClientCredentials(Scenario):
    name = "client-credentials"
    description = "Machine client gets a token for itself (no user, no browser, no refresh)"
    rfc = "RFC 6749 §4.4"

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        # The service runs server-side, so its calls are made as the `client` party.
        with sim.http(
            flow, CLIENT, OAuth2Session(SERVICE.client_id, SERVICE.secret, scope=SERVICE.scope)
        ) as service:
            token = service.fetch_token(
                sim.authorization_server_url + "/token", grant_type="client_credentials"
            )
            photos = service.get(sim.resource_server_url + "/api/photos", timeout=10)
        body = photos.json()
        trace = sim.trace(flow)
        return {
            "client": SERVICE.client_id,
            "tokens_issued": sorted(k for k in ("access_token", "refresh_token") if k in token),
            "refresh_token_issued": "refresh_token" in token,
            "scope": token.get("scope"),
            "user_involved": any(USER_AGENT in (e.sender, e.to) for e in trace),
            "api_status": photos.status_code,
            "api_owner": body.get("owner"),
            "photos": body.get("photos"),
        }


SCENARIOS = [ClientCredentials()]
