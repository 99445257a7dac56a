"""The console's switches (pause mode), kept in the trace store so that every app's process
reads the same value: the store is the one thing all processes of `oauth-sim up` share."""

from __future__ import annotations

from typing import Any

#: The key the settings are kept under, beside the per-flow options (never a flow id).
KEY = "console:settings"


def get_settings(store: Any) -> dict[str, Any]:
    return store.flow_options(KEY) if store is not None else {}


def put_settings(store: Any, **changes: Any) -> dict[str, Any]:
    settings = {**get_settings(store), **changes}
    store.set_flow_options(KEY, settings)
    return settings


def paused(store: Any) -> bool:
    return bool(get_settings(store).get("pause"))


def browser_off(store: Any) -> list[str]:
    """Defences switched off for logins started by hand in a browser (console switches)."""
    return list(get_settings(store).get("browser_off", []))


def switch_new_flows(store: Any, switches: Any = None):
    """What `LiveFlows` calls when a browser starts a flow: the console's switches for
    browser logins, put on that flow's own channel (the same one `--off` uses)."""

    def start(flow: str) -> None:
        off = browser_off(store)
        if off and switches is not None:  # no switchboard: every defence stays on
            switches.set(flow, off)

    return start
