"""A version counter shared by every process of a simulation: eight bytes in a file each
process maps into memory, so asking "has anything changed since I last looked?" costs a
read of memory, without a system call or a lock.

Whoever changes what the counter guards counts it up after the change is made (under a
thread lock and an exclusive `flock`, so no count is lost between threads or processes);
a reader that notes the value before reading the guarded data and finds it unmoved later
knows its copy is still good. Without a path (one process), it counts in memory.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading

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
