"""Property-based fuzz over real loopback HTTP: the authorization, token, revocation and
introspection endpoints and the resource server's API get malformed, oversized, repeated and
non-UTF-8 parameters. Whatever arrives: never a 5xx, always an RFC error code (or a proper
answer), and the happy path still works afterwards."""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import Simulation
from sim.parties import FLOW_HEADER

#: RFC 6749 §4.1.2.1 (plus invalid_client, shown on the error page for an unknown client).
AUTHORIZE_ERRORS = {
    "invalid_request",
    "invalid_client",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
}
#: RFC 6749 §5.2.
TOKEN_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
}
#: RFC 7009 §2.2.1 adds unsupported_token_type; RFC 7662 uses RFC 6749's codes.
REVOCATION_ERRORS = TOKEN_ERRORS | {"unsupported_token_type"}
#: RFC 6750 §3.1.
RESOURCE_ERRORS = {"invalid_request", "invalid_token", "insufficient_scope"}

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

NAMES = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "grant_type",
    "refresh_token",
    "token",
    "token_type_hint",
    "client_secret",
    "access_token",
    "title",
    "iss",
)
PLAUSIBLE = (
    "code",
    "token",
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "demo-client",
    "demo-spa",
    "demo-service",
    "demo-rs",
    "demo-secret",
    "S256",
    "plain",
    "profile",
    "photos:read",
    "profile photos:read photos:write",
    "access_token",
    "http://127.0.0.1:1/callback",
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "",
)

# A value: plausible, arbitrary text, oversized, or raw bytes (non-UTF-8 once encoded).
values = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=40),
    st.text(alphabet="aZ9-._~%+&=", min_size=2000, max_size=9000),
    st.binary(max_size=40),
)
keys = st.one_of(st.sampled_from(NAMES), st.text(max_size=12), st.binary(max_size=6))
# Lists of pairs, so names repeat.
pairs = st.lists(st.tuples(keys, values), max_size=8)


def _enc(value: str | bytes) -> str:
    return quote(value if isinstance(value, bytes) else value.encode("utf-8"), safe="")


def encode(items: list[tuple[str | bytes, str | bytes]]) -> str:
    """x-www-form-urlencoded by hand, so raw bytes (%FF…) and repeats go through as is."""
    return "&".join(f"{_enc(k)}={_enc(v)}" for k, v in items)


header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=60,
)
authorizations = st.one_of(
    st.none(),
    st.just("Basic "),
    st.just("Bearer "),
    st.just("Basic " + base64.b64encode(b"demo-client:demo-secret").decode()),
    st.just("Basic " + base64.b64encode(b"demo-rs:rs-secret").decode()),
    st.binary(max_size=30).map(lambda b: "Basic " + base64.b64encode(b).decode()),
    header_text.map(lambda t: "Basic " + t),
    header_text.map(lambda t: "Bearer " + t),
    # requests itself refuses to send a header value with leading whitespace.
    header_text.filter(lambda t: not t[:1].isspace()),
)
content_types = st.sampled_from(
    (
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/json",
        "text/plain",
        "multipart/form-data",
    )
)
bodies = st.one_of(pairs.map(encode).map(str.encode), st.binary(max_size=300))


@pytest.fixture(scope="module")
def sim():
    with Simulation() as simulation:
        yield simulation


@pytest.fixture(scope="module")
def http(sim):
    with requests.Session() as session:
        session.trust_env = False
        session.headers[FLOW_HEADER] = sim.new_flow("fuzz")
        yield session


@pytest.fixture(scope="module")
def alice_cookies(sim):
    """Alice's session at the authorization server, so valid requests reach consent."""
    ua = sim.user_agent(sim.new_flow("fuzz-login"))
    page = ua.get(sim.authorization_server_url + "/login")
    ua.submit(page, {"username": "alice", "password": "wonderland"})
    return ua.session.cookies


def send(http, method, url, body=b"", content_type=None, authorization=None, cookies=None):
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if authorization is not None:
        headers["Authorization"] = authorization.encode("latin-1")
    return http.request(
        method,
        url,
        data=body or None,
        headers=headers,
        cookies=cookies,
        allow_redirects=False,
        timeout=15,
    )


