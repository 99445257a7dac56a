"""Property-based fuzz over real loopback HTTP, on every app (authorization server, resource
server, client, attacker, console): malformed, oversized, repeated and non-UTF-8 parameters;
non-ASCII values on every form; control characters in every redirect-bearing parameter; raw
sockets with broken request lines and headers; and a seeded run of 2,000 such requests.
Whatever arrives: never a 5xx, always an RFC error code (or a proper answer), and the happy
path still works afterwards. `SENT` counts the requests per app (printed at the end)."""

from __future__ import annotations

import base64
import collections
import json
import random
import re
import socket
from urllib.parse import parse_qs, quote, urlsplit

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.parties import FLOW_HEADER
from sim.scenarios.base import csrf, log_in_and_consent

#: RFC 6749 §4.1.2.1 (plus invalid_client, shown on the error page for an unknown client).
AUTHORIZE_ERRORS = {
    "invalid_request",
    "invalid_client",
    "unauthorized_client",
    "access_denied",
    "unsupported_response_type",
    "invalid_scope",
}
#: RFC 6749 §5.2.
TOKEN_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
}
#: RFC 7009 §2.2.1 adds unsupported_token_type; RFC 7662 uses RFC 6749's codes.
REVOCATION_ERRORS = TOKEN_ERRORS | {"unsupported_token_type"}
#: RFC 6750 §3.1.
RESOURCE_ERRORS = {"invalid_request", "invalid_token", "insufficient_scope"}

FUZZ = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
    ],
)

NAMES = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code",
    "code_challenge",
    "code_challenge_method",
    "code_verifier",
    "grant_type",
    "refresh_token",
    "token",
    "token_type_hint",
    "client_secret",
    "access_token",
    "title",
    "iss",
)
PLAUSIBLE = (
    "code",
    "token",
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "password",
    "demo-client",
    "demo-spa",
    "demo-service",
    "demo-rs",
    "demo-secret",
    "S256",
    "plain",
    "profile",
    "photos:read",
    "profile photos:read photos:write",
    "access_token",
    "http://127.0.0.1:1/callback",
    "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "",
)

# A value: plausible, arbitrary text, oversized, or raw bytes (non-UTF-8 once encoded).
values = st.one_of(
    st.sampled_from(PLAUSIBLE),
    st.text(max_size=40),
    st.text(alphabet="aZ9-._~%+&=", min_size=2000, max_size=9000),
    st.binary(max_size=40),
)
keys = st.one_of(st.sampled_from(NAMES), st.text(max_size=12), st.binary(max_size=6))
# Lists of pairs, so names repeat.
pairs = st.lists(st.tuples(keys, values), max_size=8)


def _enc(value: str | bytes) -> str:
    data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
    return quote(data, safe="")


def encode(items: list[tuple[str | bytes, str | bytes]]) -> str:
    """x-www-form-urlencoded by hand, so raw bytes (%FF…) and repeats go through as is."""
    return "&".join(f"{_enc(k)}={_enc(v)}" for k, v in items)


header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=60,
)
authorizations = st.one_of(
    st.none(),
    st.just("Basic "),
    st.just("Bearer "),
    st.just("Basic " + base64.b64encode(b"demo-client:demo-secret").decode()),
    st.just("Basic " + base64.b64encode(b"demo-rs:rs-secret").decode()),
    st.binary(max_size=30).map(lambda b: "Basic " + base64.b64encode(b).decode()),
    header_text.map(lambda t: "Basic " + t),
    header_text.map(lambda t: "Bearer " + t),
    # requests itself refuses to send a header value with leading whitespace.
    header_text.filter(lambda t: not t[:1].isspace()),
)
content_types = st.sampled_from(
    (
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=latin-1",
        "application/json",
        "text/plain",
        "multipart/form-data",
    )
)
bodies = st.one_of(pairs.map(encode).map(str.encode), st.binary(max_size=300))


#: Requests sent per app by this module (each one checked for "no 5xx").
SENT: collections.Counter[str] = collections.Counter()


@pytest.fixture(scope="module")
def http(sim, apps):
    with requests.Session() as session:
        session.trust_env = False
        session.headers[FLOW_HEADER] = sim.new_flow("fuzz")
        yield session


@pytest.fixture(scope="module")
def alice_cookies(sim):
    """Alice's session at the authorization server, so valid requests reach consent."""
    ua = sim.user_agent(sim.new_flow("fuzz-login"))
    page = ua.get(sim.authorization_server_url + "/login")
    ua.submit(page, {"username": "alice", "password": "wonderland"})
    return ua.session.cookies


#: App name by base URL, filled by the `apps` fixture.
APP_URLS: dict[str, str] = {}


def app_of(url: str) -> str:
    for base, name in APP_URLS.items():
        if url.startswith(base):
            return name
    return "other"


