"""`oauth-sim`: run the parties for a class, run a scenario headless, draw the diagrams.

User mistakes (unknown scenario, port in use, bad flag, malformed trace file) print one
clear line and exit 2; everything else is a bug and may show a traceback.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import click

import sim
from sim.parties import registry_lines
from sim.teaching.report import compare_table, console, outcome_table, step_table

EXIT_USAGE = 2


def fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def check_scenario(name: str, insecure: bool = False):
    from sim.scenarios import UnknownScenario, get_scenario  # noqa: PLC0415

    try:
        scenario = get_scenario(name)
    except UnknownScenario as error:
        fail(str(error))
    if insecure and scenario.defence is None:
        fail(
            f"scenario {name!r} has no defence to switch off; --insecure and --compare are for "
            "attack scenarios (see `oauth-sim scenarios`)"
        )
    return scenario


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(sim.__version__, prog_name="oauth-sim")
def main() -> None:
    """An OAuth 2.0 authorization code flow with all four parties running on loopback:
    browser (user agent), client, authorization server, resource server. Every exchange is
    traced and drawn as a sequence diagram.

    \b
    Start here:
      oauth-sim run happy-path --explain     one login, step by step, with RFC references
      oauth-sim up                            the parties, for your own browser
      oauth-sim scenarios                     every flow and attack you can run
    """


@main.command()
@click.option(
    "--port-base",
    type=click.IntRange(0, 65532),
    default=9000,
    show_default=True,
    help="Client on N, authorization server N+1, resource server N+2, attacker N+3; "
    "0 picks free ports.",
)
@click.option(
    "--password-rounds",
    type=click.IntRange(1, 10_000_000),
    default=1000,
    show_default=True,
    help="PBKDF2 rounds for the demo users' password hashes.",
)
@click.option(
    "--token-lifetime",
    type=click.IntRange(5, 86400),
    default=300,
    show_default=True,
    help="Access token lifetime in seconds.",
)
def up(port_base: int, password_rounds: int, token_lifetime: int) -> None:
    """Run all parties (one process each) until Ctrl-C, for a browser or a classroom."""
    out = console()
    simulation = sim.Simulation(
        mode="process",
        port_base=port_base,
        password_rounds=password_rounds,
        access_token_lifetime=token_lifetime,
        log=lambda line: out.print(line, style="dim", markup=False),
    )
    try:
        simulation.start()
    except sim.PortInUse as error:
        fail(str(error))
    except sim.StartupError as error:
        fail(f"could not start: {error}")
    try:
        out.print(f"[bold]oauth-sim[/] is up (started in {simulation.started_in:.2f} s):")
        for party, url in simulation.urls.items():
            role = " (attack scenarios only)" if party == "attacker" else ""
            out.print(f"  {party:<22} {url}{role}")
        out.print("Demo registry (demo-only values):")
        for line in registry_lines():
            out.print(f"  {line}", markup=False)
        out.print(f"Open {simulation.client_url} in a browser.")
        out.print(
            f"Live trace: {simulation.client_url}/trace, or: oauth-sim trace --url "
            f"{simulation.client_url}",
            soft_wrap=True,
        )
        out.print("Press Ctrl-C to stop.")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not orphan children
        out.print("Stopping every party…")
        simulation.stop()
        out.print("Stopped.")


@main.command("scenarios")
def list_scenarios() -> None:
    """List the scenarios with one-line descriptions."""
    from rich.table import Table  # noqa: PLC0415

    from sim.scenarios import SCENARIOS  # noqa: PLC0415

    table = Table(box=None, show_header=True)
    table.add_column("scenario", style="bold")
    table.add_column("what it shows")
    table.add_column("--insecure turns off", style="yellow")
    for name, scenario in SCENARIOS.items():
        table.add_row(name, scenario.description, scenario.defence or "")
    console().print(table)


def _write(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror}")


@main.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON (one object).")
@click.option("--svg", type=click.Path(dir_okay=False), help="Write the sequence diagram (SVG).")
@click.option("--png", type=click.Path(dir_okay=False), help="Write the sequence diagram (PNG).")
@click.option("--mermaid", type=click.Path(dir_okay=False), help="Write a Mermaid diagram.")
@click.option("--plantuml", type=click.Path(dir_okay=False), help="Write a PlantUML diagram.")
@click.option("--explain", is_flag=True, help="Add each step's explanation and RFC reference.")
@click.option("--insecure", is_flag=True, help="Turn the scenario's defence off (attacks).")
@click.option("--compare", is_flag=True, help="Run with the defence on and off, side by side.")
@click.option("--redact", is_flag=True, help="Hide passwords, secrets, codes and tokens.")
def run(name, as_json, svg, png, mermaid, plantuml, explain, insecure, compare, redact) -> None:
    """Run scenario NAME headless and print its steps."""
    check_scenario(name, insecure or compare)
    if compare and insecure:
        fail("--compare already runs both ways; drop --insecure")
    out = console()
    with sim.Simulation() as simulation:
        if compare:
            results = [simulation.run(name, insecure=False), simulation.run(name, insecure=True)]
        else:
            results = [simulation.run(name, insecure=insecure)]
    traces = [r.trace.redacted() if redact else r.trace for r in results]
    if as_json:
        payload = [
            {**r.to_dict(), "events": t.to_dicts()} for r, t in zip(results, traces, strict=True)
        ]
        click.echo(json.dumps(payload[0] if len(payload) == 1 else payload, indent=2))
    else:
        for result, trace in zip(results, traces, strict=True):
            label = f"{name}: defence {'OFF' if result.insecure else 'on'}" if compare else None
            out.print(step_table(trace, explain=explain, title=label))
            if not compare:
                out.print(outcome_table(result.outcome))
        if compare:
            out.print(compare_table(results[0].outcome, results[1].outcome))
    _export(traces, svg, png, mermaid, plantuml, compare, out if not as_json else None)


def _export(traces, svg, png, mermaid, plantuml, compare, out) -> None:
    from sim.diagrams import DiagramError, compare_svg  # noqa: PLC0415

    try:
        if svg:
            if compare:
                compare_svg(traces[0], traces[1], "defence on", "defence OFF", svg)
            else:
                traces[0].to_svg(svg)
        if png:
            traces[0].to_png(png)
    except DiagramError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write {error.filename or 'the diagram'}: {error.strerror}")
    if mermaid:
        # With --compare the Mermaid text is the defence-on run (Mermaid has no panels).
        _write(mermaid, traces[0].to_mermaid())
    if plantuml:
        _write(plantuml, traces[0].to_plantuml())
    if out is not None:
        for label, path in (
            ("SVG", svg),
            ("PNG", png),
            ("Mermaid", mermaid),
            ("PlantUML", plantuml),
        ):
            if path:
                out.print(f"{label} written to {path}")


@main.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="diagrams",
    show_default=True,
    help="Folder for the SVG and .mmd files.",
)
def diagrams(out_dir: str) -> None:
    """Regenerate every committed diagram (SVG + Mermaid per scenario, both ways for
    attacks), deterministically."""
    from sim.teaching.diagram_set import write_all  # noqa: PLC0415

    out = console()
    try:
        written = write_all(Path(out_dir), progress=lambda line: out.print(line))
    except OSError as error:
        fail(f"cannot write to {out_dir}: {error.strerror}")
    out.print(f"{len(written)} files in {out_dir}/")


@main.command()
@click.option(
    "--url",
    default="http://127.0.0.1:9000",
    show_default=True,
    help="The client app of a running `oauth-sim up`.",
)
@click.option(
    "--file",
    "file_",
    type=click.Path(dir_okay=False, exists=True),
    help="Read a trace saved with `run --json` instead.",
)
@click.option("--flow", help="Only this flow id.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--explain", is_flag=True, help="Add each step's explanation and RFC reference.")
def trace(url: str, file_: str | None, flow: str | None, as_json: bool, explain: bool) -> None:
    """Show the trace of a running `oauth-sim up` (or of a saved JSON file)."""
    from sim.teaching.trace_io import TraceFileError, fetch_trace, load_trace  # noqa: PLC0415

    try:
        loaded = load_trace(file_) if file_ else fetch_trace(url, flow)
    except TraceFileError as error:
        fail(str(error))
    if as_json:
        click.echo(json.dumps({"events": loaded.to_dicts()}, indent=2))
    else:
        console().print(step_table(loaded, explain=explain, title=file_ or url))


if __name__ == "__main__":
    main()
