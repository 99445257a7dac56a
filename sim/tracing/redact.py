"""Replace credentials and random values in a trace by stable placeholders.

The same value always maps to the same placeholder within a trace (`<code-1>` in the
callback is `<code-1>` in the token request), so a redacted trace still teaches, and two runs
of a scenario give the same text: that is what makes committed diagrams reproducible.
"""

from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import quote, quote_plus

from sim.tracing.events import Event
from sim.tracing.values import SECRET_NAMES, VOLATILE_NAMES

PORT_RE = re.compile(r"127\.0\.0\.1:\d+")


def _placeholders(events: list[Event], names: tuple[str, ...]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    counters: dict[str, int] = {}
    for event in events:
        for name, value in event.values:
            if name in names and value not in mapping and len(value) >= 4:
                counters[name] = counters.get(name, 0) + 1
                mapping[value] = f"<{name.replace('_', '-')}-{counters[name]}>"
    return mapping


def _sub(text: str | None, mapping: dict[str, str]) -> str | None:
    if not text:
        return text
    for value, placeholder in mapping.items():
        if value in text:
            text = text.replace(value, placeholder)
        for encoded in (quote(value, safe=""), quote_plus(value)):
            if encoded != value and encoded in text:
                text = text.replace(encoded, placeholder)
    return text


#: Headers whose whole value is a credential: client secrets in Basic, session cookies.
CREDENTIAL_HEADERS = ("authorization", "cookie", "set-cookie")


def _header(name: str, value: str, mapping: dict[str, str]) -> str:
    lowered = name.lower()
    if lowered == "authorization":
        scheme = value.split(" ", 1)[0]
        redacted = _sub(value, mapping) or ""
        # A Bearer token is a known value (it maps to <access-token-N>); Basic is not.
        return redacted if redacted != value else f"{scheme} <credentials>"
    if lowered in CREDENTIAL_HEADERS:
        parts = [part.strip() for part in value.split(";")]
        # Cookie: every pair is a cookie. Set-Cookie: only the first; the rest are attributes.
        hidden = len(parts) if lowered == "cookie" else 1
        return "; ".join(
            f"{part.split('=', 1)[0]}=<cookie>" if i < hidden and "=" in part else part
            for i, part in enumerate(parts)
        )
    return _sub(value, mapping) or ""


def redact_events(events: list[Event], volatile: bool = True) -> list[Event]:
    """The events with every secret (and, with `volatile`, every random value) replaced."""
    names = SECRET_NAMES + (VOLATILE_NAMES if volatile else ())
    mapping = _placeholders(events, names)
    # Longest first, so a token containing a shorter value is replaced whole.
    mapping = dict(sorted(mapping.items(), key=lambda kv: -len(kv[0])))
    out: list[Event] = []
    for e in events:
        out.append(
            replace(
                e,
                url=_sub(e.url, mapping) or "",
                location=_sub(e.location, mapping),
                note=_sub(e.note, mapping) or "",
                request_headers={k: _header(k, v, mapping) for k, v in e.request_headers.items()},
                request_body=_sub(e.request_body, mapping) or "",
                response_headers={k: _header(k, v, mapping) for k, v in e.response_headers.items()},
                response_body=_sub(e.response_body, mapping) or "",
                values=tuple((n, mapping.get(v, v)) for n, v in e.values),
            )
        )
    return out
