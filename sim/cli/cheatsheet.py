"""`oauth-sim cheatsheet`: print the one-page summary of every flow, attack and defence."""

from __future__ import annotations

import click

import sim


@click.command()
def cheatsheet() -> None:
    """Print the cheat-sheet (Markdown): every flow and attack, one line each, with the
    defences and their RFC sections. The committed copy is docs/cheatsheet.md."""
    click.echo(sim.cheatsheet(), nl=False)
