"""The other flows over real loopback HTTP: public client + PKCE, refresh rotation, client
credentials, the deprecated implicit flow, revocation, and the user's consent choices."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from click.testing import CliRunner

from sim.cli import main
from sim.parties import AUTHORIZATION_SERVER, CLIENT, PRINT_SHOP_API, RESOURCE_SERVER, USER_AGENT
from sim.scenarios import SCENARIOS
from tests.conftest import s256

FLOWS = (
    "public-client-pkce",
    "refresh-rotation",
    "client-credentials",
    "implicit-legacy",
    "revocation",
    "consent-denied",
    "scope-downgrade",
)
FRONT = ("redirect", "page", "form-post")


@pytest.fixture(scope="module")
def simulation(sim):
    """The session's running simulation (tests/conftest.py)."""
    return sim


@pytest.fixture(scope="module")
def results(simulation):
    return {name: simulation.run(name) for name in FLOWS}


@pytest.fixture()
def http():
    with requests.Session() as session:
        session.trust_env = False
        yield session


def carriers(trace, name: str):
    return [e for e in trace if any(n == name for n, _ in e.values)]


def path(event) -> str:
    return urlsplit(event.url).path


# -- every flow -----------------------------------------------------------------------------
def test_listed_with_descriptions():
    for name in FLOWS:
        assert name in SCENARIOS
        assert SCENARIOS[name].description
    assert CliRunner().invoke(main, ["scenarios"]).exit_code == 0


@pytest.mark.parametrize("name", FLOWS)
def test_every_step_is_explained_with_a_reference(results, name):
    trace = results[name].trace
    assert len(trace) > 0
    for event in trace:
        assert event.note, f"{name} step {event.seq} {event.method} {event.url} has no note"
        assert event.rfc, f"{name} step {event.seq} has no reference"
    assert trace.to_svg().lstrip().startswith("<")


@pytest.mark.parametrize(
    "args",
    [["run", "refresh-rotation", "--insecure"], ["run", "no-such-flow"]],
    ids=["option-not-supported", "unknown"],
)
def test_bad_input_is_one_line_and_exit_2(args):
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0
    assert "Error:" in result.output


