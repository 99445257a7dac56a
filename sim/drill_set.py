"""The drill's questions, played: the runner above the runtime that runs each scenario a
question asks about (once, cached), and hands the runs to the question builders of
`sim.teaching` (which only read them), like `sim.diagram_set` does for the diagrams."""

from __future__ import annotations

import inspect
from typing import Any

from sim.runtime.manager import Simulation
from sim.scenarios import SCENARIOS, get_scenario
from sim.teaching import drill as model
from sim.teaching.drill import UnknownTopic
from sim.teaching.drill import choose as choose_questions
from sim.teaching.drill_concepts import TEMPLATES as CONCEPTS
from sim.teaching.drill_runs import Run, stable
from sim.teaching.drill_runs import templates as from_runs


class Runs:
    """Scenario runs on one lazily started Simulation (or the one handed in), each run
    once and cached."""

    def __init__(self, simulation: Simulation | None = None) -> None:
        self._sim = simulation
        self._own = simulation is None
        self._cache: dict[tuple[str, tuple[str, ...] | bool], Run] = {}

    def __enter__(self) -> Runs:
        return self

    def __exit__(self, *exc) -> None:
        if self._own and self._sim is not None:
            self._sim.stop()
            self._sim = None

    @property
    def sim(self) -> Simulation:
        if self._sim is None:
            self._sim = Simulation().start()
        return self._sim

    def get(self, name: str, off: tuple[str, ...] | bool = ()) -> Run:
        """`off`: the defences to switch off; True for all of them (`--insecure`)."""
        key = (name, off)
        if key not in self._cache:
            result = self._run(name, off)
            shown = stable(result.trace, self.sim.urls)
            self._cache[key] = Run(get_scenario(name), result.trace, shown, result.outcome)
        return self._cache[key]

    def _run(self, name: str, off: tuple[str, ...] | bool) -> Any:
        if off is True or not off:
            return self.sim.run(name, insecure=bool(off))
        if "off" in inspect.signature(self.sim.run).parameters:
            return self.sim.run(name, off=list(off))
        return self.sim.run(name, insecure=True)


def all_templates() -> list[model.Template]:
    """Every template, those whose scenarios are missing included."""
    return from_runs(SCENARIOS) + CONCEPTS


def drill_templates() -> list[model.Template]:
    """The templates whose scenarios exist in this build."""
    return model.available(all_templates(), set(SCENARIOS))


def drill_topics() -> dict[str, tuple[str, int, int]]:
    """topic -> (what it covers, questions available, questions waiting for a scenario)."""
    counts = model.topic_counts(all_templates(), set(SCENARIOS))
    return {name: (text, *counts[name]) for name, text in model.TOPICS.items()}


def build_questions(
    templates: list[model.Template], seed: int, simulation: Simulation | None = None
) -> list[model.Question]:
    """Build the chosen templates' questions from live runs (a simulation of their own
    unless one is handed in)."""
    with Runs(simulation) as runs:
        return model.build(templates, runs, seed)


__all__ = [
    "Runs",
    "UnknownTopic",
    "all_templates",
    "build_questions",
    "choose_questions",
    "drill_templates",
    "drill_topics",
]
