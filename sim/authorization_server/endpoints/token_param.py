"""The one parameter revocation and introspection share: `token`."""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidRequestError


def check_token_param(endpoint, request, client) -> None:
    """Only `token` is required. A hint is a hint (RFC 7009 §2.1, RFC 7662 §2.1): an
    unknown one is ignored rather than answered with Authlib's 401 without a challenge."""
    if "token" not in request.form:
        raise InvalidRequestError("Missing 'token'.")
