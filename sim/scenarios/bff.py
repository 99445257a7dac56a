"""bff: the single-page app through its own backend (backend-for-frontend). The page's
script talks only to the client's origin: the backend, a confidential client, logs alice
in (code + state + PKCE, `demo-client`), keeps the tokens, and calls the API for the page.

The scripted browser plays the page: it opens /bff, follows the login, reads the CSRF token
the page was served with, and makes the script's same-origin call to /bff/api/photos with
it in `X-CSRF`. The outcome comes from the trace: the access token the client received at
the token endpoint appears in no response the browser received.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from sim.parties import AUTHORIZATION_SERVER, CLIENT, USER_AGENT
from sim.scenarios.base import Scenario, ScenarioError, log_in_and_consent

CSRF_HEADER = "X-CSRF"


class BackendForFrontend(Scenario):
    name = "bff"
    description = (
        "SPA through its own backend (BFF): cookie session + CSRF, no token in the browser"
    )
    rfc = "RFC 10017 §6.1"

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        page = log_in_and_consent(ua, ua.get(sim.client_url + "/bff/login"))
        if page.status_code != 200 or urlsplit(page.url).path != "/bff":
            raise ScenarioError(f"expected the /bff page after login, got {page.url}")
        token = page_csrf(page.text)
        # The page's script: a same-origin fetch with the session cookie and the CSRF header.
        # A browser marks a script's request with Fetch metadata (no Origin on a same-origin
        # GET), which is what makes the trace record it as a `browser-call`.
        script = {CSRF_HEADER: token, "Sec-Fetch-Mode": "same-origin"}
        photos = ua.request("GET", sim.client_url + "/bff/api/photos", headers=script)
        if photos.status_code != 200:
            raise ScenarioError(f"the backend did not proxy the API call: {photos.text}")
        trace = sim.trace(flow)
        issued = issued_access_tokens(trace)
        return {
            "client": "demo-client",
            "tokens_issued_to_backend": bool(issued),
            "api_answer_reached_page": [p.get("title") for p in photos.json().get("photos", [])],
            "access_token_reached_browser": any(reached_browser(trace, value) for value in issued),
            "browser_holds": sorted(ua.session.cookies.keys()),
        }


def page_csrf(html: str) -> str:
    """The CSRF token the /bff page carries for its script (in its JSON config)."""
    start = html.find('<script id="bff-config" type="application/json">')
    if start < 0:
        raise ScenarioError("no configuration on the /bff page")
    body = html[html.index(">", start) + 1 : html.index("</script>", start)]
    return json.loads(body)["csrf"]


def issued_access_tokens(trace) -> list[str]:
    """The access tokens the authorization server issued in this flow (its /token answers
    to the client, on the back channel)."""
    found = []
    for e in trace:
        if e.sender == CLIENT and e.to == AUTHORIZATION_SERVER and e.url.endswith("/token"):
            try:
                value = json.loads(e.response_body).get("access_token")
            except ValueError:
                continue
            if value:
                found.append(value)
    return found


def reached_browser(trace, value: str) -> bool:
    """Did any response the browser received carry `value` (body or any header)?"""
    return any(
        value in e.response_body or any(value in v for v in e.response_headers.values())
        for e in trace
        if e.sender == USER_AGENT
    )


SCENARIOS = [BackendForFrontend()]
