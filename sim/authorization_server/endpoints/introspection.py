"""Token introspection (RFC 7662): the resource server asks whether a token is active.

RFC 7662 §2.1: "The protected resource calls the introspection endpoint using an HTTP POST
[RFC7231] request with parameters sent as "application/x-www-form-urlencoded" data".

    POST /introspect HTTP/1.1
    Authorization: Basic ZGVtby1yczpycy1zZWNyZXQ=
    Content-Type: application/x-www-form-urlencoded

    token=eyJ...

    HTTP/1.1 200 OK
    Cache-Control: no-store

    {"active": true, "client_id": "demo-client", "scope": "profile", "sub": "1", ...}

Open to the resource server's own credential (`demo-rs`) only.
"""

from __future__ import annotations

from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import current_app

from sim.authorization_server import users
from sim.authorization_server.dpop_binding import introspection_claims
from sim.authorization_server.endpoints.token_param import check_token_param
from sim.authorization_server.token_store import read_token


class Introspection(IntrospectionEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    check_params = check_token_param

    def query_token(self, token_string, token_type_hint):
        return read_token(token_string, token_type_hint)

    def check_permission(self, token, client, request):
        return client.client_id in current_app.config["INTROSPECTION_CLIENTS"]

    def introspect_token(self, token):
        user = users.by_id(token.user_id)
        return {
            "active": True,
            "client_id": token.client_id,
            "token_type": token.token_type,
            "username": user.username if user else None,
            "name": user.name if user else None,
            "scope": token.get_scope(),
            "sub": str(user.id) if user else token.client_id,
            # RFC 8707 §2: the audience restriction goes in the member of the same name.
            "aud": token.audience or current_app.config["RESOURCE_AUDIENCE"],
            "iss": current_app.config["ISSUER"],
            "exp": token.issued_at + token.expires_in,
            "iat": token.issued_at,
            **introspection_claims(token),  # cnf.jkt of a DPoP-bound token (RFC 9449 §6.2)
        }

    def create_introspection_payload(self, token):
        # Authlib answers "active" for a token whose refresh half was rotated; the access
        # token itself stays valid until it expires or is revoked.
        if not token or token.is_revoked() or token.is_expired():
            return {"active": False}
        return self.introspect_token(token)
