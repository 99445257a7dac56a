"""The server's memory of what it issued: saving tokens, finding them, revoking them.

Every token remembers the code and the refresh "family" it came from (see `models`), which
is what lets a replayed code (RFC 6749 §4.1.2) or a reused refresh token (RFC 9700 §4.14.2)
revoke everything issued from it.
"""

from __future__ import annotations

import secrets

from sim.authorization_server import plain_sql
from sim.authorization_server.access_tokens import requested_audience
from sim.authorization_server.dpop_binding import bound_key
from sim.authorization_server.models import AuthorizationCode, Token, db
from sim.authorization_server.switches import now


class AlreadyRotated(Exception):
    """Another request spent this refresh token first (two refreshes with one token at once)."""


def save_token(token: dict, request) -> None:
    """Store a new token, linking it to the code or refresh family it came from.

    A refresh also writes back, in the same commit, what the refresh grant changed on the
    token it replaces (its `rotated_at`; its refresh token when rotation is off): that
    token was read with plain SQL (`plain_sql`), so nothing would save it otherwise.

    With rotation on, the old refresh token is spent only if no other request spent it since
    it was read: of two refreshes racing with one token, exactly one wins and the other
    raises `AlreadyRotated` with nothing stored (as `claim_code` does for codes)."""
    code = getattr(request, "authorization_code", None)
    previous = getattr(request, "refresh_token", None)
    if previous is not None:
        family, code_id = previous.family, previous.code_id
    else:
        family, code_id = secrets.token_hex(16), (code.id if code is not None else None)
    user = request.user
    if previous is not None and previous.refresh_token == token.get("refresh_token"):
        # Rotation switched off: the same refresh token lives on in the new row.
        previous.refresh_token = None
    with plain_sql.transaction() as connection:
        if previous is not None:
            where = {"id": previous.id}
            if previous.rotated_at:  # rotation on: spend it only if still unspent
                where["rotated_at"] = 0
            changed = plain_sql.update(
                connection,
                Token,
                where,
                rotated_at=previous.rotated_at,
                refresh_token=previous.refresh_token,
            )
            if not changed:
                raise AlreadyRotated
        plain_sql.insert(
            connection,
            Token,
            client_id=request.client.client_id,
            user_id=user.id if user else None,
            code_id=code_id,
            family=family,
            **{k: v for k, v in token.items() if k in ("access_token", "refresh_token", "scope")},
            token_type=token.get("token_type", "Bearer"),
            expires_in=token.get("expires_in", 0),
            issued_at=now(),
            dpop_jkt=bound_key(),  # RFC 9449: None for a bearer token
            audience=requested_audience(),
        )


def _lookup_order(hint: str | None) -> tuple[str, str]:
    """The hint only decides where to look first (RFC 7009 §2.1, RFC 7662 §2.1)."""
    if hint == "refresh_token":
        return "refresh_token", "access_token"
    return "access_token", "refresh_token"


def query_token(token_string: str, hint: str | None) -> Token | None:
    """The token as an ORM object, for revocation, which changes it and commits."""
    for column in _lookup_order(hint):
        item = Token.query.filter(getattr(Token, column) == token_string).first()
        if item is not None:
            return item
    return None


def read_token(token_string: str, hint: str | None) -> Token | None:
    """The token for a look that changes nothing (introspection), read with plain SQL.

    The resource server introspects on every API call, twice per happy path; through the
    ORM this read cost about 1 ms of the authorization server's CPU each time (a session,
    a pooled connection's checkout, a query compiled to its cache key)."""
    with plain_sql.transaction() as connection:
        for column in _lookup_order(hint):
            item = plain_sql.first(connection, Token, **{column: token_string})
            if item is not None:
                return item
    return None


def claim_code(code_id: int) -> bool:
    """Mark a code used, atomically: exactly one redemption of a code can win."""
    with plain_sql.transaction() as connection:
        where = {"id": code_id, "used_at": 0}
        return plain_sql.update(connection, AuthorizationCode, where, used_at=now()) == 1


def revoke_tokens_of_code(code_id: int) -> int:
    """Revoke every token issued from one code; returns how many."""
    return _revoke(Token.query.filter_by(code_id=code_id).all())


def revoke_family(family: str) -> int:
    """Revoke every token of one refresh family (one original grant); returns how many."""
    return _revoke(Token.query.filter_by(family=family).all())


def _revoke(tokens: list[Token]) -> int:
    stamp = now()
    for token in tokens:
        token.revoke(stamp)
    db.session.commit()
    return len(tokens)
