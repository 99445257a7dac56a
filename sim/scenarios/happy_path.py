"""happy-path: the confidential client logs alice in with state + PKCE, calls the API,
refreshes its token. The flow every other scenario departs from."""

from __future__ import annotations

from typing import Any

from sim.parties import PHOTOS
from sim.scenarios.base import Scenario, ScenarioError, csrf, log_in_and_consent


class HappyPath(Scenario):
    name = "happy-path"
    description = "Confidential web client, authorization code + state + PKCE, API call, refresh"

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
        if home.status_code != 200 or "Your photos" not in home.text:
            raise ScenarioError(f"the client did not show the photos ({home.status_code})")
        # "Refresh token now" on the client's page; the redirect back to the page is not
        # followed, so the trace ends with the refresh itself.
        refreshed = ua.request(
            "POST", sim.client_url + "/refresh", data={"csrf_token": csrf(home.text)}
        )
        return {
            "logged_in": "Hello, Alice" in home.text,
            "photos_shown": PHOTOS["alice"][0] in home.text,
            "refreshed": refreshed.status_code == 302 and refreshed.headers["Location"] == "/",
            "tokens_in_browser": any(
                "access_token" in (r.headers.get("Location") or "") for r in ua.hops
            ),
        }


SCENARIOS = [HappyPath()]
