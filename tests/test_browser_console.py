"""The classroom console in a real browser (Debian's Chromium through Playwright): a
student logs in in one tab while the console, open in another, draws each message as it
happens, without a reload; inspecting, pause mode and screenshots at projector sizes.

Skipped, with the reason, where the `playwright` package or Chromium is missing.
"""

from __future__ import annotations

import pytest
import requests

from sim import Simulation
from tests.conftest import launch_chromium, needs_chromium

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = [needs_chromium, pytest.mark.slow]

TIMEOUT = 15_000


@pytest.fixture(scope="module")
def chromium():
    with Simulation(console=True) as simulation, sync_api.sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        browser.simulation = simulation
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium):
    """A fresh browser profile per test (a new student: no cookies yet)."""
    context = chromium.new_context(viewport={"width": 1280, "height": 720})
    context.simulation = chromium.simulation
    yield context
    context.close()


def open_console(context):
    page = context.new_page()
    page.goto(context.simulation.urls["console"] + "/")
    page.wait_for_selector("#live-status:text('live')", timeout=TIMEOUT)
    page.evaluate("window.__sameDocument = true")
    page.evaluate(
        """() => {
        window.__snapshots = [];
        new MutationObserver(() => window.__snapshots.push(
            [...document.querySelectorAll('#messages li')].map(li => li.textContent)
        )).observe(document.getElementById('messages'), {childList: true});
    }"""
    )
    return page


def click_through_login(page, sim):
    page.goto(sim.client_url + "/")
    page.click("text=Log in with the authorization server")
    page.fill("#username", "alice")
    page.fill("#password", "wonderland")
    page.click("button[type=submit]")
    page.click("button[value=approve]")
    page.wait_for_url(sim.client_url + "/", timeout=TIMEOUT)


def live_flow(sim) -> dict:
    events = requests.get(sim.client_url + "/trace", timeout=5).json()["events"]
    flow = [e["flow"] for e in events if e["url"].endswith("/login")][-1]
    return requests.get(sim.client_url + "/trace", params={"flow": flow}, timeout=5).json()


def test_the_console_shows_each_message_of_a_login_in_order_without_reload(browser):
    sim = browser.simulation
    console = open_console(browser)
    asked: list[str] = []  # the flow list and flows the page fetched while it followed
    console.on("request", lambda request: asked.append(request.url))
    student = browser.new_page()
    click_through_login(student, sim)
    flow = live_flow(sim)
    expected = [
        f"{e['from']} → {e['to']}: {e['method']} {e['url'].split('?')[0].split('/', 3)[-1]}"
        for e in flow["events"]
    ]
    console.wait_for_function(
        "n => document.querySelectorAll('#messages li').length === n",
        arg=len(expected),
        timeout=TIMEOUT,
    )
    shown = console.locator("#messages li").all_inner_texts()
    assert [s.replace(" /", " ", 1).rsplit(" — ", 1)[0] for s in shown] == expected
    assert console.evaluate("window.__sameDocument") is True  # never reloaded
    grew = console.evaluate("window.__snapshots.map(s => s.length)")
    assert len(set(grew)) >= 4, grew  # it grew step by step as the student clicked
    assert console.locator("#diagram svg .msg").count() == len(expected)
    assert console.locator("#diagram svg .msg.newest").count() == 1
    # Each stream message carried the new steps, list entries and the newest step
    # inspected: the page asked the API for nothing while it followed.
    assert not [url for url in asked if "/api/flows" in url], asked
    # A step drawn from the stream is explained when shown: its note comes with its inspection.
    console.click("#prev")
    seq = int(console.locator("#step-title").inner_text().split()[1])
    listed = requests.get(f"{sim.urls['console']}/api/flows/{flow['flow']}", timeout=5).json()
    note = listed["events"][seq - 1]["note"]
    console.wait_for_function("n => document.getElementById('note').textContent === n", arg=note)
    assert note and console.locator("#rfc").inner_text() == listed["events"][seq - 1]["rfc_cited"]
    student.close()
    console.close()


def test_inspecting_the_token_request_shows_the_decoded_jwt_and_the_verifier(browser):
    sim = browser.simulation
    student = browser.new_page()
    click_through_login(student, sim)
    console = open_console(browser)
    flow = live_flow(sim)
    token = next(e for e in flow["events"] if e["url"].endswith("/token"))
    verifier = dict(token["values"])["code_verifier"]
    console.wait_for_function(
        "n => document.querySelectorAll('#messages li').length === n",
        arg=len(flow["events"]),
        timeout=TIMEOUT,
    )
    console.locator("#messages li", has_text="POST /token").click()
    console.wait_for_selector("#inspect .jwt-signature", timeout=TIMEOUT)
    inspect = console.locator("#inspect").inner_text()
    assert verifier in inspect and "code_challenge sent" in inspect
    assert "Signature: valid" in inspect and '"client_id": "demo-client"' in inspect
    assert "Decoded by this viewer" in inspect
    assert "code_verifier" in console.locator("#note").inner_text()
    console.keyboard.press("ArrowRight")
    assert console.locator("#step-title").inner_text() == f"Step {token['seq'] + 1} of " + str(
        len(flow["events"])
    )
    student.close()
    console.close()


