"""Citations are data: every citation the project prints or writes resolves in the one table
(`sim.teaching.citations`), and a citation string we cannot read fails loudly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sim.scenarios import SCENARIOS
from sim.teaching import citations
from sim.teaching.beyond_notes import BEYOND_RULES
from sim.teaching.citations import MalformedCitation, cite, find_all, known, parse, render
from sim.teaching.explain import RULES

ROOT = Path(__file__).resolve().parent.parent
SOURCE_SUFFIXES = {".py", ".js", ".html", ".md", ".txt", ".css"}


def _sources() -> list[tuple[str, str]]:
    """(name, text) of every file where the project cites: sim/, the notebooks' cells,
    README.md and docs/."""
    files = [p for p in (ROOT / "sim").rglob("*") if p.suffix in SOURCE_SUFFIXES]
    files += [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    out = [(str(p.relative_to(ROOT)), p.read_text(encoding="utf-8")) for p in files]
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(cell["source"]) for cell in cells)
        out.append((str(notebook.relative_to(ROOT)), text))
    return out


def test_every_citation_in_the_sources_resolves() -> None:
    missing = {(name, ref) for name, text in _sources() for ref in find_all(text) if not known(ref)}
    assert not missing, f"citations missing from sim/teaching/citations.py: {sorted(missing)}"


#: A citation written as data in code: ("RFC 9700", "2.1.2") (the drill's refs).
PAIR = re.compile(r'\(\s*"((?:RFC \d{4,5})|OIDC [A-Za-z-]+)",\s*"(\d+(?:\.\d+)*)"\s*\)')


def test_every_citation_pair_written_as_data_resolves() -> None:
    pairs = {
        (name, found.groups())
        for name, text in _sources()
        if name.endswith(".py") and not name.endswith("citations.py")
        for found in PAIR.finditer(text)
    }
    assert len(pairs) > 10, "the drill's (document, section) pairs were not found"
    missing = {(name, ref) for name, ref in pairs if not known(ref)}
    assert not missing, f"pairs missing from sim/teaching/citations.py: {sorted(missing)}"


def _rfc_fields() -> list[tuple[str, str]]:
    """Every citation string a note, a guard or a scenario carries, without running anything."""
    fields = [("explain rule", rfc) for _, _, rfc in [*RULES, *BEYOND_RULES] if rfc]
    for name, scenario in SCENARIOS.items():
        if scenario.rfc:
            fields.append((name, scenario.rfc))
        for guard in getattr(scenario, "guards", ()):
            fields.append((f"{name} guard {guard.defence}", guard.rfc))
        for note in getattr(scenario, "notes", ()):
            fields.append((f"{name} step note", note.rfc))
    return fields


@pytest.mark.parametrize(("where", "text"), _rfc_fields())
def test_every_rfc_field_parses_and_resolves(where: str, text: str) -> None:
    refs = parse(text)
    assert refs, f"{where}: {text!r} names no section"
    assert all(known(ref) for ref in refs), f"{where}: {text!r} -> {refs}"


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_step_of_every_scenario_cites_known_sections(sim, name: str) -> None:
    """The notes a run really carries (the teaching layer's or the attack's own), step by step."""
    result = sim.run(name)
    cited = [(e.seq, e.rfc) for e in result.trace.events if e.rfc]
    assert cited, f"{name}: no step cites anything"
    for seq, text in cited:
        refs = parse(text)
        assert refs and all(known(ref) for ref in refs), f"{name} step {seq}: {text!r}"
    outcome_rfc = result.outcome.get("rfc") if isinstance(result.outcome, dict) else None
    if outcome_rfc:
        assert all(known(ref) for ref in parse(outcome_rfc)), f"{name} outcome: {outcome_rfc!r}"


@pytest.mark.parametrize(
    "text",
    [
        "RFC 9700 4.7",  # no section sign
        "§4.7",  # no document
        "RFC 9700 §",  # no number
        "Foo Bar §1",  # not a document we cite
        "RFC 7636 §4.3-4.1",  # a range running backwards
        "RFC 6749 §4.1-4.1.3",  # a range across levels
        "RFC 6749 §4.1,, §4.2",  # an empty part
    ],
)
def test_a_malformed_citation_fails_loudly(text: str) -> None:
    with pytest.raises(MalformedCitation):
        parse(text)


def test_parse_reads_runs_ranges_and_aliases() -> None:
    assert parse("RFC 6749 §4.1.2, §10.12; RFC 9207 §2.4") == [
        ("RFC 6749", "4.1.2"),
        ("RFC 6749", "10.12"),
        ("RFC 9207", "2.4"),
    ]
    assert parse("RFC 7636 §4.1-4.3") == [
        ("RFC 7636", "4.1"),
        ("RFC 7636", "4.2"),
        ("RFC 7636", "4.3"),
    ]
    assert parse("OpenID Connect Core 1.0 §3.1.3.7") == [("OIDC Core", "3.1.3.7")]
    assert parse("RFC 7662") == [("RFC 7662", "")]


def test_a_section_renders_with_its_title_and_long_titles_are_cut() -> None:
    assert render(("RFC 9700", "4.7")) == "RFC 9700 §4.7 Cross-Site Request Forgery"
    cut = cite("RFC 7636 §4.5", width=20)
    assert cut.startswith("RFC 7636 §4.5 ") and cut.endswith("…")
    assert len(cut) <= len("RFC 7636 §4.5 ") + 20
    # A document's later sections do not repeat its name.
    assert cite("RFC 6749 §4.1.2, §10.12") == (
        "RFC 6749 §4.1.2 Authorization Response, §10.12 Cross-Site Request Forgery"
    )


def test_an_unknown_section_is_not_known() -> None:
    """A wrong number is what the source and trace tests above catch: it is not in the table."""
    assert not known(("RFC 9700", "4.99"))
    assert render(("RFC 9700", "4.99")) == "RFC 9700 §4.99"


def test_every_unchecked_entry_is_in_the_table() -> None:
    assert set(citations.UNCHECKED) <= set(citations.TITLES)
