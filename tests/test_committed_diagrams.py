"""The diagrams under diagrams/ are what `oauth-sim diagrams` makes today."""

from __future__ import annotations

from pathlib import Path

from sim.diagram_set import diagram_files

DIAGRAMS = Path(__file__).parent.parent / "diagrams"


def test_committed_diagrams_are_up_to_date(sim):
    fresh = diagram_files(sim)
    committed = {p.name: p.read_text(encoding="utf-8") for p in DIAGRAMS.glob("*.*")}
    assert sorted(committed) == sorted(fresh), "run `oauth-sim diagrams` and commit the result"
    stale = [name for name, content in fresh.items() if committed[name] != content]
    assert not stale, f"stale diagrams {stale}: run `oauth-sim diagrams` and commit the result"


def test_every_scenario_has_a_diagram_and_attacks_have_both_ways():
    from sim.scenarios import SCENARIOS

    names = {p.name for p in DIAGRAMS.glob("*.svg")}
    for name, scenario in SCENARIOS.items():
        assert f"{name}.svg" in names
        if scenario.defences:
            assert f"{name}--insecure.svg" in names
