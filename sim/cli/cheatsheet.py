"""`oauth-sim cheatsheet`: print the one-page summary of every flow, attack and defence."""

from __future__ import annotations

import click


@click.command()
def cheatsheet() -> None:
    """Print the cheat-sheet (Markdown): every flow and attack, one line each, with the
    defences and their RFC sections. The committed copy is docs/cheatsheet.md."""
    from sim.teaching.cheatsheet import cheatsheet_markdown  # noqa: PLC0415

    click.echo(cheatsheet_markdown(), nl=False)
