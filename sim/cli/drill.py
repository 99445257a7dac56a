"""`oauth-sim drill`: interview questions built from live runs, asked in a terminal, printed
as JSON, or marked from an answers file."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import Callable

import click

import sim
from sim.cli.common import fail


@click.command()
@click.option("--topic", help="A topic (`--topic list` shows them); all topics if omitted.")
@click.option("--count", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--seed", type=int, help="The same seed asks the same questions.")
@click.option("--json", "as_json", is_flag=True, help="Print the questions with answers.")
@click.option(
    "--answers-file",
    type=click.Path(dir_okay=False),
    help="A JSON object question id -> answer: mark it, print `score K/N` last.",
)
def drill(topic, count, seed, as_json, answers_file) -> None:
    """Rehearse an OAuth interview: questions from real runs of the scenarios (a redirect
    URL, a token request, an attack's trace), multiple choice and short answer, each with a
    model answer, an explanation and its RFC section.

    \b
      oauth-sim drill                         ask 5 questions here, score at the end
      oauth-sim drill --topic list            the topics
      oauth-sim drill --seed 7 --json         questions and answers, for scripts
      oauth-sim drill --seed 7 --answers-file answers.json
    """
    templates = sim.drill_templates()
    if topic == "list":
        _print_topics(sim.drill_topics())
        return
    answers = _read_answers(answers_file) if answers_file else None
    interactive = not as_json and answers is None
    if interactive and not sys.stdin.isatty():
        fail(
            "drill asks its questions in a terminal, and stdin is not one: use --json to "
            "print them, or --answers-file F to mark answers"
        )
    if answers is not None and seed is None:
        chosen = _named(templates, answers)
        seed = 0
    else:
        seed = seed if seed is not None else random.SystemRandom().randrange(10_000)
        try:
            chosen = sim.choose_questions(templates, topic, count, seed)
        except sim.UnknownTopic as error:
            fail(str(error))
    questions = sim.build_questions(chosen, seed)
    if as_json:
        click.echo(json.dumps({"questions": [q.to_dict() for q in questions]}, indent=2))
    if answers is not None:
        _mark(questions, answers)
    elif interactive:
        click.echo(f"seed {seed}: `oauth-sim drill --seed {seed}` asks these again\n")
        ask(questions, click.prompt, click.echo)


def _print_topics(topics: dict[str, tuple[str, int, int]]) -> None:
    for name, (text, ready, waiting) in topics.items():
        more = f", {waiting} more once their scenarios exist" if waiting else ""
        click.echo(f"{name:<8} {ready:>2} questions{more}: {text}")


def _read_answers(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        fail(f"cannot read {path}: {getattr(error, 'strerror', None) or error}")
    if not text.strip():
        fail(f"{path} is empty: expected a JSON object of question id -> answer")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"{path} is not valid JSON (line {error.lineno}): {error.msg}")
    if not isinstance(data, dict):
        fail(f"{path} holds a JSON {type(data).__name__}, not an object of question id -> answer")
    return data


def _named(templates, answers: dict):
    """Without --seed, mark exactly the questions the answers file names."""
    by_id = {t.id: t for t in templates}
    unknown = [key for key in answers if key not in by_id]
    if unknown:
        fail(
            f"unknown question id {unknown[0]!r} in the answers file "
            "(see `oauth-sim drill --json` for ids)"
        )
    if not answers:
        fail("the answers file names no question")
    return [by_id[key] for key in answers]


def _mark(questions, answers: dict) -> None:
    right = 0
    for question in questions:
        ok = question.is_correct(answers.get(question.id))
        right += ok
        click.echo(f"{'right' if ok else 'wrong'}  {question.id}")
        if not ok:
            click.echo(f"       model answer: {question.answer}")
    click.echo(f"score {right}/{len(questions)}")


def ask(questions, prompt: Callable[..., str], echo: Callable[[str], None]) -> int:
    """Ask each question, say whether the answer is right (wrong answers get the model
    answer and the explanation), and end with the score. Returns the number right."""
    right = 0
    for number, question in enumerate(questions, 1):
        echo(f"\n[{number}/{len(questions)}] {question.prompt}")
        if question.choices is not None:
            for letter, choice in zip("abcdefghij", question.choices, strict=False):
                echo(f"  {letter}) {choice}")
            given = prompt("your choice (letter)", default="", show_default=False)
        else:
            given = prompt("your answer (one or two sentences)", default="", show_default=False)
        if question.is_correct(given):
            right += 1
            echo(f"✔ right. {question.rfc}")
        else:
            echo(f"✘ not quite. Model answer: {question.answer}")
            echo(f"  Why: {question.explanation}")
            echo(f"  See {question.rfc}")
    echo(f"\nscore {right}/{len(questions)}")
    return right
