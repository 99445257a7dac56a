"""Logging out: of the client only (its tokens revoked, the login at the authorization server
goes on, and the page says so), or everywhere (OpenID Connect RP-Initiated Logout 1.0: the
authorization server asks, ends its login session, and sends the browser back)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sim.scenarios.base import csrf, log_in_and_consent


@pytest.fixture
def flow(sim):
    name = sim.new_flow("logout-test")
    yield name
    sim.end_flow(name)


@pytest.fixture
def browser(sim, flow):
    return sim.user_agent(flow)


def logged_in(sim, browser):
    home = log_in_and_consent(browser, browser.get(sim.client_url + "/login"))
    assert "Your photos" in home.text
    return home


def post(browser, url: str, page) -> requests.Response:
    return browser.request("POST", url, data={"csrf_token": csrf(page.text)})


def login_asks_for_password(sim, browser) -> bool:
    page = browser.follow(browser.get(sim.client_url + "/login"))
    return 'name="password"' in page.text


def test_logout_of_the_client_only_leaves_the_login_at_the_authorization_server(sim, browser):
    home = logged_in(sim, browser)
    page = browser.follow(post(browser, sim.client_url + "/logout", home))
    assert "You are logged out of this app" in page.text
    assert 'id="logged-out-here"' in page.text
    assert 'action="/logout-everywhere"' in page.text
    assert not login_asks_for_password(sim, browser)  # straight to consent: no password


def test_logout_everywhere_ends_the_login_at_the_authorization_server(sim, browser, flow):
    home = logged_in(sim, browser)
    start = post(browser, sim.client_url + "/logout-everywhere", home)
    assert start.status_code == 302
    target = urlsplit(start.headers["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == (
        sim.authorization_server_url + "/end-session"
    )
    sent = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert sent["client_id"] == "demo-client"
    assert sent["post_logout_redirect_uri"] == sim.client_url + "/logged-out"
    metadata = requests.get(
        sim.authorization_server_url + "/.well-known/openid-configuration", timeout=10
    ).json()
    assert metadata["end_session_endpoint"] == sim.authorization_server_url + "/end-session"
    # The authorization server asks first (a GET alone ends nothing) ...
    ask = browser.get(start.headers["Location"])
    assert ask.status_code == 200 and 'value="logout"' in ask.text
    # ... then ends its login and sends the browser back with the state.
    done = browser.submit(ask, button="logout", follow=False)
    assert done.status_code == 302
    back = urlsplit(done.headers["Location"])
    assert sim.client_url + back.path == sim.client_url + "/logged-out"
    assert parse_qs(back.query)["state"] == [sent["state"]]
    page = browser.follow(done)
    assert "Logged out everywhere" in page.text
    assert login_asks_for_password(sim, browser)
    # The step notes tell the logout from the trace (RP-Initiated Logout 1.0 §2).
    notes = {(e.method, e.path.split("?")[0]): e for e in sim.trace(flow)}
    assert notes[("GET", "/end-session")].note.startswith("The authorization server asks")
    assert notes[("POST", "/end-session")].note.startswith("The user confirms")
    assert "RP-Initiated Logout" in notes[("POST", "/end-session")].rfc


def test_staying_logged_in_does_not_go_back_as_if_logged_out(sim, browser):
    home = logged_in(sim, browser)
    ask = browser.get(
        post(browser, sim.client_url + "/logout-everywhere", home).headers["Location"]
    )
    stay = browser.submit(ask, button="stay", follow=False)
    assert stay.status_code == 200 and "Still logged in" in stay.text
    assert not login_asks_for_password(sim, browser)


def test_an_openid_login_sends_its_id_token_as_the_hint(sim, browser):
    home = log_in_and_consent(browser, browser.get(sim.client_url + "/login?openid=1"))
    start = post(browser, sim.client_url + "/logout-everywhere", home)
    hint = parse_qs(urlsplit(start.headers["Location"]).query)["id_token_hint"][0]
    assert hint.count(".") == 2  # a JWT: the ID token the client received


def test_end_session_redirects_only_to_a_registered_uri_and_needs_the_form(sim, browser):
    logged_in(sim, browser)
    ask = browser.get(
        sim.authorization_server_url
        + "/end-session?client_id=demo-client&post_logout_redirect_uri="
        + requests.utils.quote(sim.attacker_url + "/steal", safe="")
    )
    done = browser.submit(ask, button="logout", follow=False)
    assert done.status_code == 200 and "Location" not in done.headers
    assert "Logged out" in done.text
    # Without the form's CSRF token, nothing ends.
    forged = requests.post(
        sim.authorization_server_url + "/end-session", data={"decision": "logout"}, timeout=10
    )
    assert forged.status_code == 400
