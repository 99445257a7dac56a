"""`oauth-sim explain`: the spoken walkthrough is told from the run it describes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.scenarios import SCENARIOS
from sim.teaching.walkthrough import as_markdown, walkthrough, word_count


def test_unknown_scenario_is_one_line_exit_2():
    result = CliRunner().invoke(main, ["explain", "nope"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: unknown scenario 'nope'")


def test_happy_path_story_names_the_runs_own_steps(sim):
    run = sim.run("happy-path")
    sections = walkthrough("happy-path", run.trace, run.outcome)
    text = "\n".join(p for s in sections for p in s.paragraphs)
    assert 150 <= word_count(sections) <= 1200
    token = next(e for e in run.trace.events if "grant_type=authorization_code" in e.request_body)
    refresh = next(e for e in run.trace.events if "grant_type=refresh_token" in e.request_body)
    assert f"At step {token.seq} the client's server calls the token endpoint" in text
    assert f"At step {refresh.seq} the client uses its refresh token" in text
    for idea in ("four parties", "front channel", "back channel", "state", "PKCE", "rotation"):
        assert idea in text
    verifier = token.request_body.split("code_verifier=")[1].split("&")[0]
    assert verifier not in text and verifier[:6] + "…" in text  # elided, never whole


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_is_a_two_minute_answer(sim, name):
    run = sim.run(name)
    sections = walkthrough(name, run.trace, run.outcome)
    assert 150 <= word_count(sections) <= 1200, word_count(sections)


def test_cli_prints_prose_markdown_and_the_diagram_path(tmp_path):
    svg = tmp_path / "story.svg"
    result = CliRunner().invoke(main, ["explain", "--markdown", "--svg", str(svg)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Explain it: happy-path")
    assert "## The code exchange" in result.output
    assert result.output.rstrip().splitlines()[-1] == f"Diagram: {svg}"
    assert svg.read_text().lstrip().startswith(("<?xml", "<svg"))
    assert "demo-secret" not in svg.read_text()


def test_markdown_and_text_share_the_sections():
    from sim.teaching.walkthrough import Section, as_text

    sections = [Section("A heading", ("One paragraph.",))]
    assert "## A heading" in as_markdown("T", sections, None)
    assert "A heading\n---------" in as_text("T", sections, "d.svg")
    assert Path(as_text("T", sections, "d.svg").splitlines()[-1].split(": ")[1]).name == "d.svg"


def test_single_page_app_story_starts_in_the_page_and_redeems_from_the_browser(sim):
    run = sim.run("public-client-pkce")
    text = "\n".join(
        p for s in walkthrough("public-client-pkce", run.trace, run.outcome) for p in s.paragraphs
    )
    authorize = next(e for e in run.trace.events if e.path.startswith("/authorize?"))
    assert f"at step {authorize.seq} its script sends the browser" in text
    assert "client_id=demo-spa" in text and "no secret" in text
    assert "travel server to server" not in text  # not true of a public client


def test_openid_connect_story_explains_the_id_token(sim):
    if "openid-connect" not in SCENARIOS:
        pytest.skip("no openid-connect scenario in this build")
    run = sim.run("openid-connect")
    text = "\n".join(
        p for s in walkthrough("openid-connect", run.trace, run.outcome) for p in s.paragraphs
    )
    assert "ID token" in text and "nonce" in text


def test_a_flow_without_a_user_is_told_as_one(sim):
    run = sim.run("client-credentials")
    sections = walkthrough("client-credentials", run.trace, run.outcome)
    text = "\n".join(p for s in sections for p in s.paragraphs)
    assert "no user and no browser" in text and "Alice" not in text
