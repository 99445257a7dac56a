"""What a request to the token, revocation or introspection endpoint must look like before
Authlib reads it, in the order checked, each check naming its rule.

Authlib reads the first of repeated parameters, accepts any body it can parse, and lets a
client present two credentials at once (the first that works wins): each is a way to make
one request mean two things. These checks refuse them.

    step  check (function)       rule              on failure
       1  form_encoded           RFC 6749 §3.2     400 invalid_request (not form-urlencoded)
       2  no_repeated_parameter  RFC 6749 §3.2     400 invalid_request
       3  well_formed_basic      RFC 6749 §2.3.1   401 invalid_client
       4  one_auth_method        RFC 6749 §2.3     400 invalid_request

RFC 6749 §3.2: "Request and response parameters MUST NOT be included more than once."
RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each request."
RFC 6749 §5.2, invalid_request: "The request is missing a required parameter, includes an
unsupported parameter value (other than grant type), repeats a parameter, includes multiple
credentials, utilizes more than one mechanism for authenticating the client, or is otherwise
malformed."

    POST /token HTTP/1.1
    Authorization: Basic ZGVtby1jbGllbnQ6ZGVtby1zZWNyZXQ=
    Content-Type: application/x-www-form-urlencoded

    grant_type=authorization_code&code=a&code=b&client_secret=guess

    HTTP/1.1 400 Bad Request
    Cache-Control: no-store

    {"error": "invalid_request", "error_description": "Repeated parameter: 'code'."}
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from urllib.parse import unquote

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InvalidClientError, InvalidRequestError
from flask import Request

FORM = "application/x-www-form-urlencoded"


def form_encoded(request: Request) -> OAuth2Error | None:
    """RFC 6749 §3.2 (and §4.1.3, §6, RFC 7009 §2.1, RFC 7662 §2.1): parameters travel as
    "application/x-www-form-urlencoded"; a JSON or multipart body is not that."""
    if request.mimetype != FORM:
        return InvalidRequestError(f"The body must be {FORM}.")
    return None


def _named(name: str) -> str:
    """A parameter name fit for error_description (RFC 6749 §5.2 allows printable ASCII
    without `"` and `\\`): the name when it is a plain word, else a generic phrase."""
    plain = name[:40].replace("_", "").replace("-", "").isalnum() and name.isascii()
    return f"'{name[:40]}'" if plain else "a parameter"


def no_repeated_parameter(request: Request) -> OAuth2Error | None:
    """RFC 6749 §3.2: no parameter twice, in the body or the query (Authlib reads both)."""
    for source in (request.form, request.args):
        for name in source:
            if len(source.getlist(name)) > 1:
                return InvalidRequestError(f"Repeated parameter: {_named(name)}.")
    names = set(request.form) & set(request.args)
    if names:
        return InvalidRequestError(f"Repeated parameter: {_named(sorted(names)[0])}.")
    return None


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """The (client_id, secret) of an `Authorization: Basic` header, form-decoded as RFC 6749
    §2.3.1 says; None without such a header. ValueError when it is there but malformed."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise ValueError("not base64 of UTF-8") from error
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise ValueError("no colon")
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def well_formed_basic(request: Request) -> OAuth2Error | None:
    """Authlib 1.9 raises ValueError (a 500) on `Authorization: Basic ` with nothing or junk
    after it; answer invalid_client like any bad credential (RFC 6749 §5.2)."""
    try:
        basic_credentials(request)
    except ValueError:
        return InvalidClientError(status_code=401, description="Malformed Basic credentials.")
    return None


def one_auth_method(request: Request) -> OAuth2Error | None:
    """RFC 6749 §2.3: Basic credentials AND a `client_secret` in the body are two methods
    (even when one is wrong, Authlib lets whichever works win); a body `client_id` naming
    another client than the Basic header is two identities."""
    basic = basic_credentials(request)
    if basic is None:
        return None
    if "client_secret" in request.form:
        return InvalidRequestError(
            "Use one client authentication method: Basic credentials or client_secret."
        )
    form = request.form  # `in` first: a missing key makes Werkzeug raise and catch
    client_id = form["client_id"] if "client_id" in form else None
    if client_id is not None and client_id != basic[0]:
        return InvalidRequestError("client_id in the body names another client than Basic.")
    return None


#: In order; the first failure answers.
CHECKS: tuple[Callable[[Request], OAuth2Error | None], ...] = (
    form_encoded,
    no_repeated_parameter,
    well_formed_basic,
    one_auth_method,
)


def first_failure(request: Request) -> OAuth2Error | None:
    for check in CHECKS:
        error = check(request)
        if error is not None:
            return error
    return None
