"""Looking up resource owners' accounts (the demo registry's users), once per process.

The users are written when the database is seeded and never change afterwards: there is no
sign-up, no password change, no deletion. So, like the clients (`clients`), each user row is
read once, detached from any database session (a later commit cannot expire it) and kept.
Every flow used to read the same user four or five times (login, each consent page, each
token request). What does change (login sessions, codes, tokens, their revocation) is always
read from the database.
"""

from __future__ import annotations

from flask import current_app

from sim.authorization_server.models import User, db


def _cache() -> dict:
    return current_app.extensions.setdefault("user_cache", {"id": {}, "username": {}})


def _keep(user: User | None) -> User | None:
    if user is None:
        return None
    db.session.expunge(user)
    cache = _cache()
    cache["id"][user.id] = user
    cache["username"][user.username] = user
    return user


def by_id(user_id: int | None) -> User | None:
    """The user with this id, or None."""
    if user_id is None:
        return None
    user = _cache()["id"].get(user_id)
    return user if user is not None else _keep(db.session.get(User, user_id))


def by_username(username: str) -> User | None:
    """The user who logs in as `username`, or None."""
    user = _cache()["username"].get(username)
    return user if user is not None else _keep(User.query.filter_by(username=username).first())
