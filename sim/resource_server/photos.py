"""Each user's photos, kept in memory: the protected resource itself."""

from __future__ import annotations

import threading

from sim.parties import PHOTOS


class PhotoStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._photos = {
            user: [{"id": i + 1, "title": t} for i, t in enumerate(titles)]
            for user, titles in PHOTOS.items()
        }

    def list(self, owner: str) -> list[dict]:
        with self._lock:
            return [dict(p) for p in self._photos.get(owner, [])]

    def add(self, owner: str, title: str) -> dict:
        with self._lock:
            photos = self._photos.setdefault(owner, [])
            photo = {"id": len(photos) + 1, "title": title}
            photos.append(photo)
            return dict(photo)
