"""The backend-for-frontend over real loopback: the page's script talks only to its own
backend, which holds the tokens; the browser never receives the access token, and the
proxy refuses calls without a session (401) or without the CSRF header (403)."""

from __future__ import annotations

import pytest
import requests

from sim.parties import AUTHORIZATION_SERVER, CLIENT, USER_AGENT
from sim.scenarios.base import log_in_and_consent
from sim.scenarios.bff import CSRF_HEADER, issued_access_tokens, page_csrf


@pytest.fixture(scope="module")
def result(sim):
    return sim.run("bff")


def test_flow_completes_and_the_api_answer_reaches_the_page(result):
    assert result.outcome["api_answer_reached_page"] == ["Tea party", "The White Rabbit"]
    proxied = [e for e in result.trace if e.sender == USER_AGENT and "/bff/api/photos" in e.url]
    assert len(proxied) == 1 and proxied[0].status == 200
    assert "Tea party" in proxied[0].response_body


def test_the_browser_never_receives_the_access_token(result):
    trace = result.trace
    issued = issued_access_tokens(trace)
    assert issued, "the backend got no access token at the token endpoint"
    to_browser = [e for e in trace if e.sender == USER_AGENT]
    assert to_browser
    for event in to_browser:
        for token in issued:
            assert token not in event.response_body
            assert all(token not in value for value in event.response_headers.values())
    # The token went back-channel only: client -> authorization server.
    token_steps = [e for e in trace if e.url.endswith("/token")]
    assert token_steps and all(
        (e.sender, e.to) == (CLIENT, AUTHORIZATION_SERVER) for e in token_steps
    )
    assert result.outcome["access_token_reached_browser"] is False


def _browser(sim) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    return session


def test_the_proxy_refuses_without_a_session(sim):
    with _browser(sim) as browser:
        answer = browser.get(sim.client_url + "/bff/api/photos", headers={CSRF_HEADER: "x"})
    assert answer.status_code == 401
    assert answer.json()["error"] == "not_logged_in"


def test_the_proxy_refuses_without_the_csrf_header(sim):
    flow = sim.new_flow("bff-csrf")
    try:
        ua = sim.user_agent(flow)
        page = log_in_and_consent(ua, ua.get(sim.client_url + "/bff/login"))
        token = page_csrf(page.text)
        missing = ua.request("GET", sim.client_url + "/bff/api/photos")
        wrong = ua.request(
            "GET", sim.client_url + "/bff/api/photos", headers={CSRF_HEADER: token + "x"}
        )
        right = ua.request("GET", sim.client_url + "/bff/api/photos", headers={CSRF_HEADER: token})
    finally:
        sim.end_flow(flow)
    assert missing.status_code == 403 and missing.json()["error"] == "csrf"
    assert wrong.status_code == 403
    assert right.status_code == 200 and right.json()["photos"]
