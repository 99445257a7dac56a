"""OpenID Connect on top of the authorization code grant: the ID token, /userinfo, and the
OpenID Provider metadata fields (OpenID Connect Core 1.0, Discovery 1.0).

OIDC Core §3.1.3.3: "In addition to the response parameters specified by OAuth 2.0, the
following parameters MUST be included in the response: id_token".

    GET /authorize?response_type=code&client_id=demo-client&scope=openid%20profile
        &nonce=n-0S6_WzA2Mj&state=af0ifjsldkj&code_challenge=...&code_challenge_method=S256

    POST /token   (as for any code)

    HTTP/1.1 200 OK
    {"access_token": "eyJ...", "token_type": "Bearer", "id_token": "eyJ...", ...}

    GET /userinfo
    Authorization: Bearer eyJ...

    HTTP/1.1 200 OK
    {"sub": "1", "name": "Alice Liddell", "preferred_username": "alice"}

Authlib's `OpenIDCode` extension adds the ID token when the granted scope holds `openid`.
What it leaves to us, or gets wrong for this server, and why we subclass:
- signing: RS256, with an RSA key of its own published at /jwks.json (`kid` in the header).
  RS256 is the default for a client that registered no `id_token_signed_response_alg`
  (OIDC Registration §2), and every OpenID Provider MUST support it (Discovery §3,
  Core §15.1); the access tokens stay ES256;
- `auth_time`: Authlib takes the code's creation time; Core §2 defines it as the time the
  user authenticated, which is the login time the server keeps with the code;
- a nonce already used with this client is refused (Authlib's `exists_nonce` hook), so an
  authorization request cannot be replayed to mint a second ID token for the same nonce.
"""

from __future__ import annotations

import json
import time

from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2.rfc6749.errors import OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError
from authlib.oidc.core import OpenIDCode as AuthlibOpenIDCode
from authlib.oidc.core import UserInfo
from authlib.oidc.core import UserInfoEndpoint as AuthlibUserInfoEndpoint
from flask import current_app, request
from joserfc.jwk import RSAKey

from sim.authorization_server import plain_sql, users
from sim.authorization_server.clients import query_client
from sim.authorization_server.dpop_binding import replay_cache
from sim.authorization_server.models import Token, User
from sim.dpop import ALGORITHMS as DPOP_ALGORITHMS
from sim.dpop import DPoPProofError, check_proof


def new_id_token_key() -> RSAKey:
    """The RSA key that signs ID tokens, made at start-up like the access-token key."""
    return RSAKey.generate_key(2048, parameters={"kid": "sim-rs256", "use": "sig"}, private=True)


