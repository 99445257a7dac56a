"""The interview drill: questions, how they are chosen, and how an answer is marked.

A question is made by a *template*: a stable id, a topic, the scenarios it needs, and a
function that builds the question (from a live run of those scenarios, or from text for the
conceptual ones). Choosing is seeded: the same seed, topic and count pick the same templates,
and a template's choices are shuffled by (seed, id), so the same seed gives the same
questions. Live values in prompts are redacted to stable placeholders (`<state-1>`) and the
run's free ports shown as `oauth-sim up`'s defaults, for the same reason.

Marking: a multiple-choice answer is right when it is the choice's text, its letter (a, b,
…) or its number (1, 2, …); a short answer is right when it is the model answer, or when it
mentions every group of key ideas (one word of each group).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.teaching.citations import Ref, cite

TOPICS: dict[str, str] = {
    "flows": "the authorization code flow, its channels, and the other grants",
    "pkce": "PKCE: code_verifier, code_challenge, and what it stops",
    "tokens": "access and refresh tokens: bearer, rotation, audience, theft",
    "attacks": "attacks from real traces, and the defence that stops each",
    "oidc": "OpenID Connect: the ID token, nonce vs state vs PKCE",
}


@dataclass(frozen=True)
class Question:
    id: str
    topic: str
    prompt: str
    choices: tuple[str, ...] | None
    answer: str
    explanation: str
    refs: tuple[Ref, ...]
    #: Short answers: each group lists words of which an answer must use at least one.
    keywords: tuple[tuple[str, ...], ...] = ()

    @property
    def rfc(self) -> str:
        return cite(self.refs)

    def to_dict(self) -> dict[str, Any]:
        """The contract's JSON shape."""
        return {
            "id": self.id,
            "prompt": self.prompt,
            "choices": list(self.choices) if self.choices is not None else None,
            "answer": self.answer,
            "explanation": self.explanation,
            "rfc": self.rfc,
        }

    def is_correct(self, given: object) -> bool:
        text = _normal(str(given if given is not None else ""))
        if not text:
            return False
        if self.choices is not None:
            return _choice_index(text, self.choices) == self.choices.index(self.answer)
        if text == _normal(self.answer):
            return True
        return bool(self.keywords) and all(
            any(word in text for word in group) for group in self.keywords
        )


def _normal(text: str) -> str:
    return " ".join(text.lower().replace("`", "").split()).strip(" .")


def _choice_index(text: str, choices: tuple[str, ...]) -> int | None:
    letters = "abcdefghij"
    if len(text) == 1 and text in letters[: len(choices)]:
        return letters.index(text)
    if text.isdigit() and 1 <= int(text) <= len(choices):
        return int(text) - 1
    for index, choice in enumerate(choices):
        if text == _normal(choice):
            return index
    return None


#: What a template's build function receives: the live runs, and its own seeded RNG.
Builder = Callable[[Any, random.Random], Question]


@dataclass(frozen=True)
class Template:
    id: str
    topic: str
    build: Builder
    #: Scenario names this question needs; it is offered only when all exist.
    needs: tuple[str, ...] = field(default_factory=tuple)


def shuffled(rng: random.Random, answer: str, distractors: list[str], size: int = 4):
    """The answer plus up to size-1 distractors, in a seeded order."""
    others = [d for d in dict.fromkeys(distractors) if d != answer]
    picked = rng.sample(others, min(size - 1, len(others))) + [answer]
    rng.shuffle(picked)
    return tuple(picked)


class UnknownTopic(ValueError):
    """--topic names no topic; the message lists them."""


def available(templates: list[Template], scenarios: set[str]) -> list[Template]:
    return [t for t in templates if set(t.needs) <= scenarios]


def topic_counts(templates: list[Template], scenarios: set[str]) -> dict[str, tuple[int, int]]:
    """topic -> (questions available now, questions waiting for a scenario)."""
    counts = {}
    for topic in TOPICS:
        mine = [t for t in templates if t.topic == topic]
        ready = available(mine, scenarios)
        counts[topic] = (len(ready), len(mine) - len(ready))
    return counts


def choose(templates: list[Template], topic: str | None, count: int, seed: int) -> list[Template]:
    """`count` templates of `topic` (all topics if None), the same ones for the same seed."""
    if topic is not None and topic not in TOPICS:
        raise UnknownTopic(
            f"unknown topic {topic!r}; choose one of: {', '.join(TOPICS)} (or `--topic list`)"
        )
    pool = [t for t in templates if topic is None or t.topic == topic]
    if not pool:
        raise UnknownTopic(f"no questions for topic {topic!r} yet: its scenarios are not here")
    return random.Random(seed).sample(pool, min(count, len(pool)))


def build(templates: list[Template], runs: Any, seed: int) -> list[Question]:
    return [t.build(runs, random.Random(f"{seed}:{t.id}")) for t in templates]
