"""The authorization server's records: users, clients, codes and tokens (SQLite).

Codes are never deleted, only marked used, and tokens remember the code and the refresh
"family" they came from: that is what lets a replayed code or a reused refresh token revoke
everything issued from it (RFC 6749 §4.1.2, RFC 9700 §4.14.2).
"""

from __future__ import annotations

import time

from authlib.integrations.sqla_oauth2 import (
    OAuth2AuthorizationCodeMixin,
    OAuth2ClientMixin,
    OAuth2TokenMixin,
)
from flask_sqlalchemy import SQLAlchemy
from werkzeug.security import check_password_hash

from sim.authorization_server.switches import now

# One database session per request, and nothing in it is read back after a change by
# someone else: reloading every object after each commit (the default) only costs time.
db = SQLAlchemy(session_options={"expire_on_commit": False})


class User(db.Model):
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(40), unique=True, nullable=False)
    name = db.Column(db.String(80), nullable=False)
    password_hash = db.Column(db.String(200), nullable=False)

    def get_user_id(self) -> int:
        return self.id

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Client(db.Model, OAuth2ClientMixin):
    id = db.Column(db.Integer, primary_key=True)

    def get_default_redirect_uri(self) -> str | None:
        # Authlib falls back to the first registered URI (authlib#302, #712): a request
        # without redirect_uri may only default when there is exactly one to choose from.
        uris = self.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        # Authlib enforces the registered method at the token endpoint only (its mixin says
        # "TODO" for the others): a client authenticates the same way at revocation and
        # introspection, so demo-client cannot fall back to client_secret_post or "none".
        return self.token_endpoint_auth_method == method

    def get_allowed_scope(self, scope: str | None) -> str | None:
        # Authlib silently drops what the client may not have; when nothing requested is
        # allowed, say so (None makes Authlib answer invalid_scope, RFC 6749 §3.3) rather
        # than issue a token with an empty scope. No scope at all is handled per grant.
        allowed = super().get_allowed_scope(scope)
        return None if scope and not allowed else allowed


class AuthorizationCode(db.Model, OAuth2AuthorizationCodeMixin):
    #: Every OpenID Connect authorization request asks whether its nonce was used before
    #: (`openid.OpenIDCode.exists_nonce`); codes are never deleted, so without this index
    #: each request would read every code issued since start-up (2 ms at 20,000 codes).
    __table_args__ = (db.Index("ix_authorization_code_client_nonce", "client_id", "nonce"),)

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    user = db.relationship("User")
    #: When the code was redeemed; 0 while unused. Set atomically (see token_store.claim_code).
    used_at = db.Column(db.Integer, nullable=False, default=0)
    #: Lifetime in seconds, from the server config at issue time.
    lifetime = db.Column(db.Integer, nullable=False, default=60)
    #: When the user logged in at this server (OIDC Core §2 `auth_time`); the mixin's own
    #: `auth_time` column is the code's creation time, which `is_expired` counts from.
    authenticated_at = db.Column(db.Integer, nullable=True)

    def is_expired(self) -> bool:
        return self.auth_time + self.lifetime < time.time()


class Token(db.Model, OAuth2TokenMixin):
    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"))
    user = db.relationship("User")
    #: The code this token family started from (None for client credentials).
    code_id = db.Column(db.Integer, index=True)
    #: All tokens refreshed from one original grant share a family id.
    family = db.Column(db.String(48), index=True)
    #: Set when this token's refresh token was exchanged for a new one (rotation).
    rotated_at = db.Column(db.Integer, nullable=False, default=0)
    #: The thumbprint of the DPoP key the tokens are bound to (RFC 9449 §6), if any.
    dpop_jkt = db.Column(db.String(64), nullable=True)
    #: The resource server the access token is for (its `aud`, RFC 8707 §2).
    audience = db.Column(db.String(255), nullable=True)

    def is_expired(self) -> bool:
        # Authlib's mixin reads time.time(); this server's clock (`switches.now`) can be moved
        # on for one flow, so expiry is judged by the same clock that stamped `issued_at`.
        return bool(self.expires_in) and self.issued_at + self.expires_in < now()

    def revoke(self, stamp: int | None = None) -> None:
        stamp = stamp or now()
        self.access_token_revoked_at = self.access_token_revoked_at or stamp
        self.refresh_token_revoked_at = self.refresh_token_revoked_at or stamp


class LoginSession(db.Model):
    """A resource owner's login at the authorization server, kept here rather than only in
    the signed cookie: the cookie holds just this row's random id, so logging out (or the
    expiry) ends the session even for a copy of the cookie replayed later."""

    id = db.Column(db.String(64), primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    created_at = db.Column(db.Integer, nullable=False)
    expires_at = db.Column(db.Integer, nullable=False)
    #: When logout ended it; 0 while it lasts.
    ended_at = db.Column(db.Integer, nullable=False, default=0)
