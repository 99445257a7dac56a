"""The scenarios, by contract name. Each module of this package lists its scenarios in a
module-level `SCENARIOS`; `oauth-sim scenarios` shows them in the order of `ORDER`."""

from __future__ import annotations

import importlib
import pkgutil

from sim.scenarios.base import AttackScenario, Scenario, ScenarioError, UnknownDefence

ORDER = (
    "happy-path",
    "public-client-pkce",
    "refresh-rotation",
    "client-credentials",
    "implicit-legacy",
    "revocation",
    "consent-denied",
    "scope-downgrade",
    "openid-connect",
    "dpop",
    "device-code",
    "bff",
    "csrf-state",
    "code-injection",
    "code-interception",
    "redirect-uri-tampering",
    "code-replay",
    "refresh-token-reuse",
    "pkce-downgrade",
    "mix-up",
    "token-replay",
)


def _discover() -> dict[str, Scenario]:
    found: dict[str, Scenario] = {}
    for module in pkgutil.iter_modules(__path__):
        if module.name in ("base", "stage", "actors", "attack_common"):
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        for scenario in getattr(loaded, "SCENARIOS", ()):
            found[scenario.name] = scenario
    rank = {name: i for i, name in enumerate(ORDER)}
    return dict(sorted(found.items(), key=lambda kv: (rank.get(kv[0], len(ORDER)), kv[0])))


SCENARIOS: dict[str, Scenario] = _discover()


class UnknownScenario(KeyError):
    def __str__(self) -> str:
        names = ", ".join(SCENARIOS)
        return f"unknown scenario {self.args[0]!r}; choose one of: {names}"


def get_scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownScenario(name) from None


__all__ = [
    "SCENARIOS",
    "AttackScenario",
    "Scenario",
    "ScenarioError",
    "UnknownDefence",
    "UnknownScenario",
    "get_scenario",
]
