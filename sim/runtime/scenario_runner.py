"""The classroom console's scenario runner: runs scenarios against the apps `oauth-sim up`
started and prepares the attacker's lures, for the console page.

It lives with the runtime, not in the console app: playing a scenario needs the scenarios,
the attacker's actor and a `Simulation` attached to the running apps, all of which sit above
the apps. The manager hands one to the console app (`RUNNER`); the console only validates
input against `catalogue()` and passes names through.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from sim.scenarios import SCENARIOS
from sim.scenarios.actors import Attacker
from sim.scenarios.base import log_in_and_consent

#: Scenarios whose lure a student can click in a real browser.
LURES = ("csrf-state", "mix-up")


class ScenarioRunner:
    def __init__(self, urls: dict[str, str], store: Any, attach: Callable[..., Any]) -> None:
        """`attach(urls, store, switches)` makes the Simulation over the running apps
        (`Simulation.attach`, handed in by the manager that defines it)."""
        self.urls, self.store, self._attach = dict(urls), store, attach
        self._attached = None
        self._lock = threading.Lock()

    def simulation(self, switches: Any = None):
        """The running apps as a `Simulation` (it starts and stops nothing)."""
        with self._lock:
            if self._attached is None:
                self._attached = self._attach(self.urls, self.store, switches)
            return self._attached

    def catalogue(self) -> list[dict[str, Any]]:
        return [
            {
                "name": name,
                "description": scenario.description,
                "defences": list(tuple(scenario.defences)),
                "kind": "attack" if tuple(scenario.defences) else "flow",
                "lure": name in LURES,
            }
            for name, scenario in SCENARIOS.items()
        ]

    def all_defences(self) -> list[str]:
        return sorted({d for s in SCENARIOS.values() for d in s.defences})

    def run(self, name: str, off: list[str], switches: Any = None) -> dict[str, Any]:
        """One run with the defences in `off` switched off for it only."""
        result = self.simulation(switches).run(name, off=off)
        return {"flow": result.flow, "outcome": result.outcome}

    def csrf_lure(self, off: list[str], switches: Any = None) -> dict[str, Any]:
        """The attacker, in their own browser, logs in to the client as bob and stops before
        the callback: the callback URL with bob's code becomes a link through the attacker's
        site. A student's browser that follows it joins this flow by bob's code
        (`sim.tracing.live`), so the flow's switches apply."""
        sim = self.simulation(switches)
        flow = sim.new_flow("csrf-state-lure", off=off)
        attacker = Attacker(sim, flow)
        callback = sim.client_url + "/callback"
        try:
            start = attacker.browser.get(sim.client_url + "/login")
            last = log_in_and_consent(attacker.browser, start, "bob", "builder", stop_at=callback)
            stolen = attacker.browser.location(last)
        finally:
            # The flow stays open (its switches with it) until a student clicks the lure.
            attacker.close()
        if not stolen or not stolen.startswith(callback):
            return {"flow": flow, "lure": None}
        return {"flow": flow, "lure": attacker.lure(stolen)}

    def mix_up_lure(self, switches: Any = None) -> dict[str, Any]:
        """The attacker's "Sign in with PhotoCloud": a link, through the attacker's site, to
        the client's own login with the attacker's authorization server (which the client
        also knows). The flow starts when the student clicks it."""
        sim = self.simulation(switches)
        attacker = Attacker(sim, "mix-up-lure")
        attacker.close()
        return {"flow": None, "lure": attacker.lure(sim.client_url + "/login?as=attacker")}
