"""The terminal output: laid out for the width it gets, teaching text never dimmed, a JWT's
claims shown once, the step numbers those of the diagram."""

from __future__ import annotations

import io
import re

from rich.console import Console

from sim import diagrams
from sim.teaching.report import steps


def render(renderable, width: int) -> tuple[str, str]:
    """(plain text, text with ANSI styles) at `width` columns."""
    plain = Console(file=io.StringIO(), width=width, color_system=None)
    plain.print(renderable)
    styled = Console(file=io.StringIO(), width=width, force_terminal=True, color_system="standard")
    styled.print(renderable)
    return plain.file.getvalue(), styled.file.getvalue()


def test_explain_at_80_columns_puts_the_note_under_the_request(sim):
    trace = sim.run("happy-path").trace
    text, styled = render(steps(trace, explain=True), 80)
    lines = text.splitlines()
    assert all(len(line.rstrip()) <= 80 for line in lines)
    wide, _ = render(steps(trace, explain=True), 140)
    assert len(lines) < 2.5 * len(wide.splitlines())  # not squeezed into a narrow column
    note = trace.events[0].note
    first_words = " ".join(note.split()[:8])
    assert first_words in " ".join(text.split())  # the note reads as prose, whole words
    assert "\x1b[2m" not in styled  # nothing dimmed: the teaching text is the point


def test_a_jwt_summary_is_shown_once_per_token(sim):
    trace = sim.run("happy-path").trace
    tokens = {dict(e.values)["access_token"] for e in trace.events if "access_token" in e.jwts}
    assert tokens  # the API calls carry the same token as the token response
    for width in (80, 140):
        text, _ = render(steps(trace, explain=True), width)
        assert text.count("is a JWT") == len(tokens)


def test_no_token_is_broken_across_lines(sim):
    trace = sim.run("happy-path").trace
    code = next(v for e in trace.events for n, v in e.values if n == "code")
    for width in (80, 140):
        text, _ = render(steps(trace, explain=True), width)
        shown = re.findall(r"\bcode=(\S+)", text)
        # Whole, or cut with an ellipsis: never a part of it at a line's end.
        assert shown and all(s == code or (s[-1] == "…" and code.startswith(s[:-1])) for s in shown)


def test_table_and_diagram_number_the_same_steps(sim):
    trace = sim.run("happy-path").trace
    text, _ = render(steps(trace), 140)
    table_numbers = [int(n) for n in re.findall(r"^\s+(\d+)\s{2,}", text, re.MULTILINE)]
    labels = [t.lines[0] for t in diagrams.layout(trace).labels if t.bold_first]
    drawn = [int(label.split(".", 1)[0]) for label in labels]
    assert table_numbers == drawn == [e.seq for e in trace.events]
    part = diagrams.only_steps(trace, (3, 6))
    drawn = [t.lines[0].split(".")[0] for t in diagrams.layout(part).labels if t.bold_first]
    assert drawn == ["3", "4", "5", "6"]
