"""What every scenario shares: a name, a one-line description, how it is run on a stage, and
for attacks the defences that stand in their way and the outcome the contract defines.

Theory of operation
-------------------
`Scenario.run(stage, off=...)` opens a flow with the named defences switched off for that
flow only (`sim.defences`: the switches travel on their own channel, never through the trace
store), lets `play()` drive the parties over real HTTP, ends the flow (its switches end with
it), and reads the flow's trace.

An attack (`AttackScenario`) lists its `guards`: one `Guard` per defence, in the order the
attack meets them, each naming the step where the defence acts. Its `attack()` plays the
attack as the literature tells it, with actors that know only what reached them over HTTP,
and returns an `Attempt`: what it observed, and the 2xx answer that proves success (`proof`)
if the attack got that far. From that and the trace, `run()` builds the outcome:

    attack_succeeded  true exactly when evidence is set
    defence           what stopped it (or what was off), with its RFC reference
    defences_off      the defences switched off for this run
    stopped_by        the first guard, switched on, whose step was answered >= 400
    refused_at        the seq of that step
    evidence          the seq of the proof's step (its exchange id finds it in the trace)

and marks the trace: the refusal step with what the defence did, each switched-off guard's
step with what its absence let through ("OFF: ..."), the evidence step with what it proves.
With tracing off there are no steps to point at: `refused_at` and `evidence` stay None and
`attack_succeeded` reports whether a proof was seen.

A new attack (say `token-replay`, stopped by `dpop`) subclasses `AttackScenario`, sets
`name`, `description`, `guards` and `rfc`, and implements `attack()`; registering it is
listing it in its module's `SCENARIOS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

import requests

from sim.parties import EXCHANGE_HEADER
from sim.result import ScenarioResult
from sim.scenarios.actors import Attacker
from sim.scenarios.stage import Stage
from sim.tracing import Event, Trace
from sim.user_agent import UserAgent, closed_forms


class ScenarioError(RuntimeError):
    """A scenario could not be played (a party answered something unexpected)."""


class UnknownDefence(ValueError):
    """`off` named a defence the scenario does not list; the message names the ones it does."""


class Scenario:
    """A flow or an attack, played on a `Stage`. Plain flows implement `play()`."""

    name: str = ""
    description: str = ""
    kind: str = "flow"
    rfc: str | None = None
    #: Defences that are absent by the scenario's premise (not switchable, always off).
    premise_off: tuple[str, ...] = ()
    #: Steps this scenario tells its own way, in the step table (see `StepNote`).
    notes: tuple[StepNote, ...] = ()

    @property
    def defences(self) -> tuple[str, ...]:
        """The contract names of the defences this scenario can switch off."""
        return ()

    def check_off(self, off: Iterable[str] = (), insecure: bool = False) -> tuple[str, ...]:
        """The defences to switch off, validated; `insecure` means all of them."""
        wanted = tuple(dict.fromkeys(off))
        unknown = [name for name in wanted if name not in self.defences]
        if (unknown or insecure) and not self.defences:
            raise UnknownDefence(f"scenario {self.name!r} has no defence to switch off")
        if unknown:
            raise UnknownDefence(
                f"scenario {self.name!r} has no defence {unknown[0]!r}; "
                f"its defences: {', '.join(self.defences)}"
            )
        return self.defences if insecure else tuple(d for d in self.defences if d in wanted)

    def settings(self, stage: Stage) -> dict[str, Any]:
        """Per-flow settings besides the switches (e.g. a shorter token lifetime)."""
        return {}

    def run(self, stage: Stage, off: Iterable[str] = (), insecure: bool = False):
        off = self.check_off(off, insecure)
        flow = stage.new_flow(self.name, off=(*off, *self.premise_off), **self.settings(stage))
        try:
            played = self.play(stage, flow, frozenset(off))
        finally:
            stage.end_flow(flow)
        title = self.name + (f" ({', '.join(off)} off)" if off else "")
        return self.finish(played, stage.trace(flow, title), flow, off)

    def play(self, stage: Stage, flow: str, off: frozenset[str]) -> Any:
        raise NotImplementedError

    def finish(self, played: Any, trace: Trace, flow: str, off: tuple[str, ...]):
        if self.notes:
            trace = trace.with_events(self.told(list(trace.events)))
        return ScenarioResult(self.name, bool(off), trace, played, flow, off)

    def told(self, events: list[Event]) -> list[Event]:
        """The events, each that one of `notes` matches with that note instead."""
        for i, event in enumerate(events):
            own = next((n for n in self.notes if n.at(event)), None)
            if own is not None:
                events[i] = replace(event, note=own.note, rfc=own.rfc)
        return events


# -- attacks ----------------------------------------------------------------------------------


def step(
    sender: str, to: str, method: str, path: str, when: Callable[[Event], bool] | None = None
) -> Callable[[Event], bool]:
    """A test for the events from `sender` to `to` with this method and path."""

    def test(event: Event) -> bool:
        if (event.sender, event.to, event.method) != (sender, to, method):
            return False
        return urlsplit(event.url).path == path and (when is None or when(event))

    return test


@dataclass(frozen=True)
class Guard:
    """A defence in an attack's way: its contract name, the step where it acts, what it
    does there (`acts`) and what its absence lets through (`missing`), and its RFC."""

    defence: str
    at: Callable[[Event], bool]
    acts: str
    missing: str
    rfc: str


@dataclass(frozen=True)
class StepNote:
    """A step this scenario tells its own way (the generic note would be too vague): every
    event `at` matches gets `note` and `rfc` instead of the teaching layer's."""

    at: Callable[[Event], bool]
    note: str
    rfc: str


