"""The committed diagrams under diagrams/: every scenario's trace, redacted to stable
placeholders so that regenerating them gives byte-identical files (a test checks that the
committed ones are not stale)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.runtime.manager import Simulation


def diagram_files(simulation: Simulation) -> dict[str, str]:
    """File name -> content, for every scenario (and both ways for attack scenarios)."""
    from sim.diagrams.render import WASI, use_engine  # noqa: PLC0415
    from sim.scenarios import SCENARIOS  # noqa: PLC0415

    files: dict[str, str] = {}
    with use_engine(WASI):
        for name, scenario in SCENARIOS.items():
            ways = (False, True) if scenario.defence else (False,)
            for insecure in ways:
                trace = simulation.run(name, insecure=insecure).trace.redacted()
                stem = name + ("--insecure" if insecure else "")
                files[f"{stem}.svg"] = trace.to_svg()
                files[f"{stem}.mmd"] = trace.to_mermaid()
    return files


def write_all(out: Path, progress: Callable[[str], None] = lambda line: None) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    with Simulation() as simulation:
        for filename, content in diagram_files(simulation).items():
            path = out / filename
            path.write_text(content, encoding="utf-8")
            progress(f"wrote {path}")
            written.append(path)
    return written
