"""DPoP in the real single-page app, in Debian's Chromium: the page makes a non-extractable
P-256 key with Web Crypto, signs its own DPoP proofs (no JOSE library), and the servers'
checks (sim/dpop.py at /token and at the resource server) accept them.

Optional: needs the `playwright` Python package and a browser at /usr/bin/chromium.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import jwt as pyjwt
import pytest

from sim.dpop import access_token_hash, htu_of, thumbprint
from sim.parties import AUTHORIZATION_SERVER, RESOURCE_SERVER, USER_AGENT
from sim.tracing.jwt import decode_unverified
from sim.tracing.params import header
from tests.conftest import needs_chromium

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium


def log_in(page, simulation, path: str) -> None:
    page.goto(simulation.client_url + path)
    page.click("#login")
    page.wait_for_selector("input[name=password]")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wonderland")
    page.click("button[type=submit]")
    page.click("button[value=approve]")
    page.wait_for_selector("#signed-in:not([hidden])", timeout=15_000)


def proof_of(event) -> dict:
    """The DPoP proof a request carried, its signature checked by a second JOSE library
    (PyJWT) with the public key in its header: the page's raw r||s signature is a valid
    JWS ES256 signature whoever checks it."""
    proof = header(event.request_headers, "DPoP")  # the trace title-cases names: "Dpop"
    decoded = decode_unverified(proof)
    assert decoded is not None, f"no DPoP proof on {event.request_line}: {proof!r}"
    public = pyjwt.PyJWK(decoded["header"]["jwk"], "ES256").key
    assert pyjwt.decode(proof, public, algorithms=["ES256"]) == decoded["claims"]
    return decoded


def test_spa_with_dpop_binds_its_tokens_to_a_non_extractable_key(simulation, browser):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, simulation, "/spa?dpop=1")
    assert "Tea party" in page.inner_text("#photos")
    assert page.inner_text("#token-type") == "DPoP"

    # The private key cannot be read out of the page; the public one can (it is in proofs).
    assert page.evaluate("dpop.keyPair.privateKey.extractable") is False
    exported = page.evaluate(
        "crypto.subtle.exportKey('jwk', dpop.keyPair.privateKey)"
        ".then(() => 'exported', (error) => error.name)"
    )
    assert exported == "InvalidAccessError"
    public_jwk = page.evaluate("dpop.jwk")
    jkt = thumbprint(public_jwk)  # computed here, independently of the page's own sum
    assert page.evaluate("dpop.jkt") == jkt

    events = simulation.trace("live").events
    token = next(e for e in events if urlsplit(e.url).path == "/token" and e.method == "POST")
    assert (token.sender, token.to, token.status) == (USER_AGENT, AUTHORIZATION_SERVER, 200)
    proof = proof_of(token)
    assert proof["header"]["typ"] == "dpop+jwt" and proof["header"]["alg"] == "ES256"
    assert proof["header"]["jwk"] == public_jwk and "d" not in proof["header"]["jwk"]
    assert proof["claims"]["htm"] == "POST"
    assert proof["claims"]["htu"] == htu_of(simulation.authorization_server_url + "/token")
    assert "ath" not in proof["claims"]
    answer = json.loads(token.response_body)
    assert answer["token_type"] == "DPoP"
    access_token = answer["access_token"]
    claims = decode_unverified(access_token)["claims"]
    assert claims["cnf"] == {"jkt": jkt}

    # Every API call: the DPoP scheme, a proof naming the call and the token, accepted.
    calls = [e for e in events if e.to == RESOURCE_SERVER and e.method == "GET"]
    assert {urlsplit(e.url).path for e in calls} == {"/api/profile", "/api/photos"}
    for call in calls:
        assert call.sender == USER_AGENT and call.status == 200, call.response_body
        assert header(call.request_headers, "Authorization") == f"DPoP {access_token}"
        claims = proof_of(call)["claims"]
        assert claims["htm"] == "GET" and claims["htu"] == htu_of(call.url)
        assert claims["ath"] == access_token_hash(access_token)
    jtis = [proof_of(e)["claims"]["jti"] for e in [token, *calls]]
    assert len(set(jtis)) == len(jtis)  # a fresh proof for each request

    # The refresh carries a proof by the same key: the public client's refresh token is bound.
    page.click("#refresh")
    page.wait_for_function("document.querySelectorAll('#steps dt').length >= 7")
    events = simulation.trace("live").events
    tokens = [e for e in events if urlsplit(e.url).path == "/token" and e.method == "POST"]
    assert len(tokens) == 2
    refresh = tokens[1]
    assert refresh.status == 200 and "refresh_token" in refresh.request_body
    assert proof_of(refresh)["header"]["jwk"] == public_jwk
    refreshed = json.loads(refresh.response_body)
    assert refreshed["token_type"] == "DPoP"
    assert decode_unverified(refreshed["access_token"])["claims"]["cnf"] == {"jkt": jkt}
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert errors == []
    if os.environ.get("OAUTH_SIM_SCREENSHOT"):  # to look at the page: set a PNG path
        page.screenshot(path=os.environ["OAUTH_SIM_SCREENSHOT"], full_page=True)
    context.close()
