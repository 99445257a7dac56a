"""`oauth-sim trace`: the trace of a running `oauth-sim up`, or of a saved JSON file."""

from __future__ import annotations

import json

import click

from sim.cli.common import fail
from sim.teaching.report import console, step_table


@click.command()
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
