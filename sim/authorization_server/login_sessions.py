"""The resource owner's login sessions at the authorization server: start, look up, end.

RFC 6749 §3.1: "The authorization server MUST first verify the identity of the resource
owner. The way in which the authorization server authenticates the resource owner (e.g.,
username and password login, session cookies) is beyond the scope of this specification."

A signed cookie alone cannot be taken back: after logout, a saved copy would log its holder
in for ever. So the cookie carries only a random session id, and the session itself (whose,
until when, ended or not) lives in the database: logout and expiry end it on the server.
"""

from __future__ import annotations

import secrets

from flask import current_app, g, session

from sim.authorization_server import plain_sql, users
from sim.authorization_server.models import LoginSession, User
from sim.authorization_server.switches import now
from sim.form_csrf import csrf_token

KEY = "login_session"


def _row(session_id: object) -> LoginSession | None:
    """The session `session_id` names (in no ORM session: read it, never change it), read
    once per request: `current_user` and `auth_time` both ask for it while one consent is
    answered. Always from the database, never cached longer: logout or another tab's logout
    may end it at any moment. Plain SQL (`plain_sql`): no request changes a login session
    through the ORM."""
    if not isinstance(session_id, str):
        return None
    memo = g.get("_login_session")
    if memo is not None and memo[0] == session_id:
        return memo[1]
    with plain_sql.transaction() as connection:
        item = plain_sql.first(connection, LoginSession, id=session_id)
    g._login_session = (session_id, item)
    return item


def start(user: User) -> None:
    """A new session for `user`, under a new id (never the one the browser came with), and
    a new CSRF token for the forms that follow (the one from before the login goes with the
    cleared cookie). The token is made here, not by the next page that needs it: the login's
    answer writes the cookie anyway, so the consent page does not write it once more."""
    session.clear()
    stamp = now()
    values = {
        "id": secrets.token_urlsafe(32),
        "user_id": user.id,
        "created_at": stamp,
        "expires_at": stamp + int(current_app.config["LOGIN_SESSION_LIFETIME"]),
        "ended_at": 0,
    }
    with plain_sql.transaction() as connection:
        plain_sql.insert(connection, LoginSession, **values)
    session[KEY] = values["id"]
    csrf_token()
    g.pop("_login_session", None)


def current_user() -> User | None:
    """The logged-in user, if this browser's session id names a live session."""
    item = _row(session.get(KEY))
    if item is None or item.ended_at or item.expires_at <= now():
        return None
    return users.by_id(item.user_id)


def end() -> None:
    """Log out: the session ends on the server, so no copy of the cookie revives it."""
    session_id = session.get(KEY)
    if isinstance(session_id, str):
        with plain_sql.transaction() as connection:
            where = {"id": session_id, "ended_at": 0}
            plain_sql.update(connection, LoginSession, where, ended_at=now())
        g.pop("_login_session", None)
    session.clear()


def auth_time() -> int | None:
    """When the current session's user logged in (OpenID Connect Core §2 `auth_time`)."""
    item = _row(session.get(KEY))
    return item.created_at if item is not None else None
