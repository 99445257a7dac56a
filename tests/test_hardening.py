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
    flow = sim.new_flow(flow_name, **options)  # per-flow settings travel on their own channel
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


# --- Token endpoint strictness (RFC 6749 §2.3, §3.2, §5.2) ---------------------------------

BASIC_CLIENT = ("demo-client", "demo-secret")


def _code_request(oauth, grant) -> list[tuple[str, str]]:
    return [
        ("grant_type", "authorization_code"),
        ("code", grant.code),
        ("redirect_uri", oauth.redirect_uri),
        ("code_verifier", grant.verifier),
    ]


@pytest.mark.parametrize("repeated", ["code", "grant_type", "redirect_uri", "code_verifier"])
def test_a_repeated_token_request_parameter_is_invalid_request(oauth, repeated):
    grant = oauth.get_code()
    data = _code_request(oauth, grant)
    data.append(next(item for item in data if item[0] == repeated))
    answer = oauth.token(data)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    # Nothing was spent: the same code still works once, sent properly.
    assert oauth.redeem(grant).status_code == 200


@pytest.mark.parametrize("endpoint", ["/revoke", "/introspect"])
def test_a_repeated_token_is_invalid_request_at_revocation_and_introspection(oauth, endpoint):
    tokens = oauth.tokens()
    auth = BASIC_CLIENT if endpoint == "/revoke" else ("demo-rs", "rs-secret")
    answer = requests.post(
        oauth.as_url + endpoint,
        data=[("token", tokens["access_token"]), ("token", "other")],
        auth=auth,
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_request"
    assert oauth.introspect(tokens["access_token"]).json()["active"] is True


@pytest.mark.parametrize(
    "extra",
    [
        [("client_secret", "demo-secret")],
        [("client_secret", "wrong")],
        [("client_id", "demo-spa")],
    ],
    ids=["basic+right-secret", "basic+wrong-secret", "basic+other-client_id"],
)
def test_one_authentication_method_per_request(oauth, extra):
    grant = oauth.get_code()
    answer = oauth.token(_code_request(oauth, grant) + extra)
    assert answer.status_code in (400, 401)
    assert answer.json()["error"] in ("invalid_request", "invalid_client")


def test_the_token_endpoint_takes_form_urlencoded_only(oauth):
    grant = oauth.get_code()
    fields = {k: (None, v) for k, v in _code_request(oauth, grant)}
    multipart = requests.post(oauth.as_url + "/token", files=fields, auth=BASIC_CLIENT, timeout=10)
    assert multipart.status_code == 400 and multipart.json()["error"] == "invalid_request"
    as_json = requests.post(
        oauth.as_url + "/token", json=dict(_code_request(oauth, grant)), auth=BASIC_CLIENT
    )
    assert as_json.status_code == 400 and as_json.json()["error"] == "invalid_request"
    assert oauth.redeem(grant).status_code == 200


@pytest.mark.parametrize("endpoint", ["/revoke", "/introspect"])
def test_revocation_and_introspection_enforce_the_registered_auth_method(oauth, endpoint):
    tokens = oauth.tokens()
    client_id, secret = BASIC_CLIENT if endpoint == "/revoke" else ("demo-rs", "rs-secret")
    # Registered client_secret_basic; the same secret in the body is another method.
    answer = requests.post(
        oauth.as_url + endpoint,
        data={"token": tokens["access_token"], "client_id": client_id, "client_secret": secret},
        timeout=10,
    )
    assert answer.status_code in (400, 401) and answer.json()["error"] == "invalid_client"
    assert oauth.introspect(tokens["access_token"]).json()["active"] is True


def test_a_spent_refresh_token_from_another_client_changes_nothing(oauth):
    tokens = oauth.tokens()
    rotated = oauth.token({"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert rotated.status_code == 200
    # demo-spa needs no secret: anyone can speak as it. The spent token is not its own.
    stranger = requests.post(
        oauth.as_url + "/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": "demo-spa",
        },
        timeout=10,
    )
    assert stranger.status_code == 400 and stranger.json()["error"] == "invalid_grant"
    # The owner's family lives on (RFC 6749 §6: checked against the calling client first).
    assert oauth.introspect(rotated.json()["access_token"]).json()["active"] is True
    again = oauth.token(
        {"grant_type": "refresh_token", "refresh_token": rotated.json()["refresh_token"]}
    )
    assert again.status_code == 200


def test_a_spent_code_from_another_client_or_without_credentials_changes_nothing(oauth):
    grant = oauth.get_code()
    first = oauth.redeem(grant)
    access = first.json()["access_token"]
    data = dict(_code_request(oauth, grant))
    by_spa = requests.post(oauth.as_url + "/token", data={**data, "client_id": "demo-spa"})
    assert by_spa.status_code == 400 and by_spa.json()["error"] == "invalid_grant"
    anonymous = requests.post(oauth.as_url + "/token", data={**data, "client_id": "demo-client"})
    assert anonymous.status_code in (400, 401) and anonymous.json()["error"] == "invalid_client"
    assert oauth.introspect(access).json()["active"] is True
    # Only the client the code was issued to reaches revocation on replay.
    assert oauth.redeem(grant).json()["error"] == "invalid_grant"
    assert oauth.introspect(access).json() == {"active": False}


# --- Consent (RFC 6749 §3.3) ---------------------------------------------------------------


def _consent_page(sim, url: str):
    ua = sim.user_agent(sim.new_flow("consent"))
    page = ua.follow(ua.get(url))
    page = ua.submit(page, {"username": "alice", "password": "wonderland"})
    assert "decision" in page.text
    return ua, page


def test_the_implicit_grant_honours_unticked_scopes(sim):
    from urllib.parse import urlencode

    url = (
        sim.authorization_server_url
        + "/authorize?"
        + urlencode(
            {
                "response_type": "token",
                "client_id": "demo-implicit",
                "redirect_uri": sim.client_url + "/implicit/callback",
                "scope": "profile photos:read",
                "state": "s1",
            }
        )
    )
    ua, page = _consent_page(sim, url)
    answer = ua.submit(page, button="approve", checked={"profile"}, follow=False)
    fragment = parse_qs(urlsplit(answer.headers["Location"]).fragment)
    assert fragment["scope"] == ["profile"]
    import joserfc.jwt
    from joserfc.jwk import KeySet

    jwks = requests.get(sim.authorization_server_url + "/jwks.json", timeout=5).json()
    claims = joserfc.jwt.decode(fragment["access_token"][0], KeySet.import_key_set(jwks)).claims
    assert claims["scope"] == "profile"


def test_the_code_grant_honours_unticked_scopes_in_both_tokens(sim, oauth):
    # Authlib validates the consent POST's request before showing and again when answering;
    # the scope the user ticked must be what the code's token and its refresh carry.
    from tests.conftest import s256

    verifier = "t" * 50
    url = oauth.authorize_url(code_challenge=s256(verifier), code_challenge_method="S256")
    ua = sim.user_agent(sim.new_flow("tick-one"))
    answer = log_in_and_consent(ua, ua.get(url), scopes={"profile"}, stop_at=sim.client_url)
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    data = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    tokens = oauth.token(data | {"redirect_uri": oauth.redirect_uri})
    assert tokens.status_code == 200 and tokens.json()["scope"] == "profile"
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]}
    refreshed = oauth.token(refresh)
    assert refreshed.status_code == 200 and refreshed.json()["scope"] == "profile"


