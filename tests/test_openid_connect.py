"""OpenID Connect over real loopback: the discovery document, the ID token as Authlib's own
OIDC client and PyJWT see it, /userinfo and its errors, and the client's checks."""

from __future__ import annotations

import secrets
import time

import jwt as pyjwt
import pytest
import requests
from authlib.integrations.base_client.sync_openid import OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.errors import InvalidClaimError
from joserfc.jwk import ECKey, KeySet

from sim.client.id_token import IDTokenError, verify_id_token


class RelyingParty(OpenIDMixin):
    """Authlib's own ID token validation (the one its Flask/Django clients use), fed by our
    discovery document: issuer, jwks_uri and the signing algorithms all come from it."""

    def __init__(self, issuer: str, client_id: str) -> None:
        self.client_id = client_id
        self.server_metadata = requests.get(
            issuer + "/.well-known/openid-configuration", timeout=10
        ).json()

    def load_server_metadata(self):
        return self.server_metadata

    def _get_session(self):
        return OAuth2Session(self.client_id)


def test_discovery_document_is_the_rfc8414_document_and_valid_for_authlib(sim):
    issuer = sim.authorization_server_url
    openid = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    oauth = requests.get(issuer + "/.well-known/oauth-authorization-server", timeout=10).json()
    assert openid == oauth  # one document: the two can never disagree
    OpenIDProviderMetadata(openid).validate()
    assert openid["issuer"] == issuer
    assert openid["userinfo_endpoint"] == issuer + "/userinfo"
    assert openid["id_token_signing_alg_values_supported"] == ["RS256"]
    assert "openid" in openid["scopes_supported"]
    keys = requests.get(openid["jwks_uri"], timeout=10).json()["keys"]
    assert [k["kid"] for k in keys] == ["sim-es256", "sim-rs256"]
    assert not any("d" in k for k in keys)  # public halves only


def _oidc_tokens(oauth, nonce: str, scope: str = "openid profile") -> dict:
    grant = oauth.get_code(scope=scope, nonce=nonce)
    answer = oauth.redeem(grant)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_authlib_oidc_client_validates_our_id_token(oauth, sim):
    nonce = secrets.token_urlsafe(16)
    before = int(time.time())
    tokens = _oidc_tokens(oauth, nonce)
    rp = RelyingParty(sim.authorization_server_url, "demo-client")
    user = rp.parse_id_token(tokens, nonce=nonce)
    assert user["sub"] == "1" and user["nonce"] == nonce
    assert user["iss"] == sim.authorization_server_url and user["aud"] == ["demo-client"]
    assert before - 5 <= user["auth_time"] <= user["iat"] < user["exp"]
    with pytest.raises(InvalidClaimError):
        rp.parse_id_token(tokens, nonce="another-login")


def test_pyjwt_verifies_the_id_token_with_the_published_key(oauth, sim):
    nonce = secrets.token_urlsafe(16)
    tokens = _oidc_tokens(oauth, nonce)
    jwks = pyjwt.PyJWKClient(sim.authorization_server_url + "/jwks.json")
    key = jwks.get_signing_key_from_jwt(tokens["id_token"]).key
    claims = pyjwt.decode(
        tokens["id_token"],
        key,
        algorithms=["RS256"],
        audience="demo-client",
        issuer=sim.authorization_server_url,
        options={"require": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce"]},
    )
    assert claims["nonce"] == nonce
    # Two audiences: the ID token is for the client, the access token for the API.
    access = pyjwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert access["aud"] == sim.resource_server_url != claims["aud"]
    assert "name" not in claims  # profile claims come from UserInfo in the code flow


def test_no_openid_scope_no_id_token(oauth):
    assert "id_token" not in oauth.tokens(scope="profile")


def test_userinfo_answers_for_an_openid_token_only(oauth, sim):
    url = sim.authorization_server_url + "/userinfo"
    tokens = _oidc_tokens(oauth, secrets.token_urlsafe(16))
    bearer = {"Authorization": "Bearer " + tokens["access_token"]}
    for method in ("GET", "POST"):
        info = requests.request(method, url, headers=bearer, timeout=10)
        assert info.status_code == 200
        assert info.json() == {"sub": "1", "name": "Alice Liddell", "preferred_username": "alice"}
    plain = oauth.tokens(scope="profile")["access_token"]
    refused = requests.get(url, headers={"Authorization": "Bearer " + plain}, timeout=10)
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer "}):
        answer = requests.get(url, headers=headers, timeout=10)
        assert answer.status_code in (400, 401), answer.text
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_scenario_signs_alice_in_and_shows_the_two_audiences(sim):
    outcome = sim.run("openid-connect").outcome
    assert outcome["nonce_echoed"] and outcome["page_shows_sub"] and outcome["userinfo_called"]
    assert outcome["id_token_aud"] == ["demo-client"]
    assert outcome["access_token_aud"] == sim.resource_server_url
    for claim in ("iss", "sub", "aud", "exp", "iat", "nonce", "auth_time"):
        assert claim in outcome["id_token_claims"]


# -- the client's own check, against tokens we sign here ----------------------------------


@pytest.fixture(scope="module")
def signer():
    return ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)


def _id_token(signer, **changes) -> str:
    now = int(time.time())
    claims = {"iss": "https://as", "sub": "1", "aud": ["demo-client"], "iat": now}
    claims.update(exp=now + 60, nonce="n1", auth_time=now)
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "ES256", "kid": "k1"}, claims, signer)


def _check(signer, token: str, nonce: str | None = "n1"):
    jwks = KeySet([signer]).as_dict(private=False)
    return verify_id_token(token, jwks, "https://as", "demo-client", nonce)


@pytest.mark.parametrize(
    "changes, reason",
    [
        ({"nonce": "n2"}, "nonce"),  # an ID token from another login (injected)
        ({"nonce": None}, "nonce"),
        ({"aud": ["other-client"], "azp": "demo-client"}, "aud"),  # Authlib alone lets it by
        ({"iss": "https://evil"}, "iss"),
        ({"exp": int(time.time()) - 3600}, "exp"),
    ],
)
def test_the_client_refuses_an_id_token_that_fails_a_check(signer, changes, reason):
    assert _check(signer, _id_token(signer))["sub"] == "1"
    with pytest.raises(IDTokenError) as refused:
        _check(signer, _id_token(signer, **changes))
    assert refused.value.reason == reason


def test_the_client_refuses_a_forged_or_unsigned_id_token(signer):
    other = ECKey.generate_key("P-256", parameters={"kid": "k1"}, private=True)
    with pytest.raises(IDTokenError) as forged:
        _check(signer, _id_token(other))
    assert forged.value.reason == "signature"
    with pytest.raises(IDTokenError):
        _check(signer, _id_token(signer), nonce=None)  # no login in progress in this session
