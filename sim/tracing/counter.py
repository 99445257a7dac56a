"""A version counter shared by every process of a simulation: eight bytes in a file each
process maps into memory, so asking "has anything changed since I last looked?" costs a
read of memory, without a system call or a lock.

Whoever changes what the counter guards counts it up after the change is made (under a
thread lock and an exclusive `flock`, so no count is lost between threads or processes);
a reader that notes the value before reading the guarded data and finds it unmoved later
knows its copy is still good. Without a path (one process), it counts in memory.
`KeptWhileUnmoved` is that reader: answers kept per key until the counter moves.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")

_LAYOUT = struct.Struct("<Q")


class SharedCounter:
    """The counter in `path` (created if missing), or in this object's memory if None."""

    def __init__(self, path: str | None = None) -> None:
        self._lock = threading.Lock()
        self._own = 0
        self._fd: int | None = None
        self._map: mmap.mmap | None = None
        if path is not None:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT)
            if os.fstat(self._fd).st_size < _LAYOUT.size:
                os.ftruncate(self._fd, _LAYOUT.size)  # a no-op if another process did it
            self._map = mmap.mmap(self._fd, _LAYOUT.size)

    def value(self) -> int:
        if self._map is None:
            return self._own
        return _LAYOUT.unpack_from(self._map)[0]

    def bump(self) -> None:
        """Count up: call after the change is made, so whoever sees the new value sees it."""
        with self._lock:
            if self._map is None or self._fd is None:
                self._own += 1
                return
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                _LAYOUT.pack_into(self._map, 0, _LAYOUT.unpack_from(self._map)[0] + 1)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        with self._lock:
            if self._map is not None and self._fd is not None:
                self._map.close()
                os.close(self._fd)
            self._map = self._fd = None


class KeptWhileUnmoved(Generic[V]):
    """Answers read per key (a flow's settings, its options), each kept until `counter`
    moves: while it has not, a look-up reads memory only, without the lock.

    `read` runs under `lock` (the one guarding the reader's connection); the version is noted
    before it runs, so a change made during the read moves the counter past the kept entry
    and is read next time. An entry is replaced whole, never changed: callers must not change
    what they get. Past `limit` keys the memory starts again."""

    def __init__(
        self, counter: SharedCounter, lock: threading.Lock | threading.RLock, limit: int = 256
    ) -> None:
        self._counter = counter
        self._lock = lock
        self._limit = limit
        self._kept: dict[str, tuple[int, V]] = {}

    def get(self, key: str, read: Callable[[str], V]) -> V:
        kept = self._kept.get(key)
        if kept is not None and kept[0] == self._counter.value():
            return kept[1]
        with self._lock:
            version = self._counter.value()
            kept = self._kept.get(key)
            if kept is None or kept[0] != version:
                if len(self._kept) >= self._limit:
                    self._kept.clear()
                kept = self._kept[key] = (version, read(key))
        return kept[1]
