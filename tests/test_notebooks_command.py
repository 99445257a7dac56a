"""`oauth-sim notebooks`: copies the walkthroughs, keeps a learner's edits, opens Jupyter."""

from __future__ import annotations

import importlib
from pathlib import Path

from click.testing import CliRunner

from sim.cli import main

# sim.cli's attribute `notebooks` is the click command; this is its module.
command = importlib.import_module("sim.cli.notebooks")

SHIPPED = sorted(p.name for p in (Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))


def test_copies_every_notebook_then_keeps_the_learners_copy(tmp_path):
    folder = tmp_path / "work"
    result = CliRunner().invoke(main, ["notebooks", str(folder), "--no-start"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.glob("*.ipynb")) == SHIPPED
    mine = folder / SHIPPED[0]
    mine.write_text("my notes")
    again = CliRunner().invoke(main, ["notebooks", str(folder), "--no-start"])
    assert mine.read_text() == "my notes" and "kept" in again.output
    CliRunner().invoke(main, ["notebooks", str(folder), "--no-start", "--force"])
    assert mine.read_text() != "my notes"


def test_without_jupyter_it_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(command, "jupyter_lab_available", lambda: False)
    result = CliRunner().invoke(main, ["notebooks", str(tmp_path / "nb")])
    assert result.exit_code == 0
    assert "pip install 'oauth-sim[notebooks]'" in result.output
    assert f"jupyter lab {tmp_path / 'nb'}" in result.output


def test_with_jupyter_it_starts_it_in_the_folder(tmp_path, monkeypatch):
    started = []
    monkeypatch.setattr(command, "jupyter_lab_available", lambda: True)
    monkeypatch.setattr(command, "start_jupyter", lambda folder: started.append(folder) or 0)
    result = CliRunner().invoke(main, ["notebooks", str(tmp_path / "nb")])
    assert result.exit_code == 0, result.output
    assert started == [tmp_path / "nb"]


def test_a_file_in_the_way_is_one_line_exit_2(tmp_path):
    blocker = tmp_path / "taken"
    blocker.write_text("")
    result = CliRunner().invoke(main, ["notebooks", str(blocker / "sub"), "--no-start"])
    assert result.exit_code == 2
    assert len([line for line in result.output.splitlines() if line.strip()]) == 1
