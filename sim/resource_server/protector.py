"""Bearer token checks for the photo API, with RFC 6750 §3 error responses.

Authlib's ResourceProtector does the parsing and scope logic; this module fixes what it
leaves out: a 403 insufficient_scope without `WWW-Authenticate` (RFC 6750 §3 says every
error carries it, with the needed `scope`), and a missing token answered with an error code
(§3.1: with no credentials, the challenge carries no error code).
"""

from __future__ import annotations

import threading

import requests
from authlib.integrations.flask_oauth2 import ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import MissingAuthorizationError, UnsupportedTokenTypeError
from authlib.oauth2.rfc6750 import InsufficientScopeError, InvalidTokenError
from authlib.oauth2.rfc7662 import IntrospectTokenValidator
from flask import jsonify, request

from sim.parties import RESOURCE_SERVER
from sim.tracing import party_session

REALM = "photos"


class IntrospectionValidator(IntrospectTokenValidator):
    """Asks the authorization server about every token (RFC 7662): no local JWT check, so
    revocation takes effect on the very next request."""

    def __init__(self, url: str, credentials: tuple[str, str], store) -> None:
        super().__init__(realm=REALM)
        self.url = url
        self.credentials = credentials
        self.store = store
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = party_session(RESOURCE_SERVER, self.store)
        return self._local.session

    def introspect_token(self, token_string: str) -> dict:
        response = self._session().post(
            self.url,
            data={"token": token_string, "token_type_hint": "access_token"},
            auth=self.credentials,
            timeout=10,
        )
        if response.status_code != 200:
            return {"active": False}
        return response.json()


def _challenge(error: str | None = None, description: str = "", scope: str = "") -> str:
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
        parts.append(f'error_description="{description.replace(chr(34), chr(39))}"')
    if scope:
        parts.append(f'scope="{scope}"')
    return "Bearer " + ", ".join(parts)


def error_response(status: int, error: str | None, description: str, scope: str = ""):
    body = {"error": error, "error_description": description} if error else {"message": description}
    response = jsonify(body)
    response.status_code = status
    response.headers["WWW-Authenticate"] = _challenge(error, description, scope)
    return response


class TokenGuard:
    def __init__(self, validator: IntrospectionValidator) -> None:
        self.protector = ResourceProtector()
        self.protector.register_token_validator(validator)

    def check(self, scope: str):
        """Return (token, None) when the request may proceed, else (None, error response)."""
        if "access_token" in request.args or "access_token" in request.form:
            return None, error_response(
                400,
                "invalid_request",
                "Send the access token in the Authorization header only (RFC 6750 Section 2.1): "
                "a token in the URL leaks into logs, history and Referer headers.",
            )
        try:
            token = self.protector.acquire_token([scope])
        except MissingAuthorizationError:
            return None, error_response(401, None, "An access token is required.")
        except UnsupportedTokenTypeError:
            if request.headers.get("Authorization", "").lower().startswith("bearer"):
                # "Bearer" with no token: a malformed request (RFC 6750 §3.1).
                return None, error_response(
                    400, "invalid_request", "Use 'Authorization: Bearer <token>'."
                )
            # Another scheme: as if no credentials for this API came (RFC 6750 §3.1).
            return None, error_response(401, None, "This API takes Bearer tokens.")
        except InsufficientScopeError:
            return None, error_response(
                403,
                "insufficient_scope",
                f"This call needs the '{scope}' scope, which the token was not granted.",
                scope,
            )
        except InvalidTokenError:
            return None, error_response(
                401, "invalid_token", "The access token is expired, revoked or unknown."
            )
        except OAuth2Error as error:
            return None, error_response(400, "invalid_request", error.get_error_description())
        except requests.RequestException:
            return None, error_response(
                503, "temporarily_unavailable", "The authorization server did not answer."
            )
        return token, None
