"""The device authorization grant (RFC 8628) over real loopback: the TV's side driven by
plain `requests`, the phone's by the scripted browser; every polling answer, one
redemption, and the user code's mistakes."""

from __future__ import annotations

import pytest
import requests

from sim.authorization_server import create_app
from sim.diagrams import to_mermaid

GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class TV:
    """A device client written with nothing but `requests`."""

    def __init__(self, issuer: str, client_id: str = "demo-tv") -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.http = requests.Session()

    def start(self, scope: str = "profile photos:read") -> requests.Response:
        return self.http.post(
            self.issuer + "/device_authorization",
            data={"client_id": self.client_id, "scope": scope},
            timeout=10,
        )

    def poll(self, device_code: str) -> requests.Response:
        data = {"grant_type": GRANT, "device_code": device_code, "client_id": self.client_id}
        return self.http.post(self.issuer + "/token", data=data, timeout=10)


@pytest.fixture
def tv(sim) -> TV:
    return TV(sim.authorization_server_url)


def _phone_decides(sim, uri: str, decision: str = "approve", user="alice", password="wonderland"):
    phone = sim.user_agent(sim.new_flow("phone"))
    page = phone.open(uri)
    page = phone.submit(page, {"username": user, "password": password})
    assert "decision" in page.text, page.text[:300]
    return phone, phone.submit(page, button=decision)


def test_metadata_names_the_device_endpoint_and_grant(sim):
    issuer = sim.authorization_server_url
    metadata = requests.get(issuer + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert metadata["device_authorization_endpoint"] == issuer + "/device_authorization"
    assert GRANT in metadata["grant_types_supported"]


def test_the_whole_flow_with_plain_requests(tv, sim):
    answer = tv.start()
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    codes = answer.json()
    assert set(codes) == {
        "device_code",
        "user_code",
        "verification_uri",
        "verification_uri_complete",
        "expires_in",
        "interval",
    }
    assert codes["verification_uri"] == sim.authorization_server_url + "/device"
    assert codes["verification_uri_complete"].endswith("?user_code=" + codes["user_code"])
    pending = tv.poll(codes["device_code"])
    assert pending.status_code == 400 and pending.json()["error"] == "authorization_pending"
    too_fast = tv.poll(codes["device_code"])
    assert too_fast.status_code == 400 and too_fast.json()["error"] == "slow_down"
    _, done = _phone_decides(sim, codes["verification_uri_complete"])
    assert done.status_code == 200 and "Device connected" in done.text
    token = tv.poll(codes["device_code"])
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "profile photos:read"
    assert "refresh_token" not in body  # demo-tv is not registered for refresh tokens
    photos = requests.get(
        sim.resource_server_url + "/api/photos",
        headers={"Authorization": "Bearer " + body["access_token"]},
        timeout=10,
    )
    assert photos.status_code == 200 and photos.json()["owner"] == "alice"
    again = tv.poll(codes["device_code"])  # a device code is redeemed once
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_typing_the_code_by_hand_works_case_and_dash_insensitive(tv, sim):
    codes = tv.start().json()
    phone = sim.user_agent(sim.new_flow("phone"))
    form = phone.open(codes["verification_uri"])
    typed = codes["user_code"].replace("-", " ").lower()
    page = phone.submit(form, {"user_code": typed})
    page = phone.submit(page, {"username": "bob", "password": "builder"})
    assert codes["user_code"] in page.text and "decision" in page.text
    phone.submit(page, button="approve")
    assert tv.poll(codes["device_code"]).json()["token_type"] == "Bearer"


def test_denied_on_the_phone_is_access_denied(tv, sim):
    codes = tv.start().json()
    _, done = _phone_decides(sim, codes["verification_uri_complete"], "deny")
    assert "denied" in done.text
    answer = tv.poll(codes["device_code"])
    assert answer.status_code == 400 and answer.json()["error"] == "access_denied"


def test_a_user_code_decides_once(tv, sim):
    codes = tv.start().json()
    phone, _ = _phone_decides(sim, codes["verification_uri_complete"])
    reused = phone.get(codes["verification_uri_complete"])
    assert reused.status_code == 400 and "already used" in reused.text


def test_wrong_user_codes_are_refused_then_limited(sim):
    phone = sim.user_agent(sim.new_flow("guesser"))
    uri = sim.authorization_server_url + "/device?user_code="
    statuses = [phone.get(uri + f"WXYZ-BCD{c}").status_code for c in "BCDFGH"]
    assert statuses == [400] * 5 + [429]


def test_unknown_device_code_and_wrong_clients_are_clear_oauth_errors(tv, sim):
    unknown = tv.poll("no-such-device-code")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"
    web = TV(sim.authorization_server_url, "demo-client")
    refused = web.http.post(
        sim.authorization_server_url + "/device_authorization",
        data={"client_id": "demo-client"},
        auth=("demo-client", "demo-secret"),
        timeout=10,
    )
    assert refused.status_code == 400 and refused.json()["error"] == "unauthorized_client"
    assert tv.start(scope="photos:write").json()["error"] == "invalid_scope"
    assert TV(sim.authorization_server_url, "nobody").start().json()["error"] == "invalid_client"
    # Another client cannot redeem demo-tv's device code.
    codes = tv.start().json()
    stolen = web.http.post(
        sim.authorization_server_url + "/token",
        data={"grant_type": GRANT, "device_code": codes["device_code"]},
        auth=("demo-client", "demo-secret"),
        timeout=10,
    )
    assert stolen.status_code in (400, 401) and stolen.json()["error"] == "unauthorized_client"


def test_an_expired_device_code_is_expired_token():
    app = create_app({"DEVICE_CODE_LIFETIME": -1, "TESTING": True})
    client = app.test_client()
    codes = client.post("/device_authorization", data={"client_id": "demo-tv"}).json
    answer = client.post(
        "/token",
        data={"grant_type": GRANT, "device_code": codes["device_code"], "client_id": "demo-tv"},
    )
    assert answer.status_code == 400 and answer.json["error"] == "expired_token"


def test_the_scenario_polls_until_approved_and_draws_the_polls_once(sim):
    result = sim.run("device-code")
    outcome = result.outcome
    assert outcome["polls"] == ["authorization_pending"] * 3 + ["Bearer"]
    polls = [e.seq for e in result.trace.events if "authorization_pending" in e.response_body]
    assert len(polls) == 3  # the step table lists each poll ...
    mermaid = to_mermaid(result.trace)  # ... the diagram draws them once
    assert f"{polls[0]}–{polls[-1]}. POST /token × 3" in mermaid
    assert mermaid.count("authorization_pending") == 1
    assert outcome["approved_on_phone"] and outcome["photos_owner"] == "alice"
    assert outcome["verification_uri_complete"].endswith(outcome["user_code"])