def test_pause_mode_stops_at_the_redirect_and_continue_goes_on(browser):
    sim = browser.simulation
    console = open_console(browser)
    console.check("#pause")
    console.wait_for_function(
        "() => fetch('/api/pause').then(r => r.json()).then(d => d.on)", timeout=TIMEOUT
    )
    student = browser.new_page()
    try:
        student.goto(sim.client_url + "/")
        student.click("text=Log in with the authorization server")
        student.wait_for_selector("#continue", timeout=TIMEOUT)
        assert student.url.startswith(sim.client_url + "/login")
        href = student.get_attribute("#continue", "href")
        assert href.startswith(sim.authorization_server_url + "/authorize?")
        assert "code_challenge" in student.content()
        student.click("#continue")
        student.wait_for_selector("#continue", timeout=TIMEOUT)  # the next hop pauses too
        assert student.url.startswith(sim.authorization_server_url + "/authorize")
    finally:
        console.uncheck("#pause")
        console.wait_for_function(
            "() => fetch('/api/pause').then(r => r.json()).then(d => !d.on)", timeout=TIMEOUT
        )
    student.click("#continue")
    student.wait_for_selector("#password", timeout=TIMEOUT)
    student.close()
    console.close()


@pytest.mark.parametrize("size", [(1280, 720), (1024, 768)])
def test_screenshots_at_projector_sizes(browser, tmp_path, size):
    sim = browser.simulation
    student = browser.new_page()
    click_through_login(student, sim)
    console = open_console(browser)
    console.set_viewport_size({"width": size[0], "height": size[1]})
    console.wait_for_selector("#diagram svg .msg", timeout=TIMEOUT)
    path = tmp_path / f"console-{size[0]}x{size[1]}.png"
    console.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    # Nothing wider than the window: no horizontal scrolling on a projector.
    assert console.evaluate("document.documentElement.scrollWidth") <= size[0]
    student.close()
    console.close()


def test_a_defence_switch_makes_the_next_csrf_lure_succeed(browser):
    sim = browser.simulation
    console = open_console(browser)
    console.click("#attacks summary")
    console.select_option("#scenario", "csrf-state")

    def lure_lands_on() -> str:
        console.click("#lure")
        console.wait_for_selector("#lure-box:not([hidden])", timeout=TIMEOUT)
        link = console.get_attribute("#lure-link", "href")
        console.evaluate("document.getElementById('lure-box').hidden = true")
        assert link.startswith(sim.attacker_url + "/")
        victim_context = browser.browser.new_context()
        victim = victim_context.new_page()
        victim.goto(link)
        victim.wait_for_load_state()
        text = victim.content()
        victim_context.close()
        return text

    assert "Login refused" in lure_lands_on()
    for switch in console.locator("#defences input[data-defence]").all():
        switch.uncheck()
    assert "Scoop the digger" in lure_lands_on()  # alice's browser now shows bob's photos
    console.close()


@pytest.mark.parametrize("start", ["/spa", "/spa?dpop=1"])
def test_a_single_page_app_login_is_one_flow_with_its_script_calls(browser, start):
    """The SPA's token request and API calls are cross-origin fetches that carry no cookie:
    they join the login's flow by the code and the token they carry (with DPoP the token
    travels as `Authorization: DPoP`, and the token request is preflighted too)."""
    sim = browser.simulation
    page = browser.new_page()
    page.goto(sim.client_url + start)
    page.click("#login")
    page.fill("#username", "alice")
    page.fill("#password", "wonderland")
    page.click("button[type=submit]")
    page.click("button[value=approve]")
    page.wait_for_selector("#hello:text('Hello, Alice')", timeout=TIMEOUT)
    events = requests.get(sim.client_url + "/trace", timeout=5).json()["events"]
    flow = [e["flow"] for e in events if e["url"].endswith(start)][-1]
    mine = [e for e in events if e["flow"] == flow]
    paths = [
        (e["from"], e["to"], e["method"], e["url"].split("?")[0].rsplit("/", 1)[-1]) for e in mine
    ]
    assert ("user-agent", "authorization-server", "POST", "token") in paths
    assert ("user-agent", "resource-server", "GET", "photos") in paths
    assert ("resource-server", "authorization-server", "POST", "introspect") in paths
    if "dpop" in start:
        assert ("user-agent", "authorization-server", "OPTIONS", "token") in paths
        api = [e for e in mine if e["method"] == "GET" and e["to"] == "resource-server"]
        assert len(api) == 2 and all(e["status"] == 200 for e in api)
    later = [e for e in events if e["flow"] == "live" and e["time"] > mine[0]["time"]]
    assert not later, [e["url"] for e in later]  # nothing of this login fell outside it
    page.close()
