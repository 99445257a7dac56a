"""What an access token looks like: an RFC 9068 JWT, signed ES256 with a key made at start-up,
and whom it is for (its `aud`).

A resource server can check it offline against `/jwks.json`, or ask the introspection
endpoint (RFC 7662) whether it is still active (revocation is only visible there).

The audience is the photo API unless the token request names another resource server this
server knows with RFC 8707's `resource` parameter (one per request here). RFC 8707 §2: "The
authorization server SHOULD audience-restrict issued access tokens to the resource(s)
indicated by the "resource" parameter." An unknown one is `invalid_target`.
"""

from __future__ import annotations

import secrets
from functools import partial

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from flask import current_app, has_request_context, request
from joserfc.jwk import ECKey, KeySet

from sim import defences
from sim.authorization_server.switches import now


def token_lifetime(default: int, client, grant_type: str) -> int:
    """Access token lifetime in seconds: the server's setting, unless the flow being served
    asks for another (flow option `access_token_lifetime`), so refresh-rotation can show a
    token expiring in seconds without every other flow, or the whole server, changing."""
    return int(defences.option("access_token_lifetime", default=default))


class InvalidTargetError(OAuth2Error):
    """RFC 8707 §2: "The requested resource is invalid, missing, unknown, or malformed." """

    error = "invalid_target"


def known_resources() -> list[str]:
    return [current_app.config["RESOURCE_AUDIENCE"], *current_app.config["OTHER_RESOURCES"]]


def requested_audience() -> str:
    """The resource server the token being issued is for (checked by `check_resource`)."""
    # `in` before reading: Werkzeug's `form.get` answers a missing key (nearly every token
    # request) by raising and catching an HTTP exception.
    form = request.form if has_request_context() else {}
    wanted = form["resource"] if "resource" in form else None
    return wanted if wanted in known_resources() else current_app.config["RESOURCE_AUDIENCE"]


def check_resource() -> OAuth2Error | None:
    """A token request's `resource`, if any: one this server issues tokens for."""
    wanted = request.form.getlist("resource")
    if not wanted:
        return None
    if len(wanted) > 1:
        return InvalidTargetError("This server issues a token for one resource at a time.")
    if wanted[0] not in known_resources():
        return InvalidTargetError("This server issues no tokens for that resource.")
    return None


def new_refresh_token(*_args, **_kwargs) -> str:
    """An opaque refresh token (64 hex characters): it is only ever looked up, never read.
    (32 random bytes in one call; two uuid4s gave 244 random bits in two.)"""
    return secrets.token_hex(32)


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
        # The key set joserfc picks the signing key from: one key, the same for every token.
        self._jwks = KeySet([key])

    def get_jti(self, client, grant_type, user, scope) -> str:
        # The token's JWT ID (the `jti` claim): 16 characters like Authlib's, whose
        # generator calls the system's random source once per character; this calls it once.
        return secrets.token_urlsafe(12)

    def get_jwks(self):
        return self._jwks

    def get_audiences(self, client, user, scope):
        return requested_audience()

    def get_extra_claims(self, client, grant_type, user, scope):
        # iat and exp by this server's clock (`switches.now`), which a scenario may move on
        # for one flow; Authlib's own use time.time(), and would disagree with the records.
        issued = now()
        claims = {"iat": issued, "exp": issued + self._get_expires_in(client, grant_type)}
        return claims | ({"username": user.username} if user else {})
