"""Where the Jupyter walkthroughs are, and copying them to a learner's working folder.

Found, in order: next to the `sim` package (a source checkout or `pip install -e .`), then
under `<prefix>/share/oauth-sim/notebooks` (where a wheel installs them, as data files). A
learner works on copies, so the shipped notebooks stay clean and can be copied again.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

SHARE = Path("share") / "oauth-sim" / "notebooks"


def candidates() -> list[Path]:
    here = Path(__file__).resolve().parent.parent  # the `sim` package
    return [here.parent / "notebooks", Path(sys.prefix) / SHARE, Path(sys.base_prefix) / SHARE]


def find_notebooks() -> Path | None:
    """The folder holding the shipped notebooks, or None when none is found."""
    for folder in candidates():
        if any(folder.glob("*.ipynb")):
            return folder
    return None


def copy_notebooks(source: Path, target: Path, overwrite: bool = False) -> list[tuple[Path, bool]]:
    """Copy every notebook to `target`; a copy already there is kept (it may hold the
    learner's work) unless `overwrite`. Returns (path, copied) pairs in order."""
    target.mkdir(parents=True, exist_ok=True)
    done = []
    for notebook in sorted(source.glob("*.ipynb")):
        destination = target / notebook.name
        copy = overwrite or not destination.exists()
        if copy:
            shutil.copyfile(notebook, destination)
        done.append((destination, copy))
    return done
