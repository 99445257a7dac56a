"""DPoP in the confidential client (Photo Printer), over real loopback: `/login?dpop=1` makes
the client sign proofs with its server-side key; the tokens it gets are bound to that key
(`cnf.jkt` in introspection), its API calls use the DPoP scheme, and the same token sent
as a plain Bearer token is refused by the resource server (RFC 9449 §7.2)."""

from __future__ import annotations

import json

import pytest
import requests

from sim.dpop import ProofKey, access_token_hash, htu_of, thumbprint
from sim.parties import AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER
from sim.scenarios.base import csrf, log_in_and_consent
from sim.scenarios.bff import CSRF_HEADER, page_csrf
from sim.tracing.jwt import decode_unverified
from sim.tracing.params import header


def proof(event) -> dict:
    decoded = decode_unverified(header(event.request_headers, "DPoP"))
    assert decoded is not None, f"no DPoP proof on {event.request_line}"
    return decoded


@pytest.fixture(scope="module")
def logged_in(sim):
    """alice logged in at the client with `?dpop=1`, then a refresh by the button."""
    flow = sim.new_flow("client-dpop")
    ua = sim.user_agent(flow)
    home = log_in_and_consent(ua, ua.get(sim.client_url + "/login?dpop=1"))
    refreshed = ua.follow(
        ua.request("POST", sim.client_url + "/refresh", data={"csrf_token": csrf(home.text)})
    )
    trace = sim.trace(flow)
    sim.end_flow(flow)
    return home, refreshed, trace


def token_requests(trace):
    return [e for e in trace.events if e.path == "/token" and e.method == "POST"]


def test_the_token_request_carries_a_proof_and_gets_a_dpop_token(sim, logged_in):
    home, _, trace = logged_in
    assert "Tea party" in home.text and "Token type <code>DPoP</code>" in home.text
    assert "a DPoP proof signed with this app's key" in home.text  # "What just happened"
    first = token_requests(trace)[0]
    assert (first.sender, first.to, first.status) == (CLIENT, AUTHORIZATION_SERVER, 200)
    assert header(first.request_headers, "Authorization").startswith("Basic ")  # still a
    # confidential client: DPoP binds the token, it does not authenticate the client (§1)
    claims = proof(first)["claims"]
    assert claims["htm"] == "POST"
    assert claims["htu"] == htu_of(sim.authorization_server_url + "/token")
    assert json.loads(first.response_body)["token_type"] == "DPoP"


def test_the_token_is_bound_to_the_clients_key_and_refused_as_bearer(sim, logged_in, oauth):
    _, _, trace = logged_in
    first = token_requests(trace)[0]
    access_token = json.loads(first.response_body)["access_token"]
    jkt = thumbprint(proof(first)["header"]["jwk"])
    introspection = oauth.introspect(access_token).json()
    assert introspection["active"] is True
    assert introspection["cnf"] == {"jkt": jkt} and introspection["token_type"] == "DPoP"
    # A copy of the token without the client's key is worth nothing at the API.
    as_bearer = oauth.api("/api/photos", access_token)
    assert as_bearer.status_code == 401
    assert 'error="invalid_token"' in as_bearer.headers["WWW-Authenticate"]
    no_proof = requests.get(
        sim.resource_server_url + "/api/photos",
        headers={"Authorization": f"DPoP {access_token}"},
        timeout=10,
    )
    assert no_proof.status_code == 401 and "DPoP" in no_proof.headers["WWW-Authenticate"]


def test_api_calls_use_the_dpop_scheme_with_a_proof_of_the_same_key(logged_in):
    _, _, trace = logged_in
    first = token_requests(trace)[0]
    access_token = json.loads(first.response_body)["access_token"]
    key = proof(first)["header"]["jwk"]
    calls = [e for e in trace.events if e.to == RESOURCE_SERVER]
    assert calls
    initial = [e for e in calls if access_token in header(e.request_headers, "Authorization")]
    assert {e.path for e in initial} == {"/api/profile", "/api/photos"}
    for call in initial:
        assert call.sender == CLIENT and call.status == 200, call.response_body
        assert header(call.request_headers, "Authorization") == f"DPoP {access_token}"
        sent = proof(call)
        assert sent["header"]["jwk"] == key
        assert sent["claims"]["htm"] == "GET" and sent["claims"]["htu"] == htu_of(call.url)
        assert sent["claims"]["ath"] == access_token_hash(access_token)


