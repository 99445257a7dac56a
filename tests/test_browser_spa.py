"""The single-page app in a real headless browser: Web Crypto makes the PKCE pair, the page
redeems its code at /token with no secret (CORS), and keeps the tokens in memory only.

Optional: needs the `playwright` Python package (no `playwright install`: it drives the
system's Chromium at /usr/bin/chromium, e.g. Debian's `chromium` package).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest

from sim.parties import AUTHORIZATION_SERVER, CLIENT, USER_AGENT
from tests.conftest import needs_chromium, s256

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium


def log_in(page, simulation, approve: str = "approve") -> None:
    page.goto(simulation.client_url + "/spa")
    page.click("#login")
    page.wait_for_selector("input[name=password]")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wonderland")
    page.click("button[type=submit]")
    page.click(f"button[value={approve}]")


def test_spa_logs_in_with_pkce_and_keeps_tokens_in_memory(simulation, browser):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, simulation)
    page.wait_for_selector("#signed-in:not([hidden])", timeout=10_000)
    assert page.inner_text("#hello") == "Hello, Alice Liddell"
    assert "Tea party" in page.inner_text("#photos")
    assert urlsplit(page.url).path == "/spa" and not urlsplit(page.url).query  # code removed
    assert page.evaluate("localStorage.length") == 0
    assert page.evaluate("sessionStorage.length") == 0  # the verifier is gone too
    assert errors == []

    events = simulation.trace("live").events
    token = next(e for e in events if urlsplit(e.url).path == "/token")
    assert (token.sender, token.to, token.status) == (USER_AGENT, AUTHORIZATION_SERVER, 200)
    assert token.request_headers["Origin"] == simulation.client_url
    assert token.response_headers["Access-Control-Allow-Origin"] == simulation.client_url
    assert "Authorization" not in token.request_headers
    form = parse_qs(token.request_body)
    assert "client_secret" not in form and form["client_id"] == ["demo-spa"]
    # Web Crypto's challenge (front channel) is SHA256 of the verifier (token request only).
    authorize = next(e for e in events if "code_challenge=" in e.url)
    challenge = parse_qs(urlsplit(authorize.url).query)["code_challenge"][0]
    assert challenge == s256(form["code_verifier"][0])
    carriers = [e for e in events if any(n == "code_verifier" for n, _ in e.values)]
    assert carriers == [token]
    # The client's server served pages only: it never called the token endpoint.
    assert not any(e.sender == CLIENT for e in events)

    page.click("#refresh")
    page.wait_for_function("document.querySelectorAll('#steps dt').length >= 5")
    if os.environ.get("OAUTH_SIM_SCREENSHOT"):  # to look at the page: set a PNG path
        page.screenshot(path=os.environ["OAUTH_SIM_SCREENSHOT"], full_page=True)
    page.click("#logout")
    page.wait_for_selector("#login")
    context.close()
