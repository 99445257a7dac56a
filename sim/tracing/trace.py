"""`Trace`: the ordered events of one flow, as data (JSON, redaction, its parties).

Drawing a trace is not its job: `sim.drawing.DrawnTrace` adds the diagrams on top, so this
layer depends on nothing that renders.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

from sim.tracing.events import Event
from sim.tracing.names import PARTY_ORDER
from sim.tracing.redact import redact_events

Annotator = Callable[[Event], tuple[str, str | None]]


def _keep_params(old: Event, new: Event) -> Event:
    """`new`, a copy of `old` with other notes, keeps `old`'s parsed parameters (if parsed)."""
    if "params" in old.__dict__:
        new.__dict__["params"] = old.__dict__["params"]
    return new


class Trace:
    """The ordered events of one flow, with a title."""

    def __init__(
        self,
        events: list[Event] | tuple[Event, ...],
        title: str = "",
        annotate: Annotator | None = None,
    ) -> None:
        self._events: list[Event] = list(events)
        self.title = title
        # Notes are written when someone first reads the events, not while a flow runs:
        # most runs in a benchmark or a loop never display them.
        self._annotate = annotate
        self._source: Callable[[], list[Event]] | None = None

    @classmethod
    def from_source(
        cls, source: Callable[[], list[Event]], title: str = "", annotate: Annotator | None = None
    ) -> Trace:
        """A trace whose events `source()` makes when they are first read."""
        trace = cls([], title, annotate)
        trace._source = source
        return trace

    @property
    def events(self) -> list[Event]:
        if self._source is not None:
            source, self._source = self._source, None
            self._events = source()
        if self._annotate is not None:
            annotate, self._annotate = self._annotate, None
            self._events = [
                _keep_params(e, replace(e, note=note, rfc=rfc))
                for e in self._events
                for note, rfc in (annotate(e),)
            ]
        return self._events

    @events.setter
    def events(self, events: list[Event]) -> None:
        self._events, self._annotate, self._source = list(events), None, None

    def with_events(self, events: list[Event], title: str | None = None) -> Trace:
        """A trace of the same type (a drawn one stays drawn) holding other events."""
        return type(self)(events, self.title if title is None else title)

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __getitem__(self, index: int) -> Event:
        return self.events[index]

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.title!r}: {len(self.events)} events>"

    @property
    def parties(self) -> list[str]:
        seen = {e.sender for e in self.events} | {e.to for e in self.events}
        return [p for p in PARTY_ORDER if p in seen]

    def redacted(self) -> Trace:
        """Secrets replaced by placeholders such as `<code-1>`, the same value always the
        same placeholder, so two runs of one scenario give identical text."""
        return self.with_events(redact_events(self.events))

    def to_dicts(self, detail: bool = False) -> list[dict[str, Any]]:
        return [e.to_dict(detail) for e in self.events]

    def to_json(self, detail: bool = False) -> str:
        return json.dumps(self.to_dicts(detail), indent=2)
