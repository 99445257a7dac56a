"""oauth-sim: the OAuth 2.0 authorization code grant with all four parties on loopback.

from sim import Simulation
with Simulation() as sim:
    result = sim.run("happy-path")
    result.trace.to_svg("happy-path.svg")

This module is the public API: the Python API of ARCHITECTURE.md, and everything the
`oauth-sim` commands use (they import nothing else of `sim`). A name here must not be the
name of a subpackage (`sim.console` is the classroom console's app; the terminal's Rich
console is `sim.terminal()`): importing the subpackage later would replace it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from sim import parties
from sim.diagram_set import write_all as write_diagrams
from sim.diagrams import DiagramError, compare_svg, only_steps
from sim.drawing import DrawnTrace as Trace
from sim.drill_set import (
    UnknownTopic,
    build_questions,
    choose_questions,
    drill_templates,
    drill_topics,
)
from sim.parties import registry_lines
from sim.result import ScenarioResult
from sim.runtime.manager import IssuerError, Simulation, StartupError
from sim.runtime.servers import PortInUse
from sim.scenarios import SCENARIOS, Scenario, UnknownDefence, UnknownScenario, get_scenario
from sim.teaching import trace_io
from sim.teaching.cheatsheet import cheatsheet_markdown
from sim.teaching.notebook_files import candidates as notebook_folders
from sim.teaching.notebook_files import copy_notebooks, find_notebooks
from sim.teaching.report import compare_table, outcome_table, step_table, steps
from sim.teaching.report import console as terminal
from sim.teaching.trace_io import TraceFileError
from sim.teaching.walkthrough import as_markdown as walkthrough_markdown
from sim.teaching.walkthrough import as_text as walkthrough_text
from sim.teaching.walkthrough import walkthrough
from sim.tracing import Event
from sim.tracing.printable import printable

__version__ = "0.1.0"


def run_scenario(
    name: str, off: Iterable[str] = (), insecure: bool = False, **simulation_options
) -> ScenarioResult:
    """Start a simulation, run one scenario, stop: the one-liner for scripts."""
    with Simulation(**simulation_options) as sim:
        return sim.run(name, off=off, insecure=insecure)


def load_trace(path: str) -> Trace:
    """A trace saved with `run --json` (notes written where missing), drawable."""
    return Trace.of(trace_io.load_trace(path))


def fetch_trace(url: str, flow: str | None = None) -> Trace:
    """The live trace of a running `oauth-sim up` (its client app at `url`), drawable."""
    return Trace.of(trace_io.fetch_trace(url, flow))


def follow_trace(url: str, flow: str | None = None, interval: float = 0.25) -> Iterator[Trace]:
    """The live trace of a running `oauth-sim up` now, then each batch of new events as it
    is recorded (polling only for what is new), until the caller stops."""
    for part in trace_io.follow_trace(url, flow, interval):
        yield Trace.of(part)


def cheatsheet() -> str:
    """The one-page cheat-sheet (Markdown) of this build's scenario catalogue."""
    return cheatsheet_markdown(SCENARIOS)


def scenarios() -> dict[str, str]:
    """Scenario names and their one-line descriptions, in teaching order."""
    return {name: s.description for name, s in SCENARIOS.items()}


def catalogue() -> list[dict[str, Any]]:
    """Every scenario as `oauth-sim scenarios --json` prints it: name, kind ("flow" or
    "attack"), description and the defences it can switch off, in teaching order."""
    return [
        {"name": name, "kind": s.kind, "description": s.description, "defences": list(s.defences)}
        for name, s in SCENARIOS.items()
    ]


def defences_to_switch_off(
    name: str, off: Iterable[str] = (), insecure: bool = False
) -> tuple[str, ...]:
    """The defences a run of `name` would switch off; raises `UnknownScenario` or
    `UnknownDefence` (whose message names the scenario's defences) for a bad name."""
    return get_scenario(name).check_off(off, insecure)


__all__ = [
    "SCENARIOS",
    "DiagramError",
    "Event",
    "IssuerError",
    "PortInUse",
    "Scenario",
    "ScenarioResult",
    "Simulation",
    "StartupError",
    "Trace",
    "TraceFileError",
    "UnknownDefence",
    "UnknownScenario",
    "catalogue",
    "defences_to_switch_off",
    "UnknownTopic",
    "build_questions",
    "cheatsheet",
    "choose_questions",
    "compare_svg",
    "compare_table",
    "copy_notebooks",
    "drill_templates",
    "drill_topics",
    "fetch_trace",
    "follow_trace",
    "find_notebooks",
    "notebook_folders",
    "get_scenario",
    "load_trace",
    "only_steps",
    "outcome_table",
    "parties",
    "printable",
    "registry_lines",
    "run_scenario",
    "scenarios",
    "step_table",
    "steps",
    "terminal",
    "walkthrough",
    "walkthrough_markdown",
    "walkthrough_text",
    "write_diagrams",
]
