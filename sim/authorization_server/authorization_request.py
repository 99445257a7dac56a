"""The authorization request's checks, in the order they run, each naming its rule.

Like node-oidc-provider's `lib/actions/authorization/index.js`, the order of defences reads
top to bottom: the tuples below ARE what runs (`ChecksInOrder.validate_authorization_request`
walks them), and a test keeps this table equal to them.

    step  check                                  rule                on failure
       1  client_id known                        RFC 6749 §4.1.2.1   400 page
       2  redirect_uri registered, exact         RFC 9700 §4.1.3     400 page
       3  response_type allowed for client       RFC 6749 §4.1.2.1   error redirect
       4  scope allowed (default: client's)      RFC 6749 §3.3       error redirect
       5  PKCE challenge present, S256           RFC 9700 §2.1.1     error redirect
       6  extensions' checks (e.g. nonce)        RFC 6749 §8         error redirect

The implicit grant runs the same list without step 5 (`IMPLICIT_CHECKS`).

Before these, Authlib's server picks the grant by `response_type` (unsupported_response_type)
and refuses a repeated parameter (RFC 6749 §3.1: "Request and response parameters MUST NOT be
included more than once."). After them, the view asks the resource owner to log in and then
to consent (RFC 6749 §4.1.1: "If the request is valid, the authorization server
authenticates the resource owner and obtains an authorization decision").

RFC 6749 §4.1.2.1 decides where a failure goes: "If the request fails due to a missing,
invalid, or mismatching redirection URI, or if the client identifier is missing or invalid,
the authorization server SHOULD inform the resource owner of the error and MUST NOT
automatically redirect the user-agent to the invalid redirection URI." So the first two
checks answer with a 400 page; once the redirect URI is known to be the client's, every later
failure is an error redirect to it (with `state`, and `iss` per RFC 9207).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc6749.grants.base import AuthorizationEndpointMixin
from authlib.oauth2.rfc6749.hooks import hooked

from sim import defences
from sim.authorization_server.pkce import PKCE
from sim.authorization_server.switches import off

PAGE = "400 page"
REDIRECT = "error redirect"


@dataclass(frozen=True)
class Check:
    """One rule: what is checked, the section that asks for it, and what a failure looks like."""

    name: str
    rfc: str
    on_failure: str
    run: Callable[[Any], None]


def client_known(grant) -> None:
    """RFC 6749 §4.1.1 / §4.2.1: client_id is REQUIRED, and must be a registered client."""
    client_id = grant.request.payload.client_id
    if client_id is None:
        raise InvalidClientError(description="Missing 'client_id' parameter.")
    client = grant.server.query_client(client_id)
    if not client:
        raise InvalidClientError(description="The client does not exist on this server.")
    grant.request.client = client


def _origin(uri: str) -> str:
    parts = urlsplit(uri)
    return f"{parts.scheme}://{parts.netloc}"


def redirect_uri_registered(grant) -> None:
    """RFC 9700 §4.1.3: "the authorization server MUST ensure that the two URIs are equal"
    (simple string comparison). Without `redirect_uri`, the registered one, if exactly one
    (see `Client.get_default_redirect_uri`)."""
    request, client = grant.request, grant.request.client
    requested = request.payload.redirect_uri
    if requested and off(defences.EXACT_REDIRECT_URI):
        # The classic mistake: a prefix of the registered URI (its origin) as a prefix of
        # the requested one. `http://127.0.0.1:9000@evil/` passes: that is the lesson.
        if any(requested.startswith(_origin(uri)) for uri in client.redirect_uris):
            grant.redirect_uri = requested
            return
    grant.redirect_uri = AuthorizationEndpointMixin.validate_authorization_redirect_uri(
        request, client
    )


def response_type_allowed(grant) -> None:
    """RFC 6749 §4.1.2.1 unauthorized_client: "The client is not authorized to request an
    authorization code using this method." (e.g. demo-client asking for `token`)."""
    response_type = grant.request.payload.response_type
    if not grant.request.client.check_response_type(response_type):
        raise UnauthorizedClientError(
            f"The client is not authorized to use 'response_type={response_type}'"
        )


