"""Shared fixtures: one running simulation for the session (real apps, real loopback HTTP)
and an `oauth` helper that plays the protocol by hand, for tests of single endpoints."""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import socket
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from sim import Simulation
from sim.scenarios.base import log_in_and_consent


def free_port_base(count: int = 4) -> int:
    """A run of `count` free ports below Linux's ephemeral range (32768+), so no outgoing
    connection of another test can take one between this check and the bind."""
    for base in range(21000 + secrets.randbelow(500) * 16, 32000, 16):
        try:
            probes = []
            for offset in range(count):
                sock = socket.socket()
                probes.append(sock)
                sock.bind(("127.0.0.1", base + offset))
            return base
        except OSError:
            continue
        finally:
            for sock in probes:
                sock.close()
    pytest.skip("no run of free ports below 32000")


#: Debian's Chromium: Playwright cannot download a browser here (real-browser tests only).
CHROMIUM = os.environ.get("OAUTH_SIM_CHROMIUM", "/usr/bin/chromium")
#: Headless, as root, on a machine whose network is closed (no background connections).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"no browser at {CHROMIUM}"
)


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright, one per module (modules mark themselves
    `needs_chromium`, so this only runs where the browser exists)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = launch_chromium(playwright)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def simulation():
    """A simulation of the module's own, on free ports: a real browser's cookies and live
    flows stay apart from the shared `sim`'s."""
    with Simulation(port_base=0) as running:
        yield running


@pytest.fixture(scope="session")
def sim():
    """The one running simulation every test module shares (with the classroom console,
    which the fuzz tests reach too). Tests only add to its state (new flows, users' new
    photos) and assert on what they made, never on totals, so their order does not matter."""
    with Simulation(console=True) as simulation:
        yield simulation


def s256(verifier: str) -> str:
    """PKCE S256 computed independently of Authlib (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Grant:
    code: str
    verifier: str | None
    state: str
    location: str


class OAuthActions:
    """The protocol by hand, like Flask's tutorial AuthActions: get a code, redeem it."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.as_url = sim.authorization_server_url
        self.redirect_uri = sim.client_url + "/callback"

    def authorize_url(self, **overrides) -> str:
        params = {
            "response_type": "code",
            "client_id": "demo-client",
            "redirect_uri": self.redirect_uri,
            "scope": "profile photos:read",
            "state": secrets.token_urlsafe(8),
        }
        params.update(overrides)
        params = {k: v for k, v in params.items() if v is not None}
        return f"{self.as_url}/authorize?{urlencode(params)}"

    def get_code(self, user="alice", password="wonderland", pkce=True, **overrides) -> Grant:
        verifier = secrets.token_urlsafe(48) if pkce else None
        if pkce:
            overrides.setdefault("code_challenge", s256(verifier))
            overrides.setdefault("code_challenge_method", "S256")
        url = self.authorize_url(**overrides)
        ua = self.sim.user_agent(self.sim.new_flow("test"))
        answer = log_in_and_consent(ua, ua.get(url), user, password, stop_at=self.sim.client_url)
        assert answer.status_code == 302, answer.text[:300]
        location = answer.headers["Location"]
        query = parse_qs(urlsplit(location).query)
        return Grant(query["code"][0], verifier, query["state"][0], location)

    def token(self, data: dict, auth=("demo-client", "demo-secret"), **kwargs):
        return requests.post(f"{self.as_url}/token", data=data, auth=auth, timeout=10, **kwargs)

    def redeem(self, grant: Grant, verifier: str | None = "same", **extra):
        data = {
            "grant_type": "authorization_code",
            "code": grant.code,
            "redirect_uri": self.redirect_uri,
        }
        verifier = grant.verifier if verifier == "same" else verifier
        if verifier:
            data["code_verifier"] = verifier
        data.update(extra)
        return self.token(data)

    def tokens(self, **kwargs) -> dict:
        response = self.redeem(self.get_code(**kwargs))
        assert response.status_code == 200, response.text
        return response.json()

    def api(self, path: str, token: str | None, method: str = "GET", **kwargs):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return requests.request(
            method, self.sim.resource_server_url + path, headers=headers, timeout=10, **kwargs
        )

    def introspect(self, token: str, auth=("demo-rs", "rs-secret")):
        return requests.post(
            f"{self.as_url}/introspect", data={"token": token}, auth=auth, timeout=10
        )


@pytest.fixture
def oauth(sim) -> OAuthActions:
    return OAuthActions(sim)
