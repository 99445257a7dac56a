"""client-credentials: the machine client `demo-service` gets a token for itself with its
own credentials (RFC 6749 §4.4) and calls the photo API. No user, no browser, no consent,
no refresh token: the client can simply ask again.

Then the audience lesson (RFC 9068 §4, RFC 9700 §2.3): the same service also works with a
print shop's API, and asks the authorization server for a token for that resource server
(RFC 8707 `resource`); the token's `aud` names the print shop. Presented to the photo API by
mistake, it is refused with `invalid_token`: introspection says whom it is for, and the photo
API accepts only tokens meant for itself. Without that check, any resource server a token
was sent to (an honest one, or a compromised one) could replay it at every other one.
"""

from __future__ import annotations

from typing import Any

from authlib.integrations.requests_client import OAuth2Session

from sim.parties import (
    AUTHORIZATION_SERVER,
    CLIENT,
    PRINT_SHOP_API,
    RESOURCE_SERVER,
    USER_AGENT,
    client_by_id,
)
from sim.scenarios.base import Scenario, StepNote, step

SERVICE = client_by_id("demo-service")


def _for_print_shop(event) -> bool:
    return event.params.request("resource") == PRINT_SHOP_API


def _refused(event) -> bool:
    return event.status == 401


class ClientCredentials(Scenario):
    name = "client-credentials"
    description = (
        "Machine client gets a token for itself (no user, no browser, no refresh); a token "
        "for another API is refused (aud)"
    )
    rfc = "RFC 6749 §4.4, RFC 9068 §4"
    notes = (
        StepNote(
            step(CLIENT, AUTHORIZATION_SERVER, "POST", "/token", _for_print_shop),
            f"The service asks for a token for another resource server, the print shop's API "
            f"(resource={PRINT_SHOP_API}). The authorization server restricts the token to "
            "it: its aud names the print shop, not the photo API.",
            "RFC 8707 §2",
        ),
        StepNote(
            step(CLIENT, RESOURCE_SERVER, "GET", "/api/photos", _refused),
            "That token, sent to the photo API by mistake, is refused: introspection answers "
            "active, but with aud the print shop's API, and the photo API accepts only tokens "
            'whose aud names itself. 401, WWW-Authenticate: Bearer error="invalid_token". '
            "Audience restriction means a token that reached one resource server cannot be "
            "replayed at another.",
            "RFC 9068 §4, RFC 9700 §2.3, RFC 6750 §3.1",
        ),
    )

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        # The service runs server-side, so its calls are made as the `client` party.
        with sim.http(
            flow, CLIENT, OAuth2Session(SERVICE.client_id, SERVICE.secret, scope=SERVICE.scope)
        ) as service:
            token = service.fetch_token(
                sim.authorization_server_url + "/token", grant_type="client_credentials"
            )
            photos = service.get(sim.resource_server_url + "/api/photos", timeout=10)
            service.fetch_token(
                sim.authorization_server_url + "/token",
                grant_type="client_credentials",
                resource=PRINT_SHOP_API,
            )
            elsewhere = service.get(sim.resource_server_url + "/api/photos", timeout=10)
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
            "other_audience_token_status": elsewhere.status_code,
            "other_audience_token_error": elsewhere.json().get("error"),
        }


SCENARIOS = [ClientCredentials()]
