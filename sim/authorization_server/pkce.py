"""PKCE (RFC 7636), hardened to RFC 9700: S256 only, always required, downgrade refused.

RFC 9700 §2.1.1: "Authorization servers MUST mitigate PKCE downgrade attacks by ensuring
that a token request containing a `code_verifier` parameter is accepted only if a
`code_challenge` parameter was present in the authorization request".

    GET /authorize?response_type=code&client_id=demo-client&state=xyz
        &code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
        &code_challenge_method=S256 HTTP/1.1

    POST /token HTTP/1.1
    Content-Type: application/x-www-form-urlencoded

    grant_type=authorization_code&code=SplxlOBeZQQYbYS6WxSbIA
    &code_verifier=dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk

Authlib defaults a missing method to `plain`, accepts `plain`, only requires PKCE at the
token endpoint of public clients, and answers a missing verifier with invalid_request.
Here: S256 only; a challenge is required at the authorization endpoint for every client;
and a verifier must be sent if and only if a challenge was (RFC 9700 §4.8.2).
"""

from __future__ import annotations

from authlib.oauth2.rfc6749.errors import InvalidGrantError, InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge

from sim import defences
from sim.authorization_server.switches import off
from sim.reasons import PKCE_DOWNGRADE, PKCE_VERIFIER_MISSING, refuse


def _lax() -> bool:
    return off(defences.PKCE_DOWNGRADE) or off(defences.PKCE)


class S256OnlyCodeChallenge(CodeChallenge):
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def __call__(self, grant) -> None:
        # Only the token side hooks in here: the authorization side is a named step of the
        # authorization request's checks (`authorization_request.CODE_CHECKS`), in order.
        grant.register_hook("after_validate_token_request", self.validate_code_verifier)

    def validate_code_challenge(self, grant, redirect_uri):
        payload = grant.request.payload.data
        challenge = payload.get("code_challenge")
        method = payload.get("code_challenge_method")
        # A scenario's premise (pkce-downgrade): a server that supports PKCE but does not
        # mandate it, for that flow only; the token side's downgrade check still applies.
        optional = defences.option("pkce_optional", default=False)
        if _lax() or optional:
            # Authlib's own, laxer rules: optional challenge, `plain` accepted.
            lax = CodeChallenge(required=False)
            lax.SUPPORTED_CODE_CHALLENGE_METHOD = ["plain", "S256"]
            return lax.validate_code_challenge(grant, redirect_uri)
        if not challenge:
            raise InvalidRequestError(
                "PKCE is required: send code_challenge with code_challenge_method=S256."
            )
        if method != "S256":
            raise InvalidRequestError(
                "Only code_challenge_method=S256 is accepted (RFC 9700 Section 2.1.1)."
            )
        return super().validate_code_challenge(grant, redirect_uri)

    def validate_code_verifier(self, grant, result):
        request = grant.request
        verifier = request.form.get("code_verifier")
        challenge = request.authorization_code.code_challenge
        if _lax():
            if not challenge:
                return None  # no challenge, nothing checked: the downgrade works
            method = request.authorization_code.code_challenge_method or "plain"
            func = self.CODE_CHALLENGE_METHODS.get(method)
            if verifier and func and func(verifier, challenge):
                return None
            raise InvalidGrantError("Code challenge failed.")
        if challenge and not verifier:
            refuse(PKCE_VERIFIER_MISSING)
            raise InvalidGrantError("Missing 'code_verifier': this code was issued with PKCE.")
        if verifier and not challenge:
            refuse(PKCE_DOWNGRADE)
            raise InvalidGrantError(
                "A code_verifier was sent but the authorization request had no "
                "code_challenge: possible PKCE downgrade (RFC 9700 Section 4.8.2)."
            )
        try:
            return super().validate_code_verifier(grant, result)
        except InvalidRequestError as error:  # malformed verifier: still the wrong grant
            raise InvalidGrantError(error.description) from error


#: The one instance: registered on the code grant, and called by its authorization checks.
PKCE = S256OnlyCodeChallenge(required=True)
