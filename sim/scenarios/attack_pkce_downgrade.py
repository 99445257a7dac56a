"""pkce-downgrade: RFC 9700 §4.8.1. The attacker strips the PKCE challenge from their own
authorization request, and injects the resulting code into a victim's session at a client
that relies on PKCE instead of state. The defence (RFC 9700 §4.8.2): the token endpoint
refuses a code_verifier for a code whose request carried no code_challenge.

The premise, as the RFC states it: an authorization server that supports PKCE but does not
make it mandatory (here for this flow only), and a client that does not check state
("e.g., because the client relies on PKCE for CSRF prevention").
  1. Alice starts a login at the client, which sends code_challenge = hash(her verifier),
     and waits for her authorization response.
  2. The attacker starts their own login at the client, removes code_challenge and
     code_challenge_method from the authorization request in their own browser, and logs
     in as bob: the server issues a code bound to no challenge.
  3. A page of the attacker's sends alice's browser to the client's callback with that code.
  4. The client redeems it with alice's verifier. With the defence the server sees a
     code_verifier for a code issued without a challenge and answers invalid_grant; without
     it the server checks nothing and alice's session is logged into bob's account.
An authorization server that requires PKCE for every request (as this one does outside this
scenario) never issues the unbound code of step 2 (RFC 9700 §4.8.2: it "implicitly"
implements the defence). Refusing `plain` is this server's own policy (RFC 7636 §4.2 allows
it; RFC 9700 §2.1.1 recommends S256); it would not stop this attack, which needs no method.
"""

from __future__ import annotations

from sim import defences
from sim.parties import AUTHORIZATION_SERVER, CLIENT
from sim.scenarios.attack_common import BOBS_PHOTO, client_login_stopped_before_callback, page_title
from sim.scenarios.base import AttackScenario, Attempt, Guard, step


class PkceDowngrade(AttackScenario):
    name = "pkce-downgrade"
    description = "A code issued without PKCE is injected into a victim's login (RFC 9700 §4.8)"
    rfc = "RFC 9700 §4.8"
    premise_off = (defences.STATE,)
    guards = (
        Guard(
            defences.PKCE_DOWNGRADE,
            step(CLIENT, AUTHORIZATION_SERVER, "POST", "/token"),
            "a code_verifier arrived for a code whose authorization request had no "
            "code_challenge: invalid_grant",
            "the code is bound to no challenge, so the server ignores the verifier and "
            "issues tokens for bob's account",
            "RFC 9700 §4.8.2",
        ),
    )

    def settings(self, stage) -> dict:
        return {"pkce_optional": True}

    def attack(self, stage, flow, off, attacker) -> Attempt:
        # 1. Alice starts a login; the client waits for her authorization response.
        victim = stage.user_agent(flow)
        started = victim.get(stage.client_url + "/login")
        victim.get(victim.location(started) or "")
        # 2. The attacker's own login, with the challenge removed, as bob.
        bobs_callback = client_login_stopped_before_callback(
            stage,
            attacker.browser,
            "bob",
            "builder",
            code_challenge=None,
            code_challenge_method=None,
        )
        # 3. Alice's browser is sent to the callback with bob's unbound code.
        page = victim.open(attacker.lure(bobs_callback))
        sees_bob = page.ok and BOBS_PHOTO in page.text
        return Attempt(
            {
                "premise": "the client does not check state; PKCE is optional at the server",
                "victim_logged_in_as": "bob" if sees_bob else None,
                "victim_page": page_title(page.text),
            },
            proof=page if sees_bob else None,
            proves="alice's browser shows bob's account at the client",
        )


SCENARIOS = [PkceDowngrade()]