@pytest.fixture(scope="module")
def apps(sim) -> dict[str, str]:
    """Every app of the simulation, the attacker's and the console's included."""
    urls = {
        "authorization-server": sim.authorization_server_url,
        "resource-server": sim.resource_server_url,
        "client": sim.client_url,
        "attacker": sim.attacker_url,
        "console": sim.urls["console"],
    }
    APP_URLS.update({url: name for name, url in urls.items()})
    return urls


def send(http, method, url, body=b"", content_type=None, authorization=None, cookies=None):
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if authorization is not None:
        headers["Authorization"] = authorization.encode("latin-1")
    SENT[app_of(url)] += 1
    return http.request(
        method,
        url,
        data=body or None,
        headers=headers,
        cookies=cookies,
        allow_redirects=False,
        timeout=15,
    )


def json_error(response) -> str | None:
    assert response.headers["Content-Type"].startswith("application/json"), response.text[:200]
    body = response.json()
    assert isinstance(body, dict)
    return body.get("error")


@FUZZ
@given(query=pairs, logged_in=st.booleans())
def test_authorization_endpoint(sim, http, alice_cookies, query, logged_in):
    url = sim.authorization_server_url + "/authorize?" + encode(query)
    answer = send(http, "GET", url, cookies=alice_cookies if logged_in else None)
    assert answer.status_code < 500, answer.text[:300]
    assert answer.status_code in (200, 302, 400)
    if answer.status_code == 400:
        found = re.search(r'<p class="error"><code>([^<]*)</code>', answer.text)
        assert found and found.group(1) in AUTHORIZE_ERRORS, answer.text[:300]
    elif answer.status_code == 302:
        location = answer.headers["Location"]
        if location.startswith("/login?"):
            assert not logged_in
        else:
            # Only ever to a registered redirect URI, with an RFC error code, state and iss.
            assert location.startswith(sim.client_url + "/")
            params = parse_qs(urlsplit(location).query)
            assert params["error"][0] in AUTHORIZE_ERRORS
            assert params["iss"] == [sim.authorization_server_url]
    else:
        assert logged_in and "decision" in answer.text


@FUZZ
@given(body=bodies, content_type=content_types, authorization=authorizations)
def test_token_endpoint(sim, http, body, content_type, authorization):
    url = sim.authorization_server_url + "/token"
    answer = send(http, "POST", url, body, content_type, authorization)
    assert answer.status_code in (200, 400, 401), answer.text[:300]
    assert answer.headers["Cache-Control"] == "no-store"
    error = json_error(answer)
    if answer.status_code == 200:
        assert "access_token" in answer.json()
    else:
        assert error in TOKEN_ERRORS, answer.text[:300]


@FUZZ
@given(
    endpoint=st.sampled_from(("/revoke", "/introspect")),
    body=bodies,
    content_type=content_types,
    authorization=authorizations,
)
def test_revocation_and_introspection(sim, http, endpoint, body, content_type, authorization):
    url = sim.authorization_server_url + endpoint
    answer = send(http, "POST", url, body, content_type, authorization)
    assert answer.status_code in (200, 400, 401), answer.text[:300]
    if answer.status_code == 200:
        if endpoint == "/introspect":
            assert isinstance(answer.json().get("active"), bool)
    else:
        assert json_error(answer) in REVOCATION_ERRORS, answer.text[:300]


@pytest.fixture(scope="module")
def service_token(sim, http) -> str:
    answer = http.post(
        sim.authorization_server_url + "/token",
        data={"grant_type": "client_credentials", "scope": "photos:read"},
        auth=("demo-service", "service-secret"),
        timeout=5,
    )
    return answer.json()["access_token"]


@FUZZ
@given(
    call=st.sampled_from(
        (("GET", "/api/profile"), ("GET", "/api/photos"), ("POST", "/api/photos"))
    ),
    query=pairs,
    body=bodies,
    content_type=content_types,
    authorization=st.one_of(authorizations, st.just("valid")),
)
def test_resource_server(sim, http, service_token, call, query, body, content_type, authorization):
    method, path = call
    if authorization == "valid":
        authorization = "Bearer " + service_token
    url = sim.resource_server_url + path + ("?" + encode(query) if query else "")
    answer = send(http, method, url, body if method == "POST" else b"", content_type, authorization)
    assert answer.status_code in (200, 201, 400, 401, 403), answer.text[:300]
    if answer.status_code >= 400:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")
        error = json_error(answer)
        if error is None:  # only a request with no credentials may get a bare challenge
            assert answer.status_code == 401
        else:
            assert error in RESOURCE_ERRORS


# --- Shapes from issue 12: non-ASCII forms, control characters, broken raw requests -------

