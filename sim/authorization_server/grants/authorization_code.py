"""The authorization code grant (RFC 6749 §4.1), with one-time codes that remember the tokens
issued from them.

RFC 6749 §4.1.2: "The client MUST NOT use the authorization code more than once.  If an
authorization code is used more than once, the authorization server MUST deny the request
and SHOULD revoke (when possible) all tokens previously issued based on that authorization
code."

    GET /authorize?response_type=code&client_id=demo-client&state=xyz
        &redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback&scope=profile
        &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
        &code_challenge_method=S256 HTTP/1.1

    HTTP/1.1 302 Found
    Location: http://127.0.0.1:9000/callback?code=SplxlOBeZQQYbYS6WxSbIA&state=xyz
              &iss=http%3A%2F%2F127.0.0.1%3A9001

    POST /token HTTP/1.1
    Authorization: Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=
    Content-Type: application/x-www-form-urlencoded

    grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA
    &redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fcallback
    &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk

Authlib deletes a code after use (authlib#757), so a replayed code is merely "unknown" and
the tokens issued from it live on; here codes are marked used, atomically, instead.
"""

from __future__ import annotations

import secrets

from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import InvalidGrantError
from flask import current_app

from sim import defences
from sim.authorization_server import login_sessions, plain_sql, users
from sim.authorization_server.authorization_request import CODE_CHECKS, ChecksInOrder
from sim.authorization_server.models import AuthorizationCode
from sim.authorization_server.switches import off
from sim.authorization_server.token_store import claim_code, revoke_tokens_of_code
from sim.reasons import CODE_REUSED, refuse


class AuthorizationCodeGrant(ChecksInOrder, grants.AuthorizationCodeGrant):
    AUTHORIZATION_CHECKS = CODE_CHECKS
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def generate_authorization_code(self) -> str:
        # 48 characters like Authlib's code (and no fewer random bits: 288), but from one call
        # to the system's random source; Authlib makes one per character (~45 µs a code).
        return secrets.token_urlsafe(36)

    def save_authorization_code(self, code, request):
        payload = request.payload.data
        authenticated_at = login_sessions.auth_time()
        with plain_sql.transaction() as connection:
            plain_sql.insert(
                connection,
                AuthorizationCode,
                code=code,
                client_id=request.client.client_id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope or "",
                user_id=request.user.id,
                code_challenge=payload.get("code_challenge"),
                code_challenge_method=payload.get("code_challenge_method"),
                lifetime=current_app.config["CODE_LIFETIME"],
                nonce=payload.get("nonce"),  # OpenID Connect: returned in the ID token
                authenticated_at=authenticated_at,
            )

    def query_authorization_code(self, code, client):
        # A copy of the row in no ORM session: the code is changed only by `claim_code`.
        with plain_sql.transaction() as connection:
            where = {"code": code, "client_id": client.client_id}
            item = plain_sql.first(connection, AuthorizationCode, **where)
        if item is None or item.is_expired():
            return None
        if item.used_at and not off(defences.ONE_TIME_CODE):
            revoke_tokens_of_code(item.id)
            refuse(CODE_REUSED)
            raise InvalidGrantError(
                "This code was already used. Tokens issued from it are now revoked "
                "(RFC 6749 Section 4.1.2)."
            )
        return item

    def create_token_response(self):
        item = self.request.authorization_code
        if not off(defences.ONE_TIME_CODE) and not claim_code(item.id):
            # Lost a race with a concurrent redemption of the same code.
            revoke_tokens_of_code(item.id)
            refuse(CODE_REUSED)
            raise InvalidGrantError("This code was already used.")
        return super().create_token_response()

    def delete_authorization_code(self, authorization_code):
        """Kept (marked used in create_token_response) so that a replay can be detected."""

    def authenticate_user(self, authorization_code):
        return users.by_id(authorization_code.user_id)
