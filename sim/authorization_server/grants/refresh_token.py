"""Refreshing an access token (RFC 6749 §6), with rotation and reuse detection
(RFC 9700 §4.14.2).

RFC 9700 §4.14.2, refresh token rotation: "the authorization server issues a new refresh
token with every access token refresh response. The previous refresh token is invalidated
but information about the relationship is retained by the authorization server. If a
refresh token is compromised and subsequently used by both the attacker and the legitimate
client, one of them will present an invalidated refresh token, which will inform the
authorization server of the breach."

    POST /token HTTP/1.1
    Authorization: Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=
    Content-Type: application/x-www-form-urlencoded

    grant_type=refresh_token&refresh_token=tGzv3JOkF0XG5Qx2TlKWIA

    HTTP/1.1 200 OK
    Cache-Control: no-store

    {"access_token": "eyJ...", "token_type": "Bearer", "expires_in": 300,
     "refresh_token": "8xLOxBtZp8", "scope": "profile photos:read"}

Authlib does not rotate by default (INCLUDE_NEW_REFRESH_TOKEN) and has no notion of a token
family, so a stolen refresh token stays usable; here reuse of a rotated one revokes the
whole family.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError

from sim import defences
from sim.authorization_server import plain_sql, users
from sim.authorization_server.dpop_binding import check_refresh_binding
from sim.authorization_server.models import Token
from sim.authorization_server.switches import now, off
from sim.authorization_server.token_store import AlreadyRotated, revoke_family
from sim.reasons import REFRESH_TOKEN_REUSED, refuse


class RefreshTokenGrant(grants.RefreshTokenGrant):
    INCLUDE_NEW_REFRESH_TOKEN = True
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def authenticate_refresh_token(self, refresh_token):
        # A copy of the row in no ORM session; `save_token` writes back what changes on it.
        with plain_sql.transaction() as connection:
            token = plain_sql.first(connection, Token, refresh_token=refresh_token)
        if token is None or token.refresh_token_revoked_at:
            return None
        if not token.check_client(self.request.client):
            # RFC 6749 §6: the server MUST "ensure that the refresh token was issued to the
            # authenticated client". Checked BEFORE reuse detection: a spent token shown by
            # another client (demo-spa needs no secret) is invalid_grant and changes nothing;
            # otherwise anyone holding an old token could revoke its owner's family at will.
            return None
        if token.rotated_at:
            if off(defences.REFRESH_ROTATION):
                return token
            _reused(token)
        check_refresh_binding(token, self.request.client)
        return token

    def issue_token(self, user, refresh_token):
        token = super().issue_token(user, refresh_token)
        if off(defences.REFRESH_ROTATION):
            token["refresh_token"] = refresh_token.refresh_token
        return token

    def authenticate_user(self, refresh_token):
        return users.by_id(refresh_token.user_id)

    def save_token(self, token):
        # The old refresh token is spent in the same commit that stores the new one, rather
        # than in a second commit afterwards (Authlib's revoke_old_credential, called next).
        if not off(defences.REFRESH_ROTATION):
            # The old access token keeps working until it expires; only its refresh token
            # is spent. Marking it "rotated" (not revoked) is what makes reuse detectable.
            self.request.refresh_token.rotated_at = now()
        try:
            super().save_token(token)
        except AlreadyRotated:
            # Two requests refreshed with the same token at once: the other one spent it
            # between our read and this write. That is reuse too, seen a moment later.
            _reused(self.request.refresh_token)

    def revoke_old_credential(self, refresh_token):
        """Done in `save_token`, in the transaction that stores the new token."""


def _reused(token: Token) -> None:
    """A spent refresh token was presented: revoke its whole family and refuse."""
    revoke_family(token.family)
    refuse(REFRESH_TOKEN_REUSED)
    raise InvalidGrantError(
        "This refresh token was already used and has been rotated: the whole token "
        "family is now revoked (RFC 9700 Section 4.14.2)."
    )
