"""Token revocation (RFC 7009): a client says it no longer needs a token.

RFC 7009 §2.1: "The authorization server first validates the client credentials (in case of
a confidential client) and then verifies whether the token was issued to the client making
the revocation request.  If this validation fails, the request is refused and the client is
informed of the error by the authorization server as described below."

    POST /revoke HTTP/1.1
    Authorization: Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=
    Content-Type: application/x-www-form-urlencoded

    token=45ghiukldjahdnhzdauz&token_type_hint=refresh_token

    HTTP/1.1 200 OK

Revoking either token revokes the grant's whole family: after logout nothing issued for that
login may work (RFC 7009 §2.1 allows this).
"""

from __future__ import annotations

from authlib.oauth2.rfc7009 import RevocationEndpoint

from sim.authorization_server.endpoints.token_param import check_token_param
from sim.authorization_server.token_store import query_token, revoke_family


class Revocation(RevocationEndpoint):
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    check_params = check_token_param

    def query_token(self, token_string, token_type_hint):
        return query_token(token_string, token_type_hint)

    def revoke_token(self, token, request):
        revoke_family(token.family)
