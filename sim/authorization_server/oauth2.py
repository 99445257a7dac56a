"""Authlib set-up for the authorization server: grants, PKCE, `iss`, revocation,
introspection and JWT access tokens.

Authlib is the protocol engine. Where its defaults are weaker than current best practice
(RFC 9700) we subclass, and every subclass says why. Each defence that an attack scenario
can switch off for one flow asks `defences.is_off(...)` at exactly the place it acts.
"""

from __future__ import annotations

import time
import uuid
from functools import partial
from urllib.parse import urlsplit

from authlib.common.urls import add_params_to_uri
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import Flask, current_app, g
from joserfc.jwk import ECKey, KeySet

from sim import defences
from sim.authorization_server.models import AuthorizationCode, Client, Token, User, db
from sim.parties import SCOPES


def _store():
    return current_app.config.get("TRACE_STORE")


def _off(name: str) -> bool:
    return defences.is_off(name, _store())


def _now() -> int:
    return int(time.time())


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


class ExactRedirectURI:
    """Exact string match of redirect_uri (RFC 9700 §4.1.3); prefix matching only when the
    scenario switches this defence off, to show what it lets through."""

    def validate_authorization_redirect_uri(self, request, client):
        requested = request.payload.redirect_uri
        if requested and _off(defences.EXACT_REDIRECT_URI):
            # The classic mistake: a prefix of the registered URI (its origin) as a prefix of
            # the requested one. `http://127.0.0.1:9000@evil/` passes: that is the lesson.
            if any(requested.startswith(_origin(uri)) for uri in client.redirect_uris):
                return requested
        return grants.AuthorizationCodeGrant.validate_authorization_redirect_uri(request, client)


