"""csrf-state: login CSRF. The attacker gets a code for their own account and makes the
victim's browser deliver it to the client's callback; the client's state check stops it.

The attacker starts a login at the client in their own browser, logs in as bob at the
authorization server, and stops before the callback. Then a page of the attacker's sends
alice's browser to the client's /callback with bob's code and the attacker's state. That
state belongs to a real pending login, but not to alice's browser session: with the check
on the client refuses; with it off, alice's session at the client is logged into bob's
account (and whatever she uploads now lands in the attacker's photos).
"""

from __future__ import annotations

from typing import Any

from sim import defences
from sim.attacker import Attacker
from sim.parties import CLIENT, USER_AGENT
from sim.scenarios.attack_common import AttackScenario, Mark
from sim.scenarios.base import ScenarioError, log_in_and_consent


class CsrfState(AttackScenario):
    name = "csrf-state"
    description = "Login CSRF: the victim's browser delivers the attacker's code (state check)"
    defence = defences.STATE
    defence_text = (
        "The client accepts an authorization response only with the state it bound to this "
        "browser's session, so a code from someone else's login is refused."
    )
    rfc = "RFC 6749 §10.12, RFC 9700 §4.7"

    def attack(self, sim, flow: str, insecure: bool, attacker: Attacker):
        callback = sim.client_url + "/callback"
        # 1. The attacker's own login, as bob, stopped just before the callback.
        last = log_in_and_consent(
            attacker.browser,
            attacker.browser.get(sim.client_url + "/login"),
            "bob",
            "builder",
            stop_at=callback,
        )
        stolen = attacker.browser.location(last)
        if not stolen or not stolen.startswith(callback):
            raise ScenarioError("the attacker did not get a code for their own account")
        # 2. Alice visits the attacker's page, which sends her browser to that callback.
        victim = sim.user_agent(flow)
        page = victim.open(attacker.lure(stolen))
        answer = next((r for r in victim.hops if r.url.split("?", 1)[0] == callback), None)
        sees_bob = "Scoop the digger" in page.text
        evidence: dict[str, Any] = {
            "callback_status": answer.status_code if answer is not None else None,
            "victim_logged_in_as": (
                "bob" if sees_bob else ("alice" if "Tea party" in page.text else None)
            ),
            "victim_page": "Bob's photos" if sees_bob else _title(page.text),
        }
        mark = Mark(
            USER_AGENT,
            CLIENT,
            "GET",
            "/callback",
            self.marker(
                insecure,
                "state check: this state was not issued to this browser; code refused",
                "state check: the client took an unknown browser's state, redeemed the "
                "attacker's code, and logged alice's session into bob's account",
            ),
        )
        return evidence, sees_bob, [mark]


def _title(html: str) -> str:
    start = html.find("<h1>")
    end = html.find("</h1>", start)
    return html[start + 4 : end].strip() if start >= 0 and end > start else ""


SCENARIOS = [CsrfState()]
