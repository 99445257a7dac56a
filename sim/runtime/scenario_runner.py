"""The classroom console's scenario runner: runs scenarios against the apps `oauth-sim up`
started and prepares the attacker's lures, for the console page.

It lives with the runtime, not in the console app: playing a scenario needs the scenarios,
the attacker's actor and a `Simulation` attached to the running apps, all of which sit above
the apps. The manager hands one to the console app (`RUNNER`); the console only validates
input against `catalogue()` and passes names through.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from sim.scenarios import SCENARIOS
from sim.scenarios.base import log_in_and_consent

#: Scenarios whose lure a student can click in a real browser.
LURES = ("csrf-state", "mix-up")


def defences_of(scenario: Any) -> tuple[str, ...]:
    """The contract names of the defences a scenario can switch off."""
    names = getattr(scenario, "defences", None)
    if names is not None and not callable(names):
        return tuple(names)
    return (scenario.defence,) if getattr(scenario, "defence", None) else ()


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
                "defences": list(defences_of(scenario)),
                "kind": "attack" if defences_of(scenario) else "flow",
                "lure": name in LURES,
            }
            for name, scenario in SCENARIOS.items()
        ]

    def all_defences(self) -> list[str]:
        return sorted({d for s in SCENARIOS.values() for d in defences_of(s)})

    def run(self, name: str, off: list[str], switches: Any = None) -> dict[str, Any]:
        """One run with these defences off (all at once where per-defence switches are not
        available)."""
        sim = self.simulation(switches)
        if "off" in inspect.signature(sim.run).parameters:
            result = sim.run(name, off=off)
        else:
            result = sim.run(name, insecure=bool(off))
        return {"flow": result.flow, "outcome": result.outcome}

    def _attacker(self, sim: Any, flow: str):
        try:
            from sim.scenarios.actors import Attacker  # noqa: PLC0415
        except ImportError:  # the attacker's actor before it moved to the scenarios
            from sim.attacker import Attacker  # noqa: PLC0415

            return Attacker(flow, sim.attacker_url, sim.store)
        return Attacker(sim, flow)

    def _new_flow(self, sim: Any, name: str, off: list[str]) -> str:
        if "off" in inspect.signature(sim.new_flow).parameters:
            return sim.new_flow(name, off=off)
        return sim.new_flow(name, **({"defence_off": off[0]} if off else {}))

    def csrf_lure(self, off: list[str], switches: Any = None) -> dict[str, Any]:
        """The attacker, in their own browser, logs in to the client as bob and stops before
        the callback: the callback URL with bob's code becomes a link through the attacker's
        site. A student's browser that follows it joins this flow by bob's code
        (`sim.tracing.live`), so the flow's switches apply."""
        sim = self.simulation(switches)
        flow = self._new_flow(sim, "csrf-state-lure", off)
        attacker = self._attacker(sim, flow)
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
        attacker = self._attacker(sim, "mix-up-lure")
        attacker.close()
        return {"flow": None, "lure": attacker.lure(sim.client_url + "/login?as=attacker")}