class AuthorizationCodeGrant(ExactRedirectURI, grants.AuthorizationCodeGrant):
    """Authorization code grant (RFC 6749 §4.1) with one-time codes that remember the tokens
    issued from them. Authlib deletes a code after use (authlib#757), so a replayed code is
    merely "unknown" and the tokens issued from it live on; we mark codes used instead."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def validate_authorization_request(self):
        redirect_uri = super().validate_authorization_request()
        if not self.request.payload.scope:
            # RFC 6749 §3.3: no scope requested means the default, here everything the
            # client is registered for (shown on the consent page, where the user may untick).
            self.request.scope = self.request.client.scope
        return redirect_uri

    def save_authorization_code(self, code, request):
        payload = request.payload.data
        scope = request.scope or ""
        granted = g.get("granted_scope")
        if granted is not None:  # the user unticked some scopes on the consent page
            scope = " ".join(s for s in scope.split() if s in granted)
        item = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri or "",
            scope=scope,
            user_id=request.user.id,
            code_challenge=payload.get("code_challenge"),
            code_challenge_method=payload.get("code_challenge_method"),
            lifetime=current_app.config["CODE_LIFETIME"],
        )
        db.session.add(item)
        db.session.commit()
        return item

    def query_authorization_code(self, code, client):
        item = AuthorizationCode.query.filter_by(code=code, client_id=client.client_id).first()
        if item is None or item.is_expired():
            return None
        if item.used_at and not _off(defences.ONE_TIME_CODE):
            revoke_tokens_of_code(item.id)
            raise InvalidGrantError(
                "This code was already used. Tokens issued from it are now revoked "
                "(RFC 6749 Section 4.1.2)."
            )
        return item

    def create_token_response(self):
        item = self.request.authorization_code
        if not _off(defences.ONE_TIME_CODE) and not claim_code(item.id):
            # Lost a race with a concurrent redemption of the same code.
            revoke_tokens_of_code(item.id)
            raise InvalidGrantError("This code was already used.")
        return super().create_token_response()

    def delete_authorization_code(self, authorization_code):
        """Kept (marked used in create_token_response) so that a replay can be detected."""

    def authenticate_user(self, authorization_code):
        return db.session.get(User, authorization_code.user_id)


def claim_code(code_id: int) -> bool:
    """Mark a code used, atomically: exactly one redemption of a code can win."""
    result = db.session.execute(
        db.update(AuthorizationCode)
        .where(AuthorizationCode.id == code_id, AuthorizationCode.used_at == 0)
        .values(used_at=_now())
    )
    db.session.commit()
    return result.rowcount == 1


def revoke_tokens_of_code(code_id: int) -> int:
    now = _now()
    tokens = Token.query.filter_by(code_id=code_id).all()
    for token in tokens:
        token.revoke(now)
    db.session.commit()
    return len(tokens)


def revoke_family(family: str) -> int:
    now = _now()
    tokens = Token.query.filter_by(family=family).all()
    for token in tokens:
        token.revoke(now)
    db.session.commit()
    return len(tokens)


class RefreshTokenGrant(grants.RefreshTokenGrant):
    """Refresh with rotation and reuse detection (RFC 9700 §4.14.2). Authlib does not rotate
    by default (INCLUDE_NEW_REFRESH_TOKEN) and has no notion of a token family, so a stolen
    refresh token stays usable; here reuse of a rotated one revokes the whole family."""

    INCLUDE_NEW_REFRESH_TOKEN = True
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def authenticate_refresh_token(self, refresh_token):
        token = Token.query.filter_by(refresh_token=refresh_token).first()
        if token is None or token.refresh_token_revoked_at:
            return None
        if token.rotated_at:
            if _off(defences.REFRESH_ROTATION):
                return token
            revoke_family(token.family)
            raise InvalidGrantError(
                "This refresh token was already used and has been rotated: the whole token "
                "family is now revoked (RFC 9700 Section 4.14.2)."
            )
        return token

    def issue_token(self, user, refresh_token):
        token = super().issue_token(user, refresh_token)
        if _off(defences.REFRESH_ROTATION):
            token["refresh_token"] = refresh_token.refresh_token
        return token

    def authenticate_user(self, refresh_token):
        return db.session.get(User, refresh_token.user_id)

    def revoke_old_credential(self, refresh_token):
        if _off(defences.REFRESH_ROTATION):
            return
        # The old access token keeps working until it expires; only its refresh token
        # is spent. Marking it "rotated" (not revoked) is what makes reuse detectable.
        refresh_token.rotated_at = _now()
        db.session.commit()


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Machine-to-machine (RFC 6749 §4.4): no user, no refresh token (§4.4.3)."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def create_token_response(self):
        # RFC 6749 §3.3: default to the client's registered scope when none is requested;
        # Authlib would issue a token with an empty scope that no API call accepts.
        scope = self.request.payload.scope or self.client.scope
        token = self.generate_token(scope=scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER


class ImplicitGrant(ExactRedirectURI, grants.ImplicitGrant):
    """Deprecated (RFC 9700 §2.1.2); registered so the implicit-legacy scenario can show
    why. Only a client registered with response_type `token` may use it."""

    def authenticate_token_endpoint_client(self):
        """Nothing is authenticated at the authorization endpoint: find the client by its
        client_id. Authlib looks it up with the "none" method, which skips confidential
        clients, so demo-client asking for response_type=token got a misleading 400
        invalid_client page; with the client known and its redirect_uri checked, the answer
        is an error redirect, unauthorized_client (RFC 6749 §4.2.2.1), and never a token."""
        client = query_client(self.request.payload.client_id or "")
        if client is None:
            raise InvalidClientError(description="Unknown client_id.")
        return client


class S256OnlyCodeChallenge(CodeChallenge):
    """PKCE (RFC 7636) hardened per RFC 9700 §2.1.1 and §4.8.2.

    Authlib defaults a missing method to `plain`, accepts `plain`, only requires PKCE at the
    token endpoint of public clients, and answers a missing verifier with invalid_request.
    Here: S256 only; a challenge is required at the authorization endpoint for every
    client; and a verifier must be sent if and only if a challenge was (downgrade check).
    """

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant, redirect_uri):
        payload = grant.request.payload.data
        challenge = payload.get("code_challenge")
        method = payload.get("code_challenge_method")
        if _off(defences.PKCE_DOWNGRADE) or _off(defences.PKCE):
            # Authlib's own, laxer rules: optional challenge, `plain` accepted.
            lax = CodeChallenge(required=False)
            lax.SUPPORTED_CODE_CHALLENGE_METHOD = ["plain", "S256"]
            return lax.validate_code_challenge(grant, redirect_uri)
        if not challenge:
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256."
            )
        if method != "S256":
            raise InvalidRequestError(
                "Only code_challenge_method=S256 is accepted (RFC 9700 Section 2.1.1)."
            )
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        request = grant.request
        verifier = request.form.get("code_verifier")
        challenge = request.authorization_code.code_challenge
        if _off(defences.PKCE_DOWNGRADE) or _off(defences.PKCE):
            if not challenge:
                return None  # no challenge, nothing checked: the downgrade works
            method = request.authorization_code.code_challenge_method or "plain"
            func = self.CODE_CHALLENGE_METHODS.get(method)
            if verifier and func and func(verifier, challenge):
                return None
            raise InvalidGrantError("Code challenge failed.")
        if challenge and not verifier:
            raise InvalidGrantError("Missing 'code_verifier': this code was issued with PKCE.")
        if verifier and not challenge:
            raise InvalidGrantError(
                "A code_verifier was sent but the authorization request had no "
                "code_challenge: possible PKCE downgrade (RFC 9700 Section 4.8.2)."
            )
        try:
            return super().validate_code_verifier(grant, result)
        except InvalidRequestError as error:  # malformed verifier: still the wrong grant
            raise InvalidGrantError(error.description) from error


class Issuer(IssuerParameter):
    """RFC 9207: `iss` in every authorization response, errors included (mix-up defence).
    Authlib's get_issuer() returns None, which silently turns the feature off."""

    def get_issuer(self) -> str:
        return current_app.config["ISSUER"]

    def add_issuer_parameter(self, authorization_server, response):
        # Authlib always appends `iss` to the query; RFC 9207 §2 puts it beside the other
        # response parameters, which the implicit flow sends in the fragment.
        location = response.location or ""
        if "#" in location:
            response.location = add_params_to_uri(location, {"iss": self.get_issuer()}, True)
            return
        super().add_issuer_parameter(authorization_server, response)


