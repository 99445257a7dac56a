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
