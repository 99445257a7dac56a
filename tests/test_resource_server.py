"""The photo API's RFC 6750 behaviour: where the token may travel, and each error."""

from __future__ import annotations

import base64
import json

import pytest
import requests

from sim.parties import PRINT_SHOP_API


def test_profile_and_photos_with_a_valid_token(oauth):
    token = oauth.tokens()["access_token"]
    profile = oauth.api("/api/profile", token)
    assert profile.status_code == 200
    assert profile.json()["name"] == "Alice Liddell"
    photos = oauth.api("/api/photos", token).json()
    assert photos["owner"] == "alice"
    assert "Tea party" in [p["title"] for p in photos["photos"]]


def test_each_user_sees_only_their_own_photos(oauth):
    bob = oauth.tokens(user="bob", password="builder")["access_token"]
    titles = [p["title"] for p in oauth.api("/api/photos", bob).json()["photos"]]
    assert "Tea party" not in titles and "Scoop the digger" in titles


def test_missing_token_is_401_with_a_bare_bearer_challenge(oauth):
    response = oauth.api("/api/profile", None)
    assert response.status_code == 401
    challenge = response.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert "error=" not in challenge  # RFC 6750 §3.1: no error code without credentials


@pytest.mark.parametrize("token", ["not-a-token", "x" * 5000, "eyJhbGciOiJub25lIn0.e30."])
def test_bad_token_is_401_invalid_token(oauth, token):
    response = oauth.api("/api/profile", token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert response.json()["error"] == "invalid_token"


def test_too_little_scope_is_403_insufficient_scope_with_challenge(oauth):
    token = oauth.tokens(scope="profile")["access_token"]
    assert oauth.api("/api/profile", token).status_code == 200
    response = oauth.api("/api/photos", token, method="POST", json={"title": "x"})
    assert response.status_code == 403
    challenge = response.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge and 'scope="photos:write"' in challenge


def test_token_in_query_string_is_refused(oauth, sim):
    token = oauth.tokens()["access_token"]
    response = requests.get(
        f"{sim.resource_server_url}/api/profile", params={"access_token": token}, timeout=5
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "WWW-Authenticate" in response.headers


def test_add_photo_needs_photos_write_and_a_title(oauth):
    token = oauth.tokens(scope="photos:read photos:write")["access_token"]
    created = oauth.api("/api/photos", token, method="POST", json={"title": "Cheshire Cat"})
    assert created.status_code == 201 and created.json()["title"] == "Cheshire Cat"
    listed = [p["title"] for p in oauth.api("/api/photos", token).json()["photos"]]
    assert "Cheshire Cat" in listed
    bad = oauth.api("/api/photos", token, method="POST", json={"title": ""})
    assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
    bad = oauth.api("/api/photos", token, method="POST", data=b"\xff\xfe")
    assert bad.status_code == 400


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Basic abc", "Token x y", "bearer"])
def test_malformed_authorization_header_never_500(oauth, sim, header):
    response = requests.get(
        f"{sim.resource_server_url}/api/profile", headers={"Authorization": header}, timeout=5
    )
    assert response.status_code in (400, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_another_auth_scheme_gets_bare_bearer_and_dpop_challenges(oauth, sim):
    response = requests.get(
        f"{sim.resource_server_url}/api/profile", headers={"Authorization": "Basic abc"}, timeout=5
    )
    assert response.status_code == 401
    # RFC 6750 §3.1 and RFC 9449 §7.2: no error code, both schemes offered.
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="photos", DPoP algs="ES256"'


def _claims(jwt_text: str) -> dict:
    payload = jwt_text.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def test_token_for_another_resource_server_is_refused(oauth, sim):
    """RFC 9068 §4 / RFC 9700 §2.3: the API checks `aud`. A live token the authorization
    server issued for another resource (RFC 8707 `resource`) is 401 invalid_token here."""
    grant = oauth.get_code()
    mine = oauth.redeem(grant).json()
    assert _claims(mine["access_token"])["aud"] == sim.resource_server_url
    elsewhere = oauth.token(
        {"grant_type": "refresh_token", "refresh_token": mine["refresh_token"]}
        | {"resource": PRINT_SHOP_API}
    ).json()
    assert _claims(elsewhere["access_token"])["aud"] == PRINT_SHOP_API
    # Active, and introspection says whom it is for ...
    answer = oauth.introspect(elsewhere["access_token"]).json()
    assert answer["active"] is True and answer["aud"] == PRINT_SHOP_API
    # ... which is not this API.
    response = oauth.api("/api/profile", elsewhere["access_token"])
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize("resource", ["https://unknown.example/api", "not a uri"])
def test_a_resource_the_server_does_not_serve_is_invalid_target(oauth, resource):
    response = oauth.token(
        {"grant_type": "client_credentials", "resource": resource},
        auth=("demo-service", "service-secret"),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_target"


def test_introspection_request_is_the_one_requests_would_send():
    """The resource server prepares its introspection POST without `Session.request` (for
    speed): on the wire it must be byte for byte what `session.post` sends, credentials,
    headers, their order and the form body alike, and an answer it does not read in full
    still leaves the connection reusable."""
    import http.server  # noqa: PLC0415
    import threading  # noqa: PLC0415

    from sim.parties import RESOURCE_SERVER  # noqa: PLC0415
    from sim.resource_server.protector import _post_form  # noqa: PLC0415
    from sim.tracing import party_session  # noqa: PLC0415

    seen: list[tuple[list[tuple[str, str]], bytes]] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            # every header but the exchange id, which is new on each request
            headers = [(k, v) for k, v in self.headers.items() if k != "X-Sim-Exchange"]
            seen.append((headers, body))
            answer = b'{"active": false}'
            self.send_response(401)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/introspect"
        form = {"token": "a.b-c_d~e f+/=", "token_type_hint": "access_token"}
        credentials = ("demo-rs", "s3cr et:é")
        session = party_session(RESOURCE_SERVER, None)
        session.post(url, data=form, auth=credentials, timeout=10)
        answers = [_post_form(session, url, form, credentials) for _ in range(3)]
    finally:
        server.shutdown()
        server.server_close()
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert len(seen) == 4
    expected_headers, expected_body = seen[0]
    assert ("Authorization", "Basic ZGVtby1yczpzM2NyIGV0Ouk=") in expected_headers
    assert expected_body == b"token=a.b-c_d~e+f%2B%2F%3D&token_type_hint=access_token"
    for headers, body in seen[1:]:
        assert (headers, body) == (expected_headers, expected_body)
    opened = session.get_adapter(url).connections.opened
    assert opened[("127.0.0.1", server.server_address[1])] == 1  # all on one connection
