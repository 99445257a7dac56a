"""The grants the authorization server supports, one module per grant (as Authlib's
`authlib/oauth2/rfc6749/grants/`). Registered, with their extensions, in `oauth2.GRANTS`."""

from sim.authorization_server.grants.authorization_code import AuthorizationCodeGrant
from sim.authorization_server.grants.client_credentials import ClientCredentialsGrant
from sim.authorization_server.grants.implicit import ImplicitGrant
from sim.authorization_server.grants.refresh_token import RefreshTokenGrant

__all__ = [
    "AuthorizationCodeGrant",
    "ClientCredentialsGrant",
    "ImplicitGrant",
    "RefreshTokenGrant",
]
