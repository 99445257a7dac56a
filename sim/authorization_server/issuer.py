"""RFC 9207: the issuer's identifier (`iss`) in every authorization response (mix-up defence).

RFC 9207 §2: "In authorization responses to the client, including error responses, an
authorization server supporting this specification MUST indicate its identity by including
the iss parameter in the response."

    HTTP/1.1 302 Found
    Location: http://127.0.0.1:9000/callback?code=x1848ZT64p4IirMPT0R-X3141MFPTuBX-VFL_cvaplMH58
      &state=ZWVlNDBlYzA1NjdkMDNhYjg3ZjUxZjAyNGQzMTM2NzI&iss=http%3A%2F%2F127.0.0.1%3A9001

Authlib's `get_issuer()` returns None, which silently turns the feature off.
"""

from __future__ import annotations

from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc9207 import IssuerParameter
from flask import current_app


class Issuer(IssuerParameter):
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
