"""mix-up: a client that uses two authorization servers, one of them the attacker's, is made
to send the honest server's code to the attacker's token endpoint. The client's check of the
`iss` authorization response parameter stops it (RFC 9207, RFC 9700 §4.4).

Alice picks "log in with the other server" at the client (`/login?as=attacker`). The client
remembers that this login (its state) went to the attacker's server and sends her there.
The attacker's /authorize forwards her browser to the honest server's /authorize with the
client's own client_id, redirect_uri, state and PKCE challenge. Alice is used to the honest
server's login page, logs in and approves; the honest server sends the code to the client's
callback (the same callback for both servers) with iss = the honest issuer. The client
expected the attacker's issuer for this state: with the check on it refuses, and the code goes
nowhere. With it off the client redeems the code where it believes it belongs, at the
attacker's token endpoint: code and PKCE verifier leak to the attacker.
"""

from __future__ import annotations

from sim import defences
from sim.attacker import Attacker
from sim.parties import CLIENT, USER_AGENT
from sim.scenarios.attack_common import AttackScenario, Mark, query_param
from sim.scenarios.base import ScenarioError, log_in_and_consent


class MixUp(AttackScenario):
    name = "mix-up"
    description = "The client sends the honest server's code to the attacker's server (iss)"
    defence = defences.ISS
    defence_text = (
        "The client checks that the iss in the authorization response names the server it "
        "sent this login to, and refuses a response from any other, so the code goes nowhere."
    )
    rfc = "RFC 9207 §2.4, RFC 9700 §4.4"

    def attack(self, sim, flow: str, insecure: bool, attacker: Attacker):
        victim = sim.user_agent(flow)
        page = log_in_and_consent(victim, victim.get(sim.client_url + "/login?as=attacker"))
        callback = next(
            (r for r in victim.hops if r.url.startswith(sim.client_url + "/callback")), None
        )
        if callback is None:
            raise ScenarioError("the honest server's response never reached the client")
        honest_code = query_param(callback.url, "code")
        received = attacker.loot("token-request")
        leaked = received[-1]["params"] if received else {}
        evidence = {
            "response_iss": query_param(callback.url, "iss"),
            "expected_iss": sim.attacker_url,
            "callback_status": callback.status_code,
            "client_page": _title(page.text),
            "code_sent_to_attacker": bool(leaked.get("code")) and leaked["code"] == honest_code,
            "leaked": sorted(k for k in ("code", "code_verifier") if leaked.get(k)),
        }
        mark = Mark(
            USER_AGENT,
            CLIENT,
            "GET",
            "/callback",
            self.marker(
                insecure,
                "iss check: the response comes from the honest server, but this login went "
                "to another; refused, the code is sent nowhere",
                "iss check: the client did not compare iss, and sent the honest server's "
                "code to the attacker's token endpoint",
            ),
        )
        return evidence, evidence["code_sent_to_attacker"], [mark]


def _title(html: str) -> str:
    start = html.find("<h1>")
    end = html.find("</h1>", start)
    return html[start + 4 : end].strip() if start >= 0 and end > start else ""


SCENARIOS = [MixUp()]
