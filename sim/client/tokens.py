"""Server-side state of the client: logins in progress and the tokens of logged-in users.

Pending logins are keyed by a random id that only the browser's session holds: state, PKCE
verifier and the server the login went to belong to the browser that started it. The
callback compares the returned state with its own browser's (the CSRF defence, RFC 6749
§10.12) and sends that browser's verifier, so a code injected from someone else's login
also fails PKCE (RFC 9700 §4.7.1).

Both are bounded, as a real client's server-side session store is: a login session's
tokens are forgotten once its browser can no longer present the session cookie that names
them (the cookie is refused once older than the session lifetime, and it was signed at the
latest when the session was last used), and past `MAX_SESSIONS` the least recently used
session's tokens go first (its browser finds itself logged out, as when a session store
evicts). A pending login that is never finished goes after `PENDING_LIFETIME`, or sooner
past `MAX_PENDING`.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

PENDING_LIFETIME = 600
#: Logins started and not finished, kept at most (a script hammering /login cannot grow it).
MAX_PENDING = 1024
#: Logged-in sessions kept at most: about 5 KB each (tokens and the "what just happened"
#: panel); a class of 100 browsers, each logging in a few times, fits several times over.
MAX_SESSIONS = 256


class PendingLogins:
    def __init__(self, limit: int | None = None) -> None:
        self._lock = threading.Lock()
        self._limit = MAX_PENDING if limit is None else limit
        #: login id -> its data, oldest first (`at` only grows along the order).
        self._items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def add(self, key: str, data: dict[str, Any]) -> None:
        with self._lock:
            now = time.time()
            self._items.pop(key, None)
            self._items[key] = {**data, "at": now}
            _evict(self._items, self._limit, now - PENDING_LIFETIME, lambda item: item["at"])

    def pop(self, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._items.pop(key, None) if key else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


class TokenStore:
    """Tokens per client session id; the browser never sees them. A session unused for
    `lifetime` seconds is forgotten (its cookie can no longer be presented), and beyond
    `limit` sessions the least recently used one is; `on_forget(sid)` is then called (the
    app drops what else it keeps for that session)."""

    def __init__(
        self,
        lifetime: float,
        limit: int | None = None,
        on_forget: Callable[[str], None] | None = None,
    ) -> None:
        self._lock = threading.Lock()
        self._lifetime = lifetime
        self._limit = MAX_SESSIONS if limit is None else limit
        self._on_forget = on_forget
        #: sid -> (last used, tokens), least recently used first.
        self._items: OrderedDict[str, tuple[float, dict[str, Any]]] = OrderedDict()

    def get(self, sid: str | None) -> dict[str, Any] | None:
        if not sid:
            return None
        gone: list[str] = []
        with self._lock:
            item = self._items.get(sid)
            now = time.time()
            if item is not None and item[0] > now - self._lifetime:
                self._items[sid] = (now, item[1])
                self._items.move_to_end(sid)
                token = dict(item[1])
            else:
                token = None
            gone = self._sweep(now)
        self._forgotten(gone)
        return token

    def put(self, sid: str, token: dict[str, Any]) -> None:
        with self._lock:
            now = time.time()
            self._items[sid] = (now, dict(token))
            self._items.move_to_end(sid)
            gone = self._sweep(now)
        self._forgotten(gone)

    def drop(self, sid: str | None) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.pop(sid, None) if sid else None
        if item is not None:
            self._forgotten([sid])
        return item[1] if item else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def _sweep(self, now: float) -> list[str]:
        """Forget the sessions past their lifetime or beyond the limit (all at the front)."""
        return _evict(self._items, self._limit, now - self._lifetime, lambda item: item[0])

    def _forgotten(self, sids: list[str]) -> None:
        if self._on_forget is not None:
            for sid in sids:
                self._on_forget(sid)


def _evict(
    items: OrderedDict[str, Any], limit: int, stale: float, stamp: Callable[[Any], float]
) -> list[str]:
    """Drop from the front of `items` (oldest first) every entry beyond `limit` or stamped
    at or before `stale`; the keys dropped."""
    gone = []
    while items:
        key, item = next(iter(items.items()))
        if len(items) <= limit and stamp(item) > stale:
            break
        del items[key]
        gone.append(key)
    return gone
