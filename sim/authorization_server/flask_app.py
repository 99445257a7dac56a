"""The authorization server's Flask class: Flask, asking once per function whether it is a
coroutine function, and reading a request's cookies from the one environ key they are in.

Flask passes every function it is about to call for a request (the view, each after-request
function, each teardown function) through `ensure_sync`, which asks
`inspect.iscoroutinefunction` (unwrapping partials, looking at code flags) every time: about
five times per request, thirty-five per login. Whether a function is `async def` never
changes, so the answer is kept per function. Functions Flask is handed for one request only
(`after_this_request`) would grow the memory without end: past `REMEMBERED` entries it
starts again.

Werkzeug's `Request.cookies` gathers the Cookie header with `headers.getlist("Cookie")`,
which walks every key of the WSGI environ (a few dozen, with the server's and the
middlewares') to find the ones that are headers. A WSGI server puts the Cookie header in
exactly one key, `HTTP_COOKIE` (PEP 3333), so `AuthorizationServerRequest` reads that key:
the same string, parsed by the same function.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Request
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.sansio.http import parse_cookie
from werkzeug.utils import cached_property

#: Functions whose answer is kept; the app registers about a dozen.
REMEMBERED = 256


class AuthorizationServerRequest(Request):
    @cached_property
    def cookies(self) -> ImmutableMultiDict[str, str]:
        """Werkzeug's `cookies`: the same header, parsed the same way."""
        return parse_cookie(self.environ.get("HTTP_COOKIE", ""), cls=self.dict_storage_class)


class AuthorizationServerFlask(Flask):
    request_class = AuthorizationServerRequest

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
