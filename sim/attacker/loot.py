"""What reached the attacker's server, per flow: the attacker's own notes.

Everything the attacker later uses (a code, a token, a leaked request) is in here only
because a request carrying it arrived at the attacker's site. The notes are served by a
tiny WSGI app of their own, outside the tracing middleware: reading them is the attacker
looking at their own server, not an exchange between parties.
"""

from __future__ import annotations

import json
import threading
from typing import Any
from urllib.parse import parse_qs


class Loot:
    """Thread-safe, in memory, one list of items per flow."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, list[dict[str, Any]]] = {}

    def add(self, flow: str, item: dict[str, Any]) -> None:
        with self._lock:
            self._items.setdefault(flow, []).append(item)

    def get(self, flow: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(i) for i in self._items.get(flow, [])]


def plan(loot: Loot, flow: str) -> dict[str, str]:
    """What the attacker told its own server to do in this flow (the newest plan wins)."""
    plans = [i["params"] for i in loot.get(flow) if i["kind"] == "plan"]
    return plans[-1] if plans else {}


def notes_app(loot: Loot):
    """`GET <notes path>?flow=ID` answers `{"loot": [...]}` for that flow; `POST` with a
    JSON object stores it as the attacker's plan for the flow (e.g. which code_challenge
    the malicious authorization server swaps in)."""

    def app(environ, start_response):
        flow = parse_qs(environ.get("QUERY_STRING", "")).get("flow", [""])[0]
        if environ.get("REQUEST_METHOD") == "POST":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            params = json.loads(environ["wsgi.input"].read(length) or b"{}")
            loot.add(flow, {"kind": "plan", "params": params})
        body = json.dumps({"loot": loot.get(flow)}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]

    return app
