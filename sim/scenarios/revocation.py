"""revocation: logging out of the client revokes its tokens at the authorization server
(RFC 7009), and the resource server refuses them at once: it introspects every token
(RFC 7662) instead of trusting a signed JWT until it expires."""

from __future__ import annotations

from typing import Any

from sim.parties import RESOURCE_SERVER
from sim.scenarios.base import Scenario, ScenarioError, csrf, log_in_and_consent


class Revocation(Scenario):
    name = "revocation"
    description = "Logout revokes the tokens (RFC 7009); the API refuses them at once"
    rfc = "RFC 7009 §2, RFC 7662"

    def settings(self, stage) -> dict[str, Any]:
        return {"check_revocation": True}

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
        if home.status_code != 200 or "Your photos" not in home.text:
            raise ScenarioError(f"the client did not show the photos ({home.status_code})")
        # The user clicks "Log out": the client revokes the refresh token (and so the grant),
        # then (a teaching step of this run) tries its revoked tokens once more.
        logout = ua.follow(
            ua.request("POST", sim.client_url + "/logout", data={"csrf_token": csrf(home.text)})
        )
        trace = sim.trace(flow)
        revoked = next((e.seq for e in trace if e.url.endswith("/revoke")), None)
        after = [e for e in trace if revoked is not None and e.seq > revoked]
        api = next((e for e in after if e.to == RESOURCE_SERVER), None)
        refresh = next((e for e in after if e.url.endswith("/token")), None)
        return {
            "logged_out": logout.status_code == 200 and "Log in" in logout.text,
            "revocation_status": next((e.status for e in trace if e.seq == revoked), None),
            "access_token_after_logout": api.status if api else None,
            "refresh_token_after_logout": refresh.status if refresh else None,
        }


SCENARIOS = [Revocation()]