NON_ASCII = st.one_of(
    st.sampled_from(["é", "☃", "ÿĀ", "\u202e", "日本", "\U0001f600", "\ufffd"]),
    st.text(alphabet=st.characters(min_codepoint=0x80, max_codepoint=0x2FFFF), max_size=20),
)
CONTROL = st.one_of(
    st.sampled_from(["\r\n", "\n", "\r", "\x00", "\x1b[2J", "\t", "\x7f", "\x85", "\u2028"]),
    st.text(alphabet=st.characters(max_codepoint=0x1F), min_size=1, max_size=8),
)
#: Every HTML form of every app: (app, path, fields). The CSRF token is one of the fields.
FORMS = [
    ("authorization-server", "/login", ("csrf_token", "username", "password", "next")),
    ("authorization-server", "/logout", ("csrf_token",)),
    ("authorization-server", "/authorize", ("csrf_token", "decision", "grant_scope")),
    ("client", "/logout", ("csrf_token",)),
    ("client", "/refresh", ("csrf_token",)),
    ("client", "/photos", ("csrf_token", "title")),
    ("resource-server", "/api/photos", ("title",)),
    ("attacker", "/token", ("grant_type", "code", "code_verifier")),
    ("console", "/pause", ("pause",)),
    ("console", "/browser-defences", ("off",)),
]
#: Every parameter that ends up in a redirect (Location) or is reflected into one.
REDIRECTING = [
    ("authorization-server", "GET", "/authorize", ("redirect_uri", "state", "scope", "client_id")),
    ("authorization-server", "GET", "/login", ("next",)),
    ("authorization-server", "POST", "/login", ("next",)),
    ("client", "GET", "/login", ("as",)),
    ("client", "GET", "/callback", ("state", "code", "iss", "error", "error_description")),
    ("client", "GET", "/spa/callback", ("state", "code", "iss", "error")),
    ("attacker", "GET", "/go", ("to",)),
    ("attacker", "GET", "/authorize", ("redirect_uri", "state", "client_id")),
    ("console", "GET", "/flows/x/steps/1", ("flow",)),
]
AUTHORIZE_BASE = {
    "response_type": "code",
    "client_id": "demo-client",
    "scope": "profile",
    "state": "s",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "code_challenge_method": "S256",
}


@pytest.fixture(scope="module")
def browsers(sim, apps):
    """Logged-in browser sessions (cookies and CSRF token) at the authorization server and
    at the client, so fuzzed forms also reach the code behind the CSRF check."""
    ua = sim.user_agent(sim.new_flow("fuzz-browser"))
    home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
    as_home = ua.get(sim.authorization_server_url + "/")
    return {
        "cookies": ua.session.cookies,
        "client": csrf(home.text),
        "authorization-server": csrf(as_home.text),
    }


def _check(answer, context) -> None:
    assert answer.status_code < 500, (context, answer.status_code, answer.text[:300])
    location = answer.headers.get("Location", "")
    assert "\r" not in location and "\n" not in location, (context, location)


@FUZZ
@given(
    form=st.sampled_from(FORMS),
    value=NON_ASCII,
    real_token=st.booleans(),
    logged_in=st.booleans(),
)
def test_every_form_takes_non_ascii_values(
    sim, http, apps, browsers, form, value, real_token, logged_in
):
    app, path, fields = form
    data = {name: value for name in fields}
    if real_token and app in browsers and "csrf_token" in fields:
        data["csrf_token"] = browsers[app]  # past the CSRF check, into the form's code
    url = apps[app] + path
    if path == "/authorize":
        url += "?" + encode(list(AUTHORIZE_BASE.items()) + [("redirect_uri", value)])
    SENT[app] += 1
    answer = http.post(
        url,
        data={k: v.encode("utf-8", "surrogatepass") for k, v in data.items()},
        cookies=browsers["cookies"] if logged_in else None,
        allow_redirects=False,
        timeout=15,
    )
    _check(answer, (app, path))


@FUZZ
@given(target=st.sampled_from(REDIRECTING), value=CONTROL, logged_in=st.booleans())
def test_control_characters_in_every_redirecting_parameter(
    sim, http, apps, browsers, target, value, logged_in
):
    app, method, path, names = target
    params = dict(AUTHORIZE_BASE) if path == "/authorize" else {}
    for name in names:
        # A URL-valued parameter: the control characters after a valid start.
        params[name] = "http://evil.example/" + value if name in ("to", "redirect_uri") else value
    if app == "client" and path == "/callback":
        params.setdefault("iss", sim.authorization_server_url)
    query = encode(list(params.items()))
    SENT[app] += 1
    answer = http.request(
        method,
        apps[app] + path + "?" + query,
        data=encode([("next", value)]) if method == "POST" else None,
        headers={"Content-Type": "application/x-www-form-urlencoded"} if method == "POST" else {},
        cookies=browsers["cookies"] if logged_in else None,
        allow_redirects=False,
        timeout=15,
    )
    _check(answer, (app, path, value))


