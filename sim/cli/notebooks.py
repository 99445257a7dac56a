"""`oauth-sim notebooks`: copy the Jupyter walkthroughs to a working folder and open them."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import click

import sim
from sim.cli.common import fail

INSTALL_HINT = "pip install 'oauth-sim[notebooks]'"


def jupyter_lab_available() -> bool:
    return importlib.util.find_spec("jupyterlab") is not None


def start_jupyter(folder: Path) -> int:
    """JupyterLab in `folder`, with this interpreter (whose kernel can import `sim`)."""
    return subprocess.call([sys.executable, "-m", "jupyterlab"], cwd=folder)


@click.command()
@click.argument("folder", default="oauth-sim-notebooks", type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite copies already in FOLDER.")
@click.option("--no-start", is_flag=True, help="Only copy; do not start Jupyter.")
def notebooks(folder: str, force: bool, no_start: bool) -> None:
    """Copy the walkthrough notebooks to FOLDER (default ./oauth-sim-notebooks) and start
    JupyterLab there when it is installed (`pip install 'oauth-sim[notebooks]'`)."""
    source = sim.find_notebooks()
    if source is None:
        looked = ", ".join(str(p) for p in sim.notebook_folders())
        fail(f"no notebooks found (looked in {looked}); install from a source checkout")
    target = Path(folder)
    try:
        done = sim.copy_notebooks(source, target, overwrite=force)
    except OSError as error:
        fail(f"cannot copy the notebooks to {folder}: {error.strerror}")
    for path, copied in done:
        click.echo(
            f"{'copied' if copied else 'kept  '} {path}"
            + ("" if copied else " (yours; --force replaces it)")
        )
    if no_start:
        return
    if not jupyter_lab_available():
        click.echo(
            f"Jupyter is not installed here. Install it with\n  {INSTALL_HINT}\n"
            f"then open the notebooks with\n  jupyter lab {target}"
        )
        return
    click.echo(f"starting JupyterLab in {target} (Ctrl-C stops it)")
    sys.exit(start_jupyter(target))
