"""Looking up registered clients (RFC 6749 §2), once per process.

The demo registry is fixed at start-up, and Authlib asks for the same client several times
per request: each one is kept, detached from any database session so that a later commit
cannot expire it.
"""

from __future__ import annotations

from flask import current_app

from sim.authorization_server.models import Client, db


def query_client(client_id: str) -> Client | None:
    cache = current_app.extensions.setdefault("client_cache", {})
    if client_id not in cache:
        client = Client.query.filter_by(client_id=client_id).first()
        if client is None:
            return None
        db.session.expunge(client)
        cache[client_id] = client
    return cache[client_id]
