"""`oauth-sim diagrams`: regenerate every committed diagram."""

from __future__ import annotations

from pathlib import Path

import click

import sim
from sim.cli.common import fail


@click.command()
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="diagrams",
    show_default=True,
    help="Folder for the SVG and .mmd files.",
)
@click.option(
    "--cheatsheet",
    "cheatsheet_path",
    type=click.Path(dir_okay=False),
    default="docs/cheatsheet.md",
    show_default=True,
    help="Where to write the cheat-sheet.",
)
def diagrams(out_dir: str, cheatsheet_path: str) -> None:
    """Regenerate every committed diagram (SVG + Mermaid per scenario, both ways for
    attacks) and the cheat-sheet, deterministically."""
    out = sim.terminal()
    try:
        written = sim.write_diagrams(
            Path(out_dir),
            progress=lambda line: out.print(line),
            cheatsheet=Path(cheatsheet_path),
        )
    except OSError as error:
        fail(f"cannot write to {out_dir}: {error.strerror}")
    out.print(f"{len(written)} files in {out_dir}/")
