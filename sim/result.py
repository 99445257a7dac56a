"""What one scenario run returns: the flow's own trace and the scenario's outcome.

A neutral module: the scenarios build it and the runtime hands it out, and neither needs to
import the other for it (it depends on `tracing` only).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sim.tracing import Trace


@dataclass
class ScenarioResult:
    """`insecure` is true when at least one defence was switched off for the run (`off`
    names them); `outcome` is the scenario's dict (for attacks, the contract's keys)."""

    scenario: str
    insecure: bool
    trace: Trace
    outcome: dict[str, Any]
    flow: str = ""
    off: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "insecure": self.insecure,
            "outcome": self.outcome,
            "events": self.trace.to_dicts(),
        }
