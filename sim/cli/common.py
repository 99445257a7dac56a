"""What every `oauth-sim` command shares: the one-line user error (exit 2) and file writes."""

from __future__ import annotations

import sys
from pathlib import Path

import click

EXIT_USAGE = 2


def fail(message: str) -> None:
    """A user mistake: one clear line on stderr, exit 2, no traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def write_text(path: str, text: str) -> None:
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as error:
        fail(f"cannot write {path}: {error.strerror}")
