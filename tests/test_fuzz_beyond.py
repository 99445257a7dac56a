"""Bad input to the endpoints of issue 14 never gives a 5xx, only clear OAuth errors:
malformed, replayed or foreign DPoP proofs (token endpoint and API), device authorization
requests and polls, typed user codes, and UserInfo's Authorization header."""

from __future__ import annotations

import string

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.dpop import ProofKey
from tests import test_fuzz as fuzz

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
#: RFC 6749 §5.2's codes, plus RFC 8628 §3.5's and RFC 9449 §5's.
TOKEN_ERRORS = fuzz.TOKEN_ERRORS | {
    "invalid_dpop_proof",
    "authorization_pending",
    "slow_down",
    "access_denied",
    "expired_token",
}
#: RFC 6750 §3.1's codes, plus RFC 9449 §7.1's.
API_ERRORS = fuzz.RESOURCE_ERRORS | {"invalid_dpop_proof"}

#: Printable ASCII, no leading or trailing space (what a header value can hold).
header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=300
).map(str.strip)
jwt_like = st.lists(
    st.text(alphabet=string.ascii_letters + string.digits + "-_=", max_size=80),
    min_size=1,
    max_size=4,
).map(".".join)
proofs = st.one_of(header_text, jwt_like)


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        session.trust_env = False
        yield session


@pytest.fixture(scope="module")
def dpop_token(sim, http) -> tuple[str, ProofKey]:
    """A DPoP-bound token of demo-service (client credentials), and its key."""
    key = ProofKey()
    url = sim.authorization_server_url + "/token"
    answer = http.post(
        url,
        data={"grant_type": "client_credentials", "scope": "photos:read"},
        auth=("demo-service", "service-secret"),
        headers={"DPoP": key.proof("POST", url)},
        timeout=10,
    )
    assert answer.json()["token_type"] == "DPoP"
    return answer.json()["access_token"], key


def _error(answer: requests.Response) -> str | None:
    assert answer.headers["Content-Type"].startswith("application/json"), answer.text[:200]
    return answer.json().get("error")


@FUZZ
@given(proof=proofs, grant=st.sampled_from(["client_credentials", DEVICE_GRANT, "refresh_token"]))
def test_token_endpoint_with_any_dpop_header(sim, http, proof, grant):
    answer = http.post(
        sim.authorization_server_url + "/token",
        data={
            "grant_type": grant,
            "device_code": "x",
            "refresh_token": "y",
            "client_id": "demo-tv",
        },
        headers={"DPoP": proof},
        timeout=10,
    )
    assert answer.status_code in (400, 401), answer.text[:300]
    assert _error(answer) in TOKEN_ERRORS


@FUZZ
@given(proof=proofs, scheme=st.sampled_from(["DPoP", "dpop", "Bearer"]))
def test_api_with_any_dpop_proof(sim, http, dpop_token, proof, scheme):
    token, _ = dpop_token
    answer = http.get(
        sim.resource_server_url + "/api/photos",
        headers={"Authorization": f"{scheme} {token}", "DPoP": proof},
        timeout=10,
    )
    assert answer.status_code in (400, 401), answer.text[:300]
    assert _error(answer) in API_ERRORS
    assert answer.headers["WWW-Authenticate"].split(" ", 1)[0] in ("Bearer", "DPoP")


@FUZZ
@given(
    method=st.text(alphabet=string.ascii_uppercase, min_size=1, max_size=7),
    path=st.sampled_from(["/api/photos", "/api/profile", "/token", "/api/photos/"]),
    iat_shift=st.integers(min_value=-(10**6), max_value=10**6),
)
def test_api_with_a_proof_for_another_request(sim, http, dpop_token, method, path, iat_shift):
    token, key = dpop_token
    import time  # noqa: PLC0415

    url = sim.resource_server_url + path
    proof = key.proof(method, url, token, iat=int(time.time()) + iat_shift)
    answer = http.get(
        sim.resource_server_url + "/api/photos",
        headers={"Authorization": f"DPoP {token}", "DPoP": proof},
        timeout=10,
    )
    fits = method == "GET" and path == "/api/photos" and abs(iat_shift) <= 60
    if fits:
        assert answer.status_code == 200
    else:
        assert answer.status_code == 401 and _error(answer) == "invalid_dpop_proof"


@FUZZ
@given(
    client_id=st.one_of(st.sampled_from(["demo-tv", "demo-client", "demo-spa"]), header_text),
    scope=st.one_of(st.none(), st.sampled_from(["profile", "photos:write", "openid"]), header_text),
)
def test_device_authorization_with_any_client_and_scope(sim, http, client_id, scope):
    data = {"client_id": client_id}
    if scope is not None:
        data["scope"] = scope
    answer = http.post(
        sim.authorization_server_url + "/device_authorization", data=data, timeout=10
    )
    assert answer.status_code in (200, 400, 401), answer.text[:300]
    if answer.status_code != 200:
        assert _error(answer) in TOKEN_ERRORS


@FUZZ
@given(device_code=header_text, client_id=st.sampled_from(["demo-tv", "demo-spa", "x"]))
def test_polling_with_any_device_code(sim, http, device_code, client_id):
    answer = http.post(
        sim.authorization_server_url + "/token",
        data={"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id},
        timeout=10,
    )
    assert answer.status_code in (400, 401), answer.text[:300]
    assert _error(answer) in TOKEN_ERRORS


@FUZZ
@given(user_code=st.text(max_size=40))
def test_any_typed_user_code_is_a_page_never_a_500(sim, user_code):
    with requests.Session() as phone:  # a fresh browser each time: no guess limit carried
        phone.trust_env = False
        answer = phone.get(
            sim.authorization_server_url + "/device", params={"user_code": user_code}, timeout=10
        )
    assert answer.status_code in (200, 400), answer.text[:300]


@FUZZ
@given(authorization=header_text)
def test_userinfo_with_any_authorization(sim, http, authorization):
    answer = http.get(
        sim.authorization_server_url + "/userinfo",
        headers={"Authorization": authorization},
        timeout=10,
    )
    assert answer.status_code in (400, 401, 403), answer.text[:300]
    # A request made with the DPoP scheme is answered with a DPoP challenge (RFC 9449 §7.1).
    dpop = authorization.split(" ", 1)[0].lower() == "dpop"
    assert answer.headers["WWW-Authenticate"].startswith("DPoP" if dpop else "Bearer")