def scope_allowed(grant) -> None:
    """RFC 6749 §3.3: "If the client omits the scope parameter when requesting authorization,
    the authorization server MUST either process the request using a pre-defined default
    value or fail the request indicating an invalid scope." Our default: everything the
    client is registered for (shown on the consent page, where the user may untick)."""
    request = grant.request
    grant.validate_requested_scope()  # unknown scope names: invalid_scope
    scope = request.client.get_allowed_scope(request.payload.scope)
    if scope is None:
        raise InvalidScopeError()
    request.scope = scope or request.client.scope


def pkce_s256(grant) -> None:
    """RFC 9700 §2.1.1: PKCE with S256 (see `pkce`)."""
    PKCE.validate_code_challenge(grant, grant.redirect_uri)


def extension_checks(grant) -> None:
    """RFC 6749 §8: checks that Authlib extensions registered on the grant (for example
    OpenID Connect's `nonce`) hook into `validate_authorization_request_payload`."""
    grant.execute_hook("after_validate_authorization_request_payload", grant.redirect_uri)


#: The authorization code grant (RFC 6749 §4.1), in order.
CODE_CHECKS: tuple[Check, ...] = (
    Check("client_id known", "RFC 6749 §4.1.2.1", PAGE, client_known),
    Check("redirect_uri registered, exact", "RFC 9700 §4.1.3", PAGE, redirect_uri_registered),
    Check("response_type allowed for client", "RFC 6749 §4.1.2.1", REDIRECT, response_type_allowed),
    Check("scope allowed (default: client's)", "RFC 6749 §3.3", REDIRECT, scope_allowed),
    Check("PKCE challenge present, S256", "RFC 9700 §2.1.1", REDIRECT, pkce_s256),
    Check("extensions' checks (e.g. nonce)", "RFC 6749 §8", REDIRECT, extension_checks),
)

#: The implicit grant (RFC 6749 §4.2): the same, without PKCE (there is no code to bind).
IMPLICIT_CHECKS: tuple[Check, ...] = tuple(c for c in CODE_CHECKS if c.run is not pkce_s256)


def describe(checks: tuple[Check, ...]) -> str:
    """The table of this module's docstring, one line per check."""
    return "\n".join(
        f"    {step:>4}  {c.name:<37}  {c.rfc:<18}  {c.on_failure}"
        for step, c in enumerate(checks, 1)
    )


class ChecksInOrder:
    """Grant mixin: validate the authorization request by running `AUTHORIZATION_CHECKS`.

    Authlib validates the same things inside one function per grant; the list makes the
    order visible and lets each step name its RFC. Once `redirect_uri_registered` has
    passed, a failure carries the redirect URI, so the client hears of it (in the fragment
    for grants whose responses go there, as the implicit grant's do)."""

    AUTHORIZATION_CHECKS: tuple[Check, ...] = CODE_CHECKS
    #: Set by the consent view: the scopes the resource owner ticked. Authlib validates the
    #: request again when it answers; narrowing the scope here, after the checks, makes the
    #: consent hold for every grant (RFC 6749 §3.3).
    consented_scope: frozenset[str] | None = None
    #: True once every check has passed for this grant's request.
    checks_passed: bool = False

    @hooked
    def validate_authorization_request(self) -> str:
        # On the consent POST, Authlib asks twice for the same request: once to show what is
        # decided (`get_consent_grant`), once when answering (`create_authorization_response`).
        # The request has not changed in between, so the checks that passed are not run again
        # (among them a database look-up of the nonce); the answer and the scope are the same.
        if not self.checks_passed:
            self.redirect_uri = None
            for check in self.AUTHORIZATION_CHECKS:
                try:
                    check.run(self)
                except OAuth2Error as error:
                    if self.redirect_uri:
                        error.redirect_uri = self.redirect_uri
                        error.redirect_fragment = self.ERROR_RESPONSE_FRAGMENT
                    raise
            self.checks_passed = True
        if self.consented_scope is not None:
            asked = (self.request.scope or "").split()
            self.request.scope = " ".join(s for s in asked if s in self.consented_scope)
        return self.redirect_uri
