"""refresh-rotation: an access token expires, the resource server refuses it with
`invalid_token`, and the confidential client refreshes (the refresh token rotates) and retries.

RFC 6749 §1.5, Figure 2: "(E) Steps (C) and (D) repeat until the access token expires. If the
client knows the access token expired, it skips to step (G); otherwise, it makes another
protected resource request. (F) Since the access token is invalid, the resource server returns
an invalid token error."

Time is controlled, not waited for. The flow's access tokens live `LIFETIME` s (flow option
`access_token_lifetime`), longer than the client's refresh leeway (60 s: it refreshes ahead of
time in a token's last minute by its own clock). After the first page view the scenario moves
the authorization server's clock for this flow on by `SKIP` s (flow option `clock_offset`):
by the clock of the server that issued the token and answers introspection, the token has
expired. The client's clock is not moved, so it believes the token has time left and uses
it, as (E) says; the same happens for real when the client's clock runs behind the server's,
or when a token ends early (revoked). The resource server asks the authorization server
(introspection: `active: false`) and answers 401 `invalid_token`; the client refreshes (a new
refresh token: rotation, RFC 9700 §4.14.2) and retries, and the page shows the photos.
"""

from __future__ import annotations

import json
from typing import Any

from sim.parties import AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER
from sim.scenarios.base import Scenario, ScenarioError, StepNote, log_in_and_consent, step

#: Seconds an access token lives in this flow: longer than the client's refresh leeway.
LIFETIME = 120
#: The client's REFRESH_LEEWAY (sim.client.DEFAULTS), which LIFETIME must exceed.
CLIENT_LEEWAY = 60
#: How far the authorization server's clock moves on: just past the token's expiry.
SKIP = LIFETIME + 1


def _inactive(event) -> bool:
    try:
        return json.loads(event.response_body) == {"active": False}
    except ValueError:
        return False


class RefreshRotation(Scenario):
    name = "refresh-rotation"
    description = (
        "An access token expires: the API refuses it (invalid_token), the client refreshes "
        "(rotating the refresh token) and retries"
    )
    rfc = "RFC 6749 §1.5, §6, RFC 6750 §3.1, RFC 9700 §4.14.2"
    notes = (
        StepNote(
            step(CLIENT, RESOURCE_SERVER, "GET", "/api/profile", lambda e: e.status == 401),
            f"Meanwhile the simulator moved the authorization server's clock for this flow on "
            f"by {SKIP} s, past the token's {LIFETIME} s lifetime (nobody waits). The client's "
            f"clock did not move: by its count the token has more left than its {CLIENT_LEEWAY} "
            "s refresh leeway, so it uses it (RFC 6749 §1.5, step E), as it would for real "
            "with a clock running behind the server's, or a token revoked early. The API "
            'refuses it: 401, WWW-Authenticate: Bearer error="invalid_token" (step F).',
            "RFC 6749 §1.5, RFC 6750 §3.1",
        ),
        StepNote(
            step(RESOURCE_SERVER, AUTHORIZATION_SERVER, "POST", "/introspect", _inactive),
            'Introspection answers {"active": false}: by the authorization server\'s clock '
            "the token has expired. This resource server relies on the authorization server "
            "to determine a token's state, so an expiry or a revocation takes effect on the "
            "very next call; the price is one call to the authorization server per API "
            "request. Checking the JWT itself (signature, iss, aud, exp) would save that call, "
            "but would accept a revoked token until its exp.",
            "RFC 7662 §2.2, §4, RFC 9068 §4",
        ),
        StepNote(
            step(
                CLIENT,
                AUTHORIZATION_SERVER,
                "POST",
                "/token",
                lambda e: e.status == 200 and e.params.request("grant_type") == "refresh_token",
            ),
            "Told invalid_token, the client asks for a new access token with its refresh token "
            "(step G; RFC 6750 §3.1: the client MAY request a new access token and retry). The "
            "answer carries a new refresh token too: rotation, the old one is spent. Then the "
            "client retries the call with the new access token.",
            "RFC 6749 §1.5, §6, RFC 9700 §4.14.2",
        ),
    )

    def settings(self, stage) -> dict[str, Any]:
        return {"access_token_lifetime": LIFETIME}

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        # Login; the client's page view calls the API with the fresh token.
        home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
        if home.status_code != 200 or "Your photos" not in home.text:
            raise ScenarioError(f"the client did not show the photos ({home.status_code})")
        # Time passes at the authorization server: the access token expires there.
        sim.update_flow(flow, clock_offset=SKIP)
        again = ua.get(sim.client_url + "/")
        if again.status_code != 200 or "Your photos" not in again.text:
            raise ScenarioError(f"the client did not recover ({again.status_code})")
        # An observer's view of the trace: what the server issued, what the API refused.
        events = list(sim.trace(flow))
        issued = token_responses(events)
        refresh_tokens = [t["refresh_token"] for t in issued if t.get("refresh_token")]
        refused = [
            e.seq
            for e in events
            if e.sender == CLIENT
            and e.to == RESOURCE_SERVER
            and e.status == 401
            and e.params.challenge.get("error") == "invalid_token"
        ]
        return {
            "access_token_lifetime": LIFETIME,
            "client_refresh_leeway": CLIENT_LEEWAY,
            "clock_moved_by": SKIP,
            "expired_token_refused_at": refused[0] if refused else None,
            "refreshes": max(len(issued) - 1, 0),
            "refresh_token_rotated": len(set(refresh_tokens)) == len(refresh_tokens) > 1,
            "tokens_in_browser": any(_carries(r, _values(issued)) for r in ua.hops),
        }


def _values(issued: list[dict[str, str]]) -> set[str]:
    return {v for t in issued for v in t.values()}


def token_responses(events) -> list[dict[str, str]]:
    """The tokens the authorization server issued in this flow, in order, read from the
    trace: what an observer of the back channel sees (no actor uses them)."""
    issued = []
    for event in events:
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
