"""revocation: logging out of the client revokes its tokens at the authorization server
(RFC 7009), and the resource server refuses them at once: it introspects every token
(RFC 7662) instead of trusting a signed JWT until it expires."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.parties import AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER, client_by_id
from sim.scenarios.base import Scenario, ScenarioError, csrf, log_in_and_consent
from sim.tracing import party_session

if TYPE_CHECKING:
    from sim.runtime.manager import Simulation

WEB = client_by_id("demo-client")


class Revocation(Scenario):
    name = "revocation"
    description = "Logout revokes the tokens (RFC 7009); the API refuses them at once"
    rfc = "RFC 7009 §2, RFC 7662"

    def play(self, sim, flow: str, insecure: bool) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
        if home.status_code != 200 or "Your photos" not in home.text:
            raise ScenarioError(f"the client did not show the photos ({home.status_code})")
        tokens = issued_tokens(sim, flow)
        # The user clicks "Log out": the client revokes the refresh token (and so the grant).
        logout = ua.follow(
            ua.request("POST", sim.client_url + "/logout", data={"csrf_token": csrf(home.text)})
        )
        # Now, as the client would if it had kept the tokens: use them again.
        with party_session(CLIENT, sim.store, flow) as http:
            api = http.get(
                sim.resource_server_url + "/api/profile",
                headers={"Authorization": "Bearer " + tokens["access_token"]},
                timeout=10,
            )
            refresh = http.post(
                sim.authorization_server_url + "/token",
                data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
                auth=(WEB.client_id, WEB.secret),
                timeout=10,
            )
        trace = sim.trace(flow)
        revoked = [e for e in trace if e.url.endswith("/revoke")]
        return {
            "tokens_issued": sorted(tokens),
            "api_before_logout": next(e.status for e in trace if e.to == RESOURCE_SERVER),
            "logged_out": logout.status_code == 200 and "Log in" in logout.text,
            "revocation_status": revoked[0].status if revoked else None,
            "access_token_after_logout": api.status_code,
            "access_token_error": api.json().get("error"),
            "refresh_token_after_logout": refresh.json().get("error"),
        }


def issued_tokens(sim: Simulation, flow: str) -> dict[str, str]:
    """The tokens of the flow's first token response, as the trace recorded them."""
    for event in sim.trace(flow):
        if (
            event.to == AUTHORIZATION_SERVER
            and event.url.endswith("/token")
            and event.status == 200
        ):
            return {k: v for k, v in event.values if k in ("access_token", "refresh_token")}
    raise ScenarioError("no token response in the trace")


SCENARIOS = [Revocation()]