def test_cli_json(simulation):
    result = CliRunner().invoke(main, ["run", "client-credentials", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["scenario"] == "client-credentials"
    assert data["outcome"]["refresh_token_issued"] is False
    assert [e["from"] for e in data["events"]] == [CLIENT, CLIENT, RESOURCE_SERVER] * 2


# -- public client + PKCE -------------------------------------------------------------------
def test_public_client_tokens_never_travel_in_a_url(results):
    """What the SPA did with its tokens, from the trace (its outcome's `tokens_held_in` is a
    sentence the scenario writes whatever happens): each token reaches the browser in the
    token response body and leaves it only in an Authorization header."""
    trace = results["public-client-pkce"].trace
    tokens = {v for e in trace for n, v in e.values if n in ("access_token", "refresh_token")}
    assert tokens
    for event in trace:
        where = event.url + (event.location or "")
        assert not any(token in where for token in tokens), event.seq
    api = [e for e in trace if e.to == RESOURCE_SERVER and e.sender == USER_AGENT]
    assert api and all(e.params.authorization.scheme == "Bearer" for e in api)


def test_public_client_pkce_outcome(results):
    outcome = results["public-client-pkce"].outcome
    assert outcome["client"] == "demo-spa"
    assert outcome["client_secret_exists"] is False
    assert outcome["client_secret_sent"] is False
    assert outcome["challenge_is_sha256_of_verifier"] is True
    assert outcome["cors_allowed_for_spa_origin"] is True
    assert outcome["tokens_issued"] == ["access_token", "refresh_token"]
    assert outcome["api_status"] == {"profile": 200, "photos": 200}
    assert outcome["logged_in_as"] == "alice"


def test_public_client_verifier_only_on_token_request(results):
    trace = results["public-client-pkce"].trace
    (token_request,) = carriers(trace, "code_verifier")
    assert (token_request.sender, token_request.method, path(token_request)) == (
        USER_AGENT,
        "POST",
        "/token",
    )
    # The page's script sends it (fetch, with CORS): a browser call, never "back-channel".
    assert token_request.kind == "browser-call" and token_request.status == 200
    assert "Authorization" not in token_request.request_headers
    assert "no-store" in token_request.response_headers["Cache-Control"]
    challenged = carriers(trace, "code_challenge")
    assert challenged and all(e.kind in FRONT and e.sender == USER_AGENT for e in challenged)
    # The challenge on the front channel is SHA256 of the verifier on the back channel.
    verifier = dict(token_request.values)["code_verifier"]
    challenge = dict(challenged[0].values)["code_challenge"]
    assert challenge == s256(verifier)
    assert parse_qs(urlsplit(challenged[0].url).query)["code_challenge_method"] == ["S256"]


def test_public_client_has_no_secret_anywhere(results):
    trace = results["public-client-pkce"].trace
    spa_events = [e for e in trace if e.sender == USER_AGENT]
    assert not any(n == "client_secret" for e in spa_events for n, _ in e.values)
    assert not any("secret" in e.request_body for e in spa_events)
    assert {e.sender for e in trace} == {USER_AGENT, RESOURCE_SERVER}  # no client server


@pytest.mark.parametrize("method", ["OPTIONS", "POST"])
def test_token_endpoint_cors_only_for_the_spa_origin(simulation, http, method):
    url = simulation.authorization_server_url + "/token"
    data = {"grant_type": "authorization_code", "code": "x", "client_id": "demo-spa"}
    for origin, allowed in (
        (simulation.client_url, True),
        ("http://evil.example", False),
        (simulation.resource_server_url, False),
    ):
        answer = http.request(method, url, data=data, headers={"Origin": origin})
        assert answer.status_code < 500
        if allowed:
            assert answer.headers["Access-Control-Allow-Origin"] == origin
        else:
            assert "Access-Control-Allow-Origin" not in answer.headers


def test_spa_pages_and_script(simulation, http):
    for route in ("/spa", "/spa/callback"):
        page = http.get(simulation.client_url + route)
        assert page.status_code == 200
        assert "/static/spa.js" in page.text
        assert f'data-issuer="{simulation.authorization_server_url}"' in page.text
        assert 'data-client-id="demo-spa"' in page.text
        assert "never localStorage" in page.text
    script = http.get(simulation.client_url + "/static/spa.js")
    assert script.status_code == 200 and "javascript" in script.headers["Content-Type"]
    assert "crypto.subtle.digest" in script.text and "SHA-256" in script.text
    assert "localStorage." not in script.text  # tokens stay in memory
    assert not re.search(r"client_secret\s*[:=]", script.text)  # no secret is ever sent


def test_api_answers_cors_for_pages(simulation, http):
    answer = http.options(
        simulation.resource_server_url + "/api/profile",
        headers={
            "Origin": simulation.client_url,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Authorization" in answer.headers["Access-Control-Allow-Headers"]


# -- refresh rotation -----------------------------------------------------------------------
def test_refresh_rotation_outcome(results):
    outcome = results["refresh-rotation"].outcome
    # No lifetime shorter than the client's leeway: it would refresh before every call.
    assert outcome["access_token_lifetime"] > outcome["client_refresh_leeway"]
    assert outcome["refreshes"] == 1
    assert outcome["expired_token_refused_at"] is not None
    assert outcome["refresh_token_rotated"] is True
    assert outcome["tokens_in_browser"] is False


def test_refresh_rotation_trace(results):
    """The token really expires (by the authorization server's clock, moved on for this flow),
    the API refuses it with invalid_token, then the client refreshes and retries."""
    trace = results["refresh-rotation"].trace
    token_calls = [e for e in trace if path(e) == "/token"]
    grants = [parse_qs(e.request_body)["grant_type"][0] for e in token_calls]
    assert grants == ["authorization_code", "refresh_token"]
    first, second = (json.loads(e.response_body) for e in token_calls)
    assert first["expires_in"] == second["expires_in"] == 120  # the flow's own lifetime
    # The JWTs say the same, by the authorization server's (moved) clock.
    claims = [token_calls[i].jwts["access_token"]["claims"] for i in (0, 1)]
    assert [c["exp"] - c["iat"] for c in claims] == [120, 120]
    assert claims[1]["iat"] >= claims[0]["iat"] + 121
    assert second["refresh_token"] != first["refresh_token"]  # the refresh rotates
    refresh = token_calls[1]
    assert refresh.sender == CLIENT
    assert parse_qs(refresh.request_body)["refresh_token"] == [first["refresh_token"]]
    bearer = {e.seq: e.request_headers.get("Authorization", "") for e in trace}
    api = [e for e in trace if e.sender == CLIENT and e.to == RESOURCE_SERVER]
    # The first page view: both calls answered with the first token.
    assert [e.status for e in api[:2]] == [200, 200]
    assert all(first["access_token"] in bearer[e.seq] for e in api[:2])
    # After the clock moved: the same token, refused with RFC 6750's challenge ...
    refused = api[2]
    assert refused.status == 401 and first["access_token"] in bearer[refused.seq]
    assert refused.params.challenge["error"] == "invalid_token"
    assert refused.response_headers["WWW-Authenticate"].startswith("Bearer ")
    check = next(e for e in trace if e.parent == refused.exchange and path(e) == "/introspect")
    assert json.loads(check.response_body) == {"active": False}
    # ... then the refresh, then the same call again with the new token, answered 200.
    assert refused.seq < refresh.seq < api[3].seq
    assert api[3].status == 200 and second["access_token"] in bearer[api[3].seq]
    # The browser never holds a token: no token value in any exchange it took part in.
    tokens = {v for t in (first, second) for k, v in t.items() if k.endswith("_token")}
    for event in trace:
        if USER_AGENT in (event.sender, event.to):
            seen = event.url + (event.location or "") + event.response_body
            assert not any(token in seen for token in tokens)


def test_token_lifetime_is_per_flow(simulation):
    """The short lifetime belongs to refresh-rotation's flow only."""
    trace = simulation.run("happy-path").trace
    first = next(e for e in trace if path(e) == "/token" and e.status == 200)
    assert json.loads(first.response_body)["expires_in"] == 300


# -- client credentials ---------------------------------------------------------------------
def test_client_credentials(results):
    result = results["client-credentials"]
    outcome = result.outcome
    assert outcome["tokens_issued"] == ["access_token"]
    assert outcome["refresh_token_issued"] is False
    assert outcome["user_involved"] is False
    assert (outcome["api_status"], outcome["api_owner"], outcome["photos"]) == (
        200,
        "demo-service",
        [],
    )
    trace = result.trace
    assert USER_AGENT not in trace.parties
    token = next(e for e in trace if path(e) == "/token")
    assert parse_qs(token.request_body)["grant_type"] == ["client_credentials"]
    assert token.request_headers["Authorization"].startswith("Basic ")
    assert "refresh_token" not in json.loads(token.response_body)
    api = next(e for e in trace if e.to == RESOURCE_SERVER)
    assert api.sender == CLIENT and api.kind == "api-call"
    # The audience lesson: a token for the print shop's API is refused by the photo API.
    assert outcome["other_audience_token_status"] == 401
    assert outcome["other_audience_token_error"] == "invalid_token"
    other = [e for e in trace if path(e) == "/token"][1]
    assert parse_qs(other.request_body)["resource"] == [PRINT_SHOP_API]
    refused = [e for e in trace if e.to == RESOURCE_SERVER][1]
    assert refused.status == 401 and "another resource server" in refused.response_body
    assert refused.note.startswith("That token, sent to the photo API by mistake")


def test_service_token_is_not_a_user(simulation, http):
    token = http.post(
        simulation.authorization_server_url + "/token",
        data={"grant_type": "client_credentials", "scope": "photos:read"},
        auth=("demo-service", "service-secret"),
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    photos = http.get(simulation.resource_server_url + "/api/photos", headers=bearer)
    assert photos.status_code == 200
    assert photos.json()["photos"] == [] and "no user" in photos.json()["note"]
    profile = http.get(simulation.resource_server_url + "/api/profile", headers=bearer)
    assert profile.status_code == 403  # granted photos:read only
    denied = http.post(
        simulation.authorization_server_url + "/token",
        data={"grant_type": "client_credentials"},
        auth=("demo-client", "demo-secret"),
    )
    assert denied.status_code == 400 and denied.json()["error"] == "unauthorized_client"


# -- implicit (deprecated) ------------------------------------------------------------------
def test_implicit_legacy(results, simulation):
    result = results["implicit-legacy"]
    outcome = result.outcome
    assert outcome["tokens_issued"] == ["access_token"]
    assert outcome["token_in_url_fragment"] is True
    assert outcome["fragment_reached_server"] is False
    assert outcome["refresh_token_issued"] is False
    assert outcome["api_status"] == 200
    assert outcome["other_clients_refused"] == "unauthorized_client"
    trace = result.trace
    grant = next(e for e in trace if e.method == "POST" and path(e) == "/authorize")
    fragment = parse_qs(urlsplit(grant.location).fragment)
    assert fragment["token_type"] == ["Bearer"] and "refresh_token" not in fragment
    assert "access_token" not in parse_qs(urlsplit(grant.location).query)
    landing = next(e for e in trace if path(e) == "/implicit/callback")
    assert landing.to == CLIENT and "access_token" not in landing.url
    assert "never send" in landing.response_body or "never" in landing.note
    assert "/token" not in [path(e) for e in trace]  # no token endpoint at all


@pytest.mark.parametrize(
    ("client_id", "redirect_path"),
    [("demo-client", "/callback"), ("demo-spa", "/spa/callback")],
)
def test_implicit_is_off_for_every_other_client(simulation, client_id, redirect_path):
    ua = simulation.user_agent(simulation.new_flow("implicit-off"))
    query = urlencode(
        {
            "response_type": "token",
            "client_id": client_id,
            "redirect_uri": simulation.client_url + redirect_path,
            "scope": "profile",
            "state": "s1",
        }
    )
    answer = ua.get(f"{simulation.authorization_server_url}/authorize?{query}")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    params = {**parse_qs(location.query), **parse_qs(location.fragment)}
    assert params["error"][0] in ("unauthorized_client", "unsupported_response_type")
    assert params["state"] == ["s1"]
    assert "access_token" not in params


@pytest.mark.parametrize("client_id", ["demo-service", "nobody"])
def test_implicit_without_a_usable_redirect_is_an_error_page(simulation, http, client_id):
    query = urlencode({"response_type": "token", "client_id": client_id, "state": "s"})
    answer = http.get(
        f"{simulation.authorization_server_url}/authorize?{query}", allow_redirects=False
    )
    assert answer.status_code == 400 and "Location" not in answer.headers


def test_implicit_page_says_the_fragment_stays_in_the_browser(simulation, http):
    page = http.get(simulation.client_url + "/implicit/callback")
    assert page.status_code == 200
    assert "/static/implicit.js" in page.text and "RFC 9700" in page.text
    assert "never send" in page.text


# -- revocation -----------------------------------------------------------------------------
def test_revocation(results):
    result = results["revocation"]
    outcome = result.outcome
    assert outcome["logged_out"] is True
    assert outcome["revocation_status"] == 200
    assert outcome["access_token_after_logout"] == 401
    assert outcome["refresh_token_after_logout"] == 400
    trace = result.trace
    steps = [(e.sender, e.to, e.method, path(e)) for e in trace]
    logout = steps.index((USER_AGENT, CLIENT, "POST", "/logout"))
    assert steps[logout + 1] == (CLIENT, AUTHORIZATION_SERVER, "POST", "/revoke")
    refused = next(e for e in trace[logout:] if e.to == RESOURCE_SERVER)
    assert refused.status == 401
    assert 'error="invalid_token"' in refused.response_headers["WWW-Authenticate"]
    # The client tried its revoked tokens itself (a teaching step): no one else used them.
    assert all(e.sender in (USER_AGENT, CLIENT, RESOURCE_SERVER) for e in trace)
    refresh = next(e for e in trace[logout:] if path(e) == "/token")
    assert refresh.sender == CLIENT
    assert json.loads(refresh.response_body)["error"] == "invalid_grant"


# -- consent --------------------------------------------------------------------------------
def test_consent_denied(results):
    result = results["consent-denied"]
    assert result.outcome == {
        "user": "bob",
        "error_at_client": "access_denied",
        "code_issued": False,
        "tokens_issued": [],
        "friendly_page": True,
    }
    trace = result.trace
    assert "/token" not in [path(e) for e in trace]
    assert RESOURCE_SERVER not in trace.parties
    callback = trace[-1]
    assert (callback.to, path(callback), callback.status) == (CLIENT, "/callback", 200)
    assert "You said no" in callback.response_body


def test_scope_downgrade(results):
    result = results["scope-downgrade"]
    outcome = result.outcome
    assert outcome["granted_scope"] == "profile photos:write"
    assert "photos:read" in outcome["requested_scope"]
    assert (outcome["profile_status"], outcome["photos_status"]) == (200, 403)
    assert outcome["photos_error"] == "insufficient_scope"
    challenge = outcome["www_authenticate"]
    assert challenge.startswith("Bearer ")
    assert 'error="insufficient_scope"' in challenge and 'scope="photos:read"' in challenge
    token = next(e for e in result.trace if path(e) == "/token")
    assert "photos:read" not in json.loads(token.response_body)["scope"]