#: Seconds an ID token may be used to establish a session at the client.
ID_TOKEN_LIFETIME = 600
ALGORITHM = "RS256"
#: Whether a client's authorization request already used this nonce (`OpenIDCode`).
NONCE_USED = "SELECT 1 FROM authorization_code WHERE client_id = ? AND nonce = ? LIMIT 1"
#: The claims this server can put in an ID token or a UserInfo answer.
CLAIMS = ["sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "name", "preferred_username"]


def user_info(user: User, scope: str) -> UserInfo:
    """The claims about `user` that `scope` allows: `sub` always (Core §5.3.2), the name
    with `profile` (Core §5.4)."""
    info = UserInfo(sub=str(user.id))
    if "profile" in (scope or "").split():
        info["name"] = user.name
        info["preferred_username"] = user.username
    return info


class OpenIDCode(AuthlibOpenIDCode):
    """The ID token for the code flow, signed with the server's ES256 key."""

    def __init__(self) -> None:
        # A nonce is OPTIONAL in the code flow (Core §3.1.2.1); our clients always send one.
        super().__init__(require_nonce=False)

    def exists_nonce(self, nonce, request) -> bool:
        # Asked on every OpenID authorization request (three per login): a yes/no from an
        # index (see `AuthorizationCode`), with plain SQL (`plain_sql`).
        with plain_sql.transaction() as connection:
            used = connection.execute(NONCE_USED, (request.payload.client_id, nonce))
            return used.fetchall() != []

    def resolve_client_private_key(self, client):
        return current_app.config["ID_TOKEN_KEY"]

    def get_client_algorithm(self, client) -> str:
        return ALGORITHM

    def get_encode_header(self, client) -> dict:
        return {"alg": ALGORITHM, "kid": current_app.config["ID_TOKEN_KEY"].kid}

    def get_client_claims(self, client) -> dict:
        return {
            "iss": current_app.config["ISSUER"],
            "aud": [client.get_client_id()],
            "exp": int(time.time()) + ID_TOKEN_LIFETIME,
        }

    def get_authorization_code_claims(self, authorization_code) -> dict:
        claims = super().get_authorization_code_claims(authorization_code)
        if authorization_code.authenticated_at:
            claims["auth_time"] = authorization_code.authenticated_at
        return claims

    def generate_user_info(self, user, scope):
        # Only `sub` in the ID token: with an access token issued (the code flow), the
        # profile claims come from the UserInfo endpoint (Core §5.4).
        return UserInfo(sub=str(user.id))


class _IssuedToken:
    """A token row with the two look-ups Authlib's UserInfoEndpoint asks of a token."""

    def __init__(self, row: Token) -> None:
        self.row = row
        self.scope = row.scope

    def __getattr__(self, name):
        return getattr(self.row, name)

    def get_client(self):
        return query_client(self.row.client_id)

    def get_user(self):
        return users.by_id(self.row.user_id)


class AccessTokens(BearerTokenValidator):
    """UserInfo is an OAuth protected resource of this server (Core §5.3): it takes the
    access token as a Bearer token (RFC 6750 §2.1), checked in the server's own records."""

    def authenticate_token(self, token_string):
        row = Token.query.filter_by(access_token=token_string).first()
        if row is None or not row.user_id:
            return None
        if getattr(row, "dpop_jkt", None):
            # A DPoP-bound token sent as a Bearer token is refused (RFC 9449 §7.2).
            raise InvalidTokenError(description="This token is bound to a DPoP key.")
        return _IssuedToken(row)


class InvalidDPoPProofError(OAuth2Error):
    """A DPoP proof a protected resource refuses (RFC 9449 §7.1: `invalid_dpop_proof`)."""

    error = "invalid_dpop_proof"
    status_code = 401


class DPoPAccessTokens(AccessTokens):
    """UserInfo with a DPoP-bound token (RFC 9449 §7.1), as the resource server takes it:
    `Authorization: DPoP <token>` plus a proof for this request, with `ath`, signed by the
    key the token is bound to."""

    TOKEN_TYPE = "dpop"

    def authenticate_token(self, token_string):
        row = Token.query.filter_by(access_token=token_string).first()
        if row is None or not row.user_id:
            return None
        raw = request.headers.get("DPoP")
        # A JWT holds no comma, so one here means several DPoP headers (joined by the server).
        values = [] if raw is None else raw.split(",")
        try:
            jkt = check_proof(values, request.method, request.url, token_string, replay_cache())
        except DPoPProofError as error:
            raise InvalidDPoPProofError(description=error.description) from error
        if not row.dpop_jkt:
            raise InvalidTokenError(description="This token is not bound to a DPoP key.")
        if jkt != row.dpop_jkt:
            raise InvalidTokenError(description="Invalid DPoP key binding (RFC 9449 Section 7.1).")
        return _IssuedToken(row)


class UserInfoEndpoint(AuthlibUserInfoEndpoint):
    """GET or POST /userinfo (Core §5.3.1): claims about the user the token was issued for,
    to a token granted `openid`."""

    def __init__(self, server=None, resource_protector=None) -> None:
        if resource_protector is None:
            resource_protector = ResourceProtector()
            resource_protector.register_token_validator(AccessTokens())
            resource_protector.register_token_validator(DPoPAccessTokens())
        super().__init__(server, resource_protector)

    def get_issuer(self) -> str:
        return current_app.config["ISSUER"]

    def resolve_private_key(self):
        return current_app.config["ID_TOKEN_KEY"]

    def generate_user_info(self, user, scope):
        return user_info(user, scope)


def userinfo_errors(response, authorization: str):
    """UserInfo errors are RFC 6750 §3 errors (Core §5.3.3). Authlib answers a missing or
    unknown scheme with its own codes (`missing_authorization`, `unsupported_token_type`)
    under a lower-case `bearer` challenge, and a 403 with none: answer as §3.1 says."""
    if response.status_code < 400:
        return response
    error = (response.get_json(silent=True) or {}).get("error")
    scheme = authorization.strip().split(" ", 1)[0].lower()
    if error in ("missing_authorization", "unsupported_token_type"):
        if scheme == "bearer":  # "Bearer" with no token: a malformed request
            error, status, text = "invalid_request", 400, "Use 'Authorization: Bearer <token>'."
        else:  # no credentials for this endpoint: a bare challenge, no error code
            error, status, text = None, 401, "An access token is required."
        body = {"error": error, "error_description": text} if error else {"message": text}
        response.set_data(json.dumps(body))
        response.status_code = status
    params = ['realm="userinfo"']
    if error:
        params.append(f'error="{error}"')
    if error == "insufficient_scope":
        params.append('scope="openid"')
    if scheme == "dpop":  # a DPoP-scheme request gets a DPoP challenge (RFC 9449 §7.1)
        params.insert(1, f'algs="{" ".join(DPOP_ALGORITHMS)}"')
        response.headers["WWW-Authenticate"] = "DPoP " + ", ".join(params)
    else:
        response.headers["WWW-Authenticate"] = "Bearer " + ", ".join(params)
    return response


def provider_metadata(issuer: str) -> dict:
    """The fields OpenID Connect Discovery 1.0 §3 adds to the RFC 8414 document."""
    return {
        "userinfo_endpoint": f"{issuer}/userinfo",
        # OpenID Connect RP-Initiated Logout 1.0 §2.1 (sim.authorization_server.end_session)
        "end_session_endpoint": f"{issuer}/end-session",
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": [ALGORITHM],
        "claims_supported": CLAIMS,
    }
