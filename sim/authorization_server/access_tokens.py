"""What an access token looks like: an RFC 9068 JWT, signed ES256 with a key made at start-up.

A resource server can check it offline against `/jwks.json`, or ask the introspection
endpoint (RFC 7662) whether it is still active (revocation is only visible there).
"""

from __future__ import annotations

import uuid
from functools import partial

from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import current_app
from joserfc.jwk import ECKey, KeySet

from sim import defences
from sim.authorization_server.switches import trace_store


def token_lifetime(default: int, client, grant_type: str) -> int:
    """Access token lifetime in seconds: the server's setting, unless the flow being served
    asks for another (flow option `access_token_lifetime`), so refresh-rotation can show a
    token expiring in seconds without every other flow, or the whole server, changing."""
    return int(defences.option("access_token_lifetime", trace_store(), default))


def new_refresh_token(*_args, **_kwargs) -> str:
    """An opaque refresh token (64 hex characters): it is only ever looked up, never read."""
    return uuid.uuid4().hex + uuid.uuid4().hex


class JWTAccessTokens(JWTBearerTokenGenerator):
    """RFC 9068 JWT access tokens, audience the resource server, with the user's name."""

    def __init__(self, issuer: str, key: ECKey, lifetime: int):
        super().__init__(
            issuer,
            alg="ES256",
            refresh_token_generator=new_refresh_token,
            expires_generator=partial(token_lifetime, lifetime),
        )
        self.key = key

    def get_jwks(self):
        return KeySet([self.key])

    def get_audiences(self, client, user, scope):
        return current_app.config["RESOURCE_AUDIENCE"]

    def get_extra_claims(self, client, grant_type, user, scope):
        return {"username": user.username} if user else {}
