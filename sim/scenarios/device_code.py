"""device-code: a TV without a keyboard logs alice in (RFC 8628). Two devices: the TV is the
client (`demo-tv`, public, no secret, no redirect URI); alice's phone is the user agent.

The TV asks for a device code and shows the user code and the verification URI (or a QR
code of `verification_uri_complete`). It then polls the token endpoint every `interval`
seconds and gets `authorization_pending` while alice, on her phone, opens the URI, logs in
and approves; the next poll gets the tokens, and the TV calls the photo API. The TV never
sees alice's password, and alice never types it on the TV.
"""

from __future__ import annotations

import time
from typing import Any

import requests

from sim.parties import CLIENT, client_by_id
from sim.scenarios.base import Scenario, ScenarioError
from sim.tracing import trace_session

TV = client_by_id("demo-tv")
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


def device_http(sim, flow: str) -> requests.Session:
    """The TV's HTTP client: a server-side app, so its calls are made as the `client`."""
    if hasattr(sim, "http"):
        return sim.http(flow, CLIENT)
    return trace_session(requests.Session(), CLIENT, sim.store, flow)


class TVApp:
    """The TV app: starts the device authorization and polls for its outcome."""

    def __init__(self, sim, flow: str) -> None:
        self.sim = sim
        self.http = device_http(sim, flow)
        self.answer: dict[str, Any] = {}
        self.polls: list[str] = []

    def start(self) -> dict[str, Any]:
        response = self.http.post(
            self.sim.authorization_server_url + "/device_authorization",
            data={"client_id": TV.client_id, "scope": TV.scope},
            timeout=10,
        )
        if response.status_code != 200:
            raise ScenarioError(f"no device code: {response.text[:200]}")
        self.answer = response.json()
        return self.answer

    def poll(self, wait: bool = True) -> requests.Response:
        """One poll, after waiting the interval the server asked for (RFC 8628 §3.5)."""
        if wait:
            time.sleep(self.answer["interval"])
        response = self.http.post(
            self.sim.authorization_server_url + "/token",
            data={
                "grant_type": GRANT_TYPE,
                "device_code": self.answer["device_code"],
                "client_id": TV.client_id,
            },
            timeout=10,
        )
        body = response.json()
        self.polls.append(body.get("error") or body.get("token_type", "?"))
        return response


class DeviceCode(Scenario):
    name = "device-code"
    description = "A TV without a keyboard: user code approved on the phone while the TV polls"
    rfc = "RFC 8628 §3"

    def play(self, sim, flow: str, _off: Any = None) -> dict[str, Any]:
        tv, phone = TVApp(sim, flow), sim.user_agent(flow)
        answer = tv.start()
        # Alice scans the QR code: verification_uri_complete, the user code already in it.
        page = phone.open(answer["verification_uri_complete"])
        if 'name="password"' in page.text:
            page = phone.submit(page, {"username": "alice", "password": "wonderland"})
        if "decision" not in page.text:
            raise ScenarioError(f"expected the device consent page, got {page.status_code}")
        # Meanwhile the TV polls (in real life it started right away): pending while alice
        # reads the consent page. The diagram draws the three identical polls once, "× 3".
        tv.poll(wait=False)
        tv.poll()
        tv.poll()
        done = phone.submit(page, button="approve")
        tokens = tv.poll()
        if tokens.status_code != 200:
            raise ScenarioError(f"the TV got no token: {tokens.text[:200]}")
        token = tokens.json()
        photos = tv.http.get(
            sim.resource_server_url + "/api/photos",
            headers={"Authorization": f"Bearer {token['access_token']}"},
            timeout=10,
        )
        return {
            "client": TV.client_id,
            "user_code": answer["user_code"],
            "verification_uri": answer["verification_uri"],
            "verification_uri_complete": answer["verification_uri_complete"],
            "interval": answer["interval"],
            "expires_in": answer["expires_in"],
            "polls": tv.polls,
            "approved_on_phone": done.status_code == 200 and "Device connected" in done.text,
            "scope": token.get("scope"),
            "refresh_token_issued": "refresh_token" in token,
            "api_status": photos.status_code,
            "photos_owner": photos.json().get("owner") if photos.ok else None,
        }


SCENARIOS = [DeviceCode()]
