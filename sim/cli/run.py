"""`oauth-sim scenarios` and `oauth-sim run`: the catalogue, and one scenario run headless."""

from __future__ import annotations

import json

import click
from rich.table import Table

import sim
from sim.cli.common import fail, write_text
from sim.cli.diagram_options import diagram_options, write_svg


def check_run(name: str, off: tuple[str, ...] = (), insecure: bool = False) -> tuple[str, ...]:
    """The defences to switch off, or one line and exit 2 for an unknown scenario or a
    defence the scenario does not list (the line names the ones it does)."""
    try:
        return sim.defences_to_switch_off(name, off, insecure)
    except (sim.UnknownScenario, sim.UnknownDefence) as error:
        fail(str(error))
        raise  # unreachable: fail() exits


def check_scenario(name: str) -> None:
    """One line and exit 2 for an unknown scenario name."""
    check_run(name)


@click.command("scenarios")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
def list_scenarios(as_json: bool) -> None:
    """List the scenarios with one-line descriptions and their defences."""
    entries = sim.catalogue()
    if as_json:
        click.echo(json.dumps(entries, indent=2))
        return
    table = Table(box=None, show_header=True)
    table.add_column("scenario", style="bold")
    table.add_column("what it shows")
    table.add_column("defences (--off NAME)", style="yellow")
    for entry in entries:
        table.add_row(entry["name"], entry["description"], ", ".join(entry["defences"]))
    sim.terminal().print(table)


@click.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON (one object).")
@click.option("--svg", type=click.Path(dir_okay=False), help="Write the sequence diagram (SVG).")
@click.option("--png", type=click.Path(dir_okay=False), help="Write the sequence diagram (PNG).")
@click.option("--mermaid", type=click.Path(dir_okay=False), help="Write a Mermaid diagram.")
@click.option("--plantuml", type=click.Path(dir_okay=False), help="Write a PlantUML diagram.")
@click.option("--explain", is_flag=True, help="Add each step's explanation and RFC reference.")
@click.option(
    "--off",
    "off",
    multiple=True,
    metavar="DEFENCE",
    help="Switch one of the scenario's defences off for this run (repeatable).",
)
@click.option("--insecure", is_flag=True, help="Switch all of the scenario's defences off.")
@click.option(
    "--compare",
    is_flag=True,
    help="Run with every defence on, then with the --off ones off (all, if none), and compare.",
)
@click.option("--redact", is_flag=True, help="Hide passwords, secrets, codes and tokens.")
@click.option(
    "--full", is_flag=True, help="With --json: add headers and bodies, as GET /trace does."
)
@diagram_options
def run(
    name,
    as_json,
    svg,
    png,
    mermaid,
    plantuml,
    explain,
    off,
    insecure,
    compare,
    redact,
    full,
    **shape,
) -> None:
    """Run scenario NAME headless and print its steps."""
    if compare and insecure:
        fail("--compare already runs both ways; drop --insecure")
    if full and not as_json:
        fail("--full adds headers and bodies to --json; add --json")
    switched = check_run(name, off, insecure or (compare and not off))
    if compare and not switched:
        fail(f"scenario {name!r} has no defence to switch off; --compare is for attacks")
    out = sim.terminal()
    with sim.Simulation() as simulation:
        if compare:
            results = [simulation.run(name), simulation.run(name, off=switched)]
        else:
            results = [simulation.run(name, off=switched)]
    traces = [r.trace.redacted() if redact else r.trace for r in results]
    if as_json:
        payload = [
            {**r.to_dict(), "events": t.to_dicts(detail=full)}
            for r, t in zip(results, traces, strict=True)
        ]
        click.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        for result, trace in zip(results, traces, strict=True):
            label = f"{name}: {_label(result.off)}" if compare else None
            out.print(sim.steps(trace, explain=explain, title=label))
            if not compare:
                out.print(sim.outcome_table(result.outcome))
        if compare:
            left, right = (_label(r.off) for r in results)
            out.print(sim.compare_table(results[0].outcome, results[1].outcome, left, right))
    _export(traces, svg, png, mermaid, plantuml, compare, out if not as_json else None, shape)


def _label(off: tuple[str, ...]) -> str:
    return f"{', '.join(off)} OFF" if off else "all defences on"


def _export(traces, svg, png, mermaid, plantuml, compare, out, shape) -> None:
    try:
        if svg:
            write_svg(traces, svg, compare, shape)
        if png:
            traces[0].to_png(png, compact=shape["compact"], steps=shape["steps"])
    except sim.DiagramError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write {error.filename or 'the diagram'}: {error.strerror}")
    if mermaid:
        # With --compare the Mermaid text is the defence-on run (Mermaid has no panels).
        write_text(mermaid, traces[0].to_mermaid())
    if plantuml:
        write_text(plantuml, traces[0].to_plantuml())
    if out is not None:
        for label, path in (
            ("SVG", svg),
            ("PNG", png),
            ("Mermaid", mermaid),
            ("PlantUML", plantuml),
        ):
            if path:
                out.print(f"{label} written to {path}")