@dataclass
class Attempt:
    """What an attack observed: `details` for the outcome, and `proof`, the 2xx answer that
    shows the attack worked (the victim's data in the attacker's hands), with a sentence
    saying what it proves."""

    details: dict[str, Any] = field(default_factory=dict)
    proof: requests.Response | None = None
    proves: str = ""


def exchange_of(response: requests.Response | None) -> str:
    """The exchange id our HTTP clients put on the request: how a response finds its step."""
    if response is None:
        return ""
    return str(response.request.headers.get(EXCHANGE_HEADER, ""))


class AttackScenario(Scenario):
    """An attack with its guards; subclasses implement `attack()` (see the module doc)."""

    kind = "attack"
    guards: tuple[Guard, ...] = ()

    @property
    def defences(self) -> tuple[str, ...]:
        return tuple(g.defence for g in self.guards)

    @property
    def defence_text(self) -> str:
        """What each defence does, in the order the attack meets them (one sentence each)."""
        return " ".join(f"{g.defence}: {g.acts}." for g in self.guards)

    def play(self, stage: Stage, flow: str, off: frozenset[str]) -> Attempt:
        attacker = Attacker(stage, flow)
        try:
            return self.attack(stage, flow, off, attacker)
        finally:
            attacker.close()

    def attack(self, stage: Stage, flow: str, off: frozenset[str], attacker: Attacker) -> Attempt:
        raise NotImplementedError

    def finish(self, played: Attempt, trace: Trace, flow: str, off: tuple[str, ...]):
        events = list(trace.events)
        marks: dict[int, list[str]] = {}
        stopped: Guard | None = None
        refused_at = evidence = None
        for guard in self.guards:
            found = [i for i, e in enumerate(events) if guard.at(e)]
            if guard.defence in off:
                if found:
                    marks.setdefault(found[0], []).append(f"OFF ({guard.defence}): {guard.missing}")
                continue
            refusals = [i for i in found if events[i].status >= 400]
            if stopped is None and refusals and played.proof is None:
                stopped, refused_at = guard, events[refusals[0]].seq
                marks.setdefault(refusals[0], []).insert(0, f"{guard.defence}: {guard.acts}")
        proof = exchange_of(played.proof)
        for i, event in enumerate(events):
            if proof and event.exchange == proof and 200 <= event.status < 300:
                evidence = event.seq
                marks.setdefault(i, []).append(f"OFF: evidence, {played.proves}")
        events = self.told(events)
        for i, texts in marks.items():
            events[i] = replace(events[i], defence="; ".join(texts))
        marked = trace.with_events(events)  # the same type: a drawn trace stays drawn
        succeeded = evidence is not None or (not events and played.proof is not None)
        outcome = {
            "attack_succeeded": succeeded,
            "defence": self._defence_text(stopped, off),
            "defences_off": list(off),
            "stopped_by": stopped.defence if stopped else None,
            "refused_at": refused_at,
            "evidence": evidence,
            "rfc": self.rfc,
            **played.details,
        }
        return ScenarioResult(self.name, bool(off), marked, outcome, flow, off)

    def _defence_text(self, stopped: Guard | None, off: tuple[str, ...]) -> str:
        if stopped is not None:
            return f"{stopped.defence}: {stopped.acts} ({stopped.rfc})"
        if off:
            return f"Switched off for this run: {', '.join(off)}; nothing else stood in the way."
        return "No defence refused a step of this run."


# -- helpers for scenarios ------------------------------------------------------------------


def log_in_and_consent(
    ua: UserAgent,
    start: requests.Response,
    username: str = "alice",
    password: str = "wonderland",
    approve: bool = True,
    scopes: set[str] | None = None,
    stop_at: str | None = None,
) -> requests.Response:
    """From the redirect to the authorization server, through login and consent, to the
    answer of the consent POST (followed unless it goes to `stop_at`)."""
    page = ua.follow(start)
    if 'name="password"' in page.text:
        page = ua.submit(page, {"username": username, "password": password})
    if page.status_code != 200 or "decision" not in page.text:
        raise ScenarioError(f"expected the consent page, got {page.status_code} at {page.url}")
    decision = "approve" if approve else "deny"
    return ua.submit(page, button=decision, checked=scopes, stop_at=stop_at)


def csrf(html: str) -> str:
    """The CSRF token of the first form on a page that has one (the client's forms all
    carry the same one), as a browser would submit it."""
    for form in closed_forms(html):  # read no further than the first form that has one
        for name, value in form.fields:
            if name == "csrf_token":
                return value
    raise ScenarioError("no CSRF token on the page")
