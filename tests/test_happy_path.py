"""The whole flow, end to end, over real loopback HTTP."""

from __future__ import annotations

import pytest

from sim import Simulation
from sim.parties import AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER, USER_AGENT


def assert_happy(result) -> None:
    assert result.outcome == {
        "logged_in": True,
        "photos_shown": True,
        "refreshed": True,
        "tokens_in_browser": False,
    }
    events = result.trace.events
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    first = events[0]
    assert (first.sender, first.to, first.status) == (USER_AGENT, CLIENT, 302)
    assert "/authorize?" in first.location and "code_challenge_method=S256" in first.location
    code_redirect = next(e for e in events if e.location and "/callback?code=" in e.location)
    assert (code_redirect.sender, code_redirect.to) == (USER_AGENT, AUTHORIZATION_SERVER)
    assert "iss=" in code_redirect.location and "state=" in code_redirect.location
    callback = events[events.index(code_redirect) + 1]
    assert (callback.sender, callback.to, callback.path.split("?")[0]) == (
        USER_AGENT,
        CLIENT,
        "/callback",
    )
    assert callback.location == "/"  # the code does not stay in the address bar
    exchange = events[events.index(callback) + 1]
    assert (exchange.sender, exchange.to, exchange.kind) == (
        CLIENT,
        AUTHORIZATION_SERVER,
        "back-channel",
    )
    assert "grant_type=authorization_code" in exchange.request_body
    assert "code_verifier=" in exchange.request_body
    assert exchange.response_headers.get("Cache-Control") == "no-store"
    api = [e for e in events if e.to == RESOURCE_SERVER]
    assert api and all(e.kind == "api-call" and e.status == 200 for e in api)
    assert any("grant_type=refresh_token" in e.request_body for e in events)
    assert all(e.note and e.rfc for e in events if e.kind != "page" or e.to != CLIENT)


def test_happy_path_threads(sim):
    assert_happy(sim.run("happy-path"))


@pytest.mark.slow
def test_happy_path_process_mode():
    with Simulation(mode="process") as simulation:
        assert_happy(simulation.run("happy-path"))
