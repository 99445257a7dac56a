"""The backend-for-frontend in Debian's Chromium: log in through /bff, click "Load my photos",
and check that no access or refresh token ever reached the browser: not in anything its
scripts can read (storage, cookies, the page), not in any response it received (Playwright's
own view and the trace's), and that the backend refuses the call once the session cookie is
gone.

Optional: needs the `playwright` Python package and a browser at /usr/bin/chromium.
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

import pytest

from sim.parties import AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER, USER_AGENT
from tests.conftest import needs_chromium

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium


def issued_tokens(events) -> list[str]:
    """Every access and refresh token the authorization server issued (its /token answers)."""
    found = []
    for event in events:
        if event.to == AUTHORIZATION_SERVER and urlsplit(event.url).path == "/token":
            answer = json.loads(event.response_body or "{}")
            found += [answer[k] for k in ("access_token", "refresh_token") if answer.get(k)]
    return found


def seen_by_browser(response) -> tuple[str, str]:
    """A response's URL, and its headers and body as text (a redirect has no body)."""
    seen = json.dumps(response.all_headers())
    if not 300 <= response.status < 400:
        seen += response.body().decode("utf-8", errors="replace")
    return response.url, seen


def test_bff_login_loads_photos_and_no_token_reaches_the_browser(simulation, browser):
    context = browser.new_context()
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    received: list[tuple[str, str]] = []  # every response this browser received, as seen
    # by the browser: read at once, a page navigated away from no longer has its body
    page.on("response", lambda response: received.append(seen_by_browser(response)))

    page.goto(simulation.client_url + "/bff")
    page.click("a[href='/bff/login']")
    page.wait_for_selector("input[name=password]")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", "wonderland")
    page.click("button[type=submit]")
    page.click("button[value=approve]")
    page.wait_for_selector("#load")
    assert urlsplit(page.url).path == "/bff" and not urlsplit(page.url).query
    page.click("#load")
    page.wait_for_selector("#photos li")
    assert "Tea party" in page.inner_text("#photos")
    assert page.inner_text("#status") == "GET /bff/api/photos: 200"

    events = simulation.trace("live").events
    tokens = issued_tokens(events)
    assert tokens, "the backend got no tokens"
    # The tokens went server to server only: the client asked, the API was called by it.
    token_requests = [e for e in events if urlsplit(e.url).path == "/token"]
    assert all((e.sender, e.to) == (CLIENT, AUTHORIZATION_SERVER) for e in token_requests)
    api = [e for e in events if e.to == RESOURCE_SERVER]
    assert api and all(e.sender == CLIENT for e in api)
    proxied = [e for e in events if e.sender == USER_AGENT and "/bff/api/photos" in e.url]
    assert [e.status for e in proxied] == [200] and proxied[0].kind == "browser-call"

    # Not in any response the browser received: the trace's record of each exchange ...
    to_browser = [e for e in events if e.sender == USER_AGENT]
    for event in to_browser:
        seen = event.response_body + json.dumps(event.response_headers)
        assert not any(token in seen for token in tokens), event.request_line
    # ... and the browser's own view of every response, bodies included.
    assert any(urlsplit(url).path == "/bff/api/photos" for url, _ in received)
    assert any(urlsplit(url).path == "/callback" for url, _ in received)
    for url, seen in received:
        assert not any(token in seen for token in tokens), url
    # Not in anything the page's scripts can read.
    readable = page.evaluate(
        "JSON.stringify([document.documentElement.outerHTML, document.cookie,"
        " Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert not any(token in readable for token in tokens)
    assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly

    if os.environ.get("OAUTH_SIM_SCREENSHOT"):  # to look at the page: set a PNG path
        page.screenshot(path=os.environ["OAUTH_SIM_SCREENSHOT"], full_page=True)

    # Without the session cookie the backend has no login to act for: 401.
    context.clear_cookies()
    page.click("#load")
    page.wait_for_function(
        "document.getElementById('status').textContent.endsWith(': 401')", timeout=10_000
    )
    assert page.inner_text("#photos") == ""
    events = simulation.trace("live").events
    refused = [e for e in events if e.sender == USER_AGENT and "/bff/api/photos" in e.url][-1]
    assert refused.status == 401 and json.loads(refused.response_body)["error"] == "not_logged_in"
    assert "Cookie" not in refused.request_headers
    assert errors == []
    context.close()
