"""The interview drill: questions from live runs, marked right only when they are right."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from sim.cli import main
from sim.cli.drill import ask
from sim.drill_set import Runs, drill_templates
from sim.scenarios import SCENARIOS
from sim.teaching import drill as model
from sim.teaching.citations import parse
from sim.teaching.drill_runs import s256


@pytest.fixture(scope="module")
def questions(sim):
    """Every question the drill can ask today, built from one set of live runs."""
    templates = drill_templates()
    with Runs(sim) as runs:
        return {q.id: q for q in model.build(templates, runs, seed=1)}


def invoke(*args, **kwargs):
    return CliRunner().invoke(main, ["drill", *args], **kwargs)


def one_line_error(result) -> str:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error:"), result.output
    return lines[0]


def test_topic_list_names_every_topic():
    result = invoke("--topic", "list")
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.output.splitlines()] == list(model.TOPICS)


def test_unknown_topic_is_one_line_exit_2():
    assert "unknown topic 'nope'" in one_line_error(invoke("--topic", "nope", "--json"))


@pytest.mark.parametrize(
    "content, says",
    [("", "empty"), ("  \n", "empty"), ("{oops", "not valid JSON"), ("[1, 2]", "not an object")],
)
def test_bad_answers_file_is_one_line_exit_2(tmp_path, content, says):
    path = tmp_path / "answers.json"
    path.write_text(content)
    assert says in one_line_error(invoke("--answers-file", str(path)))


def test_no_terminal_says_so_instead_of_waiting():
    # CliRunner's stdin is not a TTY, as in CI.
    assert "not" in one_line_error(invoke("--seed", "1", input="a\n"))


def test_same_seed_same_questions_and_answers_file_scores_them(tmp_path):
    first = invoke("--seed", "5", "--count", "4", "--topic", "flows", "--json")
    second = invoke("--seed", "5", "--count", "4", "--topic", "flows", "--json")
    assert first.exit_code == 0 and first.output == second.output
    listed = json.loads(first.output)["questions"]
    assert len(listed) == 4
    for q in listed:
        assert set(q) == {"id", "prompt", "choices", "answer", "explanation", "rfc"}
        assert q["rfc"].startswith("RFC")
    other = invoke("--seed", "6", "--count", "4", "--topic", "flows", "--json")
    assert other.output != first.output
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps({q["id"]: q["answer"] for q in listed}))
    result = invoke("--seed", "5", "--count", "4", "--topic", "flows", "--answers-file", answers)
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "score 4/4"
    answers.write_text(json.dumps({listed[0]["id"]: "no idea"}))
    result = invoke("--answers-file", str(answers))
    assert result.output.splitlines()[-1] == "score 0/1"


def test_every_model_answer_is_marked_right_and_a_wrong_one_wrong(questions):
    assert len(questions) >= 15
    for q in questions.values():
        assert q.is_correct(q.answer), q.id
        assert not q.is_correct(""), q.id
        assert not q.is_correct("I would use a stronger password"), q.id
        assert q.refs and q.explanation, q.id
        if q.choices is not None:
            assert q.answer in q.choices and len(set(q.choices)) == len(q.choices) >= 2
            letter = "abcdefghij"[q.choices.index(q.answer)]
            assert q.is_correct(letter.upper()) and q.is_correct(str(q.choices.index(q.answer) + 1))
            wrong = next(c for c in q.choices if c != q.answer)
            assert not q.is_correct(wrong), q.id


def test_short_answers_are_marked_by_their_key_ideas(questions):
    state = questions["run-state-purpose"]
    assert state.choices is None
    assert state.is_correct("It protects the callback against CSRF")
    assert not state.is_correct("It remembers which page to show after login")
    secret = questions["run-secret-back-channel"]
    assert secret.is_correct("it goes server-to-server, so the browser never sees it")
    assert not secret.is_correct("because it is encrypted")


def test_run_questions_read_their_answers_from_the_trace(sim, questions):
    run = sim.run("happy-path")
    token = next(e for e in run.trace.events if "code_verifier=" in e.request_body)
    assert questions["run-verifier-step"].answer.startswith(f"step {token.seq}: client →")
    assert questions["run-token-request-kind"].answer == token.kind == "back-channel"
    assert "equal" in questions["run-verifier-step"].explanation
    location = next(e.location for e in run.trace.events if "/authorize?" in (e.location or ""))
    challenge = location.split("code_challenge=")[1].split("&")[0]
    verifier = token.request_body.split("code_verifier=")[1].split("&")[0]
    assert s256(verifier) == challenge  # the fact the explanation states, checked by hand


def test_prompts_show_no_live_secret_and_default_ports(sim, questions):
    prompt = questions["run-secret-back-channel"].prompt
    assert "Basic <credentials>" in prompt and "demo-secret" not in prompt
    assert "127.0.0.1:9001/authorize?" in questions["run-state-purpose"].prompt
    assert str(sim.urls["client"].rsplit(":", 1)[1]) not in questions["run-state-purpose"].prompt


def test_attack_questions_name_the_defence_and_where_runs_part(sim, questions):
    attacks = [n for n, s in SCENARIOS.items() if s.defences]
    for name in attacks:
        q = questions[f"attack-{name}-defence"]
        assert q.answer == SCENARIOS[name].defences[0]
        compare = questions[f"compare-{name}"]
        seq = int(compare.answer.split(":")[0].split()[1])
        on = sim.run(name).trace.events
        off = sim.run(name, insecure=True).trace.events

        def key(event):
            return (event.sender, event.to, event.url.split("?")[0].rsplit("/", 1)[1], event.status)

        assert seq > min(len(on), len(off)) or key(on[seq - 1]) != key(off[seq - 1]), name


def test_interactive_wrong_answer_gets_the_explanation(questions):
    asked = [questions["why-not-password-grant"], questions["run-state-purpose"]]
    out: list[str] = []
    replies = iter(["z", "the state parameter stops cross-site request forgery"])
    right = ask(asked, lambda *a, **k: next(replies), out.append)
    text = "\n".join(out)
    assert right == 1
    assert asked[0].explanation in text and "RFC 9700 §2.4" in text
    assert out[-1].strip() == "score 1/2"


def test_citations_parse_catalogue_strings():
    assert parse("RFC 6749 §4.1.2, §10.5; RFC 9700 §4.2.4") == [
        ("RFC 6749", "4.1.2"),
        ("RFC 6749", "10.5"),
        ("RFC 9700", "4.2.4"),
    ]
    assert parse("RFC 7636 §1, §4.6") == [("RFC 7636", "1"), ("RFC 7636", "4.6")]
    assert parse(None) == []
    assert parse("RFC 7636, RFC 9700 §2.1.1") == [("RFC 7636", ""), ("RFC 9700", "2.1.1")]


def test_in_a_terminal_it_asks_and_scores(tmp_path):
    """The interactive path, on a real pseudo-terminal: two questions, two answers."""
    import os
    import pty
    import subprocess
    import sys

    main_fd, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-c", "from sim.cli import main; main()", "drill", "--seed", "2",
         "--count", "2", "--topic", "flows"],
        stdin=terminal, stdout=terminal, stderr=terminal, close_fds=True,
    )  # fmt: skip
    os.close(terminal)
    output = b""
    answered = 0
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
        if output.count(b"your ") > answered:
            answered += 1
            os.write(main_fd, b"a\n")
    process.wait(timeout=120)
    os.close(main_fd)
    text = output.decode("utf-8", "replace")
    assert process.returncode == 0, text
    assert "[1/2]" in text and "[2/2]" in text
    assert text.rstrip().splitlines()[-1].strip().startswith("score ")
