"""Issue 12, over real loopback HTTP: inputs that used to give a 500, a strict token
endpoint, consent honoured in every grant, sessions that really end, and the client's one
way of answering a server's refusal. Each test failed on the code before its fix."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sim.scenarios.base import csrf, log_in_and_consent

NON_ASCII = ["é", "☃", "\u00ff\u0100"]


@pytest.mark.parametrize("value", NON_ASCII)
@pytest.mark.parametrize(
    "app, path",
    [
        ("authorization_server_url", "/login"),
        ("authorization_server_url", "/logout"),
        ("authorization_server_url", "/authorize"),
        ("client_url", "/logout"),
        ("client_url", "/refresh"),
        ("client_url", "/photos"),
    ],
)
def test_non_ascii_csrf_token_is_a_400_not_a_500(sim, app, path, value):
    # A cross-site form needs no token of its own to send this.
    response = requests.post(
        getattr(sim, app) + path, data={"csrf_token": value}, allow_redirects=False, timeout=10
    )
    assert response.status_code in (302, 400), response.text[:300]
    if response.status_code == 302:  # /authorize without a login goes to the login page
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("value", NON_ASCII)
def test_non_ascii_csrf_token_with_a_session_is_a_400(sim, value):
    ua = sim.user_agent(sim.new_flow("csrf-non-ascii"))
    ua.get(sim.authorization_server_url + "/login")
    answer = ua.request(
        "POST",
        sim.authorization_server_url + "/login",
        data={"csrf_token": value, "username": "alice", "password": "wonderland"},
    )
    assert answer.status_code == 400


@pytest.mark.parametrize("state", ["%E2%98%83", "%C3%A9", "%FF"])
def test_callback_with_non_ascii_state_is_refused_not_a_500(sim, state):
    ua = sim.user_agent(sim.new_flow("state-non-ascii"))
    start = ua.get(sim.client_url + "/login")  # the session now holds a pending login
    assert start.status_code in (200, 302)
    answer = ua.get(f"{sim.client_url}/callback?state={state}&code=x")
    assert answer.status_code == 400
    assert "state does not match" in answer.text


def _logged_in_client(sim, flow_name: str, **options):
    """A browser logged in at the client, and the code the client redeemed for it."""
    flow = sim.new_flow(flow_name)
    if options:
        sim.store.set_flow_options(flow, options)
    ua = sim.user_agent(flow)
    callback = log_in_and_consent(ua, ua.get(sim.client_url + "/login"), stop_at=sim.client_url)
    code = parse_qs(urlsplit(callback.headers["Location"]).query)["code"][0]
    home = ua.open(callback.headers["Location"])
    assert "Your photos" in home.text
    return ua, code, home


def _replay_code(sim, code: str) -> None:
    """The code comes back a second time, from its own client: everything issued from it is
    revoked (RFC 6749 §4.1.2), the client's refresh token included."""
    replay = requests.post(
        sim.authorization_server_url + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": sim.client_url + "/callback",
        },
        auth=("demo-client", "demo-secret"),
        timeout=10,
    )
    assert replay.json()["error"] == "invalid_grant"


def test_a_refused_refresh_answers_alike_on_every_page_and_ends_the_session(sim):
    answers = []
    for page in ("/refresh", "/"):
        # Tokens live 30 s, under the client's 60 s leeway: "/" refreshes before calling.
        ua, code, home = _logged_in_client(sim, "refused-" + page, access_token_lifetime=30)
        _replay_code(sim, code)
        if page == "/refresh":
            answer = ua.request(
                "POST", sim.client_url + "/refresh", data={"csrf_token": csrf(home.text)}
            )
        else:
            answer = ua.get(sim.client_url + "/")
        assert "invalid_grant" in answer.text, answer.text[:400]
        answers.append(answer.status_code)
        after = ua.get(sim.client_url + "/")
        assert "Log in with the authorization server" in after.text
    assert answers[0] == answers[1]
