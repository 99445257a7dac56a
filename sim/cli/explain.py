"""`oauth-sim explain`: the two-minute spoken answer to "explain OAuth to me", from a live run."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

import sim
from sim.cli.common import fail
from sim.cli.run import check_scenario


@click.command()
@click.argument("scenario", default="happy-path")
@click.option("--markdown", is_flag=True, help="Print Markdown (for notes).")
@click.option(
    "--svg",
    type=click.Path(dir_okay=False),
    help="Where to write the diagram (default: a file in the system's temp folder).",
)
def explain(scenario: str, markdown: bool, svg: str | None) -> None:
    """Explain SCENARIO (default happy-path) in spoken prose, from a live run: the
    parties, front and back channel, state, PKCE, the code exchange, tokens, refresh."""
    check_scenario(scenario)
    with sim.Simulation() as simulation:
        result = simulation.run(scenario)
    sections = sim.walkthrough(scenario, result.trace, result.outcome)
    path = Path(svg) if svg else Path(tempfile.gettempdir()) / "oauth-sim" / f"{scenario}.svg"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        result.trace.redacted().to_svg(str(path))
    except sim.DiagramError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror}")
    title = f"Explain it: {scenario}"
    render = sim.walkthrough_markdown if markdown else sim.walkthrough_text
    click.echo(render(title, sections, str(path)))
