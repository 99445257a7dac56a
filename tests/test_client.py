"""The client's own defences and pages: state (CSRF), clean callback URL, logout."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from sim.scenarios.base import csrf, log_in_and_consent


def start_login(sim, flow_name="client-test"):
    ua = sim.user_agent(sim.new_flow(flow_name))
    answer = log_in_and_consent(ua, ua.get(sim.client_url + "/login"), stop_at=sim.client_url)
    assert answer.status_code == 302
    return ua, answer.headers["Location"]


def test_callback_with_wrong_state_is_refused_with_a_page_explaining_csrf(sim):
    ua, location = start_login(sim)
    tampered = location.replace("state=", "state=x")
    response = ua.get(tampered)
    assert response.status_code == 400
    assert "state does not match" in response.text and "CSRF" in response.text


def test_callback_without_state_is_refused(sim):
    ua, location = start_login(sim)
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = ua.get(f"{sim.client_url}/callback?code={code}")
    assert response.status_code == 400


def test_callback_with_wrong_iss_is_refused(sim):
    ua, location = start_login(sim)
    response = ua.get(location.replace("iss=http", "iss=https"))
    assert response.status_code == 400
    assert "wrong issuer" in response.text


def test_callback_redirects_to_a_clean_url_and_keeps_tokens_server_side(sim):
    ua, location = start_login(sim)
    response = ua.get(location)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    home = ua.follow(response)
    assert "Tea party" in home.text
    assert "access_token" not in home.text
    cookies = {c.name for c in ua.session.cookies}
    assert "sim_client_session" in cookies and "sim_as_session" in cookies


def test_logout_revokes_the_tokens(sim):
    flow = sim.new_flow("logout")
    ua = sim.user_agent(flow)
    home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
    response = ua.request("POST", sim.client_url + "/logout", data={"csrf_token": csrf(home.text)})
    assert response.status_code == 302
    trace = sim.trace(flow)
    revoke = [e for e in trace.events if e.path == "/revoke"]
    assert len(revoke) == 1 and revoke[0].status == 200 and revoke[0].sender == "client"
    assert "Log in with the authorization server" in ua.follow(response).text


def test_a_refused_refresh_before_an_api_call_logs_out_instead_of_500(sim):
    import requests  # noqa: PLC0415

    flow = sim.new_flow("refresh-refused", access_token_lifetime=30)  # inside the leeway
    ua = sim.user_agent(flow)
    home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
    assert "Tea party" in home.text
    token_event = next(e for e in reversed(sim.trace(flow).events) if e.path == "/token")
    refresh_token = dict(token_event.values)["refresh_token"]
    requests.post(
        sim.authorization_server_url + "/revoke",
        data={"token": refresh_token},
        auth=("demo-client", "demo-secret"),
        timeout=5,
    )
    answer = ua.request(
        "POST", sim.client_url + "/photos", data={"csrf_token": csrf(home.text), "title": "x"}
    )
    assert answer.status_code == 200 and "Your session ended" in answer.text
