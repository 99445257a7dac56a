"""Name the kind of an exchange, as the JSON contract defines it.

A 3xx answer is a `redirect` whoever asked; calls to the resource server are `api-call`s;
calls between servers, and calls by any party to the token-side endpoints, are
`back-channel`; what is left is the browser: form POSTs and pages.
"""

from __future__ import annotations

from sim.tracing.names import ATTACKER, AUTHORIZATION_SERVER, CLIENT, RESOURCE_SERVER

#: Parties that answer back-channel calls (the attacker runs a fake authorization server).
SERVERS = (AUTHORIZATION_SERVER, ATTACKER)

#: Endpoints that are only ever called directly, never through a browser redirect.
BACK_CHANNEL_PATHS = ("/token", "/revoke", "/introspect")


def classify(sender: str, to: str, method: str, path: str, status: int) -> str:
    if 300 <= status < 400:
        return "redirect"
    if to == RESOURCE_SERVER:
        return "api-call"
    if sender in (CLIENT, RESOURCE_SERVER) and to in SERVERS:
        return "back-channel"
    if to in SERVERS and path in BACK_CHANNEL_PATHS:
        return "back-channel"
    if method == "POST":
        return "form-post"
    return "page"
