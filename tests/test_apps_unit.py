"""Each app on its own through Flask's `test_client()`: no server, no socket, no other party.

Fast checks of what an app answers by itself, beside the loopback tests that run the whole
protocol between real servers. Only requests an app can answer without calling another
party belong here (the resource server's introspection, for one, needs the real AS).
"""

from __future__ import annotations

import base64

import pytest

from sim.parties import (
    ATTACKER,
    AUTHORIZATION_SERVER,
    CLIENT,
    DEFAULT_URLS,
    RESOURCE_SERVER,
    client_by_id,
)
from sim.runtime.manager import build_app


@pytest.fixture(scope="module")
def clients():
    """A test client per app, each built as the manager builds it (untraced)."""
    parties = (AUTHORIZATION_SERVER, RESOURCE_SERVER, CLIENT, ATTACKER)
    return {p: build_app(p, DEFAULT_URLS, None, {}).test_client() for p in parties}


def basic(client_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize("party", [AUTHORIZATION_SERVER, RESOURCE_SERVER, CLIENT, ATTACKER])
def test_every_app_answers_its_health_check(clients, party):
    assert clients[party].get("/healthz").status_code == 200


def test_metadata_names_the_configured_issuer(clients):
    answer = clients[AUTHORIZATION_SERVER].get("/.well-known/oauth-authorization-server")
    assert answer.status_code == 200
    assert answer.json["issuer"] == DEFAULT_URLS[AUTHORIZATION_SERVER]
    assert answer.json["code_challenge_methods_supported"] == ["S256"]


def test_unknown_client_gets_an_error_page_never_a_redirect(clients):
    answer = clients[AUTHORIZATION_SERVER].get("/authorize?client_id=nobody&response_type=code")
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_wrong_client_secret_is_invalid_client_with_a_basic_challenge(clients):
    service = client_by_id("demo-service")
    answer = clients[AUTHORIZATION_SERVER].post(
        "/token",
        data={"grant_type": "client_credentials"},
        headers=basic(service.client_id, "not-" + (service.secret or "")),
    )
    assert answer.status_code == 401 and answer.json["error"] == "invalid_client"
    assert answer.headers["WWW-Authenticate"].startswith("Basic")


def test_right_client_secret_gets_a_token_without_a_refresh_token(clients):
    service = client_by_id("demo-service")
    answer = clients[AUTHORIZATION_SERVER].post(
        "/token",
        data={"grant_type": "client_credentials", "scope": "photos:read"},
        headers=basic(service.client_id, service.secret or ""),
    )
    assert answer.status_code == 200, answer.json
    assert answer.json["token_type"] == "Bearer" and "refresh_token" not in answer.json
    assert answer.headers["Cache-Control"] == "no-store"


def test_api_without_a_token_is_challenged(clients):
    answer = clients[RESOURCE_SERVER].get("/api/profile")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_api_refuses_a_token_in_the_query(clients):
    answer = clients[RESOURCE_SERVER].get("/api/profile?access_token=abc")
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request"


def test_client_refuses_a_callback_it_never_started(clients):
    answer = clients[CLIENT].get("/callback?code=x&state=y")
    assert answer.status_code == 400


def test_client_login_redirects_with_state_and_an_s256_challenge(clients):
    from sim.tracing import url_param

    answer = clients[CLIENT].get("/login")
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(DEFAULT_URLS[AUTHORIZATION_SERVER] + "/authorize")
    assert url_param(location, "state") and url_param(location, "code_challenge")
    assert url_param(location, "code_challenge_method") == "S256"
