"""Pick the protocol values out of an exchange: credentials, codes, tokens, state.

These are what a learner wants to follow from step to step (the code in the callback is the
code in the token request), and what `--redact` must hide. They are read from the one parsed
view of the exchange (`sim.tracing.params`), when the exchange is recorded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sim.tracing.params import Params

#: Parameter names whose values are credentials: shown (this is a teaching tool) but
#: marked, and hidden by `--redact`.
SECRET_NAMES = (
    "password",
    "client_secret",
    "code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "id_token",
    "device_code",
    "token",
    "authorization",
    "csrf_token",
)
#: Random but not secret: replaced by stable placeholders in committed diagrams.
VOLATILE_NAMES = ("state", "code_challenge", "session", "nonce", "user_code")

INTERESTING = frozenset(SECRET_NAMES + VOLATILE_NAMES + ("client_id", "scope", "iss", "error"))


def interesting(pairs: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """Keep the protocol-relevant names, first occurrence of each (name, value) only."""
    seen: set[tuple[str, str]] = set()
    out = []
    for name, value in pairs:
        if name in INTERESTING and value and (name, value) not in seen:
            seen.add((name, value))
            out.append((name, value))
    return tuple(out)


def protocol_values(params: Params) -> tuple[tuple[str, str], ...]:
    """The (name, value) pairs of credentials and random values an exchange carried."""
    return interesting(params.pairs())


def record_params(record: Mapping[str, Any]) -> Params:
    """The parsed view of what a store record kept of its request and response."""
    return Params.parse(
        record.get("url", ""),
        record.get("request_headers"),
        record.get("request_body", ""),
        record.get("location"),
        record.get("response_headers"),
        record.get("response_body", ""),
    )


def record_values(record: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A store record's protocol values: kept in the record when they were needed as it was
    made (a live flow links its codes and tokens), otherwise parsed now from what it kept."""
    if "values" in record:
        return tuple(tuple(pair) for pair in record["values"])
    return protocol_values(record_params(record))
