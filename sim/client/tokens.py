"""Server-side state of the client: logins in progress and the tokens of logged-in users.

Pending logins are keyed by a random id that only the browser's session holds: state, PKCE
verifier and the server the login went to belong to the browser that started it. The
callback compares the returned state with its own browser's (the CSRF defence, RFC 6749
§10.12) and sends that browser's verifier, so a code injected from someone else's login
also fails PKCE (RFC 9700 §4.7.1).
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

    def add(self, key: str, data: dict[str, Any]) -> None:
        with self._lock:
            now = time.time()
            self._items = {k: v for k, v in self._items.items() if v["at"] > now - PENDING_LIFETIME}
            self._items[key] = {**data, "at": now}

    def pop(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.pop(key, None) if key else None

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
