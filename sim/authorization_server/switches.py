"""The per-flow defence switches as the authorization server sees them.

An attack scenario may switch one defence off for one flow (see `sim.defences`); every grant
and endpoint asks `off(NAME)` at exactly the place that defence acts, so the switch is easy to
find next to the rule it weakens.
"""

from __future__ import annotations

import time
from typing import Any

from flask import current_app

from sim import defences


def trace_store() -> Any:
    """The trace store this app was given (it also carries the per-flow switches)."""
    return current_app.config.get("TRACE_STORE")


def off(name: str) -> bool:
    """True when the flow being served runs with defence `name` switched off."""
    return defences.is_off(name, trace_store())


def now() -> int:
    """Seconds since the epoch: every timestamp column of the server's records."""
    return int(time.time())
