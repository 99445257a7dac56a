"""What the authorization server is made of: Authlib's `AuthorizationServer` with our grants,
endpoints and extensions, each in its own module. To add one, add a line below.

Authlib is the protocol engine. Where its defaults are weaker than current best practice
(RFC 9700) the modules subclass, and every subclass says why. Each defence that an attack
scenario can switch off for one flow asks `switches.off(...)` at exactly the place it acts.
"""

from __future__ import annotations

from flask import Flask
from joserfc.jwk import ECKey

from sim.authorization_server.clients import query_client
from sim.authorization_server.device import DeviceAuthorization, DeviceGrant
from sim.authorization_server.dpop_binding import DPoPAwareAccessTokens
from sim.authorization_server.endpoints import Introspection, Revocation
from sim.authorization_server.grants import (
    AuthorizationCodeGrant,
    ClientCredentialsGrant,
    ImplicitGrant,
    RefreshTokenGrant,
)
from sim.authorization_server.issuer import Issuer
from sim.authorization_server.oauth2_request import Server
from sim.authorization_server.openid import OpenIDCode, UserInfoEndpoint, new_id_token_key
from sim.authorization_server.pkce import PKCE
from sim.authorization_server.token_store import save_token
from sim.parties import SCOPES

#: Grants with their extensions. Authlib picks the first whose response_type (authorization
#: endpoint) or grant_type (token endpoint) matches the request.
GRANTS = [
    (AuthorizationCodeGrant, [PKCE, OpenIDCode()]),
    (RefreshTokenGrant, []),
    (ClientCredentialsGrant, []),
    (ImplicitGrant, []),
    (DeviceGrant, []),
]
#: Endpoints besides /authorize and /token.
ENDPOINTS = [Revocation, Introspection, UserInfoEndpoint, DeviceAuthorization]
#: Server-wide extensions.
EXTENSIONS = [Issuer]


def config_oauth(app: Flask) -> Server:
    server = Server(app, query_client=query_client, save_token=save_token)
    # Unknown scopes are an error (invalid_scope), not silently dropped.
    server.scopes_supported = list(SCOPES)
    key = ECKey.generate_key("P-256", parameters={"kid": "sim-es256", "use": "sig"})
    app.config["SIGNING_KEY"] = key
    app.config["ID_TOKEN_KEY"] = new_id_token_key()
    server.register_token_generator(
        "default",
        DPoPAwareAccessTokens(app.config["ISSUER"], key, app.config["ACCESS_TOKEN_LIFETIME"]),
    )
    for grant, extensions in GRANTS:
        server.register_grant(grant, extensions)
    for endpoint in ENDPOINTS:
        server.register_endpoint(endpoint)
    for extension in EXTENSIONS:
        server.register_extension(extension())
    return server
