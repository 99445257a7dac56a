"""The implicit grant (RFC 6749 §4.2): deprecated, registered so that the implicit-legacy
scenario can show why. Only a client registered with response_type `token` may use it.

RFC 9700 §2.1.2: "In order to avoid these issues, clients SHOULD NOT use the implicit grant
(response type `token`) or other response types issuing access tokens in the authorization
response, unless access token injection in the authorization response is prevented and the
aforementioned token leakage vectors are mitigated."

    GET /authorize?response_type=token&client_id=demo-implicit&state=xyz
        &redirect_uri=http%3A%2F%2F127.0.0.1%3A9000%2Fimplicit%2Fcallback HTTP/1.1

    HTTP/1.1 302 Found
    Location: http://127.0.0.1:9000/implicit/callback#access_token=eyJ...
              &token_type=Bearer&expires_in=300&state=xyz&iss=http%3A%2F%2F127.0.0.1%3A9001

The token travels in the fragment, so it reaches the page's scripts and the browser's
history: nothing binds it to the client that asked for it.
"""

from __future__ import annotations

from authlib.oauth2.rfc6749 import grants

from sim.authorization_server.authorization_request import IMPLICIT_CHECKS, ChecksInOrder


class ImplicitGrant(ChecksInOrder, grants.ImplicitGrant):
    # Nothing is authenticated at the authorization endpoint: the client is found by its
    # client_id (step 1). Authlib looks it up with the "none" method, which skips
    # confidential clients, so demo-client asking for response_type=token got a misleading
    # 400 invalid_client page; with the client known and its redirect_uri checked, the
    # answer is an error redirect, unauthorized_client (RFC 6749 §4.2.2.1), never a token.
    AUTHORIZATION_CHECKS = IMPLICIT_CHECKS
