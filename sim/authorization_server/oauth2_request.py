"""How Authlib sees the Flask request: its `FlaskOAuth2Request`, with the parameters read
once per request and the full URL built only if asked for.

Authlib's `FlaskOAuth2Payload.data` is a property returning Flask's `request.values`, which
Werkzeug builds anew on every read (a `CombinedMultiDict` of the query and the form); the
grants and extensions read `payload.data` (client_id, response_type, scope, state, nonce,
code_challenge, ...) about 90 times per login. The parameters of one HTTP request cannot
change while it is served, so here the same object is kept for the request's life.

`FlaskOAuth2Request` also hands Authlib `request.url`, which Werkzeug builds by decoding
the whole query string into an IRI (a long one on an authorization request: the PKCE
challenge, state, nonce): about a tenth of the cost of validating an authorization
request. Authlib reads it for one thing on our endpoints, `InsecureTransportError.check`
(refuse plain http except to localhost), which looks only at the scheme and the host. So
the check is given `request.host_url` (the same scheme and host, no path or query), and
`uri` stays the request's full URL for anyone who reads it. Nothing else differs from
Authlib's classes.
"""

from __future__ import annotations

from functools import cached_property

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Request
from flask import request as flask_request
from werkzeug.datastructures import MultiDict


class ReadOncePayload(FlaskOAuth2Payload):
    @cached_property
    def data(self) -> MultiDict:
        return self._request.values


class ReadOnceRequest(FlaskOAuth2Request):
    def __init__(self, request) -> None:
        # What FlaskOAuth2Request.__init__ does, with the URL that Authlib's transport check
        # reads (scheme and host) instead of the full one (see the module docstring). The
        # headers are set after: Authlib's `headers or {}` counts Werkzeug's environ headers
        # (a walk over every environ key) only to tell whether there are any.
        OAuth2Request.__init__(self, method=request.method, uri=request.host_url)
        self.headers = request.headers
        self._request = request
        self.payload = ReadOncePayload(request)

    @property
    def uri(self) -> str:
        """The request's full URL, as Authlib's own class has it (built when read)."""
        return self._request.url

    @uri.setter
    def uri(self, _checked: str) -> None:
        # OAuth2Request.__init__ stores the URL it checked; `uri` always reads the full one.
        pass


class Server(AuthorizationServer):
    """Authlib's Flask authorization server, handing its grants a `ReadOnceRequest`."""

    def create_oauth2_request(self, request) -> ReadOnceRequest:
        return ReadOnceRequest(flask_request)