def json_error(response) -> str | None:
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert isinstance(body, dict)
    return body.get("error")


@FUZZ
@given(query=pairs, logged_in=st.booleans())
def test_authorization_endpoint(sim, http, alice_cookies, query, logged_in):
    url = sim.authorization_server_url + "/authorize?" + encode(query)
    answer = send(http, "GET", url, cookies=alice_cookies if logged_in else None)
    assert answer.status_code < 500, answer.text[:300]
    assert answer.status_code in (200, 302, 400)
    if answer.status_code == 400:
        found = re.search(r'<p class="error"><code>([^<]*)</code>', answer.text)
        assert found and found.group(1) in AUTHORIZE_ERRORS, answer.text[:300]
    elif answer.status_code == 302:
        location = answer.headers["Location"]
        if location.startswith("/login?"):
            assert not logged_in
        else:
            # Only ever to a registered redirect URI, with an RFC error code, state and iss.
            assert location.startswith(sim.client_url + "/")
            params = parse_qs(urlsplit(location).query)
            assert params["error"][0] in AUTHORIZE_ERRORS
            assert params["iss"] == [sim.authorization_server_url]
    else:
        assert logged_in and "decision" in answer.text


@FUZZ
@given(body=bodies, content_type=content_types, authorization=authorizations)
def test_token_endpoint(sim, http, body, content_type, authorization):
    url = sim.authorization_server_url + "/token"
    answer = send(http, "POST", url, body, content_type, authorization)
    assert answer.status_code in (200, 400, 401), answer.text[:300]
    assert answer.headers["Cache-Control"] == "no-store"
    error = json_error(answer)
    if answer.status_code == 200:
        assert "access_token" in answer.json()
    else:
        assert error in TOKEN_ERRORS, answer.text[:300]


@FUZZ
@given(
    endpoint=st.sampled_from(("/revoke", "/introspect")),
    body=bodies,
    content_type=content_types,
    authorization=authorizations,
)
def test_revocation_and_introspection(sim, http, endpoint, body, content_type, authorization):
    url = sim.authorization_server_url + endpoint
    answer = send(http, "POST", url, body, content_type, authorization)
    assert answer.status_code in (200, 400, 401), answer.text[:300]
    if answer.status_code == 200:
        if endpoint == "/introspect":
            assert isinstance(answer.json().get("active"), bool)
    else:
        assert json_error(answer) in REVOCATION_ERRORS, answer.text[:300]


@pytest.fixture(scope="module")
def service_token(sim, http) -> str:
    answer = http.post(
        sim.authorization_server_url + "/token",
        data={"grant_type": "client_credentials", "scope": "photos:read"},
        auth=("demo-service", "service-secret"),
        timeout=5,
    )
    return answer.json()["access_token"]


@FUZZ
@given(
    call=st.sampled_from(
        (("GET", "/api/profile"), ("GET", "/api/photos"), ("POST", "/api/photos"))
    ),
    query=pairs,
    body=bodies,
    content_type=content_types,
    authorization=st.one_of(authorizations, st.just("valid")),
)
def test_resource_server(sim, http, service_token, call, query, body, content_type, authorization):
    method, path = call
    if authorization == "valid":
        authorization = "Bearer " + service_token
    url = sim.resource_server_url + path + ("?" + encode(query) if query else "")
    answer = send(http, method, url, body if method == "POST" else b"", content_type, authorization)
    assert answer.status_code in (200, 201, 400, 401, 403), answer.text[:300]
    if answer.status_code >= 400:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        error = json_error(answer)
        if error is None:  # only a request with no credentials may get a bare challenge
            assert answer.status_code == 401
        else:
            assert error in RESOURCE_ERRORS


def test_happy_path_still_works_afterwards(sim):
    outcome = sim.run("happy-path").outcome
    assert outcome["logged_in"] and outcome["photos_shown"] and outcome["refreshed"]
    json.dumps(outcome)
