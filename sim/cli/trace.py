"""`oauth-sim trace`: the trace of a running `oauth-sim up` (or of a saved JSON file), once
or followed live (`--follow` prints each new event as it is recorded)."""

from __future__ import annotations

import json
from dataclasses import replace

import click

import sim
from sim.cli.common import fail

#: How often `--follow` asks the client app for new events.
FOLLOW_INTERVAL = 0.25


@click.command()
@click.option(
    "--url",
    default=sim.parties.DEFAULT_URLS[sim.parties.CLIENT],
    show_default=True,
    help="The client app of a running `oauth-sim up`.",
)
@click.option(
    "--file",
    "file_",
    type=click.Path(dir_okay=False, exists=True),
    help="Read a trace saved with `run --json` instead.",
)
@click.option("--flow", help="Only this flow id (one login attempt).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--svg", type=click.Path(dir_okay=False), help="Write the sequence diagram (SVG).")
@click.option("--redact", is_flag=True, help="Hide passwords, secrets, codes and tokens.")
@click.option("--follow", is_flag=True, help="Keep running: print each new event as it happens.")
@click.option("--explain", is_flag=True, help="Add each step's explanation and RFC reference.")
def trace(
    url: str,
    file_: str | None,
    flow: str | None,
    as_json: bool,
    svg: str | None,
    redact: bool,
    follow: bool,
    explain: bool,
) -> None:
    """Show the trace of a running `oauth-sim up` (or of a saved JSON file)."""
    if follow and file_:
        fail("--follow reads a running `oauth-sim up`; it cannot follow a file")
    if follow:
        _follow(url, flow, as_json, svg, redact, explain)
        return
    try:
        loaded = sim.load_trace(file_) if file_ else sim.fetch_trace(url, flow)
    except sim.TraceFileError as error:
        fail(str(error))
    if file_ and flow:
        loaded.events = [e for e in loaded.events if e.flow == flow]
        if not loaded.events:
            fail(f"no flow {flow!r} in {file_}")
    shown = loaded.redacted() if redact else loaded
    if as_json:
        click.echo(json.dumps({"flow": flow, "events": shown.to_dicts(detail=True)}, indent=2))
    else:
        title = file_ or sim.printable(shown.title or url)  # the store's note, once
        sim.terminal().print(sim.steps(shown, explain=explain, title=title))
    if svg:
        _write_svg(shown, svg)


def _write_svg(shown, path: str) -> None:
    try:
        shown.to_svg(path)
    except sim.DiagramError as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror}")


def _line(event, explain: bool) -> str:
    # Paths, locations and flow ids come from whoever sent the request: printed through
    # sim.printable, so a planted escape sequence is shown, never obeyed by the terminal.
    line = sim.printable(
        f"{event.seq:>3}  {event.flow:<24} {event.sender} -> {event.to}  "
        f"{event.method} {event.path}  {event.status}"
        + (f"  -> {event.location}" if event.location else "")
    )
    if explain and event.note:
        line += f"\n     {sim.printable(event.note)}" + (f" [{event.rfc}]" if event.rfc else "")
    return line


def _follow(url, flow, as_json, svg, redact, explain) -> None:
    """Print what is there, then every event recorded after it, until Ctrl-C. Each poll
    asks only for what is new; the events are kept here only for --svg and --redact (a
    placeholder such as <code-1> must mean the same value all along)."""
    kept: list = []
    keep = bool(svg or redact)
    parts = sim.follow_trace(url, flow, FOLLOW_INTERVAL)
    try:
        while True:
            try:
                part = next(parts)
            except sim.TraceFileError as error:
                fail(str(error))
            new = part.events
            if keep:
                kept.extend(new)
                whole = sim.Trace(_in_order(kept), part.title)
                if redact:
                    whole = whole.redacted()
                    fresh = {e.exchange for e in new}
                    new = [e for e in whole.events if e.exchange in fresh]
            for event in new:
                if as_json:
                    click.echo(json.dumps(event.to_dict(detail=True)))
                else:
                    click.echo(_line(event, explain))
            if new and svg:
                _write_svg(whole, svg)
    except KeyboardInterrupt:
        pass


def _in_order(events: list) -> list:
    """Events gathered poll by poll, in the order their requests started, numbered again
    (an exchange can be recorded after one it started before, e.g. a callback after the
    token request it made)."""
    ordered = sorted(events, key=lambda e: (e.time, e.seq))
    return [replace(e, seq=i) for i, e in enumerate(ordered, 1)]
