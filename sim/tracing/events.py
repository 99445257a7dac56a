"""The trace data model: one `Event` per HTTP exchange, a `Trace` per flow.

Theory of operation
-------------------
An exchange is one request and its response. It is recorded where it is observed: the
receiving app's WSGI middleware sees every exchange (all parties that answer HTTP are our own
apps), and the sending party's requests hook adds what only the sender knows (its own
timing). Both records carry the same exchange id and merge into one Event. `sender` sent the
request, `to` answered it: a redirect is therefore the event `user-agent -> server` with a
3xx status and a `location`; the browser following it is the next event.

Events are ordered by when their request started, so a back-channel call made while the
client handles `/callback` comes right after the browser's `GET /callback`, as it does in
the protocol's narrative. Within a trace `seq` counts from 1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

KINDS = ("redirect", "page", "form-post", "back-channel", "api-call")

#: Parameter names whose values are credentials: shown (this is a teaching tool) but
#: marked, and hidden by `--redact`.
SECRET_NAMES = (
    "password",
    "client_secret",
    "code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "token",
    "authorization",
    "csrf_token",
)
#: Random but not secret: replaced by stable placeholders in committed diagrams.
VOLATILE_NAMES = ("state", "code_challenge", "session")


@dataclass(frozen=True)
class Event:
    seq: int
    sender: str
    to: str
    method: str
    url: str
    status: int
    location: str | None
    kind: str
    note: str = ""
    rfc: str | None = None
    flow: str = ""
    exchange: str = ""
    #: The exchange the sender was answering when it made this call ("" if none).
    parent: str = ""
    time: float = 0.0
    duration_ms: float = 0.0
    request_headers: dict[str, str] = field(default_factory=dict)
    request_body: str = ""
    response_headers: dict[str, str] = field(default_factory=dict)
    response_body: str = ""
    #: (name, value) pairs of credentials and random values carried by this exchange.
    values: tuple[tuple[str, str], ...] = ()
    #: Set on the step where a defence acted (or was switched off), e.g. "state check".
    defence: str | None = None

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    @property
    def secrets(self) -> tuple[tuple[str, str], ...]:
        return tuple((n, v) for n, v in self.values if n in SECRET_NAMES)

    @property
    def jwts(self) -> dict[str, dict[str, Any]]:
        """Tokens of this exchange that are JWTs, decoded (unverified) by name."""
        from sim.tracing.jwt import decode_unverified  # noqa: PLC0415

        out = {}
        for name, value in self.values:
            if name in ("access_token", "refresh_token", "token") and value.count(".") == 2:
                decoded = decode_unverified(value)
                if decoded is not None:
                    out.setdefault(name, decoded)
        return out

    def to_dict(self, detail: bool = False) -> dict[str, Any]:
        """The contract's JSON shape; `detail=True` adds headers, bodies and timing."""
        out: dict[str, Any] = {
            "seq": self.seq,
            "from": self.sender,
            "to": self.to,
            "method": self.method,
            "url": self.url,
            "status": self.status,
            "location": self.location,
            "kind": self.kind,
            "note": self.note,
            "rfc": self.rfc,
        }
        if detail:
            data = asdict(self)
            for key in ("seq", "sender", "to", "method", "url", "status", "location"):
                data.pop(key)
            data["values"] = [list(v) for v in self.values]
            data["secrets"] = sorted({name for name, _ in self.secrets})
            data["jwt"] = self.jwts
            out.update({k: v for k, v in data.items() if k not in out})
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        """Inverse of `to_dict` (either shape); raises ValueError on a malformed event."""
        try:
            kwargs = dict(data)
            kwargs["sender"] = kwargs.pop("from")
            kwargs["values"] = tuple(tuple(v) for v in kwargs.get("values", ()))
            if not isinstance(kwargs.get("seq"), int) or not isinstance(kwargs.get("status"), int):
                raise TypeError("seq and status must be integers")
            known = set(cls.__dataclass_fields__)
            return cls(**{k: v for k, v in kwargs.items() if k in known})
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a trace event: {exc}") from exc


class Trace:
    """The ordered events of one flow, with its renderings.

    Displays itself as its sequence diagram in Jupyter.
    """

    def __init__(
        self,
        events: list[Event] | tuple[Event, ...],
        title: str = "",
        annotate: Callable[[Event], tuple[str, str | None]] | None = None,
    ) -> None:
        self._events: list[Event] = list(events)
        self.title = title
        # Notes are written when someone first reads the events, not while a flow runs:
        # most runs in a benchmark or a loop never display them.
        self._annotate = annotate

    @property
    def events(self) -> list[Event]:
        if self._annotate is not None:
            annotate, self._annotate = self._annotate, None
            self._events = [
                replace(e, note=note, rfc=rfc) for e in self._events for note, rfc in (annotate(e),)
            ]
        return self._events

    @events.setter
    def events(self, events: list[Event]) -> None:
        self._events, self._annotate = list(events), None

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self):
        return iter(self.events)

    def __getitem__(self, index: int) -> Event:
        return self.events[index]

    def __repr__(self) -> str:
        return f"<Trace {self.title!r}: {len(self.events)} events>"

    @property
    def parties(self) -> list[str]:
        from sim.parties import PARTY_ORDER  # noqa: PLC0415  (shared names only)

        seen = {e.sender for e in self.events} | {e.to for e in self.events}
        return [p for p in PARTY_ORDER if p in seen]

    def redacted(self) -> Trace:
        """Secrets replaced by placeholders such as `<code-1>`, the same value always the
        same placeholder, so two runs of one scenario give identical text."""
        from sim.tracing.redact import redact_trace  # noqa: PLC0415

        return redact_trace(self)

    def to_dicts(self, detail: bool = False) -> list[dict[str, Any]]:
        return [e.to_dict(detail) for e in self.events]

    def to_json(self, detail: bool = False) -> str:
        return json.dumps(self.to_dicts(detail), indent=2)

    # Renderings live in sim.diagrams; imported lazily so tracing stays dependency-free.
    def to_dot(self) -> str:
        from sim.diagrams import to_dot  # noqa: PLC0415

        return to_dot(self)

    def to_svg(self, path: str | None = None) -> str:
        from sim.diagrams import to_svg  # noqa: PLC0415

        return to_svg(self, path)

    def to_png(self, path: str) -> None:
        from sim.diagrams import to_png  # noqa: PLC0415

        to_png(self, path)

    def to_mermaid(self) -> str:
        from sim.diagrams import to_mermaid  # noqa: PLC0415

        return to_mermaid(self)

    def to_plantuml(self) -> str:
        from sim.diagrams import to_plantuml  # noqa: PLC0415

        return to_plantuml(self)

    def _repr_svg_(self) -> str:
        return self.to_svg()
