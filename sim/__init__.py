"""oauth-sim: the OAuth 2.0 authorization code grant with all four parties on loopback.

from sim import Simulation
with Simulation() as sim:
    result = sim.run("happy-path")
    result.trace.to_svg("happy-path.svg")
"""

from __future__ import annotations

from sim import parties
from sim.runtime.manager import ScenarioResult, Simulation, StartupError
from sim.runtime.servers import PortInUse
from sim.tracing import Event, Trace

__version__ = "0.1.0"


def run_scenario(name: str, insecure: bool = False, **simulation_options) -> ScenarioResult:
    """Start a simulation, run one scenario, stop: the one-liner for scripts."""
    with Simulation(**simulation_options) as sim:
        return sim.run(name, insecure=insecure)


def scenarios() -> dict[str, str]:
    """Scenario names and their one-line descriptions, in teaching order."""
    from sim.scenarios import SCENARIOS  # noqa: PLC0415

    return {name: s.description for name, s in SCENARIOS.items()}


__all__ = [
    "Event",
    "PortInUse",
    "ScenarioResult",
    "Simulation",
    "StartupError",
    "Trace",
    "parties",
    "run_scenario",
    "scenarios",
]