def token_lifetime(default: int, client, grant_type: str) -> int:
    """Access token lifetime in seconds: the server's setting, unless the flow being served
    asks for another (flow option `access_token_lifetime`), so refresh-rotation can show a
    token expiring in seconds without every other flow, or the whole server, changing."""
    return int(defences.option("access_token_lifetime", _store(), default))


class JWTAccessTokens(JWTBearerTokenGenerator):
    """RFC 9068 JWT access tokens, signed ES256 with a key made at start-up."""

    def __init__(self, issuer: str, key: ECKey, lifetime: int):
        super().__init__(
            issuer,
            alg="ES256",
            refresh_token_generator=lambda *a, **k: uuid.uuid4().hex + uuid.uuid4().hex,
            expires_generator=partial(token_lifetime, lifetime),
        )
        self.key = key

    def get_jwks(self):
        return KeySet([self.key])

    def get_audiences(self, client, user, scope):
        return current_app.config["RESOURCE_AUDIENCE"]

    def get_extra_claims(self, client, grant_type, user, scope):
        return {"username": user.username} if user else {}


def save_token(token: dict, request) -> None:
    """Store a new token, linking it to the code or refresh family it came from."""
    code = getattr(request, "authorization_code", None)
    previous = getattr(request, "refresh_token", None)
    if previous is not None:
        family, code_id = previous.family, previous.code_id
    else:
        family, code_id = uuid.uuid4().hex, (code.id if code is not None else None)
    user = request.user
    item = Token(
        client_id=request.client.client_id,
        user_id=user.id if user else None,
        code_id=code_id,
        family=family,
        **{k: v for k, v in token.items() if k in ("access_token", "refresh_token", "scope")},
        token_type=token.get("token_type", "Bearer"),
        expires_in=token.get("expires_in", 0),
        issued_at=_now(),
    )
    if previous is not None and previous.refresh_token == token.get("refresh_token"):
        # Rotation switched off: the same refresh token lives on in the new row.
        previous.refresh_token = None
    db.session.add(item)
    db.session.commit()