def test_the_refresh_carries_a_proof_so_the_new_token_is_bound_too(sim, logged_in, oauth):
    _, refreshed, trace = logged_in
    assert "Tea party" in refreshed.text
    first, refresh = token_requests(trace)[:2]
    assert "grant_type=refresh_token" in refresh.request_body and refresh.status == 200
    assert proof(refresh)["header"]["jwk"] == proof(first)["header"]["jwk"]
    new = json.loads(refresh.response_body)
    assert new["token_type"] == "DPoP"
    jkt = thumbprint(proof(first)["header"]["jwk"])
    assert oauth.introspect(new["access_token"]).json()["cnf"] == {"jkt": jkt}


def test_without_the_switch_the_client_still_gets_bearer_tokens(sim):
    flow = sim.new_flow("client-bearer")
    ua = sim.user_agent(flow)
    home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
    trace = sim.trace(flow)
    sim.end_flow(flow)
    assert "Tea party" in home.text
    first = token_requests(trace)[0]
    assert not header(first.request_headers, "DPoP")
    assert json.loads(first.response_body)["token_type"] == "Bearer"


def test_openid_connect_with_dpop_userinfo_takes_the_dpop_scheme(sim):
    """The client's OIDC login with DPoP: UserInfo is called like the API, with a proof."""
    flow = sim.new_flow("client-oidc-dpop")
    ua = sim.user_agent(flow)
    home = log_in_and_consent(ua, ua.get(sim.client_url + "/login?openid=1&dpop=1"))
    trace = sim.trace(flow)
    sim.end_flow(flow)
    assert "Signed in with OpenID Connect" in home.text and "Tea party" in home.text
    userinfo = next(e for e in trace.events if e.path == "/userinfo")
    assert userinfo.status == 200 and json.loads(userinfo.response_body)["name"]
    assert header(userinfo.request_headers, "Authorization").startswith("DPoP ")
    assert proof(userinfo)["claims"]["htu"] == htu_of(userinfo.url)


def dpop_tokens(oauth, key: ProofKey) -> dict:
    grant = oauth.get_code(scope="openid profile")
    data = {
        "grant_type": "authorization_code",
        "code": grant.code,
        "redirect_uri": oauth.redirect_uri,
        "code_verifier": grant.verifier,
    }
    answer = oauth.token(data, headers={"DPoP": key.proof("POST", oauth.as_url + "/token")})
    assert answer.status_code == 200 and answer.json()["token_type"] == "DPoP", answer.text
    return answer.json()


def test_userinfo_refuses_a_dpop_token_without_the_right_proof(sim, oauth):
    key, other = ProofKey(), ProofKey()
    token = dpop_tokens(oauth, key)["access_token"]
    url = oauth.as_url + "/userinfo"

    def ask(scheme: str, signer: ProofKey | None, proof_url: str = url):
        headers = {"Authorization": f"{scheme} {token}"}
        if signer is not None:
            headers["DPoP"] = signer.proof("GET", proof_url, token)
        return requests.get(url, headers=headers, timeout=10)

    good = ask("DPoP", key)
    assert good.status_code == 200 and good.json()["name"] == "Alice Liddell"
    for scheme, signer, proof_url, error in (
        ("Bearer", None, url, "invalid_token"),  # RFC 9449 §7.2: not as a bearer token
        ("DPoP", other, url, "invalid_token"),  # another key: invalid key binding
        ("DPoP", None, url, "invalid_dpop_proof"),  # no proof at all
        ("DPoP", key, oauth.as_url + "/token", "invalid_dpop_proof"),  # proof for elsewhere
    ):
        answer = ask(scheme, signer, proof_url)
        assert answer.status_code == 401, (scheme, answer.text)
        assert answer.json()["error"] == error
        challenge = answer.headers["WWW-Authenticate"]
        assert challenge.startswith(f"{scheme} ") and f'error="{error}"' in challenge


def test_the_backend_for_frontend_can_use_dpop_too(sim):
    """`/bff/login?dpop=1`: the backend's tokens are DPoP-bound, so its proxied API call
    carries a proof by the client app's key; the browser still sees no token."""
    flow = sim.new_flow("bff-dpop")
    ua = sim.user_agent(flow)
    page = log_in_and_consent(ua, ua.get(sim.client_url + "/bff/login?dpop=1"))
    answer = ua.request(
        "GET", sim.client_url + "/bff/api/photos", headers={CSRF_HEADER: page_csrf(page.text)}
    )
    trace = sim.trace(flow)
    sim.end_flow(flow)
    assert answer.status_code == 200 and "Tea party" in answer.text
    issued = json.loads(token_requests(trace)[0].response_body)
    assert issued["token_type"] == "DPoP"
    call = next(e for e in trace.events if e.to == RESOURCE_SERVER)
    assert (call.sender, call.status) == (CLIENT, 200)
    assert header(call.request_headers, "Authorization") == f"DPoP {issued['access_token']}"
    assert proof(call)["claims"]["ath"] == access_token_hash(issued["access_token"])
    assert issued["access_token"] not in answer.text
