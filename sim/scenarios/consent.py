"""The user's say on the consent page: `consent-denied` (bob says no, and the client gets
access_denied and no token) and `scope-downgrade` (alice unticks photos:read, so the token
lacks it and the photo API answers 403 insufficient_scope while the profile works)."""

from __future__ import annotations

from typing import Any

from sim.parties import AUTHORIZATION_SERVER, RESOURCE_SERVER, client_by_id
from sim.scenarios.base import Scenario, ScenarioError, log_in_and_consent

WEB = client_by_id("demo-client")


def _tokens_issued(trace) -> list[str]:
    names = set()
    for e in trace:
        if e.to == AUTHORIZATION_SERVER and e.url.endswith("/token") and e.status == 200:
            names |= {n for n, _ in e.values if n in ("access_token", "refresh_token")}
    return sorted(names)


class ConsentDenied(Scenario):
    name = "consent-denied"
    description = "Bob denies consent: the client gets access_denied and no token"
    rfc = "RFC 6749 §4.1.2.1"

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        page = log_in_and_consent(
            ua, ua.get(sim.client_url + "/login"), "bob", "builder", approve=False
        )
        trace = sim.trace(flow)
        denial = next((e for e in trace if e.method == "POST" and "/authorize" in e.url), None)
        location = (denial.location or "") if denial else ""
        return {
            "user": "bob",
            "error_at_client": "access_denied" if "error=access_denied" in location else None,
            "code_issued": "code=" in location,
            "tokens_issued": _tokens_issued(trace),
            "friendly_page": page.status_code == 200 and "You said no" in page.text,
        }


class ScopeDowngrade(Scenario):
    name = "scope-downgrade"
    description = "Alice unticks photos:read: the photo API answers 403 insufficient_scope"
    rfc = "RFC 6749 §3.3, RFC 6750 §3.1"

    def play(self, sim, flow: str, off: frozenset[str]) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        granted = set(WEB.scope.split()) - {"photos:read"}
        home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"), scopes=granted)
        if home.status_code != 200:
            raise ScenarioError(f"the client's page answered {home.status_code}")
        trace = sim.trace(flow)
        token = next((e for e in trace if e.url.endswith("/token") and e.status == 200), None)
        calls = {e.url.rsplit("/api", 1)[-1]: e for e in trace if e.to == RESOURCE_SERVER}
        photos = calls.get("/photos")
        return {
            "requested_scope": WEB.scope,
            "granted_scope": dict(token.values).get("scope") if token else None,
            "tokens_issued": _tokens_issued(trace),
            "profile_status": calls["/profile"].status if "/profile" in calls else None,
            "photos_status": photos.status if photos else None,
            "photos_error": (photos.params.answered("error") or None) if photos else None,
            "www_authenticate": photos.response_headers.get("WWW-Authenticate") if photos else None,
        }


SCENARIOS = [ConsentDenied(), ScopeDowngrade()]
