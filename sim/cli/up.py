"""`oauth-sim up`: every party in its own process, in the foreground, for a browser or a class."""

from __future__ import annotations

import signal
import threading

import click

import sim
from sim.cli.common import fail
from sim.parties import registry_lines
from sim.teaching.report import console


@click.command()
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
