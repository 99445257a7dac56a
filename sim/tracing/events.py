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

from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from sim.tracing.jwt import decode_unverified
from sim.tracing.params import Params
from sim.tracing.values import SECRET_NAMES, protocol_values, record_params

KINDS = ("redirect", "page", "form-post", "browser-call", "back-channel", "api-call")


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

    @cached_property
    def params(self) -> Params:
        """Every parameter this exchange carried, parsed once (see `sim.tracing.params`)."""
        return Params.parse(
            self.url,
            self.request_headers,
            self.request_body,
            self.location,
            self.response_headers,
            self.response_body,
        )

    @property
    def request_line(self) -> str:
        """`GET /authorize`: the method and path every rendering puts after the step number."""
        return f"{self.method.upper()} {self.params.url.path or '/'}"

    @property
    def secrets(self) -> tuple[tuple[str, str], ...]:
        return tuple((n, v) for n, v in self.values if n in SECRET_NAMES)

    @property
    def jwts(self) -> dict[str, dict[str, Any]]:
        """Tokens of this exchange that are JWTs, decoded (unverified) by name."""
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
    def from_record(cls, seq: int, record: dict[str, Any]) -> Event:
        """The event of a store record, numbered `seq`. A record kept without its protocol
        values (outside live mode the middleware leaves them for the reader) has them
        parsed here, once: that parse is also the event's `params`."""
        data = {k: v for k, v in record.items() if k != "sender_ms"}
        data["seq"] = seq
        params = None
        if "values" not in data:
            params = record_params(data)
            data["values"] = protocol_values(params)
        event = cls.from_dict(data)
        if params is not None:
            event.__dict__["params"] = params  # `params` is a cached_property: seed it
        return event

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