#: Broken request lines and headers that no HTTP library would send.
BROKEN = [
    b"GET\r\n\r\n",
    b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
    b"\x00\x01\x02 / HTTP/1.1\r\n\r\n",
    b"GET /" + b"a" * 70000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET / HTTP/1.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: [\r\n\r\n",
    b"GET /login?next=%0d%0aSet-Cookie:x=1 HTTP/1.1\r\nHost: [::1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n folded\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nX-\xff\xfe: \xc3\x28\r\n\r\n",
    b"GET /%ZZ%%/\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 9\r\n\r\nhello",
    b"POST /token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"ZZ\r\nhello\r\n0\r\n\r\n",
    b"POST /token HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nshort",
    b"GET / HTTP/1.1\r\nHost: x\r\nCookie: sim_as_session=\xff\x00; sim_client_session=..\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Basic \xff\xfe\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-Big: " + b"b" * 70000 + b"\r\n\r\n",
    b"\r\n\r\n\r\n",
    b"GET / HTTP/1.1\nHost: x\n\n",
]


def raw(base_url: str, data: bytes) -> bytes:
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            return b""  # the server closed first: no answer, so no 5xx either
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def _statuses(answer: bytes) -> list[int]:
    return [int(m) for m in re.findall(rb"HTTP/1\.[01] (\d{3})", answer)]


@pytest.mark.parametrize(
    "app", ["authorization-server", "resource-server", "client", "attacker", "console"]
)
@pytest.mark.parametrize("data", BROKEN, ids=range(len(BROKEN)))
def test_broken_raw_requests_get_no_5xx(apps, app, data):
    SENT[app] += 1
    statuses = _statuses(raw(apps[app], data))
    assert all(status < 500 for status in statuses), (app, data[:80], statuses)


def _random_request(rng: random.Random, apps: dict[str, str], browsers) -> tuple[str, dict]:
    """One request of the seeded run: a form, a redirecting parameter or a broken raw request,
    on a random app, with a random hostile value."""
    values = [
        "é",
        "☃",
        "\u202e",
        "\r\n",
        "\x00",
        "\x1b[2J",
        "\n",
        "%0d%0a",
        "\ud800",
        "a" * 3000,
        "'\"<script>",
        "\\",
        "\x7f",
        "\t",
        "",
        "ÿĀ",
        "http://evil.example/\r\nx",
    ]
    value = rng.choice(values)
    shape = rng.random()
    if shape < 0.4:
        app, path, fields = rng.choice(FORMS)
        data = {name: value for name in fields}
        if rng.random() < 0.5 and app in browsers and "csrf_token" in fields:
            data["csrf_token"] = browsers[app]
        return app, {
            "method": "POST",
            "url": apps[app] + path,
            "data": encode(list(data.items())),
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        }
    if shape < 0.8:
        app, method, path, names = rng.choice(REDIRECTING)
        params = dict(AUTHORIZE_BASE) if path == "/authorize" else {}
        params.update({name: value for name in names})
        return app, {"method": method, "url": apps[app] + path + "?" + encode(list(params.items()))}
    app = rng.choice(list(apps))
    return app, {"raw": rng.choice(BROKEN)}


def test_two_thousand_hostile_requests_across_all_apps(sim, http, apps, browsers):
    rng = random.Random(12)
    counts: collections.Counter[str] = collections.Counter()
    statuses: collections.Counter[int] = collections.Counter()
    for _ in range(2000):
        app, request = _random_request(rng, apps, browsers)
        counts[app] += 1
        SENT[app] += 1
        if "raw" in request:
            for status in _statuses(raw(apps[app], request["raw"])):
                statuses[status] += 1
                assert status < 500, (app, request["raw"][:80])
            continue
        answer = http.request(
            request["method"],
            request["url"],
            data=request.get("data"),
            headers=request.get("headers"),
            cookies=browsers["cookies"] if rng.random() < 0.5 else None,
            allow_redirects=False,
            timeout=15,
        )
        statuses[answer.status_code] += 1
        _check(answer, (app, request["url"][:120]))
    assert sum(counts.values()) == 2000 and set(counts) == set(apps)
    print(f"\nseeded run: {dict(counts)}; statuses {dict(sorted(statuses.items()))}")


def test_happy_path_still_works_afterwards(sim):
    print(f"\nfuzz requests per app: {dict(SENT)} (total {sum(SENT.values())})")
    outcome = sim.run("happy-path").outcome
    assert outcome["logged_in"] and outcome["photos_shown"] and outcome["refreshed"]
    json.dumps(outcome)
