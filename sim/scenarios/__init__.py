"""The scenarios, by contract name. `oauth-sim scenarios` lists them in this order."""

from __future__ import annotations

from sim.scenarios.base import Scenario, ScenarioError
from sim.scenarios.happy_path import HappyPath

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (HappyPath(),)}


class UnknownScenario(KeyError):
    def __str__(self) -> str:
        names = ", ".join(SCENARIOS)
        return f"unknown scenario {self.args[0]!r}; choose one of: {names}"


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownScenario(name) from None


__all__ = ["SCENARIOS", "Scenario", "ScenarioError", "UnknownScenario", "get_scenario"]
