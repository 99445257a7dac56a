"""The single-page app's script with a DPoP key, as the scripted browser plays it: shared by
the `dpop` flow and the `token-replay` attack (no scenario of its own).

In a real browser the page makes a P-256 key pair with Web Crypto, non-extractable: its
script can sign with the key but never read it out, so a script injected later can steal a
token but not the key (RFC 9449 §2, §11.4). Here `sim.dpop.ProofKey` stands in for it. Every
request the script sends to the token endpoint or the API carries a fresh proof: a JWT
signed with that key naming the method and URL (and, at the API, the token's hash).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from sim.dpop import ProofKey
from sim.parties import client_by_id
from sim.scenarios.base import ScenarioError, log_in_and_consent
from sim.user_agent import UserAgent

SPA = client_by_id("demo-spa")


class DPoPPage:
    """The SPA running in `ua` (the user's browser), its DPoP key in the page."""

    def __init__(self, stage, ua: UserAgent, key: ProofKey | None = None) -> None:
        self.stage = stage
        self.ua = ua
        self.key = key or ProofKey()
        self.redirect_uri = stage.client_url + (SPA.redirect_path or "")

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        return {"Origin": self.stage.client_url, **extra}

    def log_in(self, scope: str = "profile photos:read") -> requests.Response:
        """Open the app, log alice in (code + PKCE S256) and redeem the code with a proof."""
        self.ua.get(self.stage.client_url + "/spa")
        verifier = generate_token(48)
        url, state = OAuth2Session(
            SPA.client_id, scope=scope, redirect_uri=self.redirect_uri, code_challenge_method="S256"
        ).create_authorization_url(
            self.stage.authorization_server_url + "/authorize", code_verifier=verifier
        )
        callback = log_in_and_consent(self.ua, self.ua.get(url))
        params = parse_qs(urlsplit(callback.url).query)
        if "code" not in params or params.get("state", [""])[0] != state:
            raise ScenarioError(f"expected the SPA callback with a code, got {callback.url}")
        return self.token_request(
            {
                "grant_type": "authorization_code",
                "code": params["code"][0],
                "redirect_uri": self.redirect_uri,
                "client_id": SPA.client_id,
                "code_verifier": verifier,
            }
        )

    def token_request(self, data: dict[str, str], proof: bool = True) -> requests.Response:
        url = self.stage.authorization_server_url + "/token"
        headers = {"DPoP": self.key.proof("POST", url)} if proof else {}
        return self.ua.request("POST", url, data=data, headers=self._headers(headers))

    def refresh(self, refresh_token: str, proof: bool = True) -> requests.Response:
        data = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self.token_request({**data, "client_id": SPA.client_id}, proof)

    def call_api(
        self, path: str, token: str, token_type: str = "DPoP", method: str = "GET"
    ) -> requests.Response:
        """An API call the DPoP way: `Authorization: DPoP <token>` and a proof with ath; a
        token the server did not bind (token_type Bearer) goes as a plain Bearer token
        (RFC 9449 §5: the client may then carry on as in regular OAuth)."""
        url = self.stage.resource_server_url + path
        if token_type.lower() != "dpop":
            headers = {"Authorization": f"Bearer {token}"}
        else:
            headers = {"Authorization": f"DPoP {token}", "DPoP": self.key.proof(method, url, token)}
        return self.ua.request(method, url, headers=self._headers(headers))
