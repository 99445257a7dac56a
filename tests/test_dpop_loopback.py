"""DPoP end to end over real loopback (RFC 9449): proofs made with PyJWT (not our code) at
the token endpoint and the API; binding in the token, in introspection and for a public
client's refresh token; each way a proof can be wrong is a clear OAuth error."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest
import requests

from tests.test_dpop import PyJWTKey

SPA_CALLBACK = "/spa/callback"


@pytest.fixture
def spa(oauth, sim):
    """Get a demo-spa code and redeem it with `headers` (a public client: no secret)."""

    def redeem(headers: dict | None = None):
        grant = oauth.get_code(client_id="demo-spa", redirect_uri=sim.client_url + SPA_CALLBACK)
        data = {
            "grant_type": "authorization_code",
            "code": grant.code,
            "code_verifier": grant.verifier,
            "client_id": "demo-spa",
            "redirect_uri": sim.client_url + SPA_CALLBACK,
        }
        return oauth.token(data, auth=None, headers=headers or {})

    return redeem


def _token_url(sim) -> str:
    return sim.authorization_server_url + "/token"


def test_metadata_announces_es256_proofs(sim):
    metadata = requests.get(
        sim.authorization_server_url + "/.well-known/oauth-authorization-server", timeout=10
    ).json()
    assert metadata["dpop_signing_alg_values_supported"] == ["ES256"]


def test_a_proof_binds_the_token_to_the_key_in_jwt_and_introspection(spa, sim, oauth):
    key = PyJWTKey()
    answer = spa({"DPoP": key.proof("POST", _token_url(sim))})
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["token_type"] == "DPoP"
    claims = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["cnf"] == {"jkt": key.jkt()}
    seen = oauth.introspect(tokens["access_token"]).json()
    assert seen["active"] and seen["cnf"] == {"jkt": key.jkt()} and seen["token_type"] == "DPoP"


def test_no_proof_means_a_bearer_token(spa):
    tokens = spa().json()
    assert tokens["token_type"] == "Bearer"
    assert "cnf" not in pyjwt.decode(tokens["access_token"], options={"verify_signature": False})


def test_the_api_wants_a_proof_of_the_bound_key(spa, sim):
    key = PyJWTKey()
    token = spa({"DPoP": key.proof("POST", _token_url(sim))}).json()["access_token"]
    url = sim.resource_server_url + "/api/photos"

    def call(scheme, proof_key=None, **claims):
        headers = {"Authorization": f"{scheme} {token}"}
        if proof_key is not None:
            headers["DPoP"] = proof_key.proof("GET", url, token, **claims)
        return requests.get(url, headers=headers, timeout=10)

    ok = call("DPoP", key)
    assert ok.status_code == 200 and ok.json()["owner"] == "alice"
    as_bearer = call("Bearer")
    assert as_bearer.status_code == 401 and as_bearer.json()["error"] == "invalid_token"
    other = call("DPoP", PyJWTKey())
    assert other.status_code == 401 and other.json()["error"] == "invalid_token"
    assert other.headers["WWW-Authenticate"].startswith("DPoP ")
    stale = call("DPoP", key, iat=int(time.time()) - 600)
    assert stale.status_code == 401 and stale.json()["error"] == "invalid_dpop_proof"


BAD_TOKEN_PROOFS = {
    "wrong htm": lambda key, url: key.proof("GET", url),
    "wrong htu": lambda key, url: key.proof("POST", url.replace("/token", "/introspect")),
    "stale iat": lambda key, url: key.proof("POST", url, iat=int(time.time()) - 3600),
    "not a JWT": lambda key, url: "proof",
    "typ JWT": lambda key, url: key.proof("POST", url, header={"typ": "JWT"}),
}


@pytest.mark.parametrize("name", BAD_TOKEN_PROOFS)
def test_a_bad_proof_at_the_token_endpoint_is_invalid_dpop_proof(spa, sim, name):
    proof = BAD_TOKEN_PROOFS[name](PyJWTKey(), _token_url(sim))
    answer = spa({"DPoP": proof})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_dpop_proof"
    assert answer.headers["Cache-Control"] == "no-store"


def test_a_replayed_proof_at_the_token_endpoint_is_refused(spa, sim):
    proof = PyJWTKey().proof("POST", _token_url(sim))
    assert spa({"DPoP": proof}).status_code == 200
    again = spa({"DPoP": proof})
    assert again.status_code == 400 and again.json()["error"] == "invalid_dpop_proof"


def test_a_public_clients_refresh_token_is_bound_to_the_key(spa, sim):
    key = PyJWTKey()
    tokens = spa({"DPoP": key.proof("POST", _token_url(sim))}).json()

    def refresh(proof_key):
        headers = {"DPoP": proof_key.proof("POST", _token_url(sim))} if proof_key else {}
        data = {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "demo-spa",
        }
        return requests.post(_token_url(sim), data=data, headers=headers, timeout=10)

    for thief in (None, PyJWTKey()):
        refused = refresh(thief)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"
    fresh = refresh(key)
    assert fresh.status_code == 200 and fresh.json()["token_type"] == "DPoP"


def test_a_confidential_clients_refresh_token_is_not_bound(oauth, sim):
    key = PyJWTKey()
    grant = oauth.get_code()
    data = {
        "grant_type": "authorization_code",
        "code": grant.code,
        "code_verifier": grant.verifier,
        "redirect_uri": oauth.redirect_uri,
    }
    tokens = oauth.token(data, headers={"DPoP": key.proof("POST", _token_url(sim))}).json()
    assert tokens["token_type"] == "DPoP"
    # RFC 9449 §5: its client authentication already constrains who may refresh.
    plain = oauth.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert plain.status_code == 200 and plain.json()["token_type"] == "Bearer"


def test_the_dpop_scenario_binds_every_token_to_the_page_key(sim):
    outcome = sim.run("dpop").outcome
    assert outcome["token_type"] == outcome["refreshed_token_type"] == "DPoP"
    assert outcome["access_token_cnf_jkt"] == outcome["key_thumbprint"]
    assert outcome["api_status"] == {"photos": 200, "profile": 200}


def test_token_replay_is_refused_at_the_resource_server_with_dpop(sim):
    result = sim.run("token-replay")
    outcome = result.outcome
    assert outcome["token_stolen"] and outcome["victim_api_status"] == 200
    assert not outcome["attack_succeeded"] and outcome["evidence"] is None
    assert outcome["stopped_by"] == "dpop"
    refused = result.trace.events[outcome["refused_at"] - 1]
    assert (refused.sender, refused.to, refused.status) == ("attacker", "resource-server", 401)
    assert outcome["attacker_as_bearer_status"] == outcome["attacker_with_own_key_status"] == 401


def test_token_replay_succeeds_with_a_bearer_token(sim):
    outcome = sim.run("token-replay", off=["dpop"]).outcome
    assert outcome["token_type"] == "Bearer" and outcome["defences_off"] == ["dpop"]
    assert outcome["attack_succeeded"] and outcome["attacker_read_photos_of"] == "alice"
    assert outcome["stopped_by"] is None and outcome["refused_at"] is None