def test_ticking_only_scopes_that_were_not_requested_is_a_refusal(sim, oauth):
    from tests.conftest import s256

    ua, page = _consent_page(
        sim,
        oauth.authorize_url(
            scope="profile", code_challenge=s256("q" * 50), code_challenge_method="S256"
        ),
    )
    answer = ua.request(
        "POST",
        page.url,
        data={"csrf_token": csrf(page.text), "decision": "approve", "grant_scope": "photos:write"},
    )
    assert answer.status_code == 302
    params = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert params["error"] == ["access_denied"] and "code" not in params


# --- Sessions at the authorization server --------------------------------------------------


def test_a_replayed_cookie_after_logout_lands_on_the_login_page(sim, oauth):
    from tests.conftest import s256

    ua = sim.user_agent(sim.new_flow("logout-replay"))
    login = ua.get(sim.authorization_server_url + "/login")
    home = ua.submit(login, {"username": "alice", "password": "wonderland"})
    assert "Logged in as" in home.text
    saved = ua.session.cookies.get("sim_as_session")
    out = ua.request(
        "POST", sim.authorization_server_url + "/logout", data={"csrf_token": csrf(home.text)}
    )
    assert out.status_code == 302
    # An attacker (or the next student at this computer) kept a copy of the cookie.
    replay = requests.get(
        oauth.authorize_url(code_challenge=s256("r" * 50), code_challenge_method="S256"),
        cookies={"sim_as_session": saved},
        allow_redirects=False,
        timeout=10,
    )
    assert replay.status_code == 302 and "/login" in replay.headers["Location"]


