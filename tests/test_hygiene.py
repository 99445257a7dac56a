"""Security hygiene the attack scenarios rely on, checked over real loopback HTTP: pages that
hold the login and consent forms cannot be framed, token responses are not cached, the API
refuses tokens in the URL, errors never reflect raw input into HTML, and an untrusted
client_id or redirect_uri never produces a redirect."""

from __future__ import annotations

import socket
from urllib.parse import urlencode, urlsplit

import pytest
import requests

from sim.scenarios.attack_common import pkce_pair

XSS = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        session.trust_env = False
        yield session


def authorize_url(sim, **overrides) -> str:
    _, challenge = pkce_pair()
    params = {
        "response_type": "code",
        "client_id": "demo-client",
        "redirect_uri": sim.client_url + "/callback",
        "scope": "profile",
        "state": "s1",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **overrides,
    }
    return (
        sim.authorization_server_url
        + "/authorize?"
        + urlencode({k: v for k, v in params.items() if v is not None})
    )


@pytest.fixture(scope="module")
def alice(sim):
    """A browser logged in as alice at the authorization server."""
    ua = sim.user_agent(sim.new_flow("hygiene"))
    page = ua.open(authorize_url(sim))
    page = ua.submit(page, {"username": "alice", "password": "wonderland"})
    assert "decision" in page.text
    return ua


def csrf_token(sim, alice) -> str:
    from sim.user_agent import parse_forms  # noqa: PLC0415

    form = parse_forms(alice.get(authorize_url(sim)).text)[0]
    return dict(form.fields)["csrf_token"]


def service_token(sim, http) -> dict:
    answer = http.post(
        sim.authorization_server_url + "/token",
        data={"grant_type": "client_credentials", "scope": "photos:read"},
        auth=("demo-service", "service-secret"),
        timeout=5,
    )
    assert answer.status_code == 200
    return answer.json()


def assert_not_frameable(response) -> None:
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_login_page_cannot_be_framed(sim, http):
    page = http.get(sim.authorization_server_url + "/login", timeout=5)
    assert page.status_code == 200 and 'name="password"' in page.text
    assert_not_frameable(page)


def test_consent_page_cannot_be_framed(sim, alice):
    page = alice.get(authorize_url(sim))
    assert page.status_code == 200 and "decision" in page.text
    assert_not_frameable(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_token_responses_are_not_cached(sim, http):
    ok = http.post(
        sim.authorization_server_url + "/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-service", "service-secret"),
        timeout=5,
    )
    refused = http.post(
        sim.authorization_server_url + "/token",
        data={"grant_type": "authorization_code", "code": "nope"},
        auth=("demo-client", "demo-secret"),
        timeout=5,
    )
    assert ok.status_code == 200 and refused.status_code == 400
    for answer in (ok, refused):
        assert answer.headers["Cache-Control"] == "no-store"


def test_resource_server_refuses_token_in_query(sim, http):
    token = service_token(sim, http)["access_token"]
    photos = sim.resource_server_url + "/api/photos"
    assert http.get(photos, headers={"Authorization": f"Bearer {token}"}, timeout=5).ok
    in_query = http.get(photos, params={"access_token": token}, timeout=5)
    assert in_query.status_code == 400
    assert in_query.json()["error"] == "invalid_request"
    assert in_query.headers["WWW-Authenticate"].startswith("Bearer")
    in_form = http.post(photos, data={"access_token": token, "title": "x"}, timeout=5)
    assert in_form.status_code == 400


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": XSS},
        {"redirect_uri": XSS},
        {"client_id": "demo-client", "redirect_uri": "http://evil.example/" + XSS},
        {"scope": XSS},
        {"state": XSS},
        {"code_challenge_method": XSS},
        {"response_type": XSS},
    ],
    ids=lambda o: "+".join(o),
)
def test_authorization_errors_never_reflect_raw_input(sim, http, alice, overrides):
    for browser in (http, alice.session):
        answer = browser.get(authorize_url(sim, **overrides), allow_redirects=False, timeout=5)
        assert answer.status_code < 500
        assert XSS not in answer.text
        if answer.is_redirect:  # a verified redirect_uri: the input travels URL-encoded only
            assert "<" not in answer.headers["Location"]


@pytest.mark.parametrize(
    "path",
    [
        "/login?next=" + XSS,
        "/callback?state=" + XSS + "&code=" + XSS,
        "/callback?error=" + XSS + "&error_description=" + XSS,
        "/login?as=" + XSS,
    ],
)
def test_client_and_login_pages_never_reflect_raw_input(sim, http, path):
    base = sim.authorization_server_url if path.startswith("/login?next") else sim.client_url
    answer = http.get(base + path, allow_redirects=False, timeout=5)
    assert answer.status_code < 500
    assert XSS not in answer.text


def test_token_errors_are_json_not_html(sim, http):
    answer = http.post(
        sim.authorization_server_url + "/token",
        data={"grant_type": XSS, "code": XSS},
        timeout=5,
    )
    assert answer.status_code in (400, 401)
    assert answer.headers["Content-Type"].startswith("application/json")


UNTRUSTED = {
    "unknown client_id": {"client_id": "no-such-client"},
    "missing client_id": {"client_id": None},
    "unregistered redirect_uri": {"redirect_uri": "http://evil.example/callback"},
    "extra path": {"redirect_uri": "{client}/callback/../evil"},
    "other port": {"redirect_uri": "http://127.0.0.1:1/callback"},
    "userinfo trick": {"redirect_uri": "{client}@evil.example/callback"},
    "another client's uri": {"redirect_uri": "{client}/spa/callback"},
    "no redirect_uri, public client with one": {
        "client_id": "no-such-client",
        "redirect_uri": None,
    },
}


@pytest.mark.parametrize("case", UNTRUSTED, ids=list(UNTRUSTED))
@pytest.mark.parametrize("logged_in", [False, True], ids=["anonymous", "logged-in"])
def test_untrusted_client_or_redirect_uri_never_redirects(sim, http, alice, case, logged_in):
    overrides = {
        k: (v.format(client=sim.client_url) if isinstance(v, str) else v)
        for k, v in UNTRUSTED[case].items()
    }
    # Even an otherwise invalid request (bad scope) must not reach the redirect.
    for extra in ({}, {"scope": "nonsense", "code_challenge_method": "plain"}):
        url = authorize_url(sim, **{**extra, **overrides})
        browser = alice.session if logged_in else http
        answer = browser.get(url, allow_redirects=False, timeout=5)
        assert answer.status_code == 400, (case, answer.status_code)
        assert "Location" not in answer.headers
        data = {"decision": "approve", "csrf_token": csrf_token(sim, alice) if logged_in else ""}
        form = browser.post(url, data=data, allow_redirects=False, timeout=5)
        if logged_in:  # with a valid CSRF token the request itself is judged: refused
            assert form.status_code == 400 and "Location" not in form.headers
            assert "request was refused" in form.text  # not the CSRF check: the request
        else:  # anonymous: the only redirect is to this server's own login page
            assert form.status_code == 400 or form.headers["Location"].startswith("/login?")


def test_raw_non_utf8_request_line_gets_no_5xx(sim):
    netloc = urlsplit(sim.authorization_server_url).netloc
    host, port = netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(
            b"GET /authorize?client_id=\xff\xfe&redirect_uri=\xc3\x28 HTTP/1.1\r\n"
            b"Host: " + netloc.encode() + b"\r\nConnection: close\r\n\r\n"
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    assert status == 400 and b"Location:" not in data.split(b"\r\n\r\n", 1)[0]
