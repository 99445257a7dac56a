"""The client credentials grant (RFC 6749 §4.4): a machine acting for itself, no user.

RFC 6749 §4.4: "The client can request an access token using only its client credentials
(or other supported means of authentication) when the client is requesting access to the
protected resources under its control". §4.4.3: "A refresh token SHOULD NOT be included."

    POST /token HTTP/1.1
    Authorization: Basic ZGVtby1zZXJ2aWNlOnNlcnZpY2Utc2VjcmV0
    Content-Type: application/x-www-form-urlencoded

    grant_type=client_credentials&scope=photos%3Aread

    HTTP/1.1 200 OK
    Cache-Control: no-store

    {"access_token": "eyJ...", "token_type": "Bearer", "expires_in": 300,
     "scope": "photos:read"}
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    #: RFC 6749 §4.4: "MUST only be used by confidential clients": never "none".
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def create_token_response(self):
        # RFC 6749 §3.3: default to the client's registered scope when none is requested;
        # Authlib would issue a token with an empty scope that no API call accepts.
        scope = self.request.payload.scope or self.client.scope
        token = self.generate_token(scope=scope, include_refresh_token=False)
        self.save_token(token)
        return 200, token, self.TOKEN_RESPONSE_HEADER
