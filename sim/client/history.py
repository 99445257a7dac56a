"""The "What just happened" panel of the Photo Printer: per logged-in session, the code the
client received, the token response it got for it, and the API calls it made since, each
linked to its step in the classroom console.

The token values stay on the client's server: the panel names each token and marks it as
a secret without showing any of it (the point of a confidential client is that the browser
never holds a token); the console, which reads the trace, has the full values.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

MAX_CALLS = 6
TOKEN_FIELDS = ("access_token", "refresh_token", "id_token")


def shorten(value: str) -> str:
    return value if len(value) <= 14 else value[:10] + "…"


def token_summary(token: dict[str, Any]) -> list[dict[str, Any]]:
    """The token response's fields. Token values never reach the browser, not even in
    part: a token row says only what it is and how long it is (the console has it)."""
    rows = []
    for name in ("token_type", "expires_in", "scope", *TOKEN_FIELDS):
        if name in token:
            secret = name in TOKEN_FIELDS
            value = str(token[name])
            rows.append(
                {
                    "name": name.replace("_", " ") if secret else name,
                    "value": f"{len(value)} characters" if secret else value,
                    "secret": secret,
                }
            )
    return rows


def console_link(console_url: str | None, flow: str | None, method: str, path: str) -> str:
    """A link that opens the console on `flow` at its first step `METHOD path`."""
    if not console_url or not flow:
        return ""
    return f"{console_url}/#flow={quote(flow)}&step={quote(method + ' ' + path)}"


class History:
    """What happened per client session id (thread-safe, in memory, like the tokens)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Any]] = {}

    def login(self, sid: str, flow: str | None, code: str, token: dict[str, Any]) -> None:
        with self._lock:
            self._items[sid] = {
                "flow": flow,
                "code": shorten(code),
                "token": token_summary(token),
                "calls": [],
            }

    def call(self, sid: str | None, flow: str | None, method: str, path: str, status: int):
        with self._lock:
            item = self._items.get(sid or "")
            if item is not None:
                calls = [
                    *item["calls"],
                    {"flow": flow, "method": method, "path": path, "status": status},
                ]
                item["calls"] = calls[-MAX_CALLS:]

    def get(self, sid: str | None) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(sid or "")
            return {**item, "calls": list(item["calls"])} if item else None

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._items.pop(sid or "", None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
