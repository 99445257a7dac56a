"""DPoP proofs (RFC 9449 §4.3) checked against a second JOSE library (PyJWT), and the
resource server's DPoP scheme (§7.1, §7.2) through Flask's test client with a stand-in for
introspection (the loopback tests with real tokens are in test_beyond_interop.py)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from sim.dpop import (
    DPoPProofError,
    ProofKey,
    ReplayCache,
    access_token_hash,
    check_proof,
    htu_of,
    thumbprint,
)
from sim.parties import DEFAULT_URLS, RESOURCE_SERVER
from sim.resource_server import create_app
from sim.resource_server.protector import IntrospectionValidator

API = "http://127.0.0.1:9002/api/photos"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class PyJWTKey:
    """A DPoP key and proofs made with PyJWT and `cryptography` only: none of our code."""

    def __init__(self) -> None:
        self.private = ec.generate_private_key(ec.SECP256R1())
        self.jwk = json.loads(pyjwt.algorithms.ECAlgorithm.to_jwk(self.private.public_key()))

    def proof(self, method="GET", url=API, token=None, header=None, drop=(), **claims) -> str:
        body = {"jti": uuid.uuid4().hex, "htm": method, "htu": url, "iat": int(time.time())}
        if token is not None:
            digest = hashlib.sha256(token.encode("ascii")).digest()
            body["ath"] = b64(digest)
        body.update(claims)
        for name in drop:
            body.pop(name)
        headers = {"typ": "dpop+jwt", "jwk": self.jwk, **(header or {})}
        return pyjwt.encode(body, self.private, algorithm="ES256", headers=headers)

    def jkt(self) -> str:
        """RFC 7638 §3.2 by hand: the required members, sorted, no whitespace."""
        members = {k: self.jwk[k] for k in ("crv", "kty", "x", "y")}
        canonical = json.dumps(members, separators=(",", ":"), sort_keys=True)
        return b64(hashlib.sha256(canonical.encode()).digest())


def test_a_proof_made_by_pyjwt_is_accepted_and_gives_the_rfc7638_thumbprint():
    key = PyJWTKey()
    assert check_proof([key.proof(token="tok")], "GET", API + "?x=1", "tok") == key.jkt()
    assert thumbprint(key.jwk) == key.jkt()


def test_our_proof_verifies_with_pyjwt():
    key = ProofKey()
    proof = key.proof("POST", "http://127.0.0.1:9001/token?ignored=1")
    header = pyjwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256" and "d" not in header["jwk"]
    public = pyjwt.PyJWK(header["jwk"], "ES256").key
    claims = pyjwt.decode(proof, public, algorithms=["ES256"])
    assert claims["htm"] == "POST" and claims["htu"] == "http://127.0.0.1:9001/token"
    assert abs(claims["iat"] - time.time()) < 5 and claims["jti"]
    with_token = pyjwt.decode(key.proof("GET", API, "abc"), public, algorithms=["ES256"])
    assert with_token["ath"] == b64(hashlib.sha256(b"abc").digest()) == access_token_hash("abc")


def _hs256_proof(key: PyJWTKey) -> str:
    body = {"jti": "1", "htm": "GET", "htu": API, "iat": int(time.time())}
    return pyjwt.encode(body, "k" * 32, algorithm="HS256", headers={"typ": "dpop+jwt"})


def _none_proof(key: PyJWTKey) -> str:
    header = b64(json.dumps({"typ": "dpop+jwt", "alg": "none", "jwk": key.jwk}).encode())
    body = b64(json.dumps({"jti": "1", "htm": "GET", "htu": API, "iat": int(time.time())}).encode())
    return f"{header}.{body}."


def _private_jwk_proof(key: PyJWTKey) -> str:
    private = json.loads(pyjwt.algorithms.ECAlgorithm.to_jwk(key.private))
    return key.proof(header={"jwk": private})


def _forged_signature(key: PyJWTKey) -> str:
    other = PyJWTKey()
    return other.proof(header={"jwk": key.jwk})


BAD_PROOFS = {
    "not a JWT": lambda k: "not-a-jwt",
    "garbage segments": lambda k: "a.b.c",
    "typ JWT": lambda k: k.proof(header={"typ": "JWT"}),
    "alg HS256": _hs256_proof,
    "alg none": _none_proof,
    "private key in jwk": _private_jwk_proof,
    "signed by another key": _forged_signature,
    "no jti": lambda k: k.proof(drop=("jti",)),
    "no iat": lambda k: k.proof(drop=("iat",)),
    "wrong htm": lambda k: k.proof(method="POST"),
    "wrong htu": lambda k: k.proof(url="http://127.0.0.1:9002/api/profile"),
    "other host in htu": lambda k: k.proof(url="http://localhost:9002/api/photos"),
    "stale iat": lambda k: k.proof(iat=int(time.time()) - 3600),
    "iat in the future": lambda k: k.proof(iat=int(time.time()) + 3600),
    "iat not a number": lambda k: k.proof(iat="now"),
    "ath of another token": lambda k: k.proof(token="another"),
    "no ath": lambda k: k.proof(),
}


@pytest.mark.parametrize("name", BAD_PROOFS)
def test_each_bad_proof_is_invalid_dpop_proof(name):
    key = PyJWTKey()
    proof = BAD_PROOFS[name](key)
    with pytest.raises(DPoPProofError) as raised:
        check_proof([proof], "GET", API, "tok")
    assert raised.value.error == "invalid_dpop_proof" and raised.value.description


def test_two_dpop_headers_and_a_replayed_jti_are_refused():
    key = PyJWTKey()
    proof = key.proof()
    with pytest.raises(DPoPProofError, match="exactly one"):
        check_proof([proof, proof], "GET", API)
    cache = ReplayCache()
    assert check_proof([proof], "GET", API, replay=cache) == key.jkt()
    with pytest.raises(DPoPProofError, match="already used"):
        check_proof([proof], "GET", API, replay=cache)


def test_the_replay_cache_is_bounded_and_forgets_what_would_be_stale_anyway():
    cache = ReplayCache(capacity=3, ttl=10)
    for jti in "abcd":
        assert cache.first_use("k", jti, now=100)
    assert len(cache) == 3  # "a" was pushed out
    assert not cache.first_use("k", "d", now=105)
    assert cache.first_use("k", "d", now=200)  # expired, then recorded again
    assert len(cache) == 1


def test_htu_comparison_normalises_case_and_default_port_only():
    assert htu_of("HTTP://Example.COM:80/a?b#c") == "http://example.com/a"
    assert htu_of("https://example.com:443/a") == "https://example.com/a"
    assert htu_of("http://example.com:8080/A") == "http://example.com:8080/A"


# -- the resource server's DPoP scheme, with introspection answered by a stand-in -------------


@pytest.fixture()
def rs(monkeypatch):
    """The resource server app; `rs.tokens[token] = introspection answer`."""
    tokens: dict[str, dict] = {}

    def introspect(self, token_string):
        return tokens.get(token_string, {"active": False})

    monkeypatch.setattr(IntrospectionValidator, "introspect_token", introspect)
    app = create_app({"TESTING": True})
    client = app.test_client()
    client.tokens = tokens
    return client


#: The photo API's own identifier, which introspection names in `aud` (RFC 9068 §4).
AUDIENCE = DEFAULT_URLS[RESOURCE_SERVER]


def _active(jkt=None, scope="profile photos:read"):
    answer = {"active": True, "username": "alice", "sub": "1", "scope": scope, "aud": AUDIENCE}
    if jkt:
        answer["cnf"] = {"jkt": jkt}
        answer["token_type"] = "DPoP"
    return answer


URL = "http://localhost/api/photos"


def test_rs_accepts_a_dpop_bound_token_only_with_a_proof_of_its_key(rs):
    key = PyJWTKey()
    rs.tokens["T"] = _active(key.jkt())
    ok = rs.get(
        "/api/photos", headers={"Authorization": "DPoP T", "DPoP": key.proof("GET", URL, "T")}
    )
    assert ok.status_code == 200 and ok.json["owner"] == "alice"

    as_bearer = rs.get("/api/photos", headers={"Authorization": "Bearer T"})
    assert as_bearer.status_code == 401 and as_bearer.json["error"] == "invalid_token"
    assert as_bearer.headers["WWW-Authenticate"].startswith(
        'Bearer realm="photos", error="invalid_token"'
    )

    thief = PyJWTKey()
    other_key = rs.get(
        "/api/photos", headers={"Authorization": "DPoP T", "DPoP": thief.proof("GET", URL, "T")}
    )
    assert other_key.status_code == 401 and other_key.json["error"] == "invalid_token"
    challenge = other_key.headers["WWW-Authenticate"]
    assert challenge.startswith("DPoP ") and 'error="invalid_token"' in challenge
    assert 'algs="ES256"' in challenge


def test_rs_refuses_a_missing_replayed_or_wrong_proof_with_invalid_dpop_proof(rs):
    key = PyJWTKey()
    rs.tokens["T"] = _active(key.jkt())
    proof = key.proof("GET", URL, "T")
    assert (
        rs.get("/api/photos", headers={"Authorization": "DPoP T", "DPoP": proof}).status_code == 200
    )
    cases = {
        "missing": {"Authorization": "DPoP T"},
        "replayed": {"Authorization": "DPoP T", "DPoP": proof},
        "wrong htm": {"Authorization": "DPoP T", "DPoP": key.proof("POST", URL, "T")},
        "two headers": {"Authorization": "DPoP T", "DPoP": f"{proof}, {proof}"},
    }
    for name, headers in cases.items():
        answer = rs.get("/api/photos", headers=headers)
        assert answer.status_code == 401, name
        assert answer.json["error"] == "invalid_dpop_proof", name
        assert answer.headers["WWW-Authenticate"].startswith(
            'DPoP realm="photos", error="invalid_dpop_proof"'
        ), name


def test_rs_refuses_a_bearer_token_sent_with_the_dpop_scheme_and_checks_scope(rs):
    key = PyJWTKey()
    rs.tokens["B"] = _active()
    answer = rs.get(
        "/api/photos", headers={"Authorization": "DPoP B", "DPoP": key.proof("GET", URL, "B")}
    )
    assert answer.status_code == 401 and answer.json["error"] == "invalid_token"
    rs.tokens["P"] = _active(key.jkt(), scope="profile")
    narrow = rs.get(
        "/api/photos", headers={"Authorization": "DPoP P", "DPoP": key.proof("GET", URL, "P")}
    )
    assert narrow.status_code == 403 and narrow.json["error"] == "insufficient_scope"
    assert narrow.headers["WWW-Authenticate"].startswith("DPoP ")
    assert 'scope="photos:read"' in narrow.headers["WWW-Authenticate"]
