"""How Authlib sees the Flask request: its `FlaskOAuth2Request`, with the parameters read
once per request.

Authlib's `FlaskOAuth2Payload.data` is a property returning Flask's `request.values`, which
Werkzeug builds anew on every read (a `CombinedMultiDict` of the query and the form); the
grants and extensions read `payload.data` (client_id, response_type, scope, state, nonce,
code_challenge, ...) about 90 times per login. The parameters of one HTTP request cannot
change while it is served, so here the same object is kept for the request's life. Nothing
else differs from Authlib's classes.
"""

from __future__ import annotations

from functools import cached_property

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.integrations.flask_oauth2.requests import FlaskOAuth2Payload, FlaskOAuth2Request
from flask import request as flask_request
from werkzeug.datastructures import MultiDict


class ReadOncePayload(FlaskOAuth2Payload):
    @cached_property
    def data(self) -> MultiDict:
        return self._request.values


class ReadOnceRequest(FlaskOAuth2Request):
    def __init__(self, request) -> None:
        super().__init__(request)
        self.payload = ReadOncePayload(request)


class Server(AuthorizationServer):
    """Authlib's Flask authorization server, handing its grants a `ReadOnceRequest`."""

    def create_oauth2_request(self, request) -> ReadOnceRequest:
        return ReadOnceRequest(flask_request)
