"""The per-flow defence switches as the authorization server sees them.

An attack scenario may switch one defence off for one flow (see `sim.defences`); every grant
and endpoint asks `off(NAME)` at exactly the place that defence acts, so the switch is easy to
find next to the rule it weakens.
"""

from __future__ import annotations

import time

from sim import defences


def off(name: str) -> bool:
    """True when the flow being served runs with defence `name` switched off."""
    return defences.is_off(name)


def now() -> int:
    """Seconds since the epoch by this server's clock: every timestamp column of its records
    and every expiry it judges. A scenario may move the clock of one flow forward (flow
    option `clock_offset`, seconds), so a token can expire without anyone waiting."""
    return int(time.time()) + int(defences.option("clock_offset", None, 0) or 0)
