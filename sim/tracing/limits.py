"""Bounds on what one request and the trace store may hold, so no page, careless client or
day-long class can make an app or the store grow without limit.

- A request body over `MAX_BODY` bytes is answered 413 before any app reads it (every app:
  `TracingMiddleware` applies it, and `BodyLimit` wraps an app that is not traced).
- A stored text value longer than `MAX_VALUE` characters is cut, and says so (`cut`).
- The store keeps at most `MAX_FLOWS` flows; the oldest go first (see the stores).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

MAX_BODY = 1024 * 1024
MAX_VALUE = 4096
MAX_FLOWS = 500


def too_large(environ: dict[str, Any]) -> bool:
    """The declared body is over `MAX_BODY` (a malformed length counts as none)."""
    try:
        return int(environ.get("CONTENT_LENGTH") or 0) > MAX_BODY
    except ValueError:
        return False


def refuse_too_large(environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
    """413 Content Too Large (RFC 9110 §15.5.14), without reading the body."""
    body = f"Request body over {MAX_BODY} bytes.\n".encode()
    start_response(
        "413 Content Too Large",
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


class BodyLimit:
    """WSGI middleware: 413 for a body over `MAX_BODY`, for an app without tracing."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        if too_large(environ):
            return refuse_too_large(environ, start_response)
        return self.app(environ, start_response)


#: The marker a cut text ends with (the tracing middleware counts a body's bytes).
_MARKER = re.compile(r"…\[\d+ more (?:bytes|characters) not kept\]\Z")


def cut(text: str, limit: int = MAX_VALUE) -> str:
    """`text`, or its first `limit` characters and a visible marker of what was cut. A text
    cut already (a body the middleware kept the start of) keeps its own marker, which says
    how much was lost; cut again, it would only say how long that marker was."""
    if len(text) <= limit:
        return text
    marker = _MARKER.search(text, limit)
    if marker is not None and marker.start() <= limit:
        return text
    return f"{text[:limit]}…[{len(text) - limit} more characters not kept]"


def cut_record(record: dict[str, Any]) -> dict[str, Any]:
    """A copy of an exchange record with every text value cut to `MAX_VALUE`.

    Nearly always nothing is that long (the tracing middleware already bounds the bodies),
    and then a look through the values, which builds nothing, and a shallow copy do: a
    third of the cost of rebuilding every dict, for every exchange recorded."""
    if not _has_long(record):
        return dict(record)
    return _cut_any(record)


_ATOMS = frozenset({int, float, bool, type(None)})


def _has_long(container: Any) -> bool:
    """Whether any text in a dict, list or tuple (at any depth) is over `MAX_VALUE`."""
    for value in container.values() if isinstance(container, dict) else container:
        kind = type(value)
        if kind is str:
            if len(value) > MAX_VALUE:
                return True
        elif kind in _ATOMS:
            continue
        elif isinstance(value, str):
            if len(value) > MAX_VALUE:
                return True
        elif isinstance(value, (dict, list, tuple)) and _has_long(value):
            return True
    return False


def _cut_any(value: Any) -> Any:
    if isinstance(value, str):
        return cut(value)
    if isinstance(value, dict):
        # Short text (nearly every value) is kept as is without a call per value.
        return {
            k: v if type(v) is str and len(v) <= MAX_VALUE else _cut_any(v)
            for k, v in value.items()
        }
    if isinstance(value, tuple):
        return tuple(_cut_any(v) for v in value)
    if isinstance(value, list):
        return [_cut_any(v) for v in value]
    return value
