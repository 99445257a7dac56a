"""The defences an attack scenario can switch off, one at a time, for one flow only.

Each party asks `is_off(name)` at the one place its defence acts. The switch travels with
the flow (flow options in the trace store), never as a request parameter an attacker could
send, and is only honoured by apps started by the simulator.
"""

from __future__ import annotations

from typing import Any

from sim.tracing.context import current_flow

STATE = "state"
PKCE = "pkce"
EXACT_REDIRECT_URI = "exact-redirect-uri"
ONE_TIME_CODE = "one-time-code"
REFRESH_ROTATION = "refresh-rotation"
PKCE_DOWNGRADE = "pkce-downgrade"
ISS = "iss"

ALL = (STATE, PKCE, EXACT_REDIRECT_URI, ONE_TIME_CODE, REFRESH_ROTATION, PKCE_DOWNGRADE, ISS)


def is_off(name: str, store: Any) -> bool:
    """True when the flow being served runs with defence `name` switched off."""
    if store is None:
        return False
    return store.flow_options(current_flow.get()).get("defence_off") == name


def option(key: str, store: Any, default: Any = None) -> Any:
    if store is None:
        return default
    return store.flow_options(current_flow.get()).get(key, default)
