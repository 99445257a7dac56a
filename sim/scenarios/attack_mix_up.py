"""mix-up: RFC 9700 §4.4.1 to the end. A client that uses two authorization servers, one of
them the attacker's, is made to send the honest server's code to the attacker, who injects
it into their own session at the client. The client's check of the `iss` authorization
response parameter stops it (RFC 9207, RFC 9700 §4.4.2.1).

  1. The attacker starts a login at the client in their own browser (honest server) and
     notes the code_challenge the client made for that login; they stop there.
  2. Alice picks "log in with the other server" at the client (`/login?as=attacker`). The
     client remembers that this login (her session) went to the attacker's server and
     sends her there.
  3. The attacker's /authorize forwards her browser to the honest server's /authorize with
     the client's client_id, redirect_uri and state, but the code_challenge of step 1.
  4. Alice is used to the honest login page, logs in and approves; the honest server sends
     the code to the client's callback (the same callback for both servers), iss = honest.
  5. The client expected the attacker's issuer: with the check on it refuses, the code goes
     nowhere. Without it, the client redeems the code where it believes it belongs, at the
     attacker's token endpoint: the attacker now holds alice's code.
  6. The attacker injects the code into their own session at the client (their step-1
     callback, with their own state). The client redeems it with the step-1 verifier, which
     matches the swapped-in challenge: PKCE does not help against an attacker who can
     change the challenge (RFC 9700 §4.5.4). The attacker's session now shows alice's data.
"""

from __future__ import annotations

from sim import defences
from sim.parties import CLIENT, USER_AGENT
from sim.scenarios.attack_common import ALICES_PHOTO, answer_param, page_title, with_params
from sim.scenarios.base import (
    AttackScenario,
    Attempt,
    Guard,
    ScenarioError,
    log_in_and_consent,
    step,
)


class MixUp(AttackScenario):
    name = "mix-up"
    description = "The client sends the honest server's code to the attacker's server (iss)"
    rfc = "RFC 9700 §4.4, RFC 9207"
    guards = (
        Guard(
            defences.ISS,
            step(USER_AGENT, CLIENT, "GET", "/callback"),
            "the response's iss names the honest server, but this login went to another: "
            "refused, the code is sent nowhere",
            "the client does not compare iss, and sends the honest server's code to the "
            "attacker's token endpoint",
            "RFC 9207 §2.4, RFC 9700 §4.4.2.1",
        ),
    )

    def attack(self, stage, flow, off, attacker) -> Attempt:
        # 1. The attacker's own login at the client, stopped at the authorization request.
        own = attacker.browser.location(attacker.browser.get(stage.client_url + "/login")) or ""
        attacker.plan(code_challenge=answer_param(own, "code_challenge"))
        # 2-4. Alice logs in "with the other server".
        victim = stage.user_agent(flow)
        page = log_in_and_consent(victim, victim.get(stage.client_url + "/login?as=attacker"))
        callback = next(
            (r for r in victim.hops if r.url.startswith(stage.client_url + "/callback")), None
        )
        if callback is None:
            raise ScenarioError("the honest server's response never reached the client")
        # 5. What reached the attacker's token endpoint, if anything.
        code = attacker.last("token-request", "code")
        proof = None
        if code:
            # 6. Inject the code into the attacker's own session at the client.
            injected = with_params(
                stage.client_url + "/callback",
                code=code,
                state=answer_param(own, "state"),
                iss=stage.authorization_server_url,
            )
            seen = attacker.browser.open(injected)
            proof = seen if seen.ok and ALICES_PHOTO in seen.text else None
        return Attempt(
            {
                "response_iss": answer_param(callback.url, "iss"),
                "expected_iss": stage.attacker_url,
                "victim_page": page_title(page.text),
                "code_reached_attacker": bool(code),
                "attacker_sees_account_of": "alice" if proof is not None else None,
            },
            proof=proof,
            proves="the attacker's own session at the client shows alice's photos",
        )


SCENARIOS = [MixUp()]
