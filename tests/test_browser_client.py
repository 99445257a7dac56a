"""The confidential client in a real headless browser: the page a class sees on the
projector, with real cookies shared across the ports of one host, and the same trace.

Optional like the SPA test: needs the `playwright` package and Chromium at
/usr/bin/chromium (Debian's `chromium`); skipped otherwise.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from sim import Simulation
from sim.parties import AUTHORIZATION_SERVER, CLIENT, USER_AGENT
from tests.conftest import launch_chromium, needs_chromium

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def page():
    with Simulation() as simulation, sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        tab = browser.new_page()
        tab.simulation = simulation
        yield tab
        browser.close()


def test_a_real_browser_logs_in_and_sees_the_photos(page):
    sim = page.simulation
    page.goto(sim.client_url + "/")
    page.click("text=Log in with the authorization server")
    page.fill("#username", "alice")
    page.fill("#password", "wonderland")
    page.click("button[type=submit]")
    assert "Allow access?" in page.content()
    page.click("button[value=approve]")
    page.wait_for_url(sim.client_url + "/", timeout=10_000)
    assert "Hello, Alice Liddell" in page.content() and "Tea party" in page.content()
    cookies = {c["name"] for c in page.context.cookies()}
    assert {"sim_client_session", "sim_as_session"} <= cookies  # one host, two cookies
    assert not any("token" in c["value"] for c in page.context.cookies())

    events = sim.trace("live").events  # a real browser sends no flow id
    callback = next(e for e in events if urlsplit(e.url).path == "/callback")
    assert (callback.sender, callback.to, callback.location) == (USER_AGENT, CLIENT, "/")
    exchange = events[events.index(callback) + 1]
    assert (exchange.sender, exchange.to, exchange.kind) == (
        CLIENT,
        AUTHORIZATION_SERVER,
        "back-channel",
    )


def test_a_framed_login_page_is_refused_by_the_browser(page):
    sim = page.simulation
    base = sim.authorization_server_url
    page.set_content(
        f'<iframe id="login" src="{base}/login"></iframe>'
        f'<iframe id="control" src="{base}/.well-known/oauth-authorization-server"></iframe>'
    )
    # The control (JSON, no framing headers) renders, so frames do load here...
    page.frame_locator("#control").locator("text=issuer").wait_for(timeout=10_000)
    # ...but X-Frame-Options: DENY / frame-ancestors 'none' keep the login form out.
    assert page.frame_locator("#login").locator("#password").count() == 0