def query_token(token_string: str, hint: str | None):
    """The hint only decides where to look first (RFC 7009 §2.1, RFC 7662 §2.1)."""
    columns = [Token.access_token, Token.refresh_token]
    if hint == "refresh_token":
        columns.reverse()
    for column in columns:
        item = Token.query.filter(column == token_string).first()
        if item is not None:
            return item
    return None


def check_token_param(endpoint, request, client) -> None:
    """Only `token` is required. A hint is a hint (RFC 7009 §2.1, RFC 7662 §2.1): an
    unknown one is ignored rather than answered with Authlib's 401 without a challenge."""
    if "token" not in request.form:
        raise InvalidRequestError("Missing 'token'.")


class Revocation(RevocationEndpoint):
    """RFC 7009. Revoking either token revokes the grant's whole family: after logout
    nothing issued for that login may work (RFC 7009 §2.1 allows this)."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    check_params = check_token_param

    def query_token(self, token_string, token_type_hint):
        return query_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        revoke_family(token.family)


class Introspection(IntrospectionEndpoint):
    """RFC 7662, open to the resource server's own credential (`demo-rs`) only."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    check_params = check_token_param

    def query_token(self, token_string, token_type_hint):
        return query_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return client.client_id in current_app.config["INTROSPECTION_CLIENTS"]

    def introspect_token(self, token):
        user = db.session.get(User, token.user_id) if token.user_id else None
        return {
            "active": True,
            "client_id": token.client_id,
            "token_type": token.token_type,
            "username": user.username if user else None,
            "name": user.name if user else None,
            "scope": token.get_scope(),
            "sub": str(user.id) if user else token.client_id,
            "aud": current_app.config["RESOURCE_AUDIENCE"],
            "iss": current_app.config["ISSUER"],
            "exp": token.issued_at + token.expires_in,
            "iat": token.issued_at,
        }

    def create_introspection_payload(self, token):
        # Authlib answers "active" for a token whose refresh half was rotated; the access
        # token itself stays valid until it expires or is revoked.
        if not token or token.is_revoked() or token.is_expired():
            return {"active": False}
        return self.introspect_token(token)


def query_client(client_id: str):
    """The registry is fixed at start-up, and Authlib asks for the same client several times
    per request: keep each one, detached from any database session so that a later commit
    cannot expire it."""
    cache = current_app.extensions.setdefault("client_cache", {})
    if client_id not in cache:
        client = Client.query.filter_by(client_id=client_id).first()
        if client is None:
            return None
        db.session.expunge(client)
        cache[client_id] = client
    return cache[client_id]


def config_oauth(app: Flask) -> AuthorizationServer:
    server = AuthorizationServer(app, query_client=query_client, save_token=save_token)
    # Unknown scopes are an error (invalid_scope), not silently dropped.
    server.scopes_supported = list(SCOPES)
    key = ECKey.generate_key("P-256", parameters={"kid": "sim-es256", "use": "sig"})
    app.config["SIGNING_KEY"] = key
    server.register_token_generator(
        "default", JWTAccessTokens(app.config["ISSUER"], key, app.config["ACCESS_TOKEN_LIFETIME"])
    )
    server.register_grant(AuthorizationCodeGrant, [S256OnlyCodeChallenge(required=True)])
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_grant(ImplicitGrant)
    server.register_extension(Issuer())
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    return server
