"""openid-connect: the confidential client signs alice in with OpenID Connect. The same
authorization code flow, plus scope `openid` and a `nonce`; the token response adds an ID
token, which the client verifies (signature against the JWKS, iss, aud, exp, nonce) before
it believes who logged in, then asks /userinfo for her name.

The lesson is in two audiences: the ID token is addressed to the client (`aud` = its
client_id) and says who logged in, when, for which login (nonce); the access token is
addressed to the API (`aud` = the resource server) and says what may be done. An access
token proves nothing about a login to the client: it may have been issued to another app,
or long ago, and the client is not its audience (OIDC Core §1, §2, §3.1.3.7).
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sim.parties import AUTHORIZATION_SERVER, CLIENT
from sim.scenarios.base import Scenario, ScenarioError, log_in_and_consent
from sim.tracing.jwt import decode_unverified


def _token_answer(trace) -> dict:
    for event in trace:
        if (event.sender, event.to, event.method) == (CLIENT, AUTHORIZATION_SERVER, "POST"):
            if urlsplit(event.url).path == "/token" and event.status == 200:
                return json.loads(event.response_body)
    raise ScenarioError("no successful token response in the trace")


def _nonce_sent(trace) -> str:
    for event in trace:
        if urlsplit(event.url).path == "/authorize" and event.method == "GET":
            nonce = parse_qs(urlsplit(event.url).query).get("nonce")
            if nonce:
                return nonce[0]
    return ""


class OpenIDConnect(Scenario):
    name = "openid-connect"
    description = "OpenID Connect sign-in: scope openid, a nonce, an ID token checked, /userinfo"
    rfc = "OIDC Core §3.1"

    def play(self, sim, flow: str, _off: Any = None) -> dict[str, Any]:
        ua = sim.user_agent(flow)
        home = log_in_and_consent(ua, ua.get(sim.client_url + "/login?openid=1"))
        if home.status_code != 200 or "Signed in with OpenID Connect" not in home.text:
            raise ScenarioError(f"the client did not sign alice in ({home.status_code})")
        trace = sim.trace(flow)
        if not trace.events:  # tracing off: the outcome is what the browser saw
            return {"client": "demo-client", "signed_in": True}
        answer = _token_answer(trace)
        decoded = decode_unverified(answer["id_token"]) or {"header": {}, "claims": {}}
        id_token, header = decoded["claims"], decoded["header"]
        access = (decode_unverified(answer["access_token"]) or {"claims": {}})["claims"]
        return {
            "client": "demo-client",
            "scope": answer.get("scope"),
            "id_token_claims": sorted(id_token),
            "id_token_alg": header.get("alg"),
            "id_token_aud": id_token.get("aud"),
            "access_token_aud": access.get("aud"),
            "nonce_echoed": bool(id_token.get("nonce"))
            and id_token.get("nonce") == _nonce_sent(trace),
            "signed_in_as_sub": id_token.get("sub"),
            "page_shows_sub": f"sub={id_token.get('sub')}" in home.text,
            "userinfo_called": any(urlsplit(e.url).path == "/userinfo" for e in trace),
        }


SCENARIOS = [OpenIDConnect()]
