"""Pick the protocol values out of an exchange: credentials, codes, tokens, state.

These are what a learner wants to follow from step to step (the code in the callback is the
code in the token request), and what `--redact` must hide.
"""

from __future__ import annotations

import base64
import binascii
import json
from urllib.parse import parse_qsl, urlsplit

from sim.tracing.events import SECRET_NAMES, VOLATILE_NAMES

INTERESTING = frozenset(SECRET_NAMES + VOLATILE_NAMES + ("client_id", "scope", "iss", "error"))


def _pairs(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=False)
    except ValueError:
        return []


def from_url(url: str | None) -> list[tuple[str, str]]:
    if not url:
        return []
    parts = urlsplit(url)
    return _pairs(parts.query) + _pairs(parts.fragment)


def from_authorization(header: str | None) -> list[tuple[str, str]]:
    if not header:
        return []
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if not value:
        return []
    if scheme.lower() == "bearer":
        return [("access_token", value)]
    if scheme.lower() == "basic":
        try:
            user, _, secret = base64.b64decode(value).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return []
        return [("client_id", user), ("client_secret", secret)] if secret else []
    return []


def from_body(body: str, content_type: str) -> list[tuple[str, str]]:
    if not body:
        return []
    if "json" in content_type:
        try:
            data = json.loads(body)
        except ValueError:
            return []
        if isinstance(data, dict):
            return [(k, v) for k, v in data.items() if isinstance(v, str)]
        return []
    if "form-urlencoded" in content_type:
        return _pairs(body)
    return []


def interesting(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Keep the protocol-relevant names, first occurrence of each (name, value) only."""
    seen: set[tuple[str, str]] = set()
    out = []
    for name, value in pairs:
        if name in INTERESTING and value and (name, value) not in seen:
            seen.add((name, value))
            out.append((name, value))
    return out
