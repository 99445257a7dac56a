"""Server-side state of the client: logins in progress and the tokens of logged-in users.

Pending logins are keyed by `state` and also remembered in the browser's session: the
callback must find the same state in both (that binding is the CSRF defence, RFC 6749
§10.12). With the defence switched off the client trusts any known state, which is exactly
the login-CSRF bug the csrf-state scenario shows.
"""

from __future__ import annotations

import threading
import time
from typing import Any

PENDING_LIFETIME = 600


class PendingLogins:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Any]] = {}

    def add(self, state: str, data: dict[str, Any]) -> None:
        with self._lock:
            now = time.time()
            self._items = {k: v for k, v in self._items.items() if v["at"] > now - PENDING_LIFETIME}
            self._items[state] = {**data, "at": now}

    def pop(self, state: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.pop(state, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class TokenStore:
    """Tokens per client session id; the browser never sees them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, dict[str, Any]] = {}

    def get(self, sid: str | None) -> dict[str, Any] | None:
        if not sid:
            return None
        with self._lock:
            item = self._items.get(sid)
            return dict(item) if item else None

    def put(self, sid: str, token: dict[str, Any]) -> None:
        with self._lock:
            self._items[sid] = dict(token)

    def drop(self, sid: str | None) -> dict[str, Any] | None:
        with self._lock:
            return self._items.pop(sid, None) if sid else None

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
