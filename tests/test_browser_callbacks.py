"""The browser-side callbacks in a real headless browser: the implicit page and the SPA
check `state` and `iss` BEFORE believing anything in a response, errors included
(RFC 9700 §4.6, §4.7; RFC 9207 §2.4)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from sim import Simulation
from tests.conftest import needs_chromium

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium


@pytest.fixture(scope="module")
def simulation():
    with Simulation() as running:
        yield running


def _open(browser, simulation, url: str, stored: dict[str, str] | None = None):
    """Open `url` in a fresh tab, after putting `stored` in the client origin's
    sessionStorage; return the page and every request the page made to the API."""
    context = browser.new_context()
    page = context.new_page()
    api_calls: list[str] = []
    page.on(
        "request",
        lambda r: (
            api_calls.append(r.url) if r.url.startswith(simulation.resource_server_url) else None
        ),
    )
    if stored:
        page.goto(simulation.client_url + "/spa")  # same origin, another document
        for key, value in stored.items():
            page.evaluate("([k, v]) => sessionStorage.setItem(k, v)", [key, value])
    page.goto(url)
    page.wait_for_selector("#error:not([hidden])", timeout=10_000)
    return page, api_calls, context


def _implicit_url(simulation, **params) -> str:
    return f"{simulation.client_url}/implicit/callback#{urlencode(params)}"


def test_the_implicit_page_refuses_a_token_it_did_not_ask_for(simulation, browser):
    # A token planted by another page: no login was started here, so no state is stored.
    url = _implicit_url(
        simulation,
        access_token="stolen-elsewhere",
        token_type="Bearer",
        state="whatever",
        iss=simulation.authorization_server_url,
    )
    page, api_calls, context = _open(browser, simulation, url)
    assert "Refused" in page.inner_text("#error")
    assert page.is_hidden("#arrived")
    assert api_calls == []  # the planted token was never used
    context.close()


def test_the_implicit_page_refuses_the_wrong_issuer_before_acting(simulation, browser):
    url = _implicit_url(
        simulation,
        access_token="from-another-server",
        token_type="Bearer",
        state="st8",
        iss="http://localhost:1",
    )
    page, api_calls, context = _open(
        browser, simulation, url, stored={"oauth-sim-implicit-state": "st8"}
    )
    assert "issuer" in page.inner_text("#error")
    assert api_calls == []
    context.close()


def test_the_spa_checks_state_before_believing_an_error(simulation, browser):
    # An error response this page never asked for: it says so, not "access_denied".
    query = urlencode(
        {"error": "access_denied", "state": "forged", "iss": simulation.authorization_server_url}
    )
    page, _, context = _open(browser, simulation, f"{simulation.client_url}/spa/callback?{query}")
    text = page.inner_text("#error")
    assert "state does not match" in text and "access_denied" not in text
    context.close()