def test_an_expired_login_session_asks_to_log_in_again():
    from sim.authorization_server import create_app
    from sim.runtime.servers import ServerThread, bind

    sock = bind(0, "authorization-server")
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app = create_app({"ISSUER": url, "LOGIN_SESSION_LIFETIME": 0})
    server = ServerThread(app, sock, "expiry-test")
    server.start()
    try:
        with requests.Session() as browser:
            page = browser.get(url + "/login", timeout=10)
            logged_in = browser.post(
                url + "/login",
                data={"csrf_token": csrf(page.text), "username": "alice", "password": "wonderland"},
                timeout=10,
            )
            # The login itself worked (straight to the home page, not the form again) ...
            assert logged_in.status_code == 200 and 'name="password"' not in logged_in.text
            # ... but a session that lives 0 seconds is over by the next request.
            assert "Not logged in" in logged_in.text
            assert "Not logged in" in browser.get(url + "/", timeout=10).text
    finally:
        server.stop()


def test_a_failed_login_is_the_form_again_not_a_bare_401(sim):
    ua = sim.user_agent(sim.new_flow("bad-password"))
    page = ua.get(sim.authorization_server_url + "/login")
    answer = ua.submit(page, {"username": "alice", "password": "wrong"})
    assert answer.status_code == 200
    assert 'name="password"' in answer.text and "Wrong username or password" in answer.text


@pytest.mark.parametrize("evil", ["\r\nSet-Cookie: x=1", "\n", "\x00", "\t"])
def test_control_characters_in_next_fall_back_to_home(sim, evil):
    ua = sim.user_agent(sim.new_flow("next-crlf"))
    page = ua.get(sim.authorization_server_url + "/login")
    answer = ua.request(
        "POST",
        sim.authorization_server_url + "/login",
        data={
            "csrf_token": csrf(page.text),
            "username": "alice",
            "password": "wonderland",
            "next": "/authorize?client_id=demo-client" + evil,
        },
    )
    assert answer.status_code == 302
    assert answer.headers["Location"] in ("/", sim.authorization_server_url + "/")
    assert "Set-Cookie: x" not in str(answer.headers)


# --- The live trace: malformed Host, 413, caps ---------------------------------------------


def raw_http(url: str, data: bytes, timeout: float = 10) -> bytes:
    """Send bytes as they are (no HTTP library to tidy them) and read the whole answer."""
    import socket

    host, port = urlsplit(url).hostname, urlsplit(url).port
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(data)
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except TimeoutError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


