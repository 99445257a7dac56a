"""The authorization server's Flask class: Flask, asking once per function whether it is a
coroutine function.

Flask passes every function it is about to call for a request (the view, each after-request
function, each teardown function) through `ensure_sync`, which asks
`inspect.iscoroutinefunction` (unwrapping partials, looking at code flags) every time: about
five times per request, thirty-five per login. Whether a function is `async def` never
changes, so the answer is kept per function. Functions Flask is handed for one request only
(`after_this_request`) would grow the memory without end: past `REMEMBERED` entries it
starts again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

#: Functions whose answer is kept; the app registers about a dozen.
REMEMBERED = 256


class AuthorizationServerFlask(Flask):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        try:
            return self._synchronous[func]
        except KeyError:
            pass
        except TypeError:  # an unhashable callable: ask every time, as Flask does
            return super().ensure_sync(func)
        synchronous = super().ensure_sync(func)
        if len(self._synchronous) >= REMEMBERED:
            self._synchronous.clear()
        self._synchronous[func] = synchronous
        return synchronous
