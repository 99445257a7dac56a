"""`oauth-sim up`: every party in its own process, in the foreground, for a browser or a class.

Stopping: Ctrl-C (SIGINT), SIGTERM and SIGHUP only raise a flag from the moment `up` starts,
and are ignored once every party has stopped, so a signal can never cut a stop short,
orphan a child or turn a clean exit into death by signal. A shell's background job ignores
SIGINT; SIGTERM then stops it the same way. If a party's process dies on its own, `up`
names it and why, stops the others and exits 1.
"""

from __future__ import annotations

import signal
import sys
import time
import webbrowser

import click

import sim
from sim.cli.common import fail

ROLES = {
    "attacker": " (attack scenarios only)",
    "console": " (classroom console: open it on the projector)",
}


@click.command()
@click.option(
    "--port-base",
    type=click.IntRange(0, 65532),
    default=sim.parties.DEFAULT_PORT_BASE,
    show_default=True,
    help="Client on N, authorization server N+1, resource server N+2, attacker N+3, "
    "console N+4; 0 picks free ports.",
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
@click.option("--open", "open_", is_flag=True, help="Open the classroom console in a web browser.")
@click.option(
    "--pause",
    is_flag=True,
    help="Start in pause mode: every redirect through the browser stops at a page "
    "that shows where it goes and why (switch it in the console).",
)
@click.option(
    "--issuer",
    metavar="URL",
    help="Log the client in at this external authorization server instead of ours, found "
    "from its metadata (RFC 8414 or OpenID Connect Discovery).",
)
@click.option("--client-id", metavar="ID", help="With --issuer: this client's id there.")
@click.option(
    "--client-secret", metavar="S", help="With --issuer: its secret there (none: public client)."
)
@click.option(
    "--scope", metavar="SCOPE", help="With --issuer: the scope to ask for, e.g. 'openid'."
)
def up(
    port_base: int,
    password_rounds: int,
    token_lifetime: int,
    open_: bool,
    pause: bool,
    issuer: str | None,
    client_id: str | None,
    client_secret: str | None,
    scope: str | None,
) -> None:
    """Run all parties (one process each) and the classroom console until Ctrl-C."""
    if not issuer and (client_id or client_secret or scope):
        fail("--client-id, --client-secret and --scope go with --issuer")
    if issuer and not client_id:
        fail("--issuer needs --client-id: the client's id registered at that server")
    out = sim.terminal()
    simulation = sim.Simulation(
        mode="process",
        port_base=port_base,
        password_rounds=password_rounds,
        access_token_lifetime=token_lifetime,
        log=lambda line: out.print(line, style="dim", markup=False),
        console=True,
        pause=pause,
        issuer=issuer,
        client_id=client_id,
        client_secret=client_secret,
        scope=scope,
    )
    previous = _stop_on_signals(simulation)
    try:
        simulation.start()
    except (sim.PortInUse, sim.StartupError) as error:
        _restore(previous)
        if simulation.stop_requested:
            sys.exit(0)
        plain = isinstance(error, (sim.PortInUse, sim.IssuerError))
        fail(str(error) if plain else f"could not start: {error}")
    fault = None
    try:
        out.print(f"[bold]oauth-sim[/] is up (started in {simulation.started_in:.2f} s):")
        for party, url in simulation.urls.items():
            role = ROLES.get(party, "")
            out.print(f"  {party:<22} {url}{role}", markup=False)
        if simulation.external_issuer:
            out.print(
                f"The client logs in at the external authorization server "
                f"{simulation.external_issuer} (client_id {client_id}), not at ours.",
                markup=False,
                soft_wrap=True,
            )
        out.print("Demo registry (demo-only values):")
        for line in sim.registry_lines():
            out.print(f"  {line}", markup=False)
        out.print(f"Open {simulation.client_url} in a browser.")
        out.print(
            f"Live trace: {simulation.client_url}/trace, or: oauth-sim trace --url "
            f"{simulation.client_url}",
            soft_wrap=True,
        )
        if pause:
            out.print("Pause mode is on: every redirect stops at a page with a Continue button.")
        out.print("Press Ctrl-C to stop.")
        if open_:
            webbrowser.open(simulation.urls["console"])
        while not simulation.stop_requested and fault is None:
            time.sleep(0.2)
            fault = simulation.fault()
    finally:
        if fault:
            click.echo(f"Error: {fault}; stopping the other parties", err=True)
        out.print("Stopping every party…")
        simulation.stop()
        out.print("Stopped.")
        # Nothing is left to stop, yet a stop signal sent while we were stopping may still
        # arrive, up to the last instant of the process. Ignore them from here on: the flag
        # handlers would not do, because Python resets the handlers it set to the default
        # (death by that signal) while the interpreter shuts down; an ignored signal it
        # leaves ignored.
        _ignore(previous)
    if fault:
        sys.exit(1)


def _ignore(handlers: dict[int, object]) -> None:
    for signum in handlers:
        signal.signal(signum, signal.SIG_IGN)


def _restore(handlers: dict[int, object]) -> None:
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


def _stop_on_signals(simulation: sim.Simulation) -> dict[int, object]:
    """Turn stop signals into a flag the main loop reads; return the handlers replaced.

    The handler does nothing else (no exception, no lock): wherever the signal lands, even
    inside `stop()`, the code it interrupts carries on. A SIGINT the shell set to be ignored
    (a background job) stays ignored.
    """

    def request_stop(signum, frame) -> None:
        simulation.stop_requested = True

    previous = {}
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue  # no SIGHUP on Windows
        if signum == signal.SIGINT and signal.getsignal(signum) == signal.SIG_IGN:
            continue
        previous[signum] = signal.signal(signum, request_stop)
    return previous
