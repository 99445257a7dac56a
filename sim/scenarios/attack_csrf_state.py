"""csrf-state: login CSRF (RFC 9700 §4.7). The attacker gets a code for their own account
and makes the victim's browser deliver it to the client's callback.

The attacker starts a login at the client in their own browser, logs in as bob at the
authorization server, and stops before the callback. Then a page of the attacker's sends
alice's browser to the client's /callback with bob's code and the attacker's state.

Two defences stand in the way, in this order:
  state  the client compares the returned state with the one it bound to this browser's
         session: alice's browser started no login, so the code is refused at once;
  pkce   the client redeems the code with the verifier bound to this browser's session
         (alice has none), but bob's code was issued for the challenge of the attacker's
         login: the token endpoint answers invalid_grant (RFC 9700 §4.7.1: "The same
         protection is provided by PKCE").
With both off (a client without state, and without PKCE) alice's session at the client is
logged into bob's account: whatever she uploads now lands in the attacker's photos.
"""

from __future__ import annotations

from sim import defences
from sim.parties import AUTHORIZATION_SERVER, CLIENT, USER_AGENT
from sim.scenarios.attack_common import (
    ALICES_PHOTO,
    BOBS_PHOTO,
    client_login_stopped_before_callback,
    page_title,
)
from sim.scenarios.base import AttackScenario, Attempt, Guard, step


class CsrfState(AttackScenario):
    name = "csrf-state"
    description = "Login CSRF: the victim's browser delivers the attacker's code (state, PKCE)"
    rfc = "RFC 9700 §4.7, RFC 6749 §10.12"
    guards = (
        Guard(
            defences.STATE,
            step(USER_AGENT, CLIENT, "GET", "/callback"),
            "this state was not issued to this browser's session, so the client refuses the code",
            "the client does not compare state, and goes on to redeem a code from someone "
            "else's login",
            "RFC 6749 §10.12, RFC 9700 §4.7.1",
        ),
        Guard(
            defences.PKCE,
            step(CLIENT, AUTHORIZATION_SERVER, "POST", "/token"),
            "the client sends this browser's code_verifier (here none), which does not "
            "match the code_challenge bob's code was issued for: invalid_grant",
            "the attacker's login carried no code_challenge, so the code is redeemed "
            "without a verifier",
            "RFC 9700 §4.7.1, RFC 7636 §4.6",
        ),
    )

    def attack(self, stage, flow, off, attacker) -> Attempt:
        # 1. The attacker's own login, as bob, stopped just before the callback.
        bobs_callback = client_login_stopped_before_callback(
            stage, attacker.browser, "bob", "builder"
        )
        # 2. Alice visits the attacker's page, which sends her browser to that callback.
        victim = stage.user_agent(flow)
        page = victim.open(attacker.lure(bobs_callback))
        sees_bob = page.ok and BOBS_PHOTO in page.text
        seen = "bob" if sees_bob else ("alice" if ALICES_PHOTO in page.text else None)
        return Attempt(
            {"victim_logged_in_as": seen, "victim_page": page_title(page.text)},
            proof=page if sees_bob else None,
            proves="alice's browser shows bob's account at the client",
        )


SCENARIOS = [CsrfState()]
