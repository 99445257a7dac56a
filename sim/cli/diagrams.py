"""`oauth-sim diagrams`: regenerate every committed diagram."""

from __future__ import annotations

from pathlib import Path

import click

from sim.cli.common import fail
from sim.teaching.report import console


@click.command()
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
