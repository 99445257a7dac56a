"""refresh-rotation: the confidential client refreshes its access token on its own before
it expires, and each refresh rotates the refresh token.

Time is injected, not waited for: this flow's access tokens live 30 s (flow option
`access_token_lifetime`, read by the authorization server), less than the client's 60 s
refresh leeway, so Authlib's OAuth2Session refreshes before every API call.
"""

from __future__ import annotations

from typing import Any

from sim.parties import AUTHORIZATION_SERVER
from sim.scenarios.base import Scenario, ScenarioError, log_in_and_consent
from sim.scenarios.stage import Stage

#: Seconds; below the client's REFRESH_LEEWAY (60 s), so each API call refreshes first.
LIFETIME = 30


class RefreshRotation(Scenario):
    name = "refresh-rotation"
    description = "Access tokens expire (30 s): the client refreshes first; each refresh rotates"
    rfc = "RFC 6749 §6, RFC 9700 §4.14.2"

    def settings(self, stage) -> dict[str, Any]:
        return {"access_token_lifetime": LIFETIME}

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        # Login; the client's first page view then calls the API twice, refreshing first.
        home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
        if home.status_code != 200 or "Your photos" not in home.text:
            raise ScenarioError(f"the client did not show the photos ({home.status_code})")
        # An observer's view of the back channel: what the server issued, in order.
        issued = token_responses(sim, flow)
        refresh_tokens = [t["refresh_token"] for t in issued if t.get("refresh_token")]
        return {
            "access_token_lifetime": LIFETIME,
            "client_refresh_leeway": 60,
            "refreshes": max(len(issued) - 1, 0),
            "refresh_token_rotated": len(set(refresh_tokens)) == len(refresh_tokens) > 1,
            "tokens_in_browser": any(_carries(r, _values(issued)) for r in ua.hops),
        }


def _values(issued: list[dict[str, str]]) -> set[str]:
    return {v for t in issued for v in t.values()}


def token_responses(sim: Stage, flow: str) -> list[dict[str, str]]:
    """The tokens the authorization server issued in this flow, in order, read from the
    trace: what an observer of the back channel sees (no actor uses them)."""
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
