"""Our client against an authorization server it has never seen: node-oidc-provider (npm
`oidc-provider`, installed by this test into a temporary folder), found from its metadata
as `oauth-sim up --issuer` does. Login through its devInteractions pages, code exchange,
ID token validated, UserInfo, refresh, logout with revocation: the standard protocol, not a
private dialect. Skipped, with the reason, when Node.js or npm is missing or the install
fails (offline)."""

from __future__ import annotations

import http.server
import json
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sim import Simulation
from sim.parties import USER_AGENT
from sim.scenarios.base import csrf
from sim.tracing import trace_session
from tests.conftest import free_port_base

pytestmark = pytest.mark.slow

VERSION = "9.13.3"
SERVER_SCRIPT = Path(__file__).parent / "interop" / "oidc_provider.mjs"
CLIENT_ID, CLIENT_SECRET = "sim-client", "sim-secret"


@pytest.fixture(scope="module")
def provider_folder(tmp_path_factory) -> Path:
    if not (shutil.which("node") and shutil.which("npm")):
        pytest.skip("node-oidc-provider needs Node.js and npm on PATH; neither is required else")
    folder = tmp_path_factory.mktemp("oidc-provider")
    (folder / "package.json").write_text('{"name": "interop", "private": true, "type": "module"}')
    shutil.copyfile(SERVER_SCRIPT, folder / "server.mjs")
    try:
        done = subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                f"oidc-provider@{VERSION}",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=300,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"npm install oidc-provider@{VERSION} did not finish: {error}")
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:]
        pytest.skip(f"npm install oidc-provider@{VERSION} failed: {last}")
    return folder


@pytest.fixture
def provider(provider_folder):
    """node-oidc-provider serving, with our client (on a known port) registered."""
    base = free_port_base(12)
    port = base + 10  # our apps take base..base+4
    node = subprocess.Popen(
        ["node", "server.mjs", str(port), f"http://127.0.0.1:{base}/callback"],
        cwd=provider_folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in node.stdout], daemon=True).start()
    try:
        line = lines.get(timeout=30)
        assert line.startswith("READY"), line
        yield base, line.split()[1]
    finally:
        node.terminate()
        node.wait(timeout=10)
        node.stdout.close()


def test_our_client_logs_in_refreshes_and_logs_out_at_node_oidc_provider(provider):
    base, issuer = provider
    with Simulation(
        port_base=base,
        issuer=issuer,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        scope="openid offline_access profile",
    ) as sim:
        flow = sim.new_flow("interop")
        browser = sim.user_agent(flow)
        # the scripted browser's own requests are recorded too (a real browser's exchanges
        # with a foreign server are not: nothing of ours sees them)
        trace_session(browser.session, USER_AGENT, sim.store)
        page = browser.open(sim.client_url + "/login")
        assert 'name="login"' in page.text  # devInteractions' login page, at the peer
        page = browser.submit(page, {"prompt": "login", "login": "ada", "password": "any"})
        assert 'value="consent"' in page.text or "consent" in page.text.lower()
        home = browser.submit(page, {"prompt": "consent"})
        assert home.status_code == 200 and home.url == sim.client_url + "/", home.text[:300]
        # the ID token passed our checks (signature by the peer's JWKS, iss, aud, exp, nonce)
        assert "Signed in with OpenID Connect" in home.text and "sub=ada" in home.text
        assert "Hello, Student ada" in home.text  # UserInfo's name, for the same sub

        refreshed = browser.request(
            "POST", sim.client_url + "/refresh", data={"csrf_token": csrf(home.text)}
        )
        assert refreshed.status_code == 302
        home = browser.get(sim.client_url + "/")
        logged_out = browser.request(
            "POST", sim.client_url + "/logout", data={"csrf_token": csrf(home.text)}
        )
        assert logged_out.status_code == 302 and logged_out.headers["Location"] == "/"
        events = sim.trace(flow).to_dicts(detail=True)

    paths = [
        (e["from"], e["to"], e["method"], urlsplit(e["url"]).path, e["status"]) for e in events
    ]
    callback = next(e for e in events if urlsplit(e["url"]).path == "/callback")
    assert parse_qs(urlsplit(callback["url"]).query)["iss"] == [issuer]  # RFC 9207, checked
    tokens = [
        e for e in events if e["to"] == "authorization-server" and e["url"].endswith("/token")
    ]
    grants = [parse_qs(e["request_body"])["grant_type"][0] for e in tokens]
    assert grants == ["authorization_code", "refresh_token"]
    assert all(e["from"] == "client" and e["status"] == 200 for e in tokens)
    assert ("client", "authorization-server", "GET", "/jwks", 200) in paths
    assert ("client", "authorization-server", "GET", "/me", 200) in paths
    revoke = next(e for e in events if e["url"].endswith("/token/revocation"))
    assert revoke["status"] == 200 and revoke["kind"] == "back-channel"

    # the revoked refresh token is refused by the peer itself (RFC 7009 §2.2)
    last_refresh = json.loads(tokens[-1]["response_body"])["refresh_token"]
    answer = requests.post(
        issuer + "/token",
        data={"grant_type": "refresh_token", "refresh_token": last_refresh},
        auth=(CLIENT_ID, CLIENT_SECRET),
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def up_against(issuer: str) -> subprocess.CompletedProcess:
    """`oauth-sim up` pointed at `issuer`, as a user would start it (no stdin)."""
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", "up", "--port-base", "0", "--client-id", "x"]
        + ["--issuer", issuer],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (None, "no authorization server metadata"),
        ({"authorization_endpoint": "/auth"}, "has no token_endpoint"),
        ({"issuer": "https://someone-else.example"}, "names issuer"),
    ],
)
def test_an_unusable_issuer_is_one_line_and_exit_2(metadata, expected, tmp_path):
    """A server with no metadata, metadata lacking an endpoint, or naming another issuer."""

    class Metadata(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            if metadata is None or "well-known" not in self.path:
                self.send_error(404)
                return
            issuer = f"http://127.0.0.1:{self.server.server_port}"
            body = {"issuer": issuer, **metadata}
            body = {k: issuer + v if v.startswith("/") else v for k, v in body.items()}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Metadata)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = up_against(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_an_issuer_that_does_not_answer_is_one_line_and_exit_2():
    port = free_port_base(1)  # nothing listens there
    done = up_against(f"http://127.0.0.1:{port}")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"Error: the issuer http://127.0.0.1:{port} does not answer (ConnectionError)"
    )
