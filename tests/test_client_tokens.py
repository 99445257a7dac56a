"""The client's server-side session state is bounded as a real client's is: a session's
tokens go when its cookie can no longer be presented, the least recently used session's go
first past a limit (its browser is logged out, nothing breaks), and the "what just happened"
panel goes with them; unfinished logins are bounded too."""

from __future__ import annotations

import pytest

import sim.client.tokens as tokens
from sim import Simulation
from sim.client.history import History
from sim.client.tokens import PendingLogins, TokenStore
from sim.scenarios.base import log_in_and_consent


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(tokens.time, "time", clock.time)
    return clock


def test_a_session_unused_for_the_cookie_lifetime_is_forgotten(clock):
    forgotten: list[str] = []
    store = TokenStore(lifetime=100, on_forget=forgotten.append)
    store.put("a", {"access_token": "A"})
    store.put("b", {"access_token": "B"})
    clock.now += 60
    assert store.get("a") == {"access_token": "A"}  # used: its cookie lives on from here
    clock.now += 60  # b unused for 120 s, a for 60 s
    assert store.get("b") is None
    assert store.get("a") == {"access_token": "A"}
    assert forgotten == ["b"] and len(store) == 1


def test_past_the_limit_the_least_recently_used_session_goes(clock):
    forgotten: list[str] = []
    store = TokenStore(lifetime=1e9, limit=2, on_forget=forgotten.append)
    store.put("a", {"n": 1})
    store.put("b", {"n": 2})
    clock.now += 1
    store.get("a")  # b is now the least recently used
    store.put("c", {"n": 3})
    assert (store.get("a"), store.get("b"), store.get("c")) == ({"n": 1}, None, {"n": 3})
    assert forgotten == ["b"]
    store.put("c", {"n": 4})  # a refreshed token replaces, it does not add
    assert len(store) == 2 and store.get("c") == {"n": 4}


def test_a_dropped_session_is_forgotten_with_its_panel(clock):
    history = History()
    store = TokenStore(lifetime=100, on_forget=history.drop)
    store.put("a", {"access_token": "A"})
    history.login("a", "flow-1", "code-123", {"access_token": "A"})
    assert store.drop("a") == {"access_token": "A"}
    assert history.get("a") is None and store.drop("a") is None


def test_tokens_handed_out_are_copies(clock):
    store = TokenStore(lifetime=100)
    token = {"access_token": "A"}
    store.put("a", token)
    token["access_token"] = "changed"
    store.get("a")["access_token"] = "changed too"
    assert store.get("a") == {"access_token": "A"}


def test_unfinished_logins_are_bounded_in_time_and_number(clock):
    pending = PendingLogins(limit=3)
    for n in range(5):
        pending.add(f"login-{n}", {"state": str(n)})
    assert len(pending) == 3 and pending.pop("login-1") is None
    assert pending.pop("login-4")["state"] == "4"
    clock.now += tokens.PENDING_LIFETIME + 1
    pending.add("late", {"state": "late"})  # the others have expired meanwhile
    assert len(pending) == 1 and pending.pop("late")["state"] == "late"


def test_an_evicted_session_finds_itself_logged_out_and_the_others_stay(monkeypatch):
    """Over real HTTP, a client keeping two sessions: a third login evicts the least
    recently used one, whose browser then sees the login page, not an error."""
    monkeypatch.setattr(tokens, "MAX_SESSIONS", 2)
    with Simulation() as sim:

        def log_in():
            ua = sim.user_agent(sim.new_flow("tokens-bounded"))
            home = log_in_and_consent(ua, ua.get(sim.client_url + "/login"))
            assert "Your photos" in home.text
            return ua

        first, second = log_in(), log_in()
        assert "Your photos" in first.get(sim.client_url + "/").text  # first used last
        log_in()
        assert "Your photos" in first.get(sim.client_url + "/").text
        page = second.get(sim.client_url + "/")
        assert page.status_code == 200
        assert "Log in with the authorization server" in page.text
        assert "Your photos" not in page.text
