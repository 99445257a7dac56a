"""The stage a scenario plays on: what a scenario may ask of the running simulation.

Scenarios depend on this small protocol, not on `Simulation`: the parties' URLs, a browser
or an HTTP client for an actor, a flow with its own defence switches, and the flow's trace
once it has ended. `sim.runtime.manager.Simulation` is the one implementation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import requests

from sim.parties import USER_AGENT
from sim.tracing import Trace
from sim.user_agent import UserAgent


class Stage(Protocol):
    @property
    def client_url(self) -> str: ...

    @property
    def authorization_server_url(self) -> str: ...

    @property
    def resource_server_url(self) -> str: ...

    @property
    def attacker_url(self) -> str: ...

    def new_flow(self, name: str = "flow", off: Iterable[str] = (), **settings: Any) -> str:
        """A fresh flow id; `off` and `settings` hold for this flow only, until end_flow."""
        ...

    def update_flow(self, flow: str, **settings: Any) -> None:
        """Change some settings of a running flow (e.g. `clock_offset`), keeping the rest."""
        ...

    def end_flow(self, flow: str) -> None: ...

    def user_agent(self, flow: str, party: str = USER_AGENT) -> UserAgent:
        """A browser for `party` (the victim's, or the attacker's own) in this flow."""
        ...

    def http(
        self, flow: str, party: str, session: requests.Session | None = None
    ) -> requests.Session:
        """An HTTP client for `party` in this flow (direct calls, no browser): `session`
        (e.g. Authlib's OAuth2Session) or a plain one, traced like the parties' own."""
        ...

    def trace(self, flow: str, title: str = "") -> Trace:
        """The flow's events, in order (empty when tracing is off)."""
        ...
