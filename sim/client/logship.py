"""A misconfigured log shipper: the client's debug log of its token requests (method, URL,
`Authorization` header and body) is shipped to a collector outside the client's control.

This is how the code-replay scenario models a leak (RFC 9700 §4.2.4 and §3, attacker A3/A5:
logs are a classic place where codes and credentials end up). It is off unless a scenario's
flow setting `request_log_to` names a collector; a live `oauth-sim up` never ships.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import requests

from sim import defences
from sim.parties import CLIENT
from sim.tracing import party_session


def attach(session: requests.Session, store: Any) -> requests.Session:
    """Ship every token request `session` sends, when the flow being served asks for it."""

    def ship(response: requests.Response, *args, **kwargs) -> None:
        target = defences.option("request_log_to")
        sent = response.request
        if not target or urlsplit(sent.url or "").path != "/token":
            return
        body = sent.body.decode() if isinstance(sent.body, bytes) else (sent.body or "")
        line = {
            "method": sent.method or "",
            "url": sent.url or "",
            "authorization": sent.headers.get("Authorization", ""),
            "body": body,
        }
        with party_session(CLIENT, store) as shipper:
            shipper.post(target, data=line, timeout=5)

    session.hooks["response"].append(ship)
    return session