@pytest.mark.parametrize("host", ["[", "[::1", "a]b", "%zz"])
def test_a_malformed_host_header_is_answered_and_recorded(sim, host):
    flow = sim.new_flow("bad-host")
    answer = raw_http(
        sim.authorization_server_url,
        f"GET /login HTTP/1.1\r\nHost: {host}\r\nX-Sim-Flow: {flow}\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert answer.startswith(b"HTTP/1.1 200")
    sim.store.wait_settled(flow, timeout=10)
    assert sim.store.pending(flow) == 0
    (record,) = sim.store.records(flow)
    assert record["status"] == 200 and record["request_headers"]["Host"] == host
    assert urlsplit(record["url"]).path == "/login"


APPS = ["client_url", "authorization_server_url", "resource_server_url", "attacker_url"]


@pytest.mark.parametrize("app", APPS)
def test_a_body_over_1_mb_is_413_on_every_app(sim, app):
    url = getattr(sim, app)
    for size in (1024 * 1024 + 1, 5 * 1024 * 1024):  # ours (traced), then waitress's
        answer = requests.post(url + "/login", data=b"x" * size, timeout=30)
        assert answer.status_code == 413
    # Just under the limit is not refused for its size.
    small = requests.post(url + "/login", data=b"x" * (1024 * 1024 - 1), timeout=30)
    assert small.status_code != 413


def test_a_body_over_1_mb_is_413_at_the_console():
    from sim import Simulation

    with Simulation(console=True) as watched:
        console = watched.urls["console"]
        answer = requests.post(console + "/", data=b"x" * (1024 * 1024 + 1), timeout=30)
        assert answer.status_code == 413


def test_a_200_kb_query_string_is_stored_cut_with_a_marker(sim):
    flow = sim.new_flow("long-query")
    long_state = "s" * 200_000
    answer = requests.get(
        sim.client_url + "/", params={"state": long_state}, headers={"X-Sim-Flow": flow}
    )
    assert answer.status_code == 200
    sim.store.wait_settled(flow, timeout=10)
    (record,) = sim.store.records(flow)
    assert len(record["url"]) < 10_000
    assert "more characters not kept" in record["url"]


@pytest.mark.parametrize("store_kind", ["memory", "sqlite"])
def test_the_trace_keeps_a_bounded_number_of_flows_and_says_so_once(store_kind, tmp_path):
    from sim.client import create_app
    from sim.runtime.servers import ServerThread, bind
    from sim.tracing.store import MemoryTraceStore, TraceStore

    if store_kind == "memory":
        store = MemoryTraceStore(max_flows=3)
    else:
        store = TraceStore(str(tmp_path / "trace.sqlite"), max_flows=3)
    sock = bind(0, "client")
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = ServerThread(create_app({"BASE_URL": url, "TRACE_STORE": store}), sock, "cap")
    server.start()
    try:
        for n in range(5):
            requests.get(url + "/", headers={"X-Sim-Flow": f"class-{n}"}, timeout=10)
        trace = requests.get(url + "/trace", timeout=10).json()
    finally:
        server.stop()
    assert trace["flows"] == ["class-2", "class-3", "class-4"]
    assert trace["dropped_flows"] == 2
    assert trace["note"].count("dropped") == 1
    assert all("dropped" not in str(event) for event in trace["events"])


# --- Terminal output: control characters shown, never obeyed -------------------------------


def test_escape_sequences_planted_by_a_web_page_are_shown_not_obeyed(sim):
    import io

    from rich.console import Console

    from sim.teaching.report import step_table

    flow = sim.new_flow("planted-escapes")
    # What an <img src> on any page can make a browser send: ESC [2J clears the screen,
    # ESC ]0; sets the terminal's title, U+202E reverses the text that follows.
    requests.get(
        sim.client_url + "/%1B[2J%1B]0;pwned%07",
        params={"state": "\u202e\x1b[31mred"},
        headers={"X-Sim-Flow": flow},
        timeout=10,
    )
    trace = sim.trace(flow)
    assert trace.events
    for explain in (False, True):
        for terminal in (True, False):
            out = io.StringIO()
            Console(file=out, force_terminal=terminal, width=250).print(
                step_table(trace, explain=explain)
            )
            text = out.getvalue()
            for planted in ("\x1b[2J", "\x1b]0;", "\x07", "\x1b[31mred", "\u202e"):
                assert planted not in text
            if not terminal:  # shown, as visible escapes
                assert "\\x1b[2J" in text and "\\u202e" in text


def test_the_readme_says_the_live_trace_is_open_by_design_and_local_only(sim):
    from pathlib import Path

    readme = Path(__file__).resolve().parent.parent.joinpath("README.md").read_text()
    section = readme[readme.index("### The live trace is open") :].split("\n## ")[0]
    assert "needs no" in section and "login" in section and "127.0.0.1" in section
    # And it is so: the trace answers without credentials, on the loopback address only.
    assert urlsplit(sim.client_url).hostname == "127.0.0.1"
    assert requests.get(sim.client_url + "/trace", timeout=10).status_code == 200


def test_oauth_sim_trace_shows_planted_escapes_as_text(sim):
    from click.testing import CliRunner

    from sim.cli import main
    from sim.cli.trace import _line

    flow = sim.new_flow("planted-cli")
    requests.get(sim.client_url + "/%1B[2J%1B[31m", headers={"X-Sim-Flow": flow}, timeout=10)
    # The exchange is recorded as its response closes, which may be after requests returns.
    sim.store.wait_settled(flow, timeout=10)
    result = CliRunner().invoke(main, ["trace", "--url", sim.client_url, "--flow", flow])
    assert result.exit_code == 0, result.output
    assert "\x1b[2J" not in result.output and "\\x1b[2J" in result.output
    # --follow prints one line per event: the same rule.
    import sim as public

    (event,) = public.fetch_trace(sim.client_url, flow).events
    assert "\x1b" not in _line(event, explain=True) and "\\x1b[2J" in _line(event, True)


def test_oauth_sim_trace_says_once_that_old_flows_were_dropped():
    from click.testing import CliRunner

    from sim.cli import main
    from sim.client import create_app
    from sim.runtime.servers import ServerThread, bind
    from sim.tracing.store import MemoryTraceStore

    sock = bind(0, "client")
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    store = MemoryTraceStore(max_flows=2)
    server = ServerThread(create_app({"BASE_URL": url, "TRACE_STORE": store}), sock, "note")
    server.start()
    try:
        for n in range(4):
            requests.get(url + "/", headers={"X-Sim-Flow": f"lesson-{n}"}, timeout=10)
        result = CliRunner().invoke(main, ["trace", "--url", url])
    finally:
        server.stop()
    assert result.exit_code == 0, result.output
    assert result.output.count("oldest flows were dropped") == 1
