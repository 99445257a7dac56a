"""The defences attack scenarios can switch off, by contract name, and the per-flow channel
that carries the switches to the parties.

Theory of operation
-------------------
A scenario run opens a flow with some defences off (`Switchboard.set`), drives the parties
over HTTP with the flow id in a header, and clears the flow's entry when it ends
(`Switchboard.clear`). Every app is wrapped in `FlowSwitches`, which looks the flow's
settings up once per request and puts them in a context variable; the one place a party's
defence acts asks `is_off(NAME)`. Back-channel calls the party makes meanwhile carry the
same flow id, so the switch follows the flow to the next server.

This channel is its own: the trace store only observes and never carries a switch (a run
with tracing off switches defences the same way). A request from a real browser carries no
flow id, so `oauth-sim up` always runs with every defence on. Besides `off`, a flow's
settings may hold plain values a scenario needs for its run only (for example
`access_token_lifetime`), read with `option(KEY)`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from sim.tracing.context import current_flow
from sim.tracing.counter import KeptWhileUnmoved, SharedCounter
from sim.tracing.names import FLOW_HEADER

STATE = "state"
PKCE = "pkce"
EXACT_REDIRECT_URI = "exact-redirect-uri"
ONE_TIME_CODE = "one-time-code"
REFRESH_ROTATION = "refresh-rotation"
PKCE_DOWNGRADE = "pkce-downgrade"
ISS = "iss"
DPOP = "dpop"
NONCE = "nonce"
#: Every defence name of the contract (ARCHITECTURE.md, "Defences and attack outcomes"):
#: what a quiz can offer as choices; each attack lists its own in its guards.
NAMES = (
    STATE,
    PKCE,
    EXACT_REDIRECT_URI,
    ONE_TIME_CODE,
    REFRESH_ROTATION,
    PKCE_DOWNGRADE,
    ISS,
    DPOP,
    NONCE,
)

_settings: ContextVar[Mapping[str, Any] | None] = ContextVar("flow_settings", default=None)


def is_off(name: str, store: Any = None) -> bool:
    """True when the flow being served runs with defence `name` switched off. (`store` is
    ignored: kept so callers written before the switchboard need no change.)"""
    return name in (_settings.get() or {}).get("off", ())


def option(key: str, store: Any = None, default: Any = None) -> Any:
    """A per-flow setting of the flow being served (e.g. `access_token_lifetime`)."""
    return (_settings.get() or {}).get(key, default)


class Switchboard:
    """Per-flow settings, in one SQLite table: in memory for threads mode, a file that every
    app process opens in process mode. Entries live from `set` to `clear` (the flow's end).

    Every request of a scripted run asks for its flow's settings; each process keeps the
    answers until the board's version (`SharedCounter`, counted up by every `set` and
    `clear`, in any process) moves, so most requests of a run read no SQLite."""

    def __init__(self, path: str = ":memory:") -> None:
        self.path = path
        self._lock = threading.Lock()
        self._version = SharedCounter(None if path == ":memory:" else path + ".version")
        self._kept: KeptWhileUnmoved[dict[str, Any]] = KeptWhileUnmoved(self._version, self._lock)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA busy_timeout=5000")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS flows (flow TEXT PRIMARY KEY, settings TEXT NOT NULL)"
        )

    def set(self, flow: str, off: Iterable[str] = (), **settings: Any) -> None:
        data = {"off": sorted(set(off)), **settings}
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO flows (flow, settings) VALUES (?, ?)",
                (flow, json.dumps(data)),
            )
            self._version.bump()

    def get(self, flow: str | None) -> dict[str, Any]:
        """The flow's settings (a copy the caller may change)."""
        if not flow:
            return {}
        return dict(self._kept.get(flow, self._read))

    def _read(self, flow: str) -> dict[str, Any]:
        row = self._conn.execute("SELECT settings FROM flows WHERE flow = ?", (flow,)).fetchone()
        return json.loads(row[0]) if row else {}

    def clear(self, flow: str) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM flows WHERE flow = ?", (flow,))
            self._version.bump()

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        self._version.close()


_FLOW_KEY = "HTTP_" + FLOW_HEADER.upper().replace("-", "_")


class FlowSwitches:
    """WSGI middleware: the settings of the request's flow, for the app's code to ask."""

    def __init__(self, app: Callable, board: Switchboard | None) -> None:
        self.app = app
        self.board = board

    def __call__(self, environ: dict[str, Any], start_response: Callable):
        flow = environ.get(_FLOW_KEY)
        if not flow or self.board is None:
            return self.app(environ, start_response)
        settings = _settings.set(self.board.get(flow))
        # With tracing off nobody else names the flow, and the app's own back-channel calls
        # must carry it on to the next server.
        named = current_flow.set(current_flow.get() or flow)
        try:
            return self.app(environ, start_response)
        finally:
            current_flow.reset(named)
            _settings.reset(settings)
