"""docs/cheatsheet.md is what `oauth-sim diagrams` makes today, and covers every scenario."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from sim.cli import main
from sim.scenarios import SCENARIOS
from sim.teaching.cheatsheet import cheatsheet_markdown

COMMITTED = Path(__file__).parent.parent / "docs" / "cheatsheet.md"


def test_committed_cheatsheet_is_up_to_date():
    assert COMMITTED.read_text(encoding="utf-8") == cheatsheet_markdown(SCENARIOS), (
        "stale docs/cheatsheet.md: run `oauth-sim diagrams` and commit the result"
    )


def test_one_line_per_scenario_with_its_defences():
    text = cheatsheet_markdown(SCENARIOS)
    for name, scenario in SCENARIOS.items():
        rows = [line for line in text.splitlines() if line.startswith(f"| `{name}` |")]
        assert len(rows) == 1, name
        for defence in scenario.defences:
            assert f"`{defence}`" in rows[0]


def test_cli_prints_it_and_diagrams_writes_it(tmp_path, monkeypatch):
    result = CliRunner().invoke(main, ["cheatsheet"])
    assert result.exit_code == 0 and result.output == cheatsheet_markdown(SCENARIOS)
    from sim import diagram_set

    monkeypatch.setattr(diagram_set, "diagram_files", lambda simulation: {})
    sheet = tmp_path / "docs" / "sheet.md"
    result = CliRunner().invoke(
        main, ["diagrams", "--out", str(tmp_path / "d"), "--cheatsheet", str(sheet)]
    )
    assert result.exit_code == 0, result.output
    assert sheet.read_text(encoding="utf-8") == cheatsheet_markdown(SCENARIOS)
