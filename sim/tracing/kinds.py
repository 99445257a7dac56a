"""Name the kind of an exchange, as the JSON contract defines it.

A 3xx answer is a `redirect` whoever asked; what the browser's own JavaScript sends (fetch
or XHR, CORS preflights included: the SPA's token request, its API calls) is a
`browser-call`; calls to the resource server are `api-call`s; calls between servers, and
calls by any other party to the token-side endpoints, are `back-channel`; what is left is
the browser navigating: form POSTs and pages.

A script's request is told from a navigation by the Fetch metadata a browser sends
(`Sec-Fetch-Mode` other than `navigate`); the scripted user agent, which sends none, marks
its script calls with an `Origin` header as a browser's fetch does (its navigations carry
none).
"""

from __future__ import annotations

from collections.abc import Mapping

from sim.tracing.names import ATTACKER, AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER, USER_AGENT

#: Parties that answer back-channel calls (the attacker runs a fake authorization server).
SERVERS = (AUTHORIZATION_SERVER, ATTACKER)

#: Endpoints that are only ever called directly, never through a browser redirect.
BACK_CHANNEL_PATHS = ("/token", "/revoke", "/introspect")


def by_script(method: str, headers: Mapping[str, str] | None) -> bool:
    """Was this request sent by a page's script rather than by the browser navigating?"""
    if method == "OPTIONS":
        return True  # a CORS preflight: the browser asking on behalf of a script
    origin = False
    for name, value in (headers or {}).items():
        name = name.lower()
        if name == "sec-fetch-mode":
            return value != "navigate"
        origin = origin or name == "origin"
    return origin


def classify(
    sender: str,
    to: str,
    method: str,
    path: str,
    status: int,
    headers: Mapping[str, str] | None = None,
) -> str:
    if 300 <= status < 400:
        return "redirect"
    if sender == USER_AGENT and by_script(method, headers):
        return "browser-call"
    if to == RESOURCE_SERVER:
        return "api-call"
    if sender in (CLIENT, RESOURCE_SERVER) and to in SERVERS:
        return "back-channel"
    if to in SERVERS and path in BACK_CHANNEL_PATHS:
        return "back-channel"
    if method == "POST":
        return "form-post"
    return "page"
