"""refresh-rotation: the confidential client refreshes its access token on its own before
it expires, each refresh rotates the refresh token, and the spent one is then refused.

Time is injected, not waited for: this flow's access tokens live 30 s (flow option
`access_token_lifetime`, read by the authorization server), less than the client's 60 s
refresh leeway, so Authlib's OAuth2Session refreshes before every API call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.parties import AUTHORIZATION_SERVER, CLIENT, client_by_id
from sim.scenarios.base import Scenario, ScenarioError, log_in_and_consent
from sim.tracing import party_session

if TYPE_CHECKING:
    from sim.runtime.manager import Simulation

WEB = client_by_id("demo-client")
#: Seconds; below the client's REFRESH_LEEWAY (60 s), so each API call refreshes first.
LIFETIME = 30


class RefreshRotation(Scenario):
    name = "refresh-rotation"
    description = "Access tokens expire (30 s): the client refreshes first; each refresh rotates"
    rfc = "RFC 6749 §6, RFC 9700 §4.14.2"

    def play(self, sim, flow: str, insecure: bool) -> dict[str, Any]:
        if sim.store is None:
            raise ScenarioError("refresh-rotation needs tracing (the flow option lives there)")
        sim.store.set_flow_options(flow, {"access_token_lifetime": LIFETIME})
        ua = sim.user_agent(flow)
        # Login; the client's first page view then calls the API twice, refreshing first.
        home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
        if home.status_code != 200 or "Your photos" not in home.text:
            raise ScenarioError(f"the client did not show the photos ({home.status_code})")
        issued = token_responses(sim, flow)
        if len(issued) < 2:
            raise ScenarioError("the client did not refresh its token")
        refresh_tokens = [t["refresh_token"] for t in issued if t.get("refresh_token")]
        # Replay the first, long-rotated refresh token, as the client (HTTP Basic).
        with party_session(CLIENT, sim.store, flow) as http:
            replay = http.post(
                sim.authorization_server_url + "/token",
                data={"grant_type": "refresh_token", "refresh_token": refresh_tokens[0]},
                auth=(WEB.client_id, WEB.secret),
                timeout=10,
            )
        values = {v for t in issued for k, v in t.items() if k in ("access_token", "refresh_token")}
        return {
            "access_token_lifetime": LIFETIME,
            "client_refresh_leeway": 60,
            "tokens_issued": sorted({k for t in issued for k in t if k.endswith("_token")}),
            "refreshes": len(issued) - 1,
            "refresh_token_rotated": len(set(refresh_tokens)) == len(refresh_tokens) > 1,
            "old_refresh_token_refused": replay.status_code == 400,
            "old_refresh_token_error": replay.json().get("error"),
            "where_tokens_live": {
                "client (server-side token store)": ["access_token", "refresh_token"],
                "browser": ["session cookie only"],
            },
            "tokens_in_browser": any(_carries(r, values) for r in ua.hops),
        }


def token_responses(sim: Simulation, flow: str) -> list[dict[str, str]]:
    """The tokens the authorization server issued in this flow, in order, read from the
    trace (what an observer of the back channel sees)."""
    issued = []
    for event in sim.trace(flow):
        if event.to == AUTHORIZATION_SERVER and event.url.endswith("/token"):
            if event.status == 200:
                issued.append(
                    {k: v for k, v in event.values if k in ("access_token", "refresh_token")}
                )
    return issued


def _carries(response, values: set[str]) -> bool:
    """Did this answer to the browser hold any token (URL, headers or body)?"""
    text = response.url + str(dict(response.headers)) + response.text
    return any(value in text for value in values)


SCENARIOS = [RefreshRotation()]
