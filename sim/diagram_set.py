"""The committed diagrams under diagrams/: every scenario's trace, redacted to stable
placeholders so that regenerating them gives byte-identical files (a test checks that the
committed ones are not stale).

It runs every scenario, so it sits above the runtime and the scenarios, beside the public
API (`sim.write_diagrams`), not in the teaching layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.diagrams.render import WASI, use_engine
from sim.runtime.manager import Simulation
from sim.scenarios import SCENARIOS
from sim.teaching.cheatsheet import cheatsheet_markdown


def diagram_files(simulation: Simulation) -> dict[str, str]:
    """File name -> content, for every scenario (and both ways for attack scenarios)."""
    files: dict[str, str] = {}
    with use_engine(WASI):
        for name, scenario in SCENARIOS.items():
            ways = (False, True) if scenario.defences else (False,)
            for insecure in ways:
                trace = simulation.run(name, insecure=insecure).trace.redacted()
                stem = name + ("--insecure" if insecure else "")
                files[f"{stem}.svg"] = trace.to_svg()
                files[f"{stem}.mmd"] = trace.to_mermaid()
    return files


def write_all(
    out: Path,
    progress: Callable[[str], None] = lambda line: None,
    cheatsheet: Path | None = None,
) -> list[Path]:
    """Write every diagram into `out`, and the cheat-sheet to `cheatsheet` if given (it is
    generated from the same catalogue, so it goes stale with the diagrams)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    if cheatsheet is not None:
        cheatsheet.parent.mkdir(parents=True, exist_ok=True)
        cheatsheet.write_text(cheatsheet_markdown(SCENARIOS), encoding="utf-8")
        progress(f"wrote {cheatsheet}")
    with Simulation() as simulation:
        for filename, content in diagram_files(simulation).items():
            path = out / filename
            path.write_text(content, encoding="utf-8")
            progress(f"wrote {path}")
            written.append(path)
    return written
